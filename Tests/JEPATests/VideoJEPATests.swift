import Evaluation
import Foundation
import HDF5
@testable import JEPA
import NN
import Tensors
import Testing
import Worlds

private func leaf(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &rng, requiresGrad: true)
}

private func expectGradients(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    let bad = GradientCheck.mismatches(inputs, f)
    #expect(bad.isEmpty, "gradient mismatches: \(bad.prefix(5))", sourceLocation: sourceLocation)
}

private func tinyConfig() -> VideoJEPAConfig {
    var c = VideoJEPAConfig()
    (c.frames, c.imageSize, c.patch, c.tubelet) = (2, 16, 8, 1)           // 2 × 2 × 2 = 8 tokens
    (c.encoderDim, c.encoderDepth, c.encoderHeads) = (16, 1, 2)
    (c.predictorDim, c.predictorDepth, c.predictorHeads) = (8, 1, 2)
    return c
}

/// Random half of the tokens as targets, the rest as context, per clip.
private func halfMasks(batch: Int, tokens: Int, rng: inout RandomGenerator) -> ([[Int]], [[Int]]) {
    var context: [[Int]] = [], target: [[Int]] = []
    for _ in 0..<batch {
        let p = rng.permutation(tokens)
        target.append(p[..<(tokens / 2)].sorted())
        context.append(p[(tokens / 2)...].sorted())
    }
    return (context, target)
}

/// Clips [B, 1, T, 16, 16] of a small balls world.
private func ballClips(batch: Int, frames: Int, seed: UInt64, offset: Int) throws -> Tensor {
    var config = BallsConfig()
    (config.width, config.height, config.minRadius, config.maxRadius, config.maxBalls) = (16, 16, 2, 3, 1)
    (config.minVX, config.maxVX, config.minVY, config.maxVY, config.gravity) = (-1, 1, -0.5, 0.5, 0.15)
    let world = try BallsWorld(config: config)
    var values: [Float] = []
    for i in 0..<batch {
        let e = world.episode(index: offset + i, seed: seed, frames: frames)
        values += e.frames.map { Float($0) / 255 }
    }
    return Tensor(values, shape: [batch, frames, 1, 16, 16]).permuted([0, 2, 1, 3, 4])
}

@Suite struct EnergyAndRegularizerTests {
    @Test func energyValuesAndGradients() {
        let p = Tensor([1, 2, 3, 4], shape: [2, 2]), t = Tensor([0, 2, 5, 4], shape: [2, 2])
        #expect(energy(predicted: p, target: t, distance: .l1).item == 0.75)
        #expect(energy(predicted: p, target: t, distance: .l2).item == 1.25)
        #expect(energyPerClip(predicted: p, target: t).scalars == [0.5, 1])
        let a = leaf([2, 3, 4], seed: 1), b = Tensor.zeros([2, 3, 4]).copy()
        expectGradients([a]) { energy(predicted: $0[0], target: b, distance: .l2) }
        expectGradients([a]) { energyPerClip(predicted: $0[0], target: b, distance: .l2) }
    }

    @Test func varianceAndCovarianceTerms() {
        let x = leaf([6, 4], seed: 2)
        expectGradients([x]) { VarianceCovariance.varianceLoss($0[0], gamma: 2) }
        expectGradients([x]) { VarianceCovariance.covarianceLoss($0[0]) }
        // Identical samples: zero spread, variance loss ≈ γ; decorrelated ±1 columns: zero covariance.
        #expect(Swift.abs(VarianceCovariance.varianceLoss(Tensor.ones([5, 3])).item - 0.99) < 1e-3)
        let orthogonal = Tensor([1, 1, 1, -1, -1, 1, -1, -1], shape: [4, 2])
        #expect(Swift.abs(VarianceCovariance.covarianceLoss(orthogonal).item) < 1e-6)
        #expect(CollapseStats(Tensor.ones([4, 3])).deadFraction == 1)
    }

    /// Per position, the terms equal the pooled ones computed on that position's samples alone;
    /// tokens that differ only by position carry no spread.
    @Test func positionwiseVarianceAndCovariance() {
        let x = leaf([5, 3, 4], seed: 3)
        expectGradients([x]) { VarianceCovariance.positionwiseVarianceLoss($0[0], gamma: 2) }
        expectGradients([x]) { VarianceCovariance.positionwiseCovarianceLoss($0[0]) }
        let perPosition = (0..<3).map { p in x.slice(axis: 1, p..<(p + 1)).reshaped([5, 4]) }
        let variance = perPosition.map { VarianceCovariance.varianceLoss($0).item }.reduce(0, +) / 3
        let covariance = perPosition.map { VarianceCovariance.covarianceLoss($0).item }.reduce(0, +) / 3
        #expect(Swift.abs(VarianceCovariance.positionwiseVarianceLoss(x).item - variance) < 1e-5)
        #expect(Swift.abs(VarianceCovariance.positionwiseCovarianceLoss(x).item - covariance) < 1e-5)
        // Every sample the same, positions different: pooled spread is high, positionwise is none.
        let sample: [Float] = [-2, 2, 0, 0, 2, -2, 0, 0]
        let positionsOnly = Tensor(Array((0..<4).map { _ in sample }.joined()), shape: [4, 2, 4])
        #expect(VarianceCovariance.varianceLoss(positionsOnly).item < 0.5)
        #expect(Swift.abs(VarianceCovariance.positionwiseVarianceLoss(positionsOnly).item - 0.99) < 1e-3)
    }
}

