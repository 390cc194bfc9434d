import JEPA
import NN
@testable import Planning
import Tensors
import Testing
import Worlds

/// A toy world with a known optimum: x_H = x₀ + g·Σₜ uₜ, cost = ‖x_H − goal‖² + λ·Σₜ‖uₜ‖². Every
/// uₜ is then the same, u* = g·(goal − x₀) / (g²·H + λ), and with box bounds the coordinates
/// decouple, so the bounded optimum is u* clipped.
struct LinearWorldCost: TrajectoryCost {
    let horizon: Int
    let start: [Float], goal: [Float]
    let gain: Float = 0.5, penalty: Float = 0.1
    var actionDim: Int { start.count }

    func costs(_ actions: Tensor) -> Tensor {
        let x = Tensor(start, shape: [1, actionDim]) + actions.sum(axes: [1]) * gain          // [S, A]
        let miss = (x - Tensor(goal, shape: [1, actionDim])).squared().sum(axes: [1])
        return miss + actions.squared().sum(axes: [1, 2]) * penalty
    }

    func optimum(bounds: ActionBounds) -> [Float] {
        let u = zip(goal, start).map { bounds.clip(gain * ($0 - $1) / (gain * gain * Float(horizon) + penalty)) }
        return (0..<horizon).flatMap { _ in u }
    }
}

private func maxError(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }

private func planners(iterations: Int) -> [any Planner] {
    var cem = CEMPlanner.Settings()
    (cem.samples, cem.elites, cem.iterations, cem.minStd) = (200, 20, iterations, 0.005)
    var mppi = MPPIPlanner.Settings()
    (mppi.samples, mppi.iterations, mppi.temperature, mppi.noiseStd) = (200, iterations, 0.002, 0.1)
    var gradient = GradientPlanner.Settings()
    (gradient.iterations, gradient.learningRate) = (10 * iterations, 0.05)
    return [CEMPlanner(settings: cem), MPPIPlanner(settings: mppi), GradientPlanner(settings: gradient)]
}

@Suite struct PlannerTests {
    /// Each planner finds the analytic optimum of the linear world (CEM and MPPI to sampling
    /// precision, gradient descent closely), and runs the same for the same seed.
    @Test func plannersFindTheLinearOptimum() {
        let cost = LinearWorldCost(horizon: 5, start: [0.2, 0.1], goal: [1.2, -0.4])
        let optimum = cost.optimum(bounds: ActionBounds())
        #expect(optimum.allSatisfy { abs($0) < 0.9 && abs($0) > 0.1 })    // interior, not trivially zero
        for (planner, tolerance) in zip(planners(iterations: 30), [Float(0.03), 0.05, 1e-3]) {
            var p = planner, q = planner
            var rng = RandomGenerator(seed: 1), again = RandomGenerator(seed: 1)
            let plan = p.plan(cost, rng: &rng)
            #expect(maxError(plan.actions, optimum) <= tolerance, "\(p.name): \(plan.actions) vs \(optimum)")
            #expect(q.plan(cost, rng: &again).actions == plan.actions, "\(p.name) is not deterministic")
            let best = noGrad { cost.costs(Tensor(optimum, shape: [1, 5, 2])).item }
            #expect(plan.cost >= best - 1e-5 && plan.cost <= best + 1e-2, "\(p.name): cost \(plan.cost) vs optimum \(best)")
        }
    }

    /// With a goal far outside reach the unbounded optimum leaves the box: every planner stays
    /// inside it and ends at the bounded optimum.
    @Test func actionBoundsAlwaysHold() {
        let cost = LinearWorldCost(horizon: 4, start: [0, 0], goal: [20, -20])
        let bounds = ActionBounds(low: -0.5, high: 1)
        let optimum = cost.optimum(bounds: bounds)
        #expect(optimum.prefix(2) == [1, -0.5])
        for planner in planners(iterations: 15) {
            var p: any Planner
            switch planner {
            case let c as CEMPlanner: p = CEMPlanner(settings: c.settings, bounds: bounds)
            case let m as MPPIPlanner: p = MPPIPlanner(settings: m.settings, bounds: bounds)
            case let g as GradientPlanner: p = GradientPlanner(settings: g.settings, bounds: bounds)
            default: Issue.record("unknown planner"); continue
            }
            var rng = RandomGenerator(seed: 2)
            let plan = p.plan(cost, rng: &rng)
            #expect(plan.actions.allSatisfy { $0 >= -0.5 && $0 <= 1 }, "\(p.name) left the bounds: \(plan.actions)")
            #expect(maxError(plan.actions, optimum) <= 0.05, "\(p.name): \(plan.actions)")
        }
    }

