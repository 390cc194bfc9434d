import Testing
import Tensors

/// Programmer errors (shape mismatches, NaN introduced by an op in debug builds) stop the process
/// with a message naming the op, what was expected and what was found.
@Suite struct BadInputTests {
    @Test func shapeMismatchStopsWithAMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("matmul: inner dimensions differ"))
        #expect(message.contains("[2, 3]") && message.contains("[4, 5]"))
    }

    @Test func broadcastMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("add: shapes [2, 3] and [4] cannot be broadcast together"))
    }

    #if DEBUG
    @Test func newNaNIsCaughtAtTheOpThatMadeIt() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor([-1, 2]).log()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("log produced NaN from NaN-free inputs"))
    }
    #endif
}
