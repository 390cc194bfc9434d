import Testing
import Tensors
@testable import NN

/// Finite-difference checks of every layer, w.r.t. the input and every parameter, at
/// `GradientCheck`'s default tolerances. Parameters are re-randomised to O(0.5) so no gradient
/// is trivially small.
@Suite struct LayerGradients {
    @Test func linear() {
        var rng = RandomGenerator(seed: 1)
        let l = Linear(5, 4, rng: &rng)
        expectModuleGradients(l, input: leaf([2, 3, 5], seed: 2)) { l($0) }
        let nb = Linear(5, 4, bias: false, rng: &rng)
        expectModuleGradients(nb, input: leaf([3, 5], seed: 3)) { nb($0) }
    }

    @Test func layerNorm() {
        let ln = LayerNorm(6)
        randomize(ln, seed: 4)
        expectModuleGradients(ln, input: leaf([2, 3, 6], seed: 5, low: -2, high: 2)) { ln($0) }
        // Few channels per pixel: spread them (a channel ramp) so no pixel's variance is
        // comparable to the finite-difference step, where central differences lose accuracy.
        let cln = ChannelLayerNorm(4)
        randomize(cln, seed: 6)
        let xc = leaf([2, 4, 2, 3], seed: 7, low: -0.5, high: 0.5)
        xc.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] += Float((i / 6) % 4) - 1.5 } }
        expectModuleGradients(cln, input: xc) { cln($0) }
    }

    @Test func mlp() {
        var rng = RandomGenerator(seed: 8)
        for act in [Activation.gelu, .geluTanh, .silu, .tanh] {
            let m = MLP(4, hidden: 6, activation: act, rng: &rng)
            randomize(m, seed: 9)
            expectModuleGradients(m, input: leaf([3, 4], seed: 10)) { m($0) }
        }
    }

    @Test func multiHeadAttention() {
        var rng = RandomGenerator(seed: 11)
        let attn = MultiHeadAttention(8, heads: 2, rng: &rng)
        randomize(attn, seed: 12)
        let x = leaf([2, 6, 8], seed: 13)
        expectModuleGradients(attn, input: x) { attn($0) }
        let mask = MultiHeadAttention.blockCausalMask(frames: 3, tokensPerFrame: 2)
        expectModuleGradients(attn, input: x) { attn($0, mask: mask) }
    }

    @Test func transformerBlock() {
        var rng = RandomGenerator(seed: 14)
        let block = TransformerBlock(8, heads: 2, rng: &rng)
        randomize(block, seed: 15)
        let x = leaf([2, 4, 8], seed: 16)
        expectModuleGradients(block, input: x) { block($0) }
        let mask = MultiHeadAttention.blockCausalMask(frames: 2, tokensPerFrame: 2)
        expectModuleGradients(block, input: x) { block($0, mask: mask) }
    }

    @Test func patchEmbed() {
        var rng = RandomGenerator(seed: 17)
        let pe = PatchEmbed(channels: 2, dim: 6, patch: 4, imageSize: 8, rng: &rng)
        randomize(pe, seed: 18)
        expectModuleGradients(pe, input: leaf([2, 2, 8, 8], seed: 19)) { pe($0) }
        let pe3 = PatchEmbed3D(channels: 2, dim: 6, patch: 2, tubelet: 2, frames: 4, imageSize: 4, rng: &rng)
        randomize(pe3, seed: 20)
        expectModuleGradients(pe3, input: leaf([2, 2, 4, 4, 4], seed: 21)) { pe3($0) }
    }

    @Test func visionTransformer() {
        var rng = RandomGenerator(seed: 22)
        let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 2, heads: 2, rng: &rng)
        randomize(vit, seed: 23)
        let x = leaf([2, 1, 8, 8], seed: 24)
        expectModuleGradients(vit, input: x) { vit($0) }
        // Context-encoder style: keep 3 of the 4 patches, block-causal mask over the kept tokens.
        let mask = MultiHeadAttention.blockCausalMask(frameIndices: [0, 1, 1])
        expectModuleGradients(vit, input: x) { vit($0, tokenIndices: [[0, 2, 3], [3, 1, 0]], mask: mask) }
    }

    @Test func convEncoder() {
        var rng = RandomGenerator(seed: 25)
        let enc = ConvEncoder(channels: 2, widths: [3, 4], rng: &rng)
        randomize(enc, seed: 26)
        let x = leaf([2, 2, 6, 6], seed: 27)
        expectModuleGradients(enc, input: x) { enc($0) }
        let tokens = ConvEncoder(channels: 2, widths: [3], normalization: true, pooled: false, rng: &rng)
        randomize(tokens, seed: 28)
        expectModuleGradients(tokens, input: x) { tokens($0) }
    }

    @Test func gruCell() {
        var rng = RandomGenerator(seed: 29)
        let gru = GRUCell(4, 5, rng: &rng)
        randomize(gru, seed: 30)
        let x = leaf([3, 4], seed: 31), h = leaf([3, 5], seed: 32)
        let bad = GradientCheck.mismatches([x, h] + gru.parameters()) { gru($0[0], $0[1]) }
        #expect(bad.isEmpty, "gradient mismatches: \(bad.prefix(5))")
        expectModuleGradients(gru, input: x) { gru($0) }
    }
}
