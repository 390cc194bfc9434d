import Foundation
import Testing
import Tensors
@testable import NN

/// Sin-cos tables against NumPy re-implementations of MAE's / V-JEPA's functions
/// (`tools/make_fixtures_sincos.py` → `Fixtures/sincos.json`), plus entries checked by hand.
@Suite struct SinCosTables {
    struct Table: Decodable { let shape: [Int]; let values: [Double] }

    static func reference() throws -> [String: Table] {
        let url = try #require(Bundle.module.url(forResource: "sincos", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode([String: Table].self, from: Data(contentsOf: url))
    }

    func expectMatches(_ t: Tensor, _ ref: Table?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let ref else { Issue.record("missing reference table", sourceLocation: sourceLocation); return }
        #expect(t.shape == ref.shape, sourceLocation: sourceLocation)
        guard t.shape == ref.shape else { return }
        var worst = 0.0
        for i in 0..<t.count { worst = max(worst, abs(Double(t.ptr[i]) - ref.values[i])) }
        #expect(worst < 1e-6, "max |diff| \(worst)", sourceLocation: sourceLocation)
    }

    @Test func matchNumPyReference() throws {
        let ref = try Self.reference()
        expectMatches(SinCosPositionEmbedding.table2D(dim: 8, gridHeight: 3, gridWidth: 3), ref["2d_dim8_3x3"])
        expectMatches(SinCosPositionEmbedding.table2D(dim: 12, gridHeight: 2, gridWidth: 3), ref["2d_dim12_2x3"])
        expectMatches(SinCosPositionEmbedding.table3D(dim: 16, frames: 2, gridHeight: 2, gridWidth: 3),
                      ref["3d_dim16_t2_2x3"])
        expectMatches(SinCosPositionEmbedding.table3D(dim: 16, frames: 3, gridHeight: 2, gridWidth: 2, uniformPower: true),
                      ref["3d_dim16_t3_2x2_uniform"])
        expectMatches(SinCosPositionEmbedding.table1D(dim: 6, length: 5), ref["1d_dim6_len5"])
    }

    @Test func entriesByHand() {
        // 2-D, dim 8, 3×3: token (row 1, column 2) is index 5. First 4 channels encode the column
        // (MAE quirk), ω = [1, 1/100] for a 4-channel half.
        let t = SinCosPositionEmbedding.table2D(dim: 8, gridHeight: 3, gridWidth: 3)
        let expected: [Float] = [sin(2), sin(0.02), cos(2), cos(0.02), sin(1), sin(0.01), cos(1), cos(0.01)]
        for c in 0..<8 { #expect(abs(t[5, c] - expected[c]) < 1e-6) }
        // 3-D, dim 16: token (t 1, row 0, column 2) of a 2×2×3 grid is index 1·6 + 0·3 + 2 = 8.
        // Time gets 8 channels (ω_i = 10000^(−i/4)), row and column 4 each (ω = [1, 1/100]).
        let v = SinCosPositionEmbedding.table3D(dim: 16, frames: 2, gridHeight: 2, gridWidth: 3)
        let om = (0..<4).map { 1 / Foundation.pow(Float(10000), Float($0) / 4) }
        for i in 0..<4 {
            #expect(abs(v[8, i] - sin(om[i])) < 1e-6)
            #expect(abs(v[8, 4 + i] - cos(om[i])) < 1e-6)
        }
        #expect(Array(v.scalars[(8 * 16 + 8)..<(8 * 16 + 12)]) == [0, 0, 1, 1])       // row 0
        #expect(abs(v[8, 12] - sin(2)) < 1e-6 && abs(v[8, 13] - sin(0.02)) < 1e-6)    // column 2
    }

    @Test func vitUsesTheTable() {
        var rng = RandomGenerator(seed: 1)
        let vit = VisionTransformer(imageSize: 12, patch: 4, channels: 1, dim: 8, depth: 1, heads: 2,
                                    posEmbed: .sincos, rng: &rng)
        let table = SinCosPositionEmbedding.table2D(dim: 8, gridHeight: 3, gridWidth: 3)
        #expect(vit.positionEmbedding.scalars == table.scalars)
        let video = VisionTransformer(frames: 4, tubelet: 2, imageSize: 8, patch: 4, channels: 1, dim: 16,
                                      depth: 1, heads: 2, rng: &rng)
        #expect(video.positionEmbedding.scalars
                == SinCosPositionEmbedding.table3D(dim: 16, frames: 2, gridHeight: 2, gridWidth: 2).scalars)
    }
}
