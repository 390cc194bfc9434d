// Numeric dataset reads and writes: whole datasets, and slabs of rows along the leading axis.
// The typed public methods are one-line calls into the generic `readNumeric` / `writeNumeric` /
// `writeRowsNumeric`, which take the element type's HDF5 memory and file types from `ElementType`.
import CHDF5
import Foundation

extension HDF5File {
    /// Element types the wrapper reads and writes. Stored little-endian (IEEE f32/f64, i64, u8).
    public enum ElementType: Sendable, CustomStringConvertible {
        case uint8, int64, float32, float64

        var memoryType: hid_t {
            switch self {
            case .uint8: chdf5_native_uint8()
            case .int64: chdf5_native_int64()
            case .float32: chdf5_native_float()
            case .float64: chdf5_native_double()
            }
        }

        var fileType: hid_t {
            switch self {
            case .uint8: chdf5_std_u8le()
            case .int64: chdf5_std_i64le()
            case .float32: chdf5_ieee_f32le()
            case .float64: chdf5_ieee_f64le()
            }
        }

        var size: Int {
            switch self {
            case .uint8: 1
            case .int64, .float64: 8
            case .float32: 4
            }
        }

        var isInteger: Bool { self == .uint8 || self == .int64 }

        public var description: String {
            switch self {
            case .uint8: "uint8"
            case .int64: "int64"
            case .float32: "float32"
            case .float64: "float64"
            }
        }
    }

    // MARK: - Shapes

    /// The dataset's dimensions ([] for a scalar dataset).
    public func shape(of path: String) throws -> [Int] {
        try withHDF5 {
            let (dataset, label) = try openDataset(path)
            defer { H5Oclose(dataset) }
            let space = H5Dget_space(dataset)
            defer { H5Sclose(space) }
            return try extent(of: space, label)
        }
    }

