import HDF5
import JEPA
import Tensors

/// A file of clips to score: HDF5 with a `/frames` dataset of shape [N, T, H, W] or
/// [N, T, C, H, W], stored as uint8 (0–255) or float32 (0–1). Read in batches of clips, so files
/// larger than memory stream.
public struct ClipFile {
    public let path: String
    public let count: Int, length: Int, channels: Int, height: Int, width: Int
    public let storedType: HDF5File.ElementType
    public let file: HDF5File

    public init(path: String) throws {
        self.path = path
        file = try HDF5File(path: path, mode: .readOnly)
        guard file.exists("frames") else {
            throw EvaluationError("\(path): no /frames dataset (expected [N, T, H, W] or [N, T, C, H, W] clips; the file has: "
                             + ((try? file.datasetPaths().joined(separator: ", ")) ?? "nothing readable") + ")")
        }
        let shape = try file.shape(of: "frames")
        switch shape.count {
        case 4: (count, length, channels, height, width) = (shape[0], shape[1], 1, shape[2], shape[3])
        case 5: (count, length, channels, height, width) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        default:
            throw EvaluationError("\(path): /frames has shape \(shape); expected [N, T, H, W] or [N, T, C, H, W]")
        }
        switch try file.elementType(of: "frames") {
        case .success(let type) where type == .uint8 || type == .float32: storedType = type
        case .success(let type): throw EvaluationError("\(path): /frames is \(type); expected uint8 (0–255) or float32 (0–1)")
        case .failure(let stored): throw EvaluationError("\(path): /frames is \(stored); expected uint8 (0–255) or float32 (0–1)")
        }
        guard count > 0 else { throw EvaluationError("\(path): /frames holds no clips (shape \(shape))") }
    }

    /// Clips `rows` as [rows.count, T, C, H, W] with values in [0, 1].
    public func read(_ rows: Range<Int>) throws -> Tensor {
        let shape = [rows.count, length, channels, height, width]
        switch storedType {
        case .uint8:
            return Tensor(try file.readUInt8("frames", rows: rows).values.map { Float($0) / 255 }, shape: shape)
        default:
            return Tensor(try file.readFloat32("frames", rows: rows).values, shape: shape)
        }
    }
}
