import Tensors

/// Something that turns an image or a video into a token sequence [B, N, dim].
public protocol PatchEmbedding: Module {
    /// Token grid: [h, w] for images, [t, h, w] for videos. N is the product.
    var grid: [Int] { get }
    var dim: Int { get }
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension PatchEmbedding {
    public var tokenCount: Int { grid.reduce(1, *) }
}

/// Image → patch tokens, as timm's `PatchEmbed` (key `proj`, a Conv2d with kernel = stride = patch).
///
/// Input [B, C, H, W] → tokens [B, (H/p)·(W/p), dim] in row-major patch order, i.e. the conv
/// output [B, dim, h, w] flattened to [B, h·w, dim]. Computed as patchify + one GEMM (a conv with
/// stride = kernel is a linear map on non-overlapping patches), which equals `conv2d`.
public final class PatchEmbed: Module, PatchEmbedding {
    public let proj: Conv2d
    public let patch: Int
    public let grid: [Int]
    public var dim: Int { proj.weight.shape[0] }

    /// - Parameter initialization: `.pytorch` (Conv2d default) or `.vit` (I-JEPA's `_init_weights`
    ///   applies trunc-normal(0.02) and zero bias to the patch conv too).
    public init(channels: Int, dim: Int, patch: Int, imageHeight: Int, imageWidth: Int,
                initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        precondition(imageHeight % patch == 0 && imageWidth % patch == 0,
                     "PatchEmbed: image \(imageHeight)×\(imageWidth) is not divisible by patch \(patch)")
        proj = Conv2d(channels, dim, kernel: patch, stride: patch, initialization: initialization, rng: &rng)
        self.patch = patch
        grid = [imageHeight / patch, imageWidth / patch]
    }

    public convenience init(channels: Int, dim: Int, patch: Int, imageSize: Int,
                            initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        self.init(channels: channels, dim: dim, patch: patch, imageHeight: imageSize, imageWidth: imageSize,
                  initialization: initialization, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] == grid[0] * patch && x.shape[3] == grid[1] * patch,
                     "PatchEmbed: expected [B, C, \(grid[0] * patch), \(grid[1] * patch)], got \(x.shape)")
        let w = proj.weight
        return x.patchified(patch: patch).linear(weight: w.reshaped([w.shape[0], -1]), bias: proj.bias)
    }
}

/// Video → tubelet tokens, as V-JEPA's `PatchEmbed3D` (key `proj`, a Conv3d with
/// kernel = stride = (tubelet, p, p); weight [dim, C, tubelet, p, p]).
///
/// Input [B, C, T, H, W] → tokens [B, (T/tubelet)·(H/p)·(W/p), dim], ordered by time, then
/// row-major h, w (the Conv3d output flattened). Computed as tubelet patchify + one GEMM.
public final class PatchEmbed3D: Module, PatchEmbedding {
    public let proj: Conv3dPatchify
    public let patch: Int
    public let tubelet: Int
    public let grid: [Int]
    public var dim: Int { proj.weight.shape[0] }

    public init(channels: Int, dim: Int, patch: Int, tubelet: Int, frames: Int, imageHeight: Int, imageWidth: Int,
                initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        precondition(frames % tubelet == 0 && imageHeight % patch == 0 && imageWidth % patch == 0,
                     "PatchEmbed3D: video \(frames)×\(imageHeight)×\(imageWidth) is not divisible by tubelet \(tubelet) × patch \(patch)")
        proj = Conv3dPatchify(channels, dim, kernel: patch, temporalKernel: tubelet,
                              initialization: initialization, rng: &rng)
        self.patch = patch
        self.tubelet = tubelet
        grid = [frames / tubelet, imageHeight / patch, imageWidth / patch]
    }

    public convenience init(channels: Int, dim: Int, patch: Int, tubelet: Int, frames: Int, imageSize: Int,
                            initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        self.init(channels: channels, dim: dim, patch: patch, tubelet: tubelet, frames: frames,
                  imageHeight: imageSize, imageWidth: imageSize, initialization: initialization, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 5 && x.shape[2] == grid[0] * tubelet && x.shape[3] == grid[1] * patch
                     && x.shape[4] == grid[2] * patch,
                     "PatchEmbed3D: expected [B, C, \(grid[0] * tubelet), \(grid[1] * patch), \(grid[2] * patch)], got \(x.shape)")
        let w = proj.weight
        return x.patchified(patch: patch, tubelet: tubelet).linear(weight: w.reshaped([w.shape[0], -1]), bias: proj.bias)
    }
}
