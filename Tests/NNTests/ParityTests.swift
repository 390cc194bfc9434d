import Foundation
import HDF5
import Testing
import Tensors
@testable import NN

/// Parity with PyTorch: `Fixtures/parity.h5` (written by `tools/make_fixtures.py`) holds inputs,
/// parameters under their PyTorch names, outputs, an upstream gradient `gy` and the float64
/// gradients of `loss = Σ y ⊙ gy`. Parameters are loaded into our layers BY NAME via
/// `Module.load` (strict), then outputs and all gradients (input and every parameter) must satisfy
/// |ours − ref| ≤ 1e-4 · (1 + |ref|) elementwise (observed worst 2.6e-6: ViT patch-embed weight grad).
@Suite struct PyTorchParity {
    static let tolerance: Float = 1e-4

    struct Fixture {
        let file: HDF5File
        let group: String

        init(_ group: String) throws {
            let url = try #require(Bundle.module.url(forResource: "parity", withExtension: "h5", subdirectory: "Fixtures"))
            file = try HDF5File(path: url.path, mode: .readOnly)
            self.group = group
        }

        func tensor(_ name: String, requiresGrad: Bool = false) throws -> Tensor {
            let (shape, values) = try file.readFloat32("\(group)/\(name)")
            return Tensor(values, shape: shape, requiresGrad: requiresGrad)
        }

        /// Every dataset under `<group>/<folder>/`, keyed by the rest of its path (a PyTorch name).
        func named(_ folder: String) throws -> [String: Tensor] {
            let prefix = "\(group)/\(folder)/"
            var out: [String: Tensor] = [:]
            for path in try file.datasetPaths() where path.hasPrefix(prefix) {
                let (shape, values) = try file.readFloat32(path)
                out[String(path.dropFirst(prefix.count))] = Tensor(values, shape: shape)
            }
            return out
        }

        func int(_ attribute: String) throws -> Int { try file.intAttribute(attribute, on: group) }
        func double(_ attribute: String) throws -> Double { try file.doubleAttribute(attribute, on: group) }

        /// Compares `ours` with the dataset `name` at the suite tolerance.
        func expectClose(_ ours: Tensor?, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let ref = try tensor(name)
            expectTensorClose(ours, ref, "\(group)/\(name)", sourceLocation: sourceLocation)
        }
    }

