extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch) by im2col + GEMM.
    ///
    /// `self`: [B, C, H, W], `weight`: [O, C, kh, kw], `bias`: [O]. Zero padding on all sides.
    /// Parallel over images; each worker keeps one column buffer.
    public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(rank == 4, "conv2d: input must be [B, C, H, W], got shape \(shape)")
        precondition(weight.rank == 4 && weight.shape[1] == shape[1],
                     "conv2d: weight shape \(weight.shape) does not match input channels \(shape[1]) (expected [O, \(shape[1]), kh, kw])")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
        let geo = ConvGeometry(b: shape[0], c: shape[1], h: shape[2], w: shape[3],
                               o: weight.shape[0], kh: weight.shape[2], kw: weight.shape[3], stride: stride, padding: padding)
        precondition(geo.oh > 0 && geo.ow > 0, "conv2d: kernel \(geo.kh)×\(geo.kw) with padding \(padding) does not fit input \(geo.h)×\(geo.w)")
        if let bias { precondition(bias.shape == [geo.o], "conv2d: bias shape \(bias.shape), expected [\(geo.o)]") }
        let out = Tensor(uninitialized: [geo.b, geo.o, geo.oh, geo.ow])
        let px = ptr, pw = weight.ptr, po = out.ptr, pb = bias?.ptr
        let ckk = geo.c * geo.kh * geo.kw, spatial = geo.oh * geo.ow
        let workers = Swift.min(Parallel.threads, geo.b)
        Parallel.forEach(workers) { wi in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: ckk * spatial)
            defer { cols.deallocate() }
            for img in (geo.b * wi / workers)..<(geo.b * (wi + 1) / workers) {
                geo.im2col(px + img * geo.c * geo.h * geo.w, cols)
                let y = po + img * geo.o * spatial
                if let pb { for oc in 0..<geo.o { (y + oc * spatial).initialize(repeating: pb[oc], count: spatial) } }
                BLAS.sgemm(false, false, geo.o, spatial, ckk, 1, pw, ckk, cols, spatial, pb == nil ? 0 : 1, y, spatial)
            }
        }
        let x = detached(), w = weight.detached()
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        let needX = requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        return out.recorded("conv2d", inputs) { g in
            let gx = needX ? Tensor.zeros(x.shape) : nil
            // Per-worker weight-gradient partials, summed afterwards.
            let gwParts = needW ? Tensor.zeros([workers, geo.o, ckk]) : nil
            let pg = g.ptr, px = x.ptr, pw = w.ptr
            Parallel.forEach(workers) { wi in
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: ckk * spatial)
                defer { cols.deallocate() }
                for img in (geo.b * wi / workers)..<(geo.b * (wi + 1) / workers) {
                    let gy = pg + img * geo.o * spatial
                    if let gwParts {
                        geo.im2col(px + img * geo.c * geo.h * geo.w, cols)
                        BLAS.sgemm(false, true, geo.o, ckk, spatial, 1, gy, spatial, cols, spatial, 1,
                                   gwParts.ptr + wi * geo.o * ckk, ckk)
                    }
                    if let gx {
                        BLAS.sgemm(true, false, ckk, spatial, geo.o, 1, pw, ckk, gy, spatial, 0, cols, spatial)
                        geo.col2imAdd(cols, gx.ptr + img * geo.c * geo.h * geo.w)
                    }
                }
            }
            let gw = gwParts.map { $0.sum(axes: [0]).reshaped(w.shape) }
            let gb = needB ? g.sum(axes: [0, 2, 3]) : nil
            return bias == nil ? [gx, gw] : [gx, gw, gb]
        }
    }
}

/// Sizes of one convolution, and the im2col/col2im index maps between image and column layouts.
struct ConvGeometry {
    let b, c, h, w, o, kh, kw, stride, padding: Int
    var oh: Int { (h + 2 * padding - kh) / stride + 1 }
    var ow: Int { (w + 2 * padding - kw) / stride + 1 }

    /// cols[(ci·kh + i)·kw + j][y·ow + x] = image[ci][y·stride + i − pad][x·stride + j − pad] (0 outside).
    func im2col(_ image: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (self.oh, self.ow)
        for ci in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((ci * kh + i) * kw + j) * oh * ow
                    for y in 0..<oh {
                        let iy = y * stride + i - padding
                        let dst = row + y * ow
                        guard iy >= 0 && iy < h else { dst.initialize(repeating: 0, count: ow); continue }
                        let src = image + (ci * h + iy) * w
                        for x in 0..<ow {
                            let ix = x * stride + j - padding
                            dst[x] = ix >= 0 && ix < w ? src[ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each column entry back onto its image pixel.
    func col2imAdd(_ cols: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (self.oh, self.ow)
        for ci in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((ci * kh + i) * kw + j) * oh * ow
                    for y in 0..<oh {
                        let iy = y * stride + i - padding
                        guard iy >= 0 && iy < h else { continue }
                        let dst = image + (ci * h + iy) * w, src = row + y * ow
                        for x in 0..<ow {
                            let ix = x * stride + j - padding
                            if ix >= 0 && ix < w { dst[ix] += src[x] }
                        }
                    }
                }
            }
        }
    }
}
