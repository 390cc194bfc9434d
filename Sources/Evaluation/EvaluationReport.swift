import Foundation

/// What `jepa eval` measured, written as `report.json` and summarised as `report.md`.
public struct EvaluationReport: Codable, Sendable {
    public struct Probe: Codable, Sendable {
        public var name: String
        public var r2: Double, randomEncoderR2: Double
        public init(name: String, r2: Double, randomEncoderR2: Double) { (self.name, self.r2, self.randomEncoderR2) = (name, r2, randomEncoderR2) }
    }
    public struct Rollouts: Codable, Sendable {
        public var contextFrames: Int, startFrame: Int, episodes: Int
        public var errors: RolloutErrors
        public init(contextFrames: Int, startFrame: Int, episodes: Int, errors: RolloutErrors) {
            (self.contextFrames, self.startFrame, self.episodes, self.errors) = (contextFrames, startFrame, episodes, errors)
        }
    }
    public struct Violations: Codable, Sendable {
        /// Where a calibrated energy (`CalibratedEnergy`) was fitted.
        public struct Calibration: Codable, Sendable {
            public var path: String
            public var clips: Int, frames: Int
            /// The covariance shrinkage intensity δ used.
            public var shrinkage: Double
            /// Whether the fit is the one jepa train stored in the checkpoint.
            public var stored: Bool
            public init(path: String, clips: Int, frames: Int, shrinkage: Double, stored: Bool = false) {
                (self.path, self.clips, self.frames, self.shrinkage, self.stored) = (path, clips, frames, shrinkage, stored)
            }
        }
        public var path: String
        public var contextFrames: Int
        /// Fewest context frames when the context grows up to `contextFrames` (nil: fixed).
        public var minimumContext: Int?
        /// Steps ahead of its context each frame's surprise is predicted.
        public var horizon: Int
        public var window: Int
        /// Per reduction ("max", "mean", "at_violation"): per category and overall.
        public var results: [String: [ViolationScores.Summary]]
        /// nil: the model's own distance is the energy.
        public var calibration: Calibration?
        public init(path: String, contextFrames: Int, minimumContext: Int? = nil, horizon: Int = 1, window: Int,
                    results: [String: [ViolationScores.Summary]], calibration: Calibration? = nil) {
            (self.path, self.contextFrames, self.horizon, self.window, self.results) = (path, contextFrames, horizon, window, results)
            self.minimumContext = minimumContext
            self.calibration = calibration
        }
    }
    /// What one known frame leaves open: energies of the same future frames from 1 and from more
    /// context frames, at z = 0 and minimised over the latent variable (next-frame models).
    public struct Continuations: Codable, Sendable {
        public var startFrame: Int, horizon: Int, episodes: Int
        /// Size of the latent variable and the candidates it is chosen from (0 and 1 without one).
        public var latentDim: Int, latentSamples: Int
        public var energies: [ContinuationEnergy]
        public init(startFrame: Int, horizon: Int, episodes: Int, latentDim: Int, latentSamples: Int, energies: [ContinuationEnergy]) {
            (self.startFrame, self.horizon, self.episodes) = (startFrame, horizon, episodes)
            (self.latentDim, self.latentSamples, self.energies) = (latentDim, latentSamples, energies)
        }
    }
    public struct Collapse: Codable, Sendable {
        public var dimensions: Int, samples: Int
        public var meanStd: Double, minStd: Double, deadFraction: Double, effectiveRank: Double
        public init(dimensions: Int, samples: Int, meanStd: Double, minStd: Double, deadFraction: Double, effectiveRank: Double) {
            (self.dimensions, self.samples, self.meanStd, self.minStd) = (dimensions, samples, meanStd, minStd)
            (self.deadFraction, self.effectiveRank) = (deadFraction, effectiveRank)
        }
    }

