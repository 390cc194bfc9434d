import Checkpoints
import Config
import Foundation
import HDF5
import JEPA
import NN
import Tensors
import Testing

/// Parity fixtures from tools/make_foreign_fixtures.py: weights in PyTorch / Keras layouts and the
/// outputs an independent torch / numpy implementation computes with them.
enum Fixture {
    static func path(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return url.path
    }

    static func expected(_ dataset: String) throws -> Tensor {
        let file = try HDF5File(path: try path("expected.h5"), mode: .readOnly)
        defer { try? file.close() }
        let (shape, values) = try file.readFloat32(dataset)
        return Tensor(values, shape: shape)
    }

    static func indices(_ dataset: String) throws -> [[Int]] {
        let file = try HDF5File(path: try path("expected.h5"), mode: .readOnly)
        defer { try? file.close() }
        let (shape, values) = try file.readInt64(dataset)
        return (0..<shape[0]).map { b in (0..<shape[1]).map { Int(values[b * shape[1] + $0]) } }
    }

    /// The V-JEPA fixture's sizes as a model config.
    static var videoConfig: VideoJEPAConfig {
        var c = VideoJEPAConfig()
        (c.frames, c.tubelet, c.imageSize, c.channels, c.patch) = (4, 2, 8, 1, 4)
        (c.encoderDim, c.encoderDepth, c.encoderHeads) = (16, 2, 2)
        (c.predictorDim, c.predictorDepth, c.predictorHeads) = (8, 1, 2)
        return c
    }
}

/// max |a − b| / max |b|.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape)")
    let scale = b.scalars.map(abs).max() ?? 1
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / max(scale, 1e-12)
}

@Suite struct ForeignParityTests {
    @Test func vjepaCheckpointReproducesTorchOutputs() throws {
        let path = try Fixture.path("vjepa_tiny.h5")
        let file = try WeightFile.read(path)
        #expect(file.format == .torch)
        #expect(file.entries.contains { $0.storedType == "bfloat16" && $0.name == "predictor.predictor_embed.weight" })
        var rng = RandomGenerator(seed: 1)
        let model = try VideoJEPA(config: Fixture.videoConfig, rng: &rng)
        let mapping = WeightMapping(file, onto: model.checkpointModules)
        #expect(mapping.problems.isEmpty, "\(mapping.problems)")
        #expect(mapping.rows.contains { $0.source == "encoder.pos_embed" && $0.note.contains("fixed sin-cos") })
        #expect(mapping.rows.contains { $0.source == "predictor.mask_tokens.0" && $0.target == "predictor/mask_token" })
        try mapping.load(into: model.checkpointModules, strict: true, path: path)

        let x = try Fixture.expected("vjepa/x")
        let context = try Fixture.indices("vjepa/context_indices"), targets = try Fixture.indices("vjepa/target_indices")
        let targetFeatures = model.targetEncoder(x)
        let contextFeatures = model.contextEncoder(x, tokenIndices: context)
        let prediction = model.predictor(contextFeatures, contextIndices: context, targetIndices: targets)
        #expect(relativeError(targetFeatures, try Fixture.expected("vjepa/target_features")) < 1e-4)
        #expect(relativeError(contextFeatures, try Fixture.expected("vjepa/context_features")) < 1e-4)
        #expect(relativeError(prediction, try Fixture.expected("vjepa/prediction")) < 1e-4)
    }

    @Test func splitQKVFloat16ViTReproducesTorchOutputs() throws {
        let path = try Fixture.path("vit_split_qkv.h5")
        let file = try WeightFile.read(path)
        #expect(file.entries.allSatisfy { $0.storedType == "float16" })
        var rng = RandomGenerator(seed: 2)
        let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 16, depth: 2, heads: 2, rng: &rng)
        let mapping = WeightMapping(file, onto: ["context_encoder": vit])
        #expect(mapping.problems.isEmpty, "\(mapping.problems)")
        #expect(mapping.rows.contains { $0.source == "blocks.1.attn.k.bias" && $0.target == "context_encoder/blocks.1.attn.qkv.bias" })
        try mapping.load(into: ["context_encoder": vit], strict: true, path: path)
        #expect(relativeError(vit(try Fixture.expected("vit/x")), try Fixture.expected("vit/y")) < 1e-4)
    }

    @Test(arguments: ["keras3_mlp.weights.h5", "keras2_mlp.h5"])
    func kerasDenseStackReproducesNumpyOutputs(_ name: String) throws {
        let path = try Fixture.path(name)
        let file = try WeightFile.read(path, format: .keras3)
        #expect(file.format == (name.hasPrefix("keras3") ? .keras3 : .kerasLegacy))
        var rng = RandomGenerator(seed: 3)
        let mlp = MLP(7, hidden: 12, out: 5, activation: .gelu, rng: &rng)
        let mapping = WeightMapping(file, onto: ["inverse_dynamics": mlp], kerasTarget: "inverse_dynamics")
        #expect(mapping.problems.isEmpty, "\(mapping.problems)")
        try mapping.load(into: ["inverse_dynamics": mlp], strict: true, path: path)
        #expect(relativeError(mlp(try Fixture.expected("mlp/x")), try Fixture.expected("mlp/y")) < 1e-4)
    }

    @Test func kerasConvLayerNormStackReproducesNumpyOutputs() throws {
        let path = try Fixture.path("keras3_conv.weights.h5")
        var rng = RandomGenerator(seed: 4)
        let block = ResidualConvBlock(4, activation: .silu, normalization: true, rng: &rng)
        let mapping = WeightMapping(try WeightFile.read(path), onto: ["context_encoder": block])
        #expect(mapping.problems.isEmpty, "\(mapping.problems)")
        #expect(mapping.rows.contains { $0.target == "context_encoder/conv2.weight" && $0.note.contains("HWIO") })
        try mapping.load(into: ["context_encoder": block], strict: true, path: path)
        #expect(relativeError(block(try Fixture.expected("conv/x")), try Fixture.expected("conv/y")) < 1e-4)
    }
}

