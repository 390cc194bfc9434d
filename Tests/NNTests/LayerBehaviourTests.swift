import Foundation
import Testing
import Tensors
@testable import NN

@Suite struct PatchEmbedding {
    @Test func patchEmbedEqualsConv2d() {
        var rng = RandomGenerator(seed: 1)
        let pe = PatchEmbed(channels: 3, dim: 5, patch: 4, imageHeight: 8, imageWidth: 12, rng: &rng)
        let x = leaf([2, 3, 8, 12], seed: 2)
        let tokens = pe(x)
        #expect(tokens.shape == [2, 6, 5])
        // Reference: the conv op, [B, dim, h, w] → [B, h·w, dim].
        let conv = x.conv2d(weight: pe.proj.weight, bias: pe.proj.bias, stride: 4)
        let ref = conv.reshaped([2, 5, 6]).transposed(1, 2)
        #expect(maxAbsDiff(tokens, ref) < 1e-5)
        #expect(maxAbsDiff(pe.proj(x), conv) == 0)
    }

    @Test func patchEmbed3DEqualsNaiveConv3d() {
        var rng = RandomGenerator(seed: 3)
        let (b, c, t, h, w, dim, p, tt) = (2, 2, 4, 4, 6, 3, 2, 2)
        let pe = PatchEmbed3D(channels: c, dim: dim, patch: p, tubelet: tt, frames: t, imageHeight: h,
                              imageWidth: w, rng: &rng)
        let x = leaf([b, c, t, h, w], seed: 4)
        let tokens = pe(x)
        let (gt, gh, gw) = (t / tt, h / p, w / p)
        #expect(tokens.shape == [b, gt * gh * gw, dim])
        // Conv3d with stride = kernel, output [B, dim, gt, gh, gw] flattened to tokens (t, h, w order).
        let wt = pe.proj.weight, bias = pe.proj.bias!
        var worst: Float = 0
        for bi in 0..<b {
            for o in 0..<dim {
                for a in 0..<gt { for i in 0..<gh { for j in 0..<gw {
                    var s = bias[o]
                    for ci in 0..<c { for dt in 0..<tt { for di in 0..<p { for dj in 0..<p {
                        s += wt[o, ci, dt, di, dj] * x[bi, ci, a * tt + dt, i * p + di, j * p + dj]
                    } } } }
                    let token = (a * gh + i) * gw + j
                    worst = max(worst, abs(tokens[bi, token, o] - s))
                } } }
            }
        }
        #expect(worst < 1e-5)
    }
}