@Suite struct PredictorAndModelTests {
    @Test func predictorGradients() {
        var rng = RandomGenerator(seed: 3)
        let predictor = Predictor(encoderDim: 6, dim: 8, depth: 1, heads: 2, grid: [2, 2, 2], rng: &rng)
        let context = leaf([2, 3, 6], seed: 4)
        let ctx = [[0, 3, 5], [1, 2, 7]], tgt = [[1, 2], [0, 6]]
        let params = [predictor.maskToken, predictor.predictorEmbed.weight, predictor.predictorProj.weight,
                      predictor.predictorBlocks[0].attn.qkv.weight]
        expectGradients([context] + params) { _ in predictor(context, contextIndices: ctx, targetIndices: tgt) }
        #expect(predictor.namedParameters().map(\.name).contains("mask_token"))
        #expect(predictor.namedParameters().first?.name == "predictor_embed.weight")
    }

    @Test func targetEncoderGetsNoGradientAndFollowsByEMA() throws {
        var rng = RandomGenerator(seed: 5)
        let model = try VideoJEPA(config: tinyConfig(), rng: &rng)
        let clips = try ballClips(batch: 2, frames: 2, seed: 1, offset: 0)
        let (ctx, tgt) = halfMasks(batch: 2, tokens: model.tokenCount, rng: &rng)
        model.loss(clips: clips, contextIndices: ctx, targetIndices: tgt).total.backward()
        #expect(model.targetEncoder.parameters().allSatisfy { $0.grad == nil && !$0.requiresGrad })
        #expect(model.contextEncoder.parameters().allSatisfy { $0.grad != nil })
        #expect(model.predictor.parameters().allSatisfy { $0.grad != nil })
        // One EMA step: target ← 0.9·target + 0.1·context.
        let t0 = model.targetEncoder.namedParameters()[0].tensor.scalars
        model.contextEncoder.namedParameters()[0].tensor.withUnsafeMutableBufferPointer { b in
            for i in b.indices { b[i] += 1 }
        }
        let c = model.contextEncoder.namedParameters()[0].tensor.scalars
        model.updateTarget(momentum: 0.9)
        let t1 = model.targetEncoder.namedParameters()[0].tensor.scalars
        for i in 0..<t0.count { #expect(Swift.abs(t1[i] - (0.9 * t0[i] + 0.1 * c[i])) < 1e-6) }
    }

    /// A tiny model on 16×16 balls clips: the prediction loss falls and the target features keep
    /// their spread (no collapse) with EMA + stop-gradient + variance/covariance terms.
    @Test func tinyModelLearnsWithoutCollapse() throws {
        var rng = RandomGenerator(seed: 6)
        let model = try VideoJEPA(config: tinyConfig(), rng: &rng)
        let opt = AdamW(parameters: model.trainableParameters, learningRate: 2e-3, weightDecay: 0.04)
        let weights = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04)
        var losses: [Float] = [], stds: [Float] = []
        for step in 0..<60 {
            let clips = try ballClips(batch: 8, frames: 2, seed: 7, offset: 8 * step)
            let (ctx, tgt) = halfMasks(batch: 8, tokens: model.tokenCount, rng: &rng)
            let loss = model.loss(clips: clips, contextIndices: ctx, targetIndices: tgt, weights: weights)
            loss.total.backward()
            opt.step()
            opt.zeroGrad()
            model.updateTarget(momentum: 0.99)
            losses.append(loss.prediction)
            stds.append(loss.targetStats.meanStd)
        }
        let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
        #expect(last < 0.7 * first, "prediction loss \(first) → \(last)")
        #expect(stds.suffix(5).allSatisfy { $0 > 0.2 }, "target feature std \(stds.suffix(5))")
    }
}

@Suite struct SIGRegTests {
    @Test func gaussianSamplesScoreLowAndCollapsedOnesHigh() {
        var rng = RandomGenerator(seed: 11)
        let gaussian = Tensor.randn([2000, 8], using: &rng)
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1), r3 = RandomGenerator(seed: 1)
        let low = SIGReg.loss(gaussian, rng: &r1).item
        let collapsed = SIGReg.loss(Tensor.zeros([2000, 8]), rng: &r2).item
        let narrow = SIGReg.loss(gaussian * 0.2, rng: &r3).item
        #expect(low < 2, "Gaussian samples: \(low)")
        #expect(collapsed > 100 * low && narrow > 20 * low, "collapsed \(collapsed), narrow \(narrow), Gaussian \(low)")
    }

    @Test func gradients() {
        let x = leaf([12, 3], seed: 12)
        expectGradients([x]) { v in var r = RandomGenerator(seed: 3); return SIGReg.loss(v[0], directions: 4, knots: 5, rng: &r) }
    }
}