@Suite struct ForeignMappingTests {
    @Test func strictRefusesAndListsEveryProblemWhileNonStrictLoadsWhatMatches() throws {
        let path = try Fixture.path("vjepa_tiny.h5")
        var config = Fixture.videoConfig
        config.encoderDepth = 1          // the file has blocks.1: unexpected
        config.predictorDim = 16         // every predictor tensor: mis-shaped
        var rng = RandomGenerator(seed: 5)
        let model = try VideoJEPA(config: config, rng: &rng)
        let before = model.contextEncoder.blocks[0].attn.qkv.weight.scalars
        let mapping = WeightMapping(try WeightFile.read(path), onto: model.checkpointModules)
        #expect(mapping.unexpected.contains { $0.hasPrefix("encoder.blocks.1.attn.qkv.weight:") })
        #expect(mapping.mismatched.contains { $0.hasPrefix("predictor.predictor_embed.weight → predictor/predictor_embed.weight: expected [16, 16], found [8, 16]") })
        #expect(!mapping.missing.contains("predictor/predictor_embed.weight"))   // listed once, as mis-shaped
        let error = try #require(throws: CheckpointError.self) {
            try mapping.load(into: model.checkpointModules, strict: true, path: path)
        }
        #expect(error.kind == .mismatch)
        #expect(error.description.contains("unexpected key encoder.blocks.1.norm1.weight"))
        #expect(model.contextEncoder.blocks[0].attn.qkv.weight.scalars == before)   // untouched

        let problems = try mapping.load(into: model.checkpointModules, strict: false, path: path)
        #expect(!problems.isEmpty)
        let file = try HDF5File(path: path, mode: .readOnly)
        defer { try? file.close() }
        #expect(model.contextEncoder.blocks[0].attn.qkv.weight.scalars == (try file.readFloat32("encoder/module.blocks.0.attn.qkv.weight").values))
    }

    @Test func encoderOnlyFileInitialisesBothEncoders() throws {
        let path = try Fixture.path("vit_split_qkv.h5")
        var rng = RandomGenerator(seed: 6)
        let context = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 16, depth: 2, heads: 2, rng: &rng)
        let target = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 16, depth: 2, heads: 2, rng: &rng)
        let modules: [String: Module] = ["context_encoder": context, "target_encoder": target]
        let mapping = WeightMapping(try WeightFile.read(path), onto: modules)
        #expect(mapping.problems.isEmpty, "\(mapping.problems)")
        #expect(mapping.notes == ["target_encoder is not in the file: copied from context_encoder"])
        try mapping.load(into: modules, strict: true, path: path)
        #expect(context.norm.weight?.scalars == target.norm.weight?.scalars)
    }

    @Test func renameRulesRouteKeysToSubmodules() throws {
        let path = try Fixture.path("vit_split_qkv.h5")
        var rng = RandomGenerator(seed: 7)
        let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 16, depth: 2, heads: 2, rng: &rng)
        let wrapper = Wrapper(backbone: vit)
        let mapping = WeightMapping(try WeightFile.read(path), onto: ["context_encoder": wrapper],
                                    renames: [("", "context_encoder.backbone")])
        #expect(mapping.missing == ["context_encoder/head.bias", "context_encoder/head.weight"])
        #expect(mapping.unexpected.isEmpty && mapping.mismatched.isEmpty)
    }

    final class Wrapper: Module {
        let backbone: VisionTransformer
        let head: Linear
        init(backbone: VisionTransformer) {
            var rng = RandomGenerator(seed: 0)
            self.backbone = backbone
            head = Linear(16, 2, rng: &rng)
        }
    }

    @Test func kerasLayerCountMismatchIsListed() throws {
        let path = try Fixture.path("keras3_mlp.weights.h5")
        var rng = RandomGenerator(seed: 8)
        let linear = Linear(7, 12, rng: &rng)
        let mapping = WeightMapping(try WeightFile.read(path), onto: ["inverse_dynamics": linear], kerasTarget: "inverse_dynamics")
        let reason = "the file has 2 dense layers, inverse_dynamics has 1"
        #expect(Set(mapping.unexpected) == ["dense_1.kernel: \(reason)", "dense_1.bias: \(reason)"])
        #expect(mapping.unexpected.count == 2)
    }
}

