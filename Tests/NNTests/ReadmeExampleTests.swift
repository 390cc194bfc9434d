import Testing
import Tensors
import NN

/// The README's example, at a tiny size: it must compile and do what it says.
@Test func readmeExampleRuns() throws {
    var rng = RandomGenerator(seed: 0)
    let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 2, heads: 2, rng: &rng)
    let target = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 2, heads: 2, rng: &rng)
    try target.copyParameters(from: vit)
    let ema = EMA(target: target.namedParameters())
    let opt = AdamW(parameters: vit.namedParameters(), learningRate: 1e-4, weightDecay: 0.04)

    let images = Tensor.randn([2, 1, 8, 8], using: &rng)
    let targets = noGrad { target(images).layerNorm(weight: nil, bias: nil) }
    let loss = (vit(images) - targets).abs().mean()
    loss.backward()
    clipGradientNorm(vit.parameters(), maxNorm: 1)
    let before = vit.namedParameters()[0].tensor.scalars
    opt.step(); opt.zeroGrad()
    ema.update(from: vit.namedParameters(), momentum: 0.996)

    #expect(!targets.requiresGrad)
    #expect(vit.namedParameters()[0].tensor.scalars != before)
    #expect(vit.parameters().allSatisfy { $0.grad == nil })
    #expect(target.parameters().allSatisfy { !$0.requiresGrad })
    #expect(Array(vit.namedParameters().map(\.name).prefix(4)) == ["patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed", "blocks.0.norm1.weight"])
}