    @Test func mppiWeightsSumToOneAndFavourLowCost() {
        let w = MPPIPlanner.weights(costs: [3, 1, 2, 1e6], temperature: 1)
        #expect(abs(w.reduce(0, +) - 1) < 1e-6)
        #expect(w[1] > w[2] && w[2] > w[0] && w[3] == 0)
        #expect(abs(w[1] / w[2] - Float(2.718281828)) < 1e-4)
        let extreme = MPPIPlanner.weights(costs: [1e8, 1e8 + 64], temperature: 1e-3)
        #expect(extreme.allSatisfy { $0.isFinite } && extreme[0] == 1)
        let flat = MPPIPlanner.weights(costs: [5, 5, 5, 5], temperature: 0.1)
        #expect(flat.allSatisfy { abs($0 - 0.25) < 1e-6 })
    }

    /// The warm start drops executed steps and repeats the last action; a reset forgets it. A
    /// proposal is used once, and only when it costs less than the shifted plan.
    @Test func warmStartShiftsByTheExecutedSteps() {
        var warm = WarmStart()
        warm.store(Plan(actions: [1, 2, 3, 4, 5, 6], horizon: 3, actionDim: 2, cost: 0, iterationCosts: []))
        warm.advance(by: 1)
        #expect(warm.mean == [3, 4, 5, 6, 5, 6])
        warm.advance(by: 5)
        #expect(warm.mean == [5, 6, 5, 6, 5, 6])
        let small = LinearWorldCost(horizon: 2, start: [0, 0], goal: [0, 0])
        #expect(warm.initial(horizon: 2, actionDim: 2, bounds: ActionBounds(), cost: small) == [0, 0, 0, 0])   // other size: fresh
        // Cost ‖Σu‖²/4 + 0.1·‖u‖² with goal = start: the smaller sequence wins, either way round.
        let cost = LinearWorldCost(horizon: 3, start: [0, 0], goal: [0, 0])
        warm.propose([1, 1, 1, 1, 1, 1], bounds: ActionBounds())
        #expect(warm.initial(horizon: 3, actionDim: 2, bounds: ActionBounds(), cost: cost) == [1, 1, 1, 1, 1, 1])
        #expect(warm.proposal == nil)
        #expect(warm.initial(horizon: 3, actionDim: 2, bounds: ActionBounds(), cost: cost) == [5, 6, 5, 6, 5, 6])
        warm.propose([9, 9, 9, 9, 9, 9], bounds: ActionBounds(low: -10, high: 10))
        #expect(warm.initial(horizon: 3, actionDim: 2, bounds: ActionBounds(), cost: cost) == [5, 6, 5, 6, 5, 6])
        warm.propose([0.5, 0, 0, 0, 0, 0], bounds: ActionBounds())
        warm.reset()
        #expect(warm.mean == nil && warm.proposal == nil)
    }

    @Test func wilsonIntervalMatchesKnownValues() {
        let none = wilsonInterval(successes: 0, trials: 10), half = wilsonInterval(successes: 5, trials: 10)
        #expect(none.low == 0 && abs(none.high - 0.2775) < 1e-4)
        #expect(abs(half.low - 0.2366) < 1e-4 && abs(half.high - 0.7634) < 1e-4)
        let all = wilsonInterval(successes: 50, trials: 50)
        #expect(abs(all.high - 1) < 1e-12 && abs(all.low - 0.9287) < 1e-4)
    }
}
