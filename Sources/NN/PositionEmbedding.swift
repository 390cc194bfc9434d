import Foundation
import Tensors

/// Fixed sine-cosine position tables as MAE, I-JEPA and V-JEPA build them (NumPy, float64,
/// rounded once to Float32 here). Tables are constants, not parameters: hold them in `Constant`.
///
/// The 1-D embedding of position `pos` in `d` dims (d even) is
/// `[sin(pos·ω_0), …, sin(pos·ω_{d/2−1}), cos(pos·ω_0), …, cos(pos·ω_{d/2−1})]`,
/// `ω_i = 1 / 10000^(i / (d/2))` (`get_1d_sincos_pos_embed_from_grid`).
public enum SinCosPositionEmbedding {
    /// Rows of the 1-D embedding for each position, flattened row-major into `out` at `column`
    /// of rows `width` wide.
    static func fill1D(_ out: inout [Float], width: Int, column: Int, dim: Int, positions: [Int]) {
        precondition(dim % 2 == 0, "sin-cos embedding: dimension \(dim) must be even")
        let half = dim / 2
        let omega = (0..<half).map { 1 / Foundation.pow(10000.0, Double($0) / Double(half)) }
        for (m, pos) in positions.enumerated() {
            let row = m * width + column
            for i in 0..<half {
                let a = Double(pos) * omega[i]
                out[row + i] = Float(Foundation.sin(a))
                out[row + half + i] = Float(Foundation.cos(a))
            }
        }
    }

    /// [length, dim]: the 1-D table for positions 0..<length.
    public static func table1D(dim: Int, length: Int) -> Tensor {
        var v = [Float](repeating: 0, count: length * dim)
        fill1D(&v, width: dim, column: 0, dim: dim, positions: Array(0..<length))
        return Tensor(v, shape: [length, dim])
    }

    /// [h·w, dim], tokens in row-major (row i, column j) order, following MAE's
    /// `get_2d_sincos_pos_embed` exactly, including its quirk: `np.meshgrid(grid_w, grid_h)` puts
    /// the *column* coordinate in `grid[0]`, so the first dim/2 channels encode the column j and
    /// the last dim/2 encode the row i. (V-JEPA's 2-D version swaps the halves; on square grids
    /// the two differ only by that swap.) `dim` must be a multiple of 4.
    public static func table2D(dim: Int, gridHeight h: Int, gridWidth w: Int) -> Tensor {
        precondition(dim % 4 == 0, "table2D: dimension \(dim) must be a multiple of 4")
        var v = [Float](repeating: 0, count: h * w * dim)
        var rows: [Int] = [], cols: [Int] = []
        for i in 0..<h { for j in 0..<w { rows.append(i); cols.append(j) } }
        fill1D(&v, width: dim, column: 0, dim: dim / 2, positions: cols)
        fill1D(&v, width: dim, column: dim / 2, dim: dim / 2, positions: rows)
        return Tensor(v, shape: [h * w, dim])
    }

    /// [t·h·w, dim], tokens ordered by time, then row-major (as `PatchEmbed3D`), following
    /// V-JEPA's `get_3d_sincos_pos_embed`: channels `[time (dim/2) | row (dim/4) | column (dim/4)]`;
    /// with `uniformPower` each axis gets `2·⌈dim/6⌉` channels and the concatenation is cut to `dim`.
    public static func table3D(dim: Int, frames t: Int, gridHeight h: Int, gridWidth w: Int,
                               uniformPower: Bool = false) -> Tensor {
        let (dd, dh, dw): (Int, Int, Int)
        if uniformPower {
            let e = Int((Double(dim) / 6).rounded(.up)) * 2
            (dd, dh, dw) = (e, e, e)
        } else {
            (dd, dh, dw) = (dim / 2, dim / 4, dim / 4)
        }
        precondition(dd % 2 == 0 && dh % 2 == 0 && dw % 2 == 0 && dd + dh + dw >= dim,
                     "table3D: dimension \(dim) does not split into even time/row/column parts")
        let width = dd + dh + dw, n = t * h * w
        var v = [Float](repeating: 0, count: n * width)
        var ts: [Int] = [], rows: [Int] = [], cols: [Int] = []
        for a in 0..<t { for i in 0..<h { for j in 0..<w { ts.append(a); rows.append(i); cols.append(j) } } }
        fill1D(&v, width: width, column: 0, dim: dd, positions: ts)
        fill1D(&v, width: width, column: dd, dim: dh, positions: rows)
        fill1D(&v, width: width, column: dd + dh, dim: dw, positions: cols)
        let full = Tensor(v, shape: [n, width])
        return width == dim ? full : noGrad { full.slice(axis: 1, 0..<dim) }
    }
}
