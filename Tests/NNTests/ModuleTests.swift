import Testing
import Tensors
@testable import NN

/// Fixtures for reflection rules.
private final class Leafy: Module {
    let posEmbed = Tensor.zeros([1, 2], requiresGrad: true)
    let maskToken: Tensor? = Tensor.zeros([3], requiresGrad: true)
    let absent: Tensor? = nil
    let _hidden = Tensor.zeros([5], requiresGrad: true)
    let table = Constant(Tensor.zeros([4]))
    let scales = [Tensor.ones([2], requiresGrad: true), Tensor.ones([3], requiresGrad: true)]
    let count = 3
}

private class Base: Module {
    let baseWeight = Tensor.zeros([1], requiresGrad: true)
}

private final class Derived: Base {
    let child = Leafy()
    let noChild: Leafy? = nil
    let list: [Leafy] = [Leafy(), Leafy()]
    let weightIH = Tensor.zeros([2], requiresGrad: true)
    override class var keyOverrides: [String: String] { ["weightIH": "w_ih_override"] }
}

@Suite struct ModuleReflection {
    @Test func snakeCase() {
        #expect(snakeCased("posEmbed") == "pos_embed")
        #expect(snakeCased("patchEmbed") == "patch_embed")
        #expect(snakeCased("maskToken") == "mask_token")
        #expect(snakeCased("fc1") == "fc1")
        #expect(snakeCased("norm1") == "norm1")
        #expect(snakeCased("weightIh") == "weight_ih")
        #expect(snakeCased("weightIH") == "weight_ih")
        #expect(snakeCased("qkv") == "qkv")
        #expect(snakeCased("conv2Down") == "conv2_down")
        #expect(snakeCased("HTTPServer") == "http_server")
    }

    @Test func reflectionRules() {
        let names = Leafy().namedParameters().map(\.name)
        #expect(names == ["pos_embed", "mask_token", "scales.0", "scales.1"])
    }

    @Test func superclassChildrenListsAndOverrides() {
        let m = Derived()
        let names = m.namedParameters().map(\.name)
        let leafy = ["pos_embed", "mask_token", "scales.0", "scales.1"]
        let expected = ["base_weight"] + leafy.map { "child." + $0 } + leafy.map { "list.0." + $0 }
            + leafy.map { "list.1." + $0 } + ["w_ih_override"]
        #expect(names == expected)
        #expect(m.namedModules().map(\.name) == ["child", "list.0", "list.1"])
        #expect(m.parameterCount == 1 + 3 * (2 + 3 + 2 + 3) + 2)
    }

    @Test func trainEvalPropagates() {
        let m = Derived()
        m.eval()
        #expect(!m.isTraining && m.namedModules().allSatisfy { !$0.module.isTraining })
        m.train()
        #expect(m.isTraining && m.namedModules().allSatisfy { $0.module.isTraining })
    }
}

