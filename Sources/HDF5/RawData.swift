// Reading or writing datasets of a type HDF5 cannot convert to a number:
// other tools store bfloat16 as 2-byte opaque elements (h5py with ml_dtypes), which only the
// caller can widen.
import CHDF5

extension HDF5File {
    /// A dataset's stored element type, described ("float (2 bytes)", "opaque (2 bytes)", …).
    public func storedType(of path: String) throws -> String {
        try withHDF5 {
            let (dataset, _) = try openDataset(path)
            defer { H5Oclose(dataset) }
            let type = H5Dget_type(dataset)
            defer { H5Tclose(type) }
            return Self.describe(type: type)
        }
    }

    /// Reads an opaque dataset's raw bytes: its shape, the element size in bytes and the bytes
    /// (shape.product × elementSize, in file order). Other type classes are an error.
    public func readOpaque(_ path: String) throws -> (shape: [Int], elementSize: Int, bytes: [UInt8]) {
        try withHDF5 {
            let (dataset, label) = try openDataset(path)
            defer { H5Oclose(dataset) }
            let fileType = H5Dget_type(dataset)
            defer { H5Tclose(fileType) }
            guard H5Tget_class(fileType) == H5T_OPAQUE else {
                throw failure(label, "expected an opaque dataset, found \(Self.describe(type: fileType))")
            }
            let space = H5Dget_space(dataset)
            defer { H5Sclose(space) }
            let shape = try extent(of: space, label)
            let size = H5Tget_size(fileType)
            let (total, overflow) = try elementCount(shape, label).multipliedReportingOverflow(by: size)
            guard !overflow else { throw failure(label, "shape \(shape) is too large") }
            if total == 0 { return (shape, size, []) }
            var bytes = [UInt8](repeating: 0, count: total)
            guard H5Dread(dataset, fileType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), &bytes) >= 0 else {
                throw failure(label, "reading the opaque dataset failed", library: true)
            }
            return (shape, size, bytes)
        }
    }

    /// Writes an opaque dataset of `elementSize`-byte elements tagged `tag` (h5py writes numpy's
    /// void dtypes this way). Intermediate groups are created; an existing dataset is replaced.
    public func writeOpaque(_ path: String, shape: [Int], elementSize: Int, bytes: [UInt8], tag: String) throws {
        try withHDF5 {
            let label = Self.display(path)
            try requireWritable(label)
            let count = try elementCount(shape, label)
            guard elementSize > 0, bytes.count == count * elementSize else {
                throw failure(label, "shape \(shape) of \(elementSize)-byte elements needs \(count * elementSize) bytes, got \(bytes.count)")
            }
            let file = try openID(label)
            if linkExists(Self.components(path)) && H5Ldelete(file, label, chdf5_p_default()) < 0 {
                throw failure(label, "cannot remove the existing dataset", library: true)
            }
            let type = H5Tcreate(H5T_OPAQUE, elementSize)
            defer { H5Tclose(type) }
            _ = H5Tset_tag(type, tag)
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : shape.map { hsize_t($0) }.withUnsafeBufferPointer {
                H5Screate_simple(Int32(shape.count), $0.baseAddress, nil)
            }
            defer { H5Sclose(space) }
            let linkCreation = H5Pcreate(chdf5_p_link_create())
            defer { H5Pclose(linkCreation) }
            _ = H5Pset_create_intermediate_group(linkCreation, 1)
            let dataset = H5Dcreate2(file, label, type, space, linkCreation, chdf5_p_default(), chdf5_p_default())
            guard dataset >= 0 else { throw failure(label, "cannot create the opaque dataset", library: true) }
            defer { H5Dclose(dataset) }
            if count > 0 {
                guard H5Dwrite(dataset, type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), bytes) >= 0 else {
                    throw failure(label, "writing the opaque dataset failed", library: true)
                }
            }
        }
    }
}
