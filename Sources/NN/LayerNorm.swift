import Tensors

/// Layer normalisation over the last axis, with optional affine `weight` (ones) and `bias` (zeros).
///
/// The default `eps` is 1e-6, as timm's ViT and I-JEPA/V-JEPA use
/// (`partial(nn.LayerNorm, eps=1e-6)`); PyTorch's own `nn.LayerNorm` default is 1e-5.
public final class LayerNorm: Module {
    public let weight: Tensor?
    public let bias: Tensor?
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-6, affine: Bool = true) {
        weight = affine ? Init.ones([dim]) : nil
        bias = affine ? Init.zeros([dim]) : nil
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNorm(weight: weight, bias: bias, eps: eps)
    }
}

/// Layer normalisation over the channel axis of a [B, C, H, W] feature map (ConvNeXt's
/// "channels_first" LayerNorm): permutes to channels-last, normalises, permutes back.
public final class ChannelLayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-6) {
        weight = Init.ones([channels])
        bias = Init.zeros([channels])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "ChannelLayerNorm: input must be [B, C, H, W], got \(x.shape)")
        return x.permuted([0, 2, 3, 1]).layerNorm(weight: weight, bias: bias, eps: eps).permuted([0, 3, 1, 2])
    }
}
