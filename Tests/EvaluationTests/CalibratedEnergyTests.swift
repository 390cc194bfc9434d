@testable import Evaluation
import Foundation
import Tensors
import Testing

@Suite struct CalibratedEnergyTests {
    /// Four 2-D errors with biased covariance S = [[10, 4], [4, 2]] / 4, so S⁻¹ = [[2, −4], [−4, 10]]
    /// and the energy of r is rᵀS⁻¹r / 2; a shift of every error (a biased predictor) changes
    /// nothing, and shrinkage δ = 0.5 gives Σ = S / 2 + 0.75 I = [[2, 0.5], [0.5, 1]].
    @Test func energyIsTheMahalanobisDistanceOfAHandComputedCase() throws {
        let rows: [[Float]] = [[2, 1], [-2, -1], [1, 0], [-1, 0]]
        for shift: [Float] in [[0, 0], [5, -3]] {
            let residuals = Tensor(rows.flatMap { [$0[0] + shift[0], $0[1] + shift[1]] }, shape: [4, 2])
            let fit = try CalibratedEnergy(residuals: residuals, shrinkage: .fixed(0))
            #expect(fit.dimension == 2 && fit.samples == 4 && fit.shrinkage == 0)
            let probes: [[Float]] = [[1, 0], [0, 1], [1, 1]]
            let e = fit.energy(residuals: Tensor(probes.flatMap { [$0[0] + shift[0], $0[1] + shift[1]] }, shape: [3, 2])).scalars
            for (got, want) in zip(e, [1, 5, 2] as [Float]) { #expect(abs(got - want) <= 1e-5) }
            let shrunk = try CalibratedEnergy(residuals: residuals, shrinkage: .fixed(0.5))
            let s = shrunk.energy(residuals: Tensor([1 + shift[0], 1 + shift[1]], shape: [1, 2])).scalars[0]
            #expect(abs(s - 2 / 3.5) <= 1e-5)
        }
    }

    /// Ledoit–Wolf's intensity and the energies under its covariance against scikit-learn
    /// (numbers printed by tools/make_calibration_fixture.py).
    @Test func ledoitWolfMatchesScikitLearn() throws {
        let x: [Float] = [0.1257302165031433, -0.06923975050449371, 0.1657058298587799,
                          0.10490011423826218, -0.48321932554244995, 0.0013446417870000005,
                          1.3040000200271606, 1.599081039428711, -0.021704377606511116,
                          -1.2654215097427368, -1.255985140800476, -0.11225710064172745,
                          -2.32503080368042, -1.3813070058822632, -0.4175316095352173,
                          -0.7322673797607422, -0.9103926420211792, -0.20374184846878052,
                          0.4116305410861969, 1.248328685760498, 0.16994227468967438]
        let fit = try CalibratedEnergy(residuals: Tensor(x, shape: [7, 3]))
        #expect(abs(fit.shrinkage - 0.2336505517605871) <= 1e-5)
        let e = fit.energy(residuals: Tensor([1, 0, 0, 0, 1, 0, 0.5, -0.5, 0.25], shape: [3, 3])).scalars
        for (got, want) in zip(e, [0.948226006007836, 0.5986359542804754, 0.8670905293929728] as [Float]) {
            #expect(abs(got - want) <= 1e-4 * want)
        }
    }

    /// Over the errors it was fitted to (no shrinkage) the mean energy is exactly 1: the biased
    /// covariance whitens its own sample to the identity.
    @Test func meanEnergyOverTheFittedErrorsIsOne() throws {
        var rng = RandomGenerator(seed: 11)
        let mixing = Tensor.randn([6, 6], using: &rng)
        let residuals = Tensor.randn([50, 6], using: &rng).matmul(mixing)
        let fit = try CalibratedEnergy(residuals: residuals, shrinkage: .fixed(0))
        let mean: Float = fit.energy(residuals: residuals).scalars.reduce(0, +) / 50
        #expect(abs(mean - 1) <= 1e-3)
        // Shrinkage towards the mean variance lowers it (Jensen: tr(Σ⁻¹S) ≤ D).
        let shrunk = try CalibratedEnergy(residuals: residuals, shrinkage: .fixed(0.1))
        let shrunkMean: Float = shrunk.energy(residuals: residuals).scalars.reduce(0, +) / 50
        #expect(shrunkMean < mean - 1e-3)
    }

    @Test func errorsThatCannotBeWhitenedAreClearErrors() throws {
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor.zeros([6])) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor.ones([1, 3])) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor.ones([5, 3])) }     // static: no variance
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor([1, 0, -1, 0, 0, 0], shape: [3, 2]), shrinkage: .fixed(0)) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor([1, .nan, -1, 0], shape: [2, 2])) }
        #expect(throws: EvaluationError.self) { _ = try CalibratedEnergy(residuals: Tensor([1, 2, -1, 0], shape: [2, 2]), shrinkage: .fixed(1.5)) }
        // One direction without variance is whitened once shrinkage is on; Ledoit–Wolf turns it on.
        #expect(throws: Never.self) { _ = try CalibratedEnergy(residuals: Tensor([1, 0, -1, 0, 0, 0], shape: [3, 2]), shrinkage: .fixed(1e-3)) }
        #expect(try CalibratedEnergy(residuals: Tensor([1, 0, -1, 0, 0, 0], shape: [3, 2])).shrinkage > 0)
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