    static func expectTensorClose(_ ours: Tensor?, _ ref: Tensor, _ label: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        guard let ours else { Issue.record("\(label): no value (missing gradient?)", sourceLocation: sourceLocation); return }
        #expect(ours.shape == ref.shape, "\(label): shape \(ours.shape) vs \(ref.shape)", sourceLocation: sourceLocation)
        guard ours.shape == ref.shape else { return }
        var worst: Float = 0, worstIndex = 0
        for i in 0..<ref.count {
            let excess = abs(ours.ptr[i] - ref.ptr[i]) / (1 + abs(ref.ptr[i]))
            if excess > worst { worst = excess; worstIndex = i }
        }
        #expect(worst <= tolerance,
                "\(label): |diff|/(1+|ref|) = \(worst) at \(worstIndex) (ours \(ours.ptr[worstIndex]), ref \(ref.ptr[worstIndex]))",
                sourceLocation: sourceLocation)
    }

    /// Backward of Σ y ⊙ gy.
    func backward(_ y: Tensor, _ f: Fixture) throws {
        (y * (try f.tensor("gy"))).sum().backward()
    }

    @Test func linear() throws {
        let f = try Fixture("linear")
        var rng = RandomGenerator(seed: 0)
        let layer = Linear(5, 4, rng: &rng)
        try layer.load(["weight": f.tensor("weight"), "bias": f.tensor("bias")])
        let x = try f.tensor("x", requiresGrad: true)
        let y = layer(x)
        try f.expectClose(y, "y")
        try backward(y, f)
        try f.expectClose(x.grad, "grad_x")
        try f.expectClose(layer.weight.grad, "grad_weight")
        try f.expectClose(layer.bias?.grad, "grad_bias")
    }

    @Test func layerNorm() throws {
        let f = try Fixture("layer_norm")
        let layer = LayerNorm(6, eps: Float(try f.double("eps")))
        try layer.load(["weight": f.tensor("weight"), "bias": f.tensor("bias")])
        let x = try f.tensor("x", requiresGrad: true)
        let y = layer(x)
        try f.expectClose(y, "y")
        try backward(y, f)
        try f.expectClose(x.grad, "grad_x")
        try f.expectClose(layer.weight?.grad, "grad_weight")
        try f.expectClose(layer.bias?.grad, "grad_bias")
    }

    @Test func attention() throws {
        let f = try Fixture("attention")
        var rng = RandomGenerator(seed: 0)
        let x = try f.tensor("x", requiresGrad: true)
        let attn = MultiHeadAttention(x.shape[2], heads: try f.int("heads"), rng: &rng)
        try attn.load(f.named("params"))
        try f.expectClose(noGrad { attn(x) }, "y")
        let mask = try f.tensor("mask")
        #expect(mask.scalars == MultiHeadAttention.blockCausalMask(frameIndices: [0, 0, 1, 1, 1]).scalars)
        let y = attn(x, mask: mask)
        try f.expectClose(y, "y_masked")
        try backward(y, f)
        try f.expectClose(x.grad, "grad_x")
        try expectParameterGradients(attn, f)
    }

    @Test func visionTransformer() throws {
        let f = try Fixture("vit")
        var rng = RandomGenerator(seed: 0)
        let x = try f.tensor("x", requiresGrad: true)
        let vit = VisionTransformer(imageSize: x.shape[2], patch: try f.int("patch"), channels: x.shape[1],
                                    dim: try f.int("dim"), depth: try f.int("depth"), heads: try f.int("heads"),
                                    mlpRatio: Float(try f.int("mlp_ratio")), eps: Float(try f.double("eps")),
                                    rng: &rng)
        try vit.load(f.named("params"))
        let y = vit(x)
        try f.expectClose(y, "y")
        try backward(y, f)
        try f.expectClose(x.grad, "grad_x")
        try expectParameterGradients(vit, f)
    }

    @Test func conv2d() throws {
        let f = try Fixture("conv2d")
        var rng = RandomGenerator(seed: 0)
        let w = try f.tensor("weight")
        let conv = Conv2d(w.shape[1], w.shape[0], kernel: w.shape[2], stride: try f.int("stride"),
                          padding: try f.int("padding"), rng: &rng)
        try conv.load(["weight": w, "bias": f.tensor("bias")])
        let x = try f.tensor("x", requiresGrad: true)
        let y = conv(x)
        try f.expectClose(y, "y")
        try backward(y, f)
        try f.expectClose(x.grad, "grad_x")
        try f.expectClose(conv.weight.grad, "grad_weight")
        try f.expectClose(conv.bias?.grad, "grad_bias")
    }

    @Test func gruCell() throws {
        let f = try Fixture("gru_cell")
        var rng = RandomGenerator(seed: 0)
        let x = try f.tensor("x", requiresGrad: true), h = try f.tensor("h", requiresGrad: true)
        let gru = GRUCell(x.shape[1], h.shape[1], rng: &rng)
        try gru.load(f.named("params"))
        let y = gru(x, h)
        try f.expectClose(y, "y")
        try backward(y, f)
        try f.expectClose(x.grad, "grad_x")
        try f.expectClose(h.grad, "grad_h")
        try expectParameterGradients(gru, f)
    }

    /// Every parameter's gradient against `<group>/grad/<name>`; the name sets must coincide.
    func expectParameterGradients(_ module: Module, _ f: Fixture,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let refs = try f.named("grad")
        let ours = module.namedParameters()
        #expect(Set(ours.map(\.name)) == Set(refs.keys), sourceLocation: sourceLocation)
        for (name, t) in ours {
            guard let ref = refs[name] else { continue }
            Self.expectTensorClose(t.grad, ref, "\(f.group)/grad/\(name)", sourceLocation: sourceLocation)
        }
    }
}