@Suite struct ParameterNames {
    @Test func tinyViTHasTimmNamesInOrder() {
        var rng = RandomGenerator(seed: 1)
        let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 3, dim: 8, depth: 2, heads: 2, rng: &rng)
        var expected: [(String, [Int])] = [
            ("patch_embed.proj.weight", [8, 3, 4, 4]), ("patch_embed.proj.bias", [8]), ("pos_embed", [1, 4, 8]),
        ]
        for b in 0..<2 {
            let p = "blocks.\(b)."
            expected += [
                (p + "norm1.weight", [8]), (p + "norm1.bias", [8]),
                (p + "attn.qkv.weight", [24, 8]), (p + "attn.qkv.bias", [24]),
                (p + "attn.proj.weight", [8, 8]), (p + "attn.proj.bias", [8]),
                (p + "norm2.weight", [8]), (p + "norm2.bias", [8]),
                (p + "mlp.fc1.weight", [32, 8]), (p + "mlp.fc1.bias", [32]),
                (p + "mlp.fc2.weight", [8, 32]), (p + "mlp.fc2.bias", [8]),
            ]
        }
        expected += [("norm.weight", [8]), ("norm.bias", [8])]
        let got = vit.namedParameters()
        #expect(got.map(\.name) == expected.map(\.0))
        #expect(got.map(\.tensor.shape) == expected.map(\.1))
        #expect(vit.parameterCount == expected.reduce(0) { $0 + $1.1.reduce(1, *) })
    }

    @Test func sincosViTHasNoPositionParameter() {
        var rng = RandomGenerator(seed: 1)
        let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 1, heads: 2,
                                    posEmbed: .sincos, rng: &rng)
        #expect(!vit.namedParameters().contains { $0.name.contains("pos_embed") })
        #expect(vit.positionEmbedding.shape == [1, 4, 8])
        #expect(!vit.positionEmbedding.requiresGrad)
    }

    @Test func videoViTNames() {
        var rng = RandomGenerator(seed: 1)
        let vit = VisionTransformer(frames: 4, tubelet: 2, imageSize: 8, patch: 4, channels: 3, dim: 16,
                                    depth: 1, heads: 2, rng: &rng)
        let d = vit.parameterDictionary()
        #expect(d["patch_embed.proj.weight"]?.shape == [16, 3, 2, 4, 4])
        #expect(d["pos_embed"] == nil)
        #expect(vit.tokenCount == 8)
        #expect(vit(Tensor.zeros([2, 3, 4, 8, 8])).shape == [2, 8, 16])
    }

    @Test func gruCellNames() {
        var rng = RandomGenerator(seed: 1)
        let gru = GRUCell(3, 5, rng: &rng)
        #expect(gru.namedParameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        #expect(gru.namedParameters().map(\.tensor.shape) == [[15, 3], [15, 5], [15], [15]])
        let bound = 1 / Float(5).squareRoot()
        #expect(gru.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= bound } })
    }

    @Test func convEncoderNames() {
        var rng = RandomGenerator(seed: 1)
        let enc = ConvEncoder(channels: 3, widths: [4, 8], rng: &rng)
        let names = enc.namedParameters().map(\.name)
        #expect(names == ["stem.weight", "stem.bias",
                          "stages.0.down.weight", "stages.0.down.bias",
                          "stages.0.block.conv1.weight", "stages.0.block.conv1.bias",
                          "stages.0.block.conv2.weight", "stages.0.block.conv2.bias",
                          "stages.1.down.weight", "stages.1.down.bias",
                          "stages.1.block.conv1.weight", "stages.1.block.conv1.bias",
                          "stages.1.block.conv2.weight", "stages.1.block.conv2.bias"])
        let normed = ConvEncoder(channels: 3, widths: [4], normalization: true, rng: &rng)
        #expect(normed.namedParameters().map(\.name) == [
            "stem.weight", "stem.bias", "stem_norm.weight", "stem_norm.bias",
            "stages.0.down.weight", "stages.0.down.bias", "stages.0.norm.weight", "stages.0.norm.bias",
            "stages.0.block.conv1.weight", "stages.0.block.conv1.bias",
            "stages.0.block.norm1.weight", "stages.0.block.norm1.bias",
            "stages.0.block.conv2.weight", "stages.0.block.conv2.bias",
            "stages.0.block.norm2.weight", "stages.0.block.norm2.bias"])
    }

    @Test func optionalParametersSkipped() {
        var rng = RandomGenerator(seed: 1)
        #expect(Linear(3, 2, bias: false, rng: &rng).namedParameters().map(\.name) == ["weight"])
        #expect(LayerNorm(4, affine: false).namedParameters().isEmpty)
        #expect(MultiHeadAttention(4, heads: 2, qkvBias: false, rng: &rng).namedParameters().map(\.name)
                == ["qkv.weight", "proj.weight", "proj.bias"])
    }
}

