import Testing
@testable import Tensors

@Suite(.serialized) struct BufferPoolTests {
    @Test func sizeClassesBoundTheSlack() {
        #expect(BufferPool.sizeClass(100) == 100)
        for n in [70_000, 100_003, 786_432, 3_145_728, 5_000_001] {
            let c = BufferPool.sizeClass(n)
            #expect(c >= n && Double(c) <= Double(n) * 1.125)
        }
    }

    @Test func largeBuffersAreRecycledAndCanBeReleased() {
        let count = 300_000
        let first = Tensor.zeros([count]).storage.base
        let again = Tensor.zeros([count]).storage.base
        #expect(again == first)
        TensorStorage.releaseCachedBuffers()
        #expect(TensorStorage.cachedBytes == 0)
    }
}