@Suite struct ForeignErrorTests {
    @Test func aPyTorchFileGivenDirectlyPointsAtTheConverter() throws {
        let error = try #require(throws: CheckpointError.self) { try WeightFile.read(try Fixture.path("vjepa_tiny.pth.tar")) }
        #expect(error.kind == .notHDF5)
        #expect(error.description.contains("tools/torch_to_hdf5.py"))
    }

    @Test func theWrongFormatIsNamed() throws {
        let error = try #require(throws: CheckpointError.self) {
            try WeightFile.read(try Fixture.path("vit_split_qkv.h5"), format: .keras3)
        }
        #expect(error.kind == .unsupported)
        #expect(error.description.contains("given as a keras3 file but looks like a torch file"))
    }

    @Test func nonFiniteWeightsAndBFloat16AreHandled() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try HDF5File(path: path, mode: .truncate)
        // bfloat16 1.5 and -2 as raw little-endian bits (0x3FC0, 0xC000), and an integer buffer.
        try file.writeOpaque("encoder/norm.bias", shape: [2], elementSize: 2, bytes: [0xC0, 0x3F, 0x00, 0xC0], tag: "bfloat16")
        try file.write("encoder/steps", shape: [], int64: [3])
        try file.write("encoder/norm.weight", shape: [2], float32: [1, .nan])
        try file.close()
        let error = try #require(throws: CheckpointError.self) { try WeightFile.read(path) }
        #expect(error.kind == .nonFinite)
        #expect(error.description.contains("encoder/norm.weight' has 1 non-finite value"))

        let fix = try HDF5File(path: path, mode: .readWrite)
        try fix.write("encoder/norm.weight", shape: [2], float32: [1, 2])
        try fix.close()
        let read = try WeightFile.read(path)
        let bias = try #require(read.entries.first { $0.name == "encoder.norm.bias" })
        #expect(bias.storedType == "bfloat16" && bias.tensor.scalars == [1.5, -2])
        #expect(read.skipped.map(\.path) == ["encoder/steps"])
    }

    @Test func converterReproducesTheCommittedFileWhenTorchIsInstalled() throws {
        guard pythonHas("torch"), pythonHas("h5py") else {
            print("note: torch or h5py is not importable; tools/torch_to_hdf5.py check skipped")
            return
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("torch-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/torch_to_hdf5.py").path
        #expect(run(["python3", tool, try Fixture.path("vjepa_tiny.pth.tar"), out]) == 0)
        let fresh = try WeightFile.read(out), committed = try WeightFile.read(try Fixture.path("vjepa_tiny.h5"))
        #expect(fresh.entries.map(\.name) == committed.entries.map(\.name))
        #expect(zip(fresh.entries, committed.entries).allSatisfy { $0.tensor.scalars == $1.tensor.scalars && $0.storedType == $1.storedType })
    }
}

func pythonHas(_ module: String) -> Bool { run(["python3", "-c", "import \(module)"]) == 0 }

@discardableResult
func run(_ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite struct NumpyLoaderTests {
    /// tools/load_checkpoint.py reads our checkpoint with h5py and runs the ViT encoder in numpy:
    /// its features must match ours (this is also the h5py compatibility check of the format).
    @Test func numpyEncoderReproducesSwiftEmbeddings() throws {
        guard pythonHas("h5py"), pythonHas("numpy") else {
            print("note: python3 with h5py and numpy is not available; numpy loader check skipped")
            return
        }
        let (config, _, model) = try loadWorldModel(checkpoint: try Fixture.path("vjepa_tiny.h5"),
                                                    config: try Fixture.path("vjepa_tiny.yaml"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("numpy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = directory.appendingPathComponent("vjepa.h5").path
        let clipsPath = directory.appendingPathComponent("clips.h5").path
        let out = directory.appendingPathComponent("features.h5").path
        try CheckpointIO.write(Checkpoint(step: 1, config: try ConfigLoader.resolvedYAML(config),
                                          modules: model.checkpointModules, optimizer: nil), to: checkpoint)
        var rng = RandomGenerator(seed: 9)
        let clips = Tensor.uniform([3, 4, 1, 8, 8], using: &rng)
        let file = try HDF5File(path: clipsPath, mode: .truncate)
        try file.write("frames", shape: clips.shape, float32: clips.scalars)
        try file.close()

        let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/load_checkpoint.py").path
        for which in EncoderChoice.allCases {
            #expect(run(["python3", tool, checkpoint, "--embed", clipsPath, out, "--group", "\(which.rawValue)_encoder"]) == 0)
            let features = try HDF5File(path: out, mode: .readOnly)
            let (shape, values) = try features.readFloat32("features")
            try features.close()
            let ours = try encoderFeatures(model, clips: clips, which: which)
            #expect(shape == [3, 8, 16])
            #expect(relativeError(Tensor(values, shape: shape), ours) < 1e-4)
        }
    }
}