@Suite struct FreezingLoadingCopying {
    @Test func freezeAndZeroGrad() {
        var rng = RandomGenerator(seed: 2)
        let mlp = MLP(3, hidden: 4, rng: &rng)
        let x = Tensor.ones([2, 3])
        mlp(x).sum().backward()
        #expect(mlp.parameters().allSatisfy { $0.grad != nil })
        mlp.zeroGrad()
        #expect(mlp.parameters().allSatisfy { $0.grad == nil })
        mlp.setRequiresGrad(false)
        #expect(mlp.parameters().allSatisfy { !$0.requiresGrad })
        #expect(!mlp(x).requiresGrad)
        mlp.setRequiresGrad(true)
        #expect(mlp(x).requiresGrad)
    }

    @Test func loadByNameIgnoresOrder() throws {
        var rng = RandomGenerator(seed: 3)
        let a = MLP(3, hidden: 4, rng: &rng), b = MLP(3, hidden: 4, rng: &rng)
        let identity = b.fc1.weight
        // Dictionary order is arbitrary; names alone decide.
        try b.load(a.parameterDictionary())
        #expect(b.fc1.weight === identity)
        for ((na, ta), (nb, tb)) in zip(a.namedParameters(), b.namedParameters()) {
            #expect(na == nb && ta.scalars == tb.scalars && ta !== tb)
        }
    }

    @Test func loadReportsMissingUnexpectedAndShapes() {
        var rng = RandomGenerator(seed: 4)
        let m = MLP(3, hidden: 4, rng: &rng)
        var params = m.parameterDictionary()
        let before = m.fc1.weight.scalars
        params["fc2.bias"] = nil
        params["fc3.weight"] = Tensor.zeros([1])
        params["fc1.weight"] = Tensor.zeros([4, 2])
        params["fc1.bias"] = Tensor.zeros([4])
        do {
            try m.load(params)
            Issue.record("load should have thrown")
        } catch let e as LoadError {
            #expect(e.missing == ["fc2.bias"])
            #expect(e.unexpected == ["fc3.weight"])
            #expect(e.shapeMismatches == [.init(key: "fc1.weight", expected: [4, 3], found: [4, 2])])
            let text = e.description
            #expect(text.contains("missing keys: fc2.bias"))
            #expect(text.contains("unexpected keys: fc3.weight"))
            #expect(text.contains("shape mismatch for fc1.weight: expected [4, 3], found [4, 2]"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        // Nothing was modified by the failed load.
        #expect(m.fc1.weight.scalars == before)
        #expect(m.fc1.bias!.scalars != [0, 0, 0, 0])
    }

    @Test func nonStrictLoadSkipsMissingAndUnexpectedButNotShapes() throws {
        var rng = RandomGenerator(seed: 5)
        let m = MLP(3, hidden: 4, rng: &rng)
        try m.load(["fc1.bias": Tensor.ones([4]), "extra": Tensor.zeros([2])], strict: false)
        #expect(m.fc1.bias!.scalars == [1, 1, 1, 1])
        #expect(throws: LoadError.self) { try m.load(["fc1.bias": Tensor.ones([5])], strict: false) }
    }

    @Test func copyParametersForEMA() throws {
        var rng = RandomGenerator(seed: 6)
        let online = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 1, heads: 2, rng: &rng)
        let target = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 1, heads: 2, rng: &rng)
        #expect(online.blocks[0].attn.qkv.weight.scalars != target.blocks[0].attn.qkv.weight.scalars)
        try target.copyParameters(from: online)
        target.setRequiresGrad(false)
        for (a, b) in zip(online.parameters(), target.parameters()) { #expect(a.scalars == b.scalars && a !== b) }
        let x = leaf([2, 1, 8, 8], seed: 1)
        #expect(maxAbsDiff(online(x), target(x)) == 0)
        let deeper = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 2, heads: 2, rng: &rng)
        #expect(throws: LoadError.self) { try target.copyParameters(from: deeper) }
    }
}

@Suite struct DropoutModule {
    @Test func activeOnlyInTraining() {
        let d = Dropout(0.5, seed: 3)
        let x = Tensor.ones([10, 10])
        let y = d(x)
        #expect(y.scalars.contains(0) && y.scalars.contains(2))
        d.eval()
        #expect(d(x) === x)
        #expect(d.namedParameters().isEmpty)
    }
}
