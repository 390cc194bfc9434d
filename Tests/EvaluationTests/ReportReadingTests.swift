@testable import Evaluation
import Testing

/// The report's one-paragraph reading states the figures and what they mean, including bad news.
@Suite struct ReportReadingTests {
    func report(vx: Double, model: [Double], accuracy: Double, weakest: Double) -> EvaluationReport {
        let dynamics = DynamicsEvaluation(contextFrames: 12, startFrame: 11, trainEpisodes: 480, testEpisodes: 120,
                                          positionR2: [0.99, 0.98], positionLambda: 1e-4, stateLambda: 1e-4,
                                          stateNames: ["x", "y", "vx", "vy"], stateR2: [0.99, 0.98, vx, 0.93], stateFrames: [11],
                                          model: model, constantVelocity: [0.4, 1.2, 2.4, 3.5, 5.2, 8, 12, 22],
                                          repeatLast: [4, 8, 12, 16, 17, 17, 16, 14], decodedTruth: Array(repeating: 1.5, count: 8))
        let rows = [ViolationScores.Summary(category: "teleport", pairs: 50, pairwiseAccuracy: 1, auroc: 1),
                    ViolationScores.Summary(category: "freeze", pairs: 50, pairwiseAccuracy: weakest, auroc: 0.6),
                    ViolationScores.Summary(category: "principle: spatio_temporal_continuity", pairs: 100, pairwiseAccuracy: 0.1, auroc: 0.5),
                    ViolationScores.Summary(category: "overall", pairs: 100, pairwiseAccuracy: accuracy, auroc: 0.9)]
        let voe = EvaluationReport.Violations(path: "v.h5", contextFrames: 12, minimumContext: 4, window: 4, results: ["at_violation": rows],
                                              calibration: .init(path: "c.h5", clips: 400, frames: 8000, shrinkage: 0.1, stored: true))
        return EvaluationReport(checkpoint: "c", kind: "next_frame", step: 1, probeData: "p", probeTrainSamples: 1, probeTestSamples: 1,
                                probes: [], rollouts: nil, dynamics: dynamics, violations: nil, calibratedViolations: voe,
                                collapse: .init(dimensions: 8, samples: 8, meanStd: 1, minStd: 1, deadFraction: 0, effectiveRank: 6),
                                seconds: 1)
    }

    @Test func goodModel() {
        let text = report(vx: 0.93, model: [2, 3, 3, 3, 4, 5, 6, 7], accuracy: 0.95, weakest: 0.88).reading
        #expect(text.contains("vx R² 0.93, vy 0.93 — the model's state carries how things move"), "\(text)")
        #expect(text.contains("beat constant velocity from horizon 4 on"), "\(text)")
        #expect(text.contains("k = 8: 7.0 px against 22.0"), "\(text)")
        #expect(text.contains("95 % of 100 pairs") && text.contains("clearly tells possible from impossible"), "\(text)")
        #expect(text.contains("weakest category is freeze (88 %)"), "\(text)")   // principle rows are not categories
        #expect(text.contains("calibrated energy") && text.contains(" and beat \"the ball stays"), "\(text)")
    }

    @Test func weakModelIsSaidToBeWeak() {
        let text = report(vx: 0.3, model: [5, 9, 13, 17, 18, 19, 11, 30], accuracy: 0.52, weakest: 0.2).reading
        #expect(text.contains("the state carries little of the motion"), "\(text)")
        #expect(text.contains("beat constant velocity at horizons 7"), "\(text)")
        #expect(text.contains("do not always beat"), "\(text)")
        #expect(text.contains("cannot tell possible from impossible"), "\(text)")
    }
}