    /// The stored element type when it is one of `ElementType` (unsigned 8-bit, signed 64-bit,
    /// 32- or 64-bit float), else a description such as "float (2 bytes)" or "string (variable length)".
    public func elementType(of path: String) throws -> Result<ElementType, StoredTypeDescription> {
        try withHDF5 {
            let (dataset, _) = try openDataset(path)
            defer { H5Oclose(dataset) }
            let type = H5Dget_type(dataset)
            defer { H5Tclose(type) }
            let size = H5Tget_size(type)
            switch H5Tget_class(type) {
            case H5T_INTEGER where size == 1 && H5Tget_sign(type) == H5T_SGN_NONE: return .success(.uint8)
            case H5T_INTEGER where size == 8 && H5Tget_sign(type) == H5T_SGN_2: return .success(.int64)
            case H5T_FLOAT where size == 4: return .success(.float32)
            case H5T_FLOAT where size == 8: return .success(.float64)
            case H5T_INTEGER:
                return .failure(StoredTypeDescription(text: "\(H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned" : "signed") integer (\(size) bytes)"))
            default: return .failure(StoredTypeDescription(text: Self.describe(type: type)))
            }
        }
    }

    /// A stored element type the wrapper has no `ElementType` for, described for error messages.
    public struct StoredTypeDescription: Error, CustomStringConvertible, Sendable {
        public let text: String
        public var description: String { text }
    }

    // MARK: - Whole-dataset reads (any stored integer or float type is converted by HDF5)

    /// Reads any integer or float dataset as Float (float16, float64, uint8, int64, ... are converted).
    public func readFloat32(_ path: String) throws -> (shape: [Int], values: [Float]) {
        try readNumeric(path, as: .float32, rows: nil)
    }

    /// Reads any integer or float dataset as Double.
    public func readFloat64(_ path: String) throws -> (shape: [Int], values: [Double]) {
        try readNumeric(path, as: .float64, rows: nil)
    }

    /// Reads an integer dataset as UInt8 (values outside 0...255 saturate, as HDF5 converts them).
    public func readUInt8(_ path: String) throws -> (shape: [Int], values: [UInt8]) {
        try readNumeric(path, as: .uint8, rows: nil)
    }

    /// Reads an integer dataset as Int64.
    public func readInt64(_ path: String) throws -> (shape: [Int], values: [Int64]) {
        try readNumeric(path, as: .int64, rows: nil)
    }

    // MARK: - Row-slab reads: `rows` of the leading axis; the returned shape is [rows.count] + shape[1...]

    public func readFloat32(_ path: String, rows: Range<Int>) throws -> (shape: [Int], values: [Float]) {
        try readNumeric(path, as: .float32, rows: rows)
    }

    public func readFloat64(_ path: String, rows: Range<Int>) throws -> (shape: [Int], values: [Double]) {
        try readNumeric(path, as: .float64, rows: rows)
    }

    public func readUInt8(_ path: String, rows: Range<Int>) throws -> (shape: [Int], values: [UInt8]) {
        try readNumeric(path, as: .uint8, rows: rows)
    }

    public func readInt64(_ path: String, rows: Range<Int>) throws -> (shape: [Int], values: [Int64]) {
        try readNumeric(path, as: .int64, rows: rows)
    }

    // MARK: - Whole-dataset writes

    // Each creates missing intermediate groups and replaces an existing dataset at `path`
    // (the old one is unlinked; HDF5 does not reclaim its space in the file). `chunks` and
    // `compression` (gzip level 0...9) are optional; compression without chunks picks chunks of
    // whole rows of about 1 MiB. Chunk sizes larger than the shape are clamped to it.

    public func write(_ path: String, shape: [Int], float32 values: [Float],
                      chunks: [Int]? = nil, compression: Int? = nil) throws {
        try writeNumeric(path, shape: shape, values: values, as: .float32, chunks: chunks, compression: compression)
    }

    public func write(_ path: String, shape: [Int], float64 values: [Double],
                      chunks: [Int]? = nil, compression: Int? = nil) throws {
        try writeNumeric(path, shape: shape, values: values, as: .float64, chunks: chunks, compression: compression)
    }

    public func write(_ path: String, shape: [Int], uint8 values: [UInt8],
                      chunks: [Int]? = nil, compression: Int? = nil) throws {
        try writeNumeric(path, shape: shape, values: values, as: .uint8, chunks: chunks, compression: compression)
    }

    public func write(_ path: String, shape: [Int], int64 values: [Int64],
                      chunks: [Int]? = nil, compression: Int? = nil) throws {
        try writeNumeric(path, shape: shape, values: values, as: .int64, chunks: chunks, compression: compression)
    }

    // MARK: - Streaming writes

    /// Creates a zero-filled dataset to be filled later with `writeRows` (same path, chunk and
    /// compression rules as `write`).
    public func createDataset(_ path: String, shape: [Int], type: ElementType,
                              chunks: [Int]? = nil, compression: Int? = nil) throws {
        try withHDF5 {
            let dataset = try createDatasetLocked(path, shape: shape, type: type, chunks: chunks, compression: compression)
            H5Dclose(dataset)
        }
    }

    // Writes a slab of rows starting at row `start`; `shape` is the slab's shape, which must match
    // the dataset's shape except along the leading axis.

    public func writeRows(_ path: String, start: Int, shape: [Int], uint8 values: [UInt8]) throws {
        try writeRowsNumeric(path, start: start, shape: shape, values: values, as: .uint8)
    }

    public func writeRows(_ path: String, start: Int, shape: [Int], float32 values: [Float]) throws {
        try writeRowsNumeric(path, start: start, shape: shape, values: values, as: .float32)
    }

    public func writeRows(_ path: String, start: Int, shape: [Int], float64 values: [Double]) throws {
        try writeRowsNumeric(path, start: start, shape: shape, values: values, as: .float64)
    }

    public func writeRows(_ path: String, start: Int, shape: [Int], int64 values: [Int64]) throws {
        try writeRowsNumeric(path, start: start, shape: shape, values: values, as: .int64)
    }

    // MARK: - Generic implementation (callers hold hdf5Lock or take it here)

    /// Opens the dataset at `path`; returns its id (close with H5Oclose) and the display label.
    func openDataset(_ path: String) throws -> (hid_t, String) {
        let label = Self.display(path)
        let object = try openObject(path)
        guard H5Iget_type(object) == H5I_DATASET else {
            H5Oclose(object)
            throw failure(label, "expected a dataset, found a group")
        }
        return (object, label)
    }

    /// Dimensions of a dataspace: [] for scalar; an error for a null dataspace.
    func extent(of space: hid_t, _ label: String) throws -> [Int] {
        switch H5Sget_simple_extent_type(space) {
        case H5S_SCALAR: return []
        case H5S_SIMPLE:
            let rank = Int(H5Sget_simple_extent_ndims(space))
            var dims = [hsize_t](repeating: 0, count: rank)
            guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else {
                throw failure(label, "cannot read the dataset's shape", library: true)
            }
            return dims.map { Int($0) }
        default:
            throw failure(label, "the dataset has a null dataspace (no shape, no values)")
        }
    }

    /// Product of `shape`, or an error for negative sizes or overflow.
    func elementCount(_ shape: [Int], _ label: String) throws -> Int {
        var count = 1
        for size in shape {
            guard size >= 0 else { throw failure(label, "shape \(shape) has a negative dimension") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw failure(label, "shape \(shape) is too large") }
            count = product
        }
        return count
    }

    /// Checks that the stored type can be read (or written) as `type`: integer storage for integer
    /// types, integer or float storage for float types.
    func checkNumeric(_ dataset: hid_t, as type: ElementType, _ label: String, writing: Bool = false) throws {
        let fileType = H5Dget_type(dataset)
        defer { H5Tclose(fileType) }
        let typeClass = H5Tget_class(fileType)
        let ok = type.isInteger ? typeClass == H5T_INTEGER
            : (typeClass == H5T_FLOAT || (!writing && typeClass == H5T_INTEGER))
        guard ok else {
            let expected = type.isInteger ? "an integer dataset" : (writing ? "a float dataset" : "an integer or float dataset")
            throw failure(label, "expected \(expected) to \(writing ? "write" : "read as") \(type), found \(Self.describe(type: fileType))")
        }
    }

    func readNumeric<T: BitwiseCopyable>(_ path: String, as type: ElementType, rows: Range<Int>?) throws -> (shape: [Int], values: [T]) {
        precondition(MemoryLayout<T>.size == type.size, "Swift element type does not match \(type)")
        return try withHDF5 {
            let (dataset, label) = try openDataset(path)
            defer { H5Oclose(dataset) }
            try checkNumeric(dataset, as: type, label)
            let fileSpace = H5Dget_space(dataset)
            defer { H5Sclose(fileSpace) }
            let fullShape = try extent(of: fileSpace, label)

            var shape = fullShape
            var memorySpace = chdf5_s_all()
            if let rows {
                guard let totalRows = fullShape.first else {
                    throw failure(label, "cannot read rows \(rows) of a scalar dataset")
                }
                guard rows.lowerBound >= 0, rows.upperBound <= totalRows else {
                    throw failure(label, "rows \(rows) are out of range: the dataset has \(totalRows) rows (shape \(fullShape))")
                }
                shape[0] = rows.count
                if rows.count > 0 {
                    try selectRows(fileSpace, start: rows.lowerBound, shape: shape, label)
                    memorySpace = shape.map { hsize_t($0) }.withUnsafeBufferPointer {
                        H5Screate_simple(Int32(shape.count), $0.baseAddress, nil)
                    }
                }
            }
            defer { if memorySpace != chdf5_s_all() { H5Sclose(memorySpace) } }

            let count = try elementCount(shape, label)
            if count == 0 { return (shape, []) }
            try checkPlausible(dataset, shape: fullShape, readCount: count, elementSize: type.size, label)
            let values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                guard H5Dread(dataset, type.memoryType, memorySpace, rows == nil ? chdf5_s_all() : fileSpace,
                              chdf5_p_default(), buffer.baseAddress) >= 0 else {
                    throw failure(label, "reading the dataset as \(type) failed", library: true)
                }
                initialized = count
            }
            return (shape, values)
        }
    }

