import Tensors

/// `x + conv2(act(conv1(x)))` with 3×3 convolutions (padding 1) keeping the channel count,
/// optionally with a channel LayerNorm after each conv (keys `conv1`, `norm1`, `conv2`, `norm2`).
public final class ResidualConvBlock: Module {
    public let conv1: Conv2d
    public let norm1: ChannelLayerNorm?
    public let conv2: Conv2d
    public let norm2: ChannelLayerNorm?
    public let activation: Activation

    public init(_ channels: Int, activation: Activation = .silu, normalization: Bool = false,
                rng: inout RandomGenerator) {
        conv1 = Conv2d(channels, channels, kernel: 3, padding: 1, rng: &rng)
        norm1 = normalization ? ChannelLayerNorm(channels) : nil
        conv2 = Conv2d(channels, channels, kernel: 3, padding: 1, rng: &rng)
        norm2 = normalization ? ChannelLayerNorm(channels) : nil
        self.activation = activation
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = conv1(x)
        if let norm1 { h = norm1(h) }
        h = conv2(activation(h))
        if let norm2 { h = norm2(h) }
        return x + h
    }
}

/// One downsampling stage of `ConvEncoder`: a stride-2 3×3 conv (`down`), the activation, then a
/// residual block (`block`).
public final class ConvStage: Module {
    public let down: Conv2d
    public let norm: ChannelLayerNorm?
    public let block: ResidualConvBlock
    public let activation: Activation

    public init(_ inChannels: Int, _ outChannels: Int, activation: Activation, normalization: Bool,
                rng: inout RandomGenerator) {
        down = Conv2d(inChannels, outChannels, kernel: 3, stride: 2, padding: 1, rng: &rng)
        norm = normalization ? ChannelLayerNorm(outChannels) : nil
        block = ResidualConvBlock(outChannels, activation: activation, normalization: normalization, rng: &rng)
        self.activation = activation
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = down(x)
        if let norm { h = norm(h) }
        return block(activation(h))
    }
}

/// A small convolutional encoder: `stem` (3×3 conv, stride 1, to `widths[0]` channels) and the
/// activation, then one `ConvStage` per width (`stages.i.down`, `stages.i.block.conv1`, …), each
/// halving the resolution.
///
/// There is no batch or group norm op: `normalization: true` inserts a channel LayerNorm
/// (`ChannelLayerNorm`, normalising the C values of each pixel) after every conv; the default is
/// no normalisation. Convs use PyTorch's default init.
///
/// Output: with `pooled` (the default) global average pooling to [B, C_last]; otherwise the final
/// feature map as tokens [B, h·w, C_last] (row-major). `featureMap(_:)` gives [B, C, h, w].
public final class ConvEncoder: Module {
    public let stem: Conv2d
    public let stemNorm: ChannelLayerNorm?
    public let stages: [ConvStage]
    public let activation: Activation
    public let pooled: Bool

    public init(channels: Int, widths: [Int], activation: Activation = .silu, normalization: Bool = false,
                pooled: Bool = true, rng: inout RandomGenerator) {
        precondition(!widths.isEmpty, "ConvEncoder: needs at least one stage width")
        stem = Conv2d(channels, widths[0], kernel: 3, padding: 1, rng: &rng)
        stemNorm = normalization ? ChannelLayerNorm(widths[0]) : nil
        var stages: [ConvStage] = []
        var c = widths[0]
        for w in widths {
            stages.append(ConvStage(c, w, activation: activation, normalization: normalization, rng: &rng))
            c = w
        }
        self.stages = stages
        self.activation = activation
        self.pooled = pooled
    }

    /// Channels of the output.
    public var outChannels: Int { stages.last!.block.conv2.weight.shape[0] }

    /// [B, C, H, W] → [B, C_last, H/2^S, W/2^S] (rounded up at each stage).
    public func featureMap(_ x: Tensor) -> Tensor {
        var h = stem(x)
        if let stemNorm { h = stemNorm(h) }
        h = activation(h)
        for stage in stages { h = stage(h) }
        return h
    }

    /// [B, C, H, W] → [B, C_last] (pooled) or [B, h·w, C_last] (tokens).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let f = featureMap(x)
        let (b, c) = (f.shape[0], f.shape[1])
        if pooled { return f.mean(axes: [2, 3]) }
        return f.reshaped([b, c, -1]).transposed(1, 2)
    }
}