    public var checkpoint: String
    public var kind: String
    public var step: Int
    public var probeData: String
    public var probeTrainSamples: Int, probeTestSamples: Int
    public var probes: [Probe]
    public var rollouts: Rollouts?
    /// Velocity from the model's state and rollouts decoded to positions (next-frame models).
    public var dynamics: DynamicsEvaluation?
    /// Position and velocity from a video JEPA's state (the context it predicts from).
    public var videoState: VideoStateEvaluation?
    public var violations: Violations?
    /// The same pairs scored with the calibrated energy.
    public var calibratedViolations: Violations?
    public var continuations: Continuations?
    public var collapse: Collapse
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case checkpoint, kind, step, probeData = "probe_data", probeTrainSamples = "probe_train_samples",
             probeTestSamples = "probe_test_samples", probes, rollouts, dynamics, videoState = "video_state", violations,
             calibratedViolations = "calibrated_violations", continuations, collapse, seconds
    }

    public init(checkpoint: String, kind: String, step: Int, probeData: String, probeTrainSamples: Int, probeTestSamples: Int,
                probes: [Probe], rollouts: Rollouts?, dynamics: DynamicsEvaluation? = nil, videoState: VideoStateEvaluation? = nil,
                violations: Violations?, calibratedViolations: Violations? = nil,
                continuations: Continuations? = nil, collapse: Collapse, seconds: Double) {
        (self.checkpoint, self.kind, self.step, self.probeData) = (checkpoint, kind, step, probeData)
        (self.probeTrainSamples, self.probeTestSamples, self.probes) = (probeTrainSamples, probeTestSamples, probes)
        (self.rollouts, self.dynamics, self.violations, self.continuations) = (rollouts, dynamics, violations, continuations)
        (self.videoState, self.calibratedViolations) = (videoState, calibratedViolations)
        (self.collapse, self.seconds) = (collapse, seconds)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// The Markdown summary: one table per section.
    public var markdown: String {
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        /// A table of R² per named quantity, one row per labelled model (no label column when unlabelled).
        func r2Table(_ names: [String], _ rows: [(label: String?, r2: [Double])]) -> String {
            let labelled = rows.contains { $0.label != nil }
            return "| " + (labelled ? "model | " : "") + names.joined(separator: " | ") + " |\n|" + (labelled ? "---|" : "")
                + String(repeating: "---:|", count: names.count) + "\n"
                + rows.map { "| " + ($0.label.map { $0 + " | " } ?? "") + $0.r2.map { f($0) }.joined(separator: " | ") + " |\n" }.joined()
        }
        var md = "# Evaluation of \(checkpoint)\n\n\(kind) model at step \(step); \(String(format: "%.0f", seconds)) s.\n\n"
            + "**Reading.** \(reading)\n\n"
        md += "## Probes\n\nRidge probe from frozen target-encoder features to the true state, fitted on \(probeTrainSamples) "
            + "samples and scored (R²) on \(probeTestSamples) held-out samples of `\(probeData)`.\n\n"
            + "| quantity | trained | random encoder |\n|---|---:|---:|\n"
        for p in probes { md += "| \(p.name) | \(f(p.r2)) | \(f(p.randomEncoderR2)) |\n" }
        if let r = rollouts {
            md += "\n## Rollouts\n\nOpen-loop latent prediction from \(r.contextFrames) known frame(s) up to frame \(r.startFrame), "
                + "\(r.episodes) held-out episodes; mean energy per step.\n\n"
                + "| horizon | model | repeat last |" + (r.errors.shuffledActions == nil ? "" : " shuffled actions |")
                + "\n|---:|---:|---:|" + (r.errors.shuffledActions == nil ? "" : "---:|") + "\n"
            for k in r.errors.model.indices {
                md += "| \(k + 1) | \(f(r.errors.model[k], 4)) | \(f(r.errors.repeatLast[k], 4)) |"
                    + (r.errors.shuffledActions.map { " \(f($0[k], 4)) |" } ?? "") + "\n"
            }
        }
        if let d = dynamics {
            md += "\n## Dynamics\n\nRidge probes on \(d.trainEpisodes) episodes, scored on \(d.testEpisodes) held-out ones. Position from one "
                + "frame's latent: R² x \(f(d.positionR2[0])), y \(f(d.positionR2[1])) (ridge penalty \(d.positionLambda), chosen on "
                + "held-out training episodes, as is the state probe's, \(d.stateLambda)). From the model's state (the latents of the "
                + "\(d.contextFrames) frames it reads and its prediction of the next; frames \(d.stateFrames.first ?? 0)…\(d.stateFrames.last ?? 0)):\n\n"
                + r2Table(d.stateNames, [(nil, d.stateR2)]) + "\n"
                + "Open-loop rollouts from the \(d.contextFrames) frames ending at frame \(d.startFrame), decoded to positions by the "
                + "position probe: median error in pixels against constant velocity and repeat-last (both from the true positions) "
                + "and the probe on the true latents (the decoder's own error).\n\n"
                + "| horizon | model | constant velocity | repeat last | probe on true latents |\n|---:|---:|---:|---:|---:|\n"
            for k in d.model.indices {
                md += "| \(k + 1) | \(f(d.model[k], 2)) | \(f(d.constantVelocity[k], 2)) | \(f(d.repeatLast[k], 2)) | \(f(d.decodedTruth[k], 2)) |\n"
            }
        }
        if let v = videoState {
            md += "\n## State\n\nRidge probes (penalty \(v.stateLambda), chosen on held-out training episodes) on \(v.trainEpisodes) "
                + "episodes, scored on \(v.testEpisodes) held-out ones, from the model's state at frames \(v.stateFrames.first ?? 0)…"
                + "\(v.stateFrames.last ?? 0): the context encoder's tokens of the \(v.contextFrames) frames ending there (what the "
                + "predictor reads), pooled to a 2 × 2 grid per temporal position.\n\n"
                + r2Table(v.stateNames, [("trained", v.stateR2)] + (v.randomEncoderR2.map { [("random", $0)] } ?? []))
        }
        for v in [violations, calibratedViolations].compactMap({ $0 }) {
            md += "\n## Violation of expectation" + (v.calibration == nil ? "" : ", calibrated energy") + "\n\n`\(v.path)`, "
                + (v.minimumContext.map { "context growing from \($0) to \(v.contextFrames) frames (each frame from all the frames up to the horizon before it), " }
                   ?? "\(v.contextFrames) context frames, ")
                + "surprise predicted \(v.horizon) step\(v.horizon == 1 ? "" : "s") ahead"
                + (v.minimumContext != nil && v.horizon > 1 ? " (the first frames after the minimum context fewer, from it). " : ". ")
            if let c = v.calibration {
                md += "Energy = squared Mahalanobis distance of a frame's prediction error per latent dimension, under a Gaussian "
                    + "fitted to the errors on \(c.frames) frames of \(c.clips) ordinary clips of `\(c.path)`"
                    + (c.stored ? " when training ended (stored in the checkpoint) " : " ")
                    + "(covariance shrinkage δ = \(String(format: "%.4g", c.shrinkage))). "
            }
            md += "Pairwise accuracy "
                + "(surprise of the impossible clip above its possible twin; ties count half) and AUROC (impossible = positive). "
                + "Reductions of a clip's per-frame surprise: `max` and `mean` over the clip, `at_violation` = max over the "
                + "\(v.window) frames from the violation frame on.\n\n"
            for reduction in ["max", "mean", "at_violation"] {
                guard let rows = v.results[reduction] else { continue }
                md += "**\(reduction)**\n\n| category | pairs | accuracy | AUROC |\n|---|---:|---:|---:|\n"
                for s in rows { md += "| \(s.category) | \(s.pairs) | \(f(s.pairwiseAccuracy)) | \(f(s.auroc)) |\n" }
                md += "\n"
            }
        }
        if let c = continuations {
            md += "\n## Continuations\n\nMean energy of frames \(c.startFrame + 1)…\(c.startFrame + c.horizon) predicted open loop "
                + "from the context frames ending at frame \(c.startFrame), \(c.episodes) held-out episodes: from one frame the motion "
                + "is ambiguous. "
                + (c.latentDim > 0 ? "Latent variable z of size \(c.latentDim), the best of \(c.latentSamples) candidates per clip.\n\n"
                                   : "The model has no latent variable.\n\n")
                + "| context frames | z = 0 | min over z |\n|---:|---:|---:|\n"
            for e in c.energies { md += "| \(e.contextFrames) | \(f(e.atZero, 4)) | \(f(e.minOverZ, 4)) |\n" }
        }
        let c = collapse
        md += "\n## Collapse diagnostics\n\nTarget-encoder features of \(c.samples) held-out samples, \(c.dimensions) dimensions.\n\n"
            + "| mean std | min std | dead fraction | effective rank |\n|---:|---:|---:|---:|\n"
            + "| \(f(c.meanStd)) | \(f(c.minStd)) | \(f(c.deadFraction)) | \(f(c.effectiveRank, 1)) |\n"
        return md
    }
}