    /// Refuses reads a damaged header would turn into absurd allocations: more bytes than the
    /// machine has, or a contiguous dataset whose shape needs more bytes than the file stores for it.
    func checkPlausible(_ dataset: hid_t, shape: [Int], readCount: Int, elementSize: Int, _ label: String) throws {
        let (bytes, overflow) = readCount.multipliedReportingOverflow(by: elementSize)
        guard !overflow, UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory else {
            throw failure(label, "shape \(shape) needs more memory than this machine has; the file is probably corrupt")
        }
        let creation = H5Dget_create_plist(dataset)
        defer { H5Pclose(creation) }
        guard H5Pget_layout(creation) == H5D_CONTIGUOUS else { return }
        let fileType = H5Dget_type(dataset)
        defer { H5Tclose(fileType) }
        let stored = H5Dget_storage_size(dataset)
        let (needed, tooMany) = (try elementCount(shape, label)).multipliedReportingOverflow(by: H5Tget_size(fileType))
        if stored > 0 && (tooMany || UInt64(needed) > stored) {
            throw failure(label, "shape \(shape) needs \(needed) bytes but the file stores \(stored): truncated or corrupt")
        }
    }

    func writeNumeric<T: BitwiseCopyable>(_ path: String, shape: [Int], values: [T], as type: ElementType,
                                          chunks: [Int]?, compression: Int?) throws {
        precondition(MemoryLayout<T>.size == type.size, "Swift element type does not match \(type)")
        try withHDF5 {
            let label = Self.display(path)
            let count = try elementCount(shape, label)
            guard values.count == count else {
                throw failure(label, "shape \(shape) needs \(count) values, got \(values.count)")
            }
            let dataset = try createDatasetLocked(path, shape: shape, type: type, chunks: chunks, compression: compression)
            defer { H5Dclose(dataset) }
            if count == 0 { return }
            let status = values.withUnsafeBytes {
                H5Dwrite(dataset, type.memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw failure(label, "writing the dataset failed", library: true) }
        }
    }

    func writeRowsNumeric<T: BitwiseCopyable>(_ path: String, start: Int, shape: [Int], values: [T],
                                              as type: ElementType) throws {
        precondition(MemoryLayout<T>.size == type.size, "Swift element type does not match \(type)")
        try withHDF5 {
            let label = Self.display(path)
            try requireWritable(label)
            let (dataset, _) = try openDataset(path)
            defer { H5Oclose(dataset) }
            try checkNumeric(dataset, as: type, label, writing: true)
            let fileSpace = H5Dget_space(dataset)
            defer { H5Sclose(fileSpace) }
            let fullShape = try extent(of: fileSpace, label)
            guard let totalRows = fullShape.first else { throw failure(label, "cannot write rows of a scalar dataset") }
            guard shape.count == fullShape.count, shape.dropFirst().elementsEqual(fullShape.dropFirst()) else {
                throw failure(label, "slab shape \(shape) does not fit dataset shape \(fullShape): expected [n] + \(Array(fullShape.dropFirst()))")
            }
            guard start >= 0, start + shape[0] <= totalRows else {
                throw failure(label, "rows \(start)..<\(start + shape[0]) are out of range: the dataset has \(totalRows) rows")
            }
            let count = try elementCount(shape, label)
            guard values.count == count else {
                throw failure(label, "slab shape \(shape) needs \(count) values, got \(values.count)")
            }
            if count == 0 { return }
            try selectRows(fileSpace, start: start, shape: shape, label)
            let memorySpace = shape.map { hsize_t($0) }.withUnsafeBufferPointer {
                H5Screate_simple(Int32(shape.count), $0.baseAddress, nil)
            }
            defer { H5Sclose(memorySpace) }
            let status = values.withUnsafeBytes {
                H5Dwrite(dataset, type.memoryType, memorySpace, fileSpace, chdf5_p_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw failure(label, "writing rows failed", library: true) }
        }
    }

    /// Selects the block [start ..< start+shape[0]] × (all of the other axes) in `space`.
    func selectRows(_ space: hid_t, start: Int, shape: [Int], _ label: String) throws {
        var offset = [hsize_t](repeating: 0, count: shape.count)
        offset[0] = hsize_t(start)
        let block = shape.map { hsize_t($0) }
        guard H5Sselect_hyperslab(space, H5S_SELECT_SET, offset, nil, block, nil) >= 0 else {
            throw failure(label, "selecting rows failed", library: true)
        }
    }

    /// Creates the dataset (replacing an existing dataset, creating intermediate groups) and returns its id.
    func createDatasetLocked(_ path: String, shape: [Int], type: ElementType,
                             chunks: [Int]?, compression: Int?) throws -> hid_t {
        let components = Self.components(path)
        let label = Self.hdf5Name(components)
        try requireWritable(label)
        let file = try openID(label)
        guard !components.isEmpty else { throw failure(label, "a dataset needs a name; \"/\" is the root group") }
        _ = try elementCount(shape, label)
        // Validate chunks/compression before anything is unlinked, so a bad call leaves the file as it was.
        let creation = try datasetCreationList(shape: shape, type: type, chunks: chunks, compression: compression, label)
        defer { H5Pclose(creation) }

        // Every existing prefix must be a group; an existing dataset at the path itself is replaced.
        for depth in 1...components.count {
            let prefix = Self.hdf5Name(Array(components[..<depth]))
            guard linkExists(Array(components[..<depth])) else { break }
            let object = H5Oopen(file, prefix, chdf5_p_default())
            guard object >= 0 else { throw failure(label, "cannot open '\(prefix)'", library: true) }
            let isGroup = H5Iget_type(object) == H5I_GROUP
            H5Oclose(object)
            if depth < components.count {
                guard isGroup else { throw failure(label, "'\(prefix)' is a dataset, so it cannot contain '\(label)'") }
            } else {
                guard !isGroup else { throw failure(label, "a group exists at this path; refusing to replace it with a dataset") }
                guard H5Ldelete(file, label, chdf5_p_default()) >= 0 else {
                    throw failure(label, "cannot remove the existing dataset", library: true)
                }
            }
        }

        let linkCreation = H5Pcreate(chdf5_p_link_create())
        defer { H5Pclose(linkCreation) }
        _ = H5Pset_create_intermediate_group(linkCreation, 1)
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : shape.map { hsize_t($0) }.withUnsafeBufferPointer {
            H5Screate_simple(Int32(shape.count), $0.baseAddress, nil)
        }
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(file, label, type.fileType, space, linkCreation, creation, chdf5_p_default())
        guard dataset >= 0 else { throw failure(label, "cannot create dataset", library: true) }
        return dataset
    }

    /// A dataset-creation property list with optional chunking and deflate compression.
    func datasetCreationList(shape: [Int], type: ElementType, chunks: [Int]?, compression: Int?, _ label: String) throws -> hid_t {
        let list = H5Pcreate(chdf5_p_dataset_create())
        guard chunks != nil || compression != nil else { return list }
        do {
            guard !shape.isEmpty else { throw failure(label, "a scalar dataset cannot be chunked or compressed") }
            if let level = compression, !(0...9).contains(level) {
                throw failure(label, "compression level must be 0...9, got \(level)")
            }
            if let chunks, chunks.count != shape.count || chunks.contains(where: { $0 < 1 }) {
                throw failure(label, "chunks \(chunks) must have one positive size per dimension of shape \(shape)")
            }
            if shape.contains(0) { return list }  // nothing to store: keep it contiguous
            let chosen = chunks ?? Self.defaultChunks(shape: shape, elementSize: type.size)
            let dims = zip(chosen, shape).map { hsize_t(min($0, $1)) }
            guard H5Pset_chunk(list, Int32(dims.count), dims) >= 0 else {
                throw failure(label, "cannot set chunks \(chosen)", library: true)
            }
            if let level = compression {
                guard H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 else {
                    throw failure(label, "this HDF5 library has no deflate (gzip) filter")
                }
                guard H5Pset_deflate(list, UInt32(level)) >= 0 else {
                    throw failure(label, "cannot enable compression", library: true)
                }
            }
            return list
        } catch {
            H5Pclose(list)
            throw error
        }
    }

    /// Whole rows along the leading axis, about 1 MiB per chunk (at least one row).
    static func defaultChunks(shape: [Int], elementSize: Int) -> [Int] {
        let rowBytes = max(1, shape.dropFirst().reduce(elementSize, *))
        var chunks = shape
        chunks[0] = max(1, min(shape[0], (1 << 20) / rowBytes))
        return chunks
    }
}