@Suite struct SurpriseTests {
    /// Window w of a clip scores exactly what the clip's frames w… scored alone do; windows follow
    /// the stride and are attributed to their first predicted frame.
    @Test func windowsSlideOverTheClip() throws {
        var rng = RandomGenerator(seed: 8)
        var config = tinyConfig()
        config.frames = 3
        let model = try VideoJEPA(config: config, rng: &rng)
        let clips = try ballClips(batch: 2, frames: 7, seed: 2, offset: 0).permuted([0, 2, 1, 3, 4])   // [B, T, C, H, W]
        let scorer = try MaskedSurpriseScorer(model: model, contextFrames: 2, stride: 2)
        #expect(scorer.windowStarts(length: 7) == [0, 2, 4] && scorer.scoredFrames(length: 7) == [2, 4, 6])
        let scores = try scorer.surprise(clips)
        #expect(scores.shape == [2, 3] && scores.scalars.allSatisfy { $0.isFinite && $0 > 0 })
        let alone = try scorer.surprise(clips.slice(axis: 1, 4..<7))
        #expect(alone.shape == [2, 1])
        #expect(zip(alone.scalars, [scores.scalars[2], scores.scalars[5]]).allSatisfy { Swift.abs($0 - $1) <= 1e-6 })
    }

    @Test func badScoringInputsAreClearErrors() throws {
        var rng = RandomGenerator(seed: 9)
        let model = try VideoJEPA(config: tinyConfig(), rng: &rng)
        #expect(throws: EvaluationError.self) { _ = try MaskedSurpriseScorer(model: model, contextFrames: 2) }   // window is 2 frames
        #expect(throws: EvaluationError.self) { _ = try MaskedSurpriseScorer(model: model, contextFrames: 1, stride: 0) }
        let scorer = try MaskedSurpriseScorer(model: model, contextFrames: 1)
        #expect(throws: EvaluationError.self) { _ = try scorer.surprise(Tensor.zeros([1, 1, 1, 16, 16])) }  // shorter than a window
        #expect(throws: EvaluationError.self) { _ = try scorer.surprise(Tensor.zeros([1, 4, 1, 8, 8])) }    // wrong frame size
        #expect(throws: EvaluationError.self) { _ = try makeSurpriseScorer(for: model, contextFrames: nil, horizon: 2) }
    }
}

@Suite struct ClipFileTests {
    private func file(_ name: String, _ body: (HDF5File) throws -> Void) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clipfile-\(name)-\(UUID().uuidString).h5").path
        let f = try HDF5File(path: path, mode: .truncate)
        try body(f)
        try f.close()
        return path
    }

    @Test func readsBothLayoutsAndTypes() throws {
        let bytes = try file("u8") { try $0.write("frames", shape: [2, 3, 4, 4], uint8: (0..<96).map { UInt8($0) }) }
        let clips = try ClipFile(path: bytes)
        #expect((clips.count, clips.length, clips.channels, clips.height, clips.width) == (2, 3, 1, 4, 4))
        let second = try clips.read(1..<2)
        #expect(second.shape == [1, 3, 1, 4, 4] && second.scalars.first == 48 / 255 && second.scalars.last == 95 / 255)
        let floats = try file("f32") { try $0.write("frames", shape: [1, 2, 3, 4, 4], float32: (0..<96).map { Float($0) / 96 }) }
        let colour = try ClipFile(path: floats)
        let read = try colour.read(0..<1)
        #expect(colour.channels == 3 && read.scalars[5] == 5 / 96)
    }

    @Test func badClipFilesAreClearErrors() throws {
        func message(_ path: String) -> String {
            do { _ = try ClipFile(path: path); return "no error" } catch { return "\(error)" }
        }
        let missing = try file("missing") { try $0.write("clips", shape: [1, 2, 4, 4], uint8: [UInt8](repeating: 0, count: 32)) }
        #expect(message(missing).contains("no /frames dataset") && message(missing).contains("clips"))
        let rank = try file("rank") { try $0.write("frames", shape: [2, 16], uint8: [UInt8](repeating: 0, count: 32)) }
        #expect(message(rank).contains("[2, 16]"))
        let wide = try file("f64") { try $0.write("frames", shape: [1, 2, 2, 2], float64: [Double](repeating: 0, count: 8)) }
        #expect(message(wide).contains("float64") && message(wide).contains("expected uint8"))
        let empty = try file("empty") { try $0.write("frames", shape: [0, 2, 4, 4], uint8: []) }
        #expect(message(empty).contains("no clips"))
        #expect(message("/nonexistent/clips.h5") != "no error")
    }
}
