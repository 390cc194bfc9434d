import Testing
import Tensors
@testable import NN

/// Random leaf inputs (copied from TensorsTests: test targets cannot share code).
func leaf(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor.uniform(shape, low: low, high: high, using: &rng)
    t.requiresGrad = true
    return t
}

/// Finite-difference check of autodiff gradients w.r.t. every input, at the default tolerances.
func expectGradients(_ inputs: [Tensor], _ f: ([Tensor]) -> Tensor,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let bad = GradientCheck.mismatches(inputs, f)
    #expect(bad.isEmpty, "gradient mismatches: \(bad.prefix(5))", sourceLocation: sourceLocation)
}

/// Checks gradients of `f(x)` w.r.t. `x` and every parameter of `module`.
func expectModuleGradients(_ module: Module, input x: Tensor, _ f: (Tensor) -> Tensor,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let params = module.parameters()
    #expect(!params.isEmpty && params.allSatisfy(\.requiresGrad), sourceLocation: sourceLocation)
    let bad = GradientCheck.mismatches([x] + params) { f($0[0]) }
    let names = [["input"], module.namedParameters().map(\.name)].flatMap { $0 }
    let described = bad.prefix(5).map { "\(names.indices.contains($0.input) ? names[$0.input] : "?"): \($0)" }
    #expect(bad.isEmpty, "gradient mismatches: \(described)", sourceLocation: sourceLocation)
}

/// Overwrites every parameter with U(−scale, scale) values (init scales like trunc-normal 0.02 make
/// gradient checks vacuous; zero biases hide bias bugs).
func randomize(_ module: Module, seed: UInt64, scale: Float = 0.5) {
    var rng = RandomGenerator(seed: seed)
    for p in module.parameters() {
        p.assign(Tensor.uniform(p.shape, low: -scale, high: scale, using: &rng))
    }
}

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxAbsDiff: shapes \(a.shape) and \(b.shape) differ")
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a.ptr[i] - b.ptr[i])) }
    return m
}