@Suite struct Attention {
    @Test func blockCausalMaskValues() {
        let m = MultiHeadAttention.blockCausalMask(frames: 3, tokensPerFrame: 2)
        #expect(m.shape == [6, 6])
        for i in 0..<6 { for j in 0..<6 { #expect(m[i, j] == (j / 2 <= i / 2 ? 1 : 0)) } }
        let withActions = MultiHeadAttention.blockCausalMask(frames: 2, tokensPerFrame: 2, extraTokensPerFrame: 1)
        #expect(withActions.scalars == MultiHeadAttention.blockCausalMask(frames: 2, tokensPerFrame: 3).scalars)
        let general = MultiHeadAttention.blockCausalMask(frameIndices: [0, 1, 0, 1])
        #expect(general.scalars == [1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1])
    }

    @Test func maskedFramesIgnoreTheFuture() {
        var rng = RandomGenerator(seed: 5)
        let block = TransformerBlock(8, heads: 2, rng: &rng)
        let mask = MultiHeadAttention.blockCausalMask(frames: 2, tokensPerFrame: 3)
        let x = leaf([1, 6, 8], seed: 6)
        let y = block(x, mask: mask)
        // Changing frame 1 must not change frame 0's outputs.
        let x2 = x.copy()
        for i in 24..<48 { x2.ptr[i] += 1 }
        let y2 = block(x2, mask: mask)
        #expect(maxAbsDiff(y.slice(axis: 1, 0..<3), y2.slice(axis: 1, 0..<3)) == 0)
        #expect(maxAbsDiff(y.slice(axis: 1, 3..<6), y2.slice(axis: 1, 3..<6)) > 1e-3)
    }
}

@Suite struct VisionTransformerBehaviour {
    @Test func tokenSelectionIsPermutationEquivariant() {
        var rng = RandomGenerator(seed: 7)
        let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 2, heads: 2, rng: &rng)
        let x = leaf([2, 1, 8, 8], seed: 8)
        let full = vit(x)
        let order = [[2, 0, 3, 1], [1, 3, 0, 2]]
        let picked = vit(x, tokenIndices: order)
        #expect(maxAbsDiff(picked, full.gather(batchIndices: order)) < 1e-5)
        #expect(vit(x, tokenIndices: [[0, 1], [2, 3]]).shape == [2, 2, 8])
    }

    @Test func timmInitAndResidualRescaling() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let scaled = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 16, depth: 3, heads: 2, rng: &a)
        let plain = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 16, depth: 3, heads: 2,
                                      rescaleResidualWeights: false, rng: &b)
        for l in 0..<3 {
            let s = 1 / (2 * Float(l + 1)).squareRoot()
            for (x, y) in [(scaled.blocks[l].attn.proj.weight, plain.blocks[l].attn.proj.weight),
                           (scaled.blocks[l].mlp.fc2.weight, plain.blocks[l].mlp.fc2.weight)] {
                #expect(maxAbsDiff(x, y * s) < 1e-9)
            }
            #expect(scaled.blocks[l].attn.qkv.weight.scalars == plain.blocks[l].attn.qkv.weight.scalars)
        }
        for (name, t) in plain.namedParameters() {
            if name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") || name == "norm.weight" {
                #expect(t.scalars.allSatisfy { $0 == 1 }, "\(name)")
            } else if name.hasSuffix(".bias") {
                #expect(t.scalars.allSatisfy { $0 == 0 }, "\(name)")
            } else {
                // trunc-normal(0.02): within ±2σ, std close to 0.02 (truncation shrinks it ~12%).
                let v = t.scalars
                let std = (v.map { Double($0 * $0) }.reduce(0, +) / Double(v.count)).squareRoot()
                #expect(v.allSatisfy { abs($0) <= 0.04 } && std > 0.013 && std < 0.022, "\(name) std \(std)")
            }
        }
    }

    @Test func pytorchDefaultLinearInitBounds() {
        var rng = RandomGenerator(seed: 10)
        let l = Linear(16, 300, rng: &rng)
        let bound: Float = 0.25
        #expect(l.weight.scalars.allSatisfy { abs($0) <= bound })
        #expect(l.weight.scalars.contains { abs($0) > 0.9 * bound })
        #expect(l.bias!.scalars.allSatisfy { abs($0) <= bound })
        let conv = Conv2d(4, 8, kernel: 2, rng: &rng)
        #expect(conv.weight.scalars.allSatisfy { abs($0) <= 1 / Float(16).squareRoot() })
    }
}

@Suite struct ConvEncoderBehaviour {
    @Test func shapesPooledAndTokens() {
        var rng = RandomGenerator(seed: 11)
        let pooled = ConvEncoder(channels: 3, widths: [4, 8], rng: &rng)
        let x = leaf([2, 3, 16, 12], seed: 12)
        #expect(pooled.featureMap(x).shape == [2, 8, 4, 3])
        #expect(pooled(x).shape == [2, 8])
        let tokens = ConvEncoder(channels: 3, widths: [4, 8], pooled: false, rng: &rng)
        try? tokens.copyParameters(from: pooled)
        let f = pooled.featureMap(x), t = tokens(x)
        #expect(t.shape == [2, 12, 8])
        #expect(abs(t[1, 5, 7] - f[1, 7, 1, 2]) < 1e-6)
        #expect(abs(pooled(x)[1, 3] - f.mean(axes: [2, 3])[1, 3]) < 1e-6)
    }
}

@Suite struct GRUCellBehaviour {
    @Test func matchesScalarFormula() {
        var rng = RandomGenerator(seed: 13)
        let gru = GRUCell(2, 3, rng: &rng)
        let x = leaf([1, 2], seed: 14), h = leaf([1, 3], seed: 15)
        let y = gru(x, h)
        func sig(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
        let (wi, wh, bi, bh) = (gru.weightIh, gru.weightHh, gru.biasIh!, gru.biasHh!)
        func gi(_ row: Int) -> Float { (0..<2).reduce(bi[row]) { $0 + wi[row, $1] * x[0, $1] } }
        func gh(_ row: Int) -> Float { (0..<3).reduce(bh[row]) { $0 + wh[row, $1] * h[0, $1] } }
        for k in 0..<3 {
            let r = sig(gi(k) + gh(k)), z = sig(gi(3 + k) + gh(3 + k))
            let n = Foundation.tanh(gi(6 + k) + r * gh(6 + k))
            #expect(abs(y[0, k] - ((1 - z) * n + z * h[0, k])) < 1e-6)
        }
        #expect(gru(x).shape == [1, 3])
    }
}
