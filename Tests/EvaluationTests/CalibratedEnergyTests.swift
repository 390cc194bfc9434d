@testable import Evaluation
import Foundation
import Tensors
import Testing

@Suite struct CalibratedEnergyTests {
    /// Four 2-D errors with covariance Σ = [[10, 4], [4, 2]] / 3 (unbiased), so
    /// Σ⁻¹ = [[1.5, −3], [−3, 7.5]] and the energy of r is rᵀΣ⁻¹r / 2; a shift of every error
    /// (a biased predictor) changes nothing, and shrinkage 0.5 adds 0.5 × the mean variance (2)
    /// to the diagonal: (Σ + I)⁻¹ = [[15, −12], [−12, 39]] / 49.
    @Test func energyIsTheMahalanobisDistanceOfAHandComputedCase() throws {
        let rows: [[Float]] = [[2, 1], [-2, -1], [1, 0], [-1, 0]]
        for shift: [Float] in [[0, 0], [5, -3]] {
            let residuals = Tensor(rows.flatMap { [$0[0] + shift[0], $0[1] + shift[1]] }, shape: [4, 2])
            let fit = try CalibratedEnergy(residuals: residuals, shrinkage: 0)
            #expect(fit.dimension == 2 && fit.samples == 4)
            let probes: [[Float]] = [[1, 0], [0, 1], [1, 1]]
            let e = fit.energy(residuals: Tensor(probes.flatMap { [$0[0] + shift[0], $0[1] + shift[1]] }, shape: [3, 2])).scalars
            for (got, want) in zip(e, [0.75, 3.75, 1.5] as [Float]) { #expect(abs(got - want) <= 1e-5) }
            let shrunk = try CalibratedEnergy(residuals: residuals, shrinkage: 0.5)
            let s = shrunk.energy(residuals: Tensor([1 + shift[0], 1 + shift[1]], shape: [1, 2])).scalars[0]
            #expect(abs(s - 30 / 98) <= 1e-5)
        }
    }

    /// Over the errors it was fitted to (shrinkage 0) the mean energy is exactly (M − 1) / M: the
    /// unbiased covariance whitens its own sample to identity up to that factor.
    @Test func meanEnergyOverTheFittedErrorsIsKnown() throws {
        var rng = RandomGenerator(seed: 11)
        let mixing = Tensor.randn([6, 6], using: &rng)
        let residuals = Tensor.randn([50, 6], using: &rng).matmul(mixing)
        let fit = try CalibratedEnergy(residuals: residuals, shrinkage: 0)
        let mean: Float = fit.energy(residuals: residuals).scalars.reduce(0, +) / 50
        #expect(abs(mean - 49.0 / 50) <= 1e-3)
        // Shrinkage only lowers it (every direction's variance grows).
        let shrunk = try CalibratedEnergy(residuals: residuals, shrinkage: 0.1)
        let shrunkMean: Float = shrunk.energy(residuals: residuals).scalars.reduce(0, +) / 50
        #expect(shrunkMean < mean - 1e-3)
    }

    @Test func errorsThatCannotBeWhitenedAreClearErrors() throws {
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor.zeros([6])) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor.ones([1, 3])) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor.ones([5, 3])) }     // static: no variance
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor([1, 0, -1, 0, 0, 0], shape: [3, 2]), shrinkage: 0) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor([1, .nan, -1, 0], shape: [2, 2])) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor([1, 2, -1, 0], shape: [2, 2]), shrinkage: -1) }
        // One direction without variance is whitened once shrinkage is on.
        #expect(throws: Never.self) { _ = try CalibratedEnergy(residuals: Tensor([1, 0, -1, 0, 0, 0], shape: [3, 2]), shrinkage: 1e-3) }
    }

    /// The triangular helpers: L Lᵀ rebuilds the matrix, and L · L⁻¹ = I.
    @Test func choleskyAndTriangularInverse() throws {
        let a: [Double] = [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3]
        let l = try #require(choleskyFactor(a, 3))
        let inverse = invertLowerTriangular(l, 3)
        for i in 0..<3 {
            for j in 0..<3 {
                let llt = (0..<3).reduce(0.0) { $0 + l[i * 3 + $1] * l[j * 3 + $1] }
                let identity = (0..<3).reduce(0.0) { $0 + l[i * 3 + $1] * inverse[$1 * 3 + j] }
                #expect(abs(llt - a[i * 3 + j]) <= 1e-12 && abs(identity - (i == j ? 1 : 0)) <= 1e-12)
            }
        }
        #expect(choleskyFactor([1, 2, 2, 1], 2) == nil)     // indefinite
    }
}
