// A thin, safe wrapper over the HDF5 C library (1.10 API): files, dataset listing and attributes.
// Dataset reads and writes live in Datasets.swift.
import CHDF5
import Foundation

/// A failure reported by the wrapper: names the file, the object inside it, and what went wrong.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// Path of the HDF5 file on disk.
    public let file: String
    /// Dataset, group or attribute (`group@attribute`) inside the file, if the error concerns one.
    public let object: String?
    public let message: String

    public init(file: String, object: String?, message: String) {
        self.file = file
        self.object = object
        self.message = message
    }

    public var description: String {
        if let object { return "HDF5 error in \(file) at '\(object)': \(message)" }
        return "HDF5 error in \(file): \(message)"
    }
}

// One process-wide lock for every HDF5 call: the C library keeps global state and its own
// thread-safety is a build option we do not want to depend on, so calls are serialised here.
private let hdf5Lock = NSRecursiveLock()

/// Runs `body` holding the HDF5 lock, with the library's automatic stderr error printing
/// turned off (that setting is per thread in thread-safe builds, so it is set on every entry).
func withHDF5<T>(_ body: () throws -> T) rethrows -> T {
    hdf5Lock.lock()
    defer { hdf5Lock.unlock() }
    _ = H5Eset_auto2(chdf5_e_default(), nil, nil)
    return try body()
}

/// The innermost message on the current thread's HDF5 error stack, or "" if none.
func lastLibraryError() -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    chdf5_last_error(&buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// An open HDF5 file. All methods are safe to call from any thread (they take the global HDF5 lock).
/// Paths inside the file use "/" to nest groups; a leading "/" is optional and "." is an ordinary
/// character in a link name (so "blocks.0.attn.qkv.weight" is one dataset name).
public final class HDF5File: @unchecked Sendable {  // mutable state (`fileID`) is only touched under hdf5Lock
    public enum Mode: Sendable {
        /// Open an existing file for reading.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
        /// Create the file, replacing any existing file.
        case truncate
        /// Create the file; fail if it already exists.
        case exclusive
    }

    public let path: String
    public let mode: Mode
    /// The HDF5 file id, or -1 once closed.
    private var fileID: hid_t

    /// - Parameter userBlock: creating only: bytes reserved at the start of the file, which HDF5
    ///   skips and leaves to the caller (0, or a power of two ≥ 512).
    public init(path: String, mode: Mode, userBlock: Int = 0) throws {
        self.path = path
        self.mode = mode
        fileID = try Self.open(path: path, mode: mode, userBlock: userBlock)
    }

    /// A lock conflict on opening, kept apart from other failures so that `open` can wait it out.
    private struct Locked: Error { let reason: String }

    /// Opens or creates the file, waiting up to ≈ 0.8 s (11 pauses of 20–80 ms) while its lock is held elsewhere:
    /// a child process forked by any thread of this one holds every descriptor of the parent (even
    /// close-on-exec ones) until its `exec`, so a file closed and reopened here can be locked for a
    /// few milliseconds by a process that never meant to touch it.
    private static func open(path: String, mode: Mode, userBlock: Int) throws -> hid_t {
        var lastReason = ""
        for attempt in 0..<12 {
            if attempt > 0 { usleep(UInt32(min(20_000 * attempt, 80_000))) }
            do {
                return try withHDF5 { try openOnce(path: path, mode: mode, userBlock: userBlock) }
            } catch let locked as Locked {
                lastReason = locked.reason
            }
        }
        let verb = mode == .readOnly || mode == .readWrite ? "open" : "create"
        throw HDF5Error(file: path, object: nil, message:
            "cannot \(verb) HDF5 file: another process holds it open (\(lastReason)); "
            + "close that process, or set HDF5_USE_FILE_LOCKING=FALSE if the file is only read")
    }

    private static func openOnce(path: String, mode: Mode, userBlock: Int) throws -> hid_t {
        let fail = { (message: String) in HDF5Error(file: path, object: nil, message: message) }
        /// The library's last failure: `Locked` when another holder's lock refused the file.
        func failure(_ message: String) -> any Error {
            let reason = lastLibraryError()
            return reason.contains("unable to lock file") ? Locked(reason: reason) : fail("\(message) (\(reason))")
        }
        /// `id` marked close-on-exec (HDF5 opens without O_CLOEXEC), or the failure.
        func opened(_ id: hid_t, else message: String) throws -> hid_t {
            guard id >= 0 else { throw failure(message) }
            _ = chdf5_set_cloexec(id)
            return id
        }
        switch mode {
        case .readOnly, .readWrite:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw fail("file does not exist")
            }
            guard !isDirectory.boolValue else { throw fail("expected an HDF5 file, found a directory") }
            let signature = H5Fis_hdf5(path)
            if signature == 0 { throw fail("not an HDF5 file (no HDF5 signature found)") }
            if signature < 0 { throw failure("cannot read file") }
            return try opened(H5Fopen(path, mode == .readOnly ? chdf5_acc_rdonly() : chdf5_acc_rdwr(), chdf5_p_default()),
                              else: "cannot open HDF5 file; it may be truncated or corrupt")
        case .truncate, .exclusive:
            if mode == .exclusive && FileManager.default.fileExists(atPath: path) {
                throw fail("cannot create file: it already exists (mode .exclusive)")
            }
            let flags = mode == .truncate ? chdf5_acc_trunc() : chdf5_acc_excl()
            var creation = chdf5_p_default()
            if userBlock > 0 {
                creation = H5Pcreate(chdf5_p_file_create())
                guard H5Pset_userblock(creation, hsize_t(userBlock)) >= 0 else {
                    H5Pclose(creation)
                    throw fail("invalid user block size \(userBlock) (0 or a power of two ≥ 512)")
                }
            }
            defer { if userBlock > 0 { H5Pclose(creation) } }
            return try opened(H5Fcreate(path, flags, creation, chdf5_p_default()), else: "cannot create file")
        }
    }

    deinit {
        withHDF5 {
            if fileID >= 0 { _ = H5Fclose(fileID) }
        }
    }

    /// Closes the file (writing any buffered data). Further calls on this object throw; closing twice is a no-op.
    public func close() throws {
        try withHDF5 {
            guard fileID >= 0 else { return }
            let status = H5Fclose(fileID)
            fileID = -1
            if status < 0 { throw failure(nil, "closing the file failed", library: true) }
        }
    }

    /// Writes buffered data to disk.
    public func flush() throws {
        try withHDF5 {
            let id = try openID(nil)
            if H5Fflush(id, H5F_SCOPE_LOCAL) < 0 { throw failure(nil, "flush failed", library: true) }
        }
    }

    // MARK: - Listing and probing

    /// Every dataset in the file as a full path without the leading "/", sorted.
    public func datasetPaths() throws -> [String] {
        try withHDF5 {
            let id = try openID(nil)
            var names: [String] = []
            let status = withUnsafeMutablePointer(to: &names) { namesPointer in
                chdf5_visit(id, { name, isDataset, context in
                    if isDataset != 0, let name, let context {
                        context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    }
                    return 0
                }, namesPointer)
            }
            if status < 0 { throw failure("/", "listing the file's datasets failed", library: true) }
            return names.sorted()
        }
    }

    /// True if `path` names a dataset or group ("/" is the root group). Never throws: a path through a
    /// missing link or through a dataset, or any path of a closed file, simply gives false.
    public func exists(_ path: String) -> Bool {
        withHDF5 {
            guard fileID >= 0 else { return false }
            return linkExists(Self.components(path))
        }
    }

    // MARK: - Attributes

    /// Sets a string attribute (a variable-length UTF-8 scalar, as h5py writes `str`) on a group or
    /// dataset, replacing any attribute of that name.
    public func setAttribute(_ name: String, _ value: String, on path: String = "/") throws {
        try withHDF5 {
            let type = H5Tcopy(chdf5_c_s1())
            defer { H5Tclose(type) }
            _ = H5Tset_size(type, chdf5_variable())
            _ = H5Tset_cset(type, H5T_CSET_UTF8)
            _ = H5Tset_strpad(type, H5T_STR_NULLTERM)
            try value.withCString { cString in
                var pointers: [UnsafePointer<CChar>?] = [cString]
                try writeAttribute(name, on: path, fileType: type, memoryType: type, data: &pointers)
            }
        }
    }

    /// Sets a 64-bit integer scalar attribute, replacing any attribute of that name.
    public func setAttribute(_ name: String, _ value: Int, on path: String = "/") throws {
        try withHDF5 {
            var stored = Int64(value)
            try writeAttribute(name, on: path, fileType: chdf5_std_i64le(), memoryType: chdf5_native_int64(), data: &stored)
        }
    }

    /// Sets a 64-bit float scalar attribute, replacing any attribute of that name.
    public func setAttribute(_ name: String, _ value: Double, on path: String = "/") throws {
        try withHDF5 {
            var stored = value
            try writeAttribute(name, on: path, fileType: chdf5_ieee_f64le(), memoryType: chdf5_native_double(), data: &stored)
        }
    }

    /// Reads a scalar (or one-element) string attribute: variable-length or fixed-length
    /// (NULLTERM, NULLPAD or SPACEPAD), ASCII or UTF-8.
    public func stringAttribute(_ name: String, on path: String = "/") throws -> String {
        let strings = try stringArrayAttribute(name, on: path)
        guard strings.count == 1 else {
            throw HDF5Error(file: self.path, object: Self.attributeLabel(name, path),
                            message: "expected a single string, found \(strings.count) strings")
        }
        return strings[0]
    }

    /// Reads a string attribute holding any number of strings (e.g. Keras' `layer_names`).
    public func stringArrayAttribute(_ name: String, on path: String = "/") throws -> [String] {
        try withHDF5 {
            try withAttribute(name, on: path) { attribute, fileType, space, count, label in
                guard H5Tget_class(fileType) == H5T_STRING else {
                    throw failure(label, "expected a string attribute, found \(Self.describe(type: fileType))")
                }
                if count == 0 { return [] }
                if H5Tis_variable_str(fileType) > 0 {
                    let memoryType = H5Tcopy(chdf5_c_s1())
                    defer { H5Tclose(memoryType) }
                    _ = H5Tset_size(memoryType, chdf5_variable())
                    _ = H5Tset_cset(memoryType, H5Tget_cset(fileType))  // no ASCII<->UTF-8 conversion path exists
                    var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                    guard H5Aread(attribute, memoryType, &pointers) >= 0 else {
                        throw failure(label, "reading the string attribute failed", library: true)
                    }
                    let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
                    _ = chdf5_reclaim(memoryType, space, &pointers)
                    return strings
                }
                // Fixed length: read the raw bytes with the file's own type, then cut each element.
                let size = H5Tget_size(fileType)
                guard size > 0 else { throw failure(label, "string attribute has element size 0") }
                var bytes = [UInt8](repeating: 0, count: size * count)
                guard H5Aread(attribute, fileType, &bytes) >= 0 else {
                    throw failure(label, "reading the string attribute failed", library: true)
                }
                let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
                return (0..<count).map { index in
                    var element = bytes[(index * size)..<((index + 1) * size)]
                    if let end = element.firstIndex(of: 0) { element = element[..<end] }
                    if spacePadded { while element.last == 0x20 { element = element.dropLast() } }
                    return String(decoding: element, as: UTF8.self)
                }
            }
        }
    }

    /// Reads a scalar integer attribute of any stored integer type.
    public func intAttribute(_ name: String, on path: String = "/") throws -> Int {
        try withHDF5 {
            try withAttribute(name, on: path) { attribute, fileType, _, count, label in
                guard H5Tget_class(fileType) == H5T_INTEGER else {
                    throw failure(label, "expected an integer attribute, found \(Self.describe(type: fileType))")
                }
                guard count == 1 else { throw failure(label, "expected a single integer, found \(count) values") }
                var value: Int64 = 0
                guard H5Aread(attribute, chdf5_native_int64(), &value) >= 0 else {
                    throw failure(label, "reading the integer attribute failed", library: true)
                }
                return Int(value)
            }
        }
    }

    /// Reads a scalar float attribute; a stored integer is converted.
    public func doubleAttribute(_ name: String, on path: String = "/") throws -> Double {
        try withHDF5 {
            try withAttribute(name, on: path) { attribute, fileType, _, count, label in
                let typeClass = H5Tget_class(fileType)
                guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else {
                    throw failure(label, "expected a float attribute, found \(Self.describe(type: fileType))")
                }
                guard count == 1 else { throw failure(label, "expected a single number, found \(count) values") }
                var value = 0.0
                guard H5Aread(attribute, chdf5_native_double(), &value) >= 0 else {
                    throw failure(label, "reading the float attribute failed", library: true)
                }
                return value
            }
        }
    }

    /// Names of the attributes on a group or dataset, sorted.
    public func attributeNames(on path: String = "/") throws -> [String] {
        try withHDF5 {
            let object = try openObject(path)
            defer { H5Oclose(object) }
            var names: [String] = []
            let status = withUnsafeMutablePointer(to: &names) { namesPointer in
                H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                    if let name, let context {
                        context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    }
                    return 0
                }, namesPointer)
            }
            if status < 0 { throw failure(Self.display(path), "listing attributes failed", library: true) }
            return names.sorted()
        }
    }

    // MARK: - Internals (callers hold hdf5Lock)

    /// Builds an error for `object`, optionally appending the library's innermost error message.
    func failure(_ object: String?, _ message: String, library: Bool = false) -> HDF5Error {
        var text = message
        if library {
            let detail = lastLibraryError()
            if !detail.isEmpty { text += " (HDF5: \(detail))" }
        }
        return HDF5Error(file: path, object: object, message: text)
    }

    /// The open file id, or an error if the file was closed.
    func openID(_ object: String?) throws -> hid_t {
        guard fileID >= 0 else { throw failure(object, "the file has been closed") }
        return fileID
    }

    /// Throws unless the file was opened for writing.
    func requireWritable(_ object: String) throws {
        if mode == .readOnly { throw failure(object, "the file was opened read-only") }
    }

    /// Non-empty path components: "/a//b.c/" → ["a", "b.c"]; [] is the root group.
    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// The path as HDF5 should see it ("/" for the root group).
    static func hdf5Name(_ components: [String]) -> String {
        components.isEmpty ? "/" : components.joined(separator: "/")
    }

    /// The path as shown in errors: no leading "/", root shown as "/".
    static func display(_ path: String) -> String { hdf5Name(components(path)) }

    static func attributeLabel(_ name: String, _ path: String) -> String { "\(display(path))@\(name)" }

    /// Checks each prefix with H5Lexists (so a missing intermediate group is not an error), then that
    /// the final link resolves to an object.
    func linkExists(_ components: [String]) -> Bool {
        if components.isEmpty { return true }
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            if H5Lexists(fileID, prefix, chdf5_p_default()) <= 0 { return false }
        }
        return H5Oexists_by_name(fileID, prefix, chdf5_p_default()) > 0
    }

    /// Opens the group or dataset at `path` (close with H5Oclose); errors name `label` (default: the path).
    func openObject(_ path: String, label: String? = nil) throws -> hid_t {
        let components = Self.components(path)
        let name = Self.hdf5Name(components)
        let label = label ?? name
        let id = try openID(label)
        guard linkExists(components) else {
            throw failure(label, label == name ? "no such dataset or group" : "no such dataset or group '\(name)'")
        }
        let object = H5Oopen(id, name, chdf5_p_default())
        guard object >= 0 else { throw failure(label, "cannot open object", library: true) }
        return object
    }

    /// Opens the attribute `name` on `path` and hands its id, file type, dataspace and element count to `body`.
    func withAttribute<T>(_ name: String, on path: String,
                          _ body: (_ attribute: hid_t, _ fileType: hid_t, _ space: hid_t, _ count: Int, _ label: String) throws -> T) throws -> T {
        let label = Self.attributeLabel(name, path)
        let object = try openObject(path, label: label)
        defer { H5Oclose(object) }
        guard H5Aexists(object, name) > 0 else { throw failure(label, "no such attribute") }
        let attribute = H5Aopen(object, name, chdf5_p_default())
        guard attribute >= 0 else { throw failure(label, "cannot open attribute", library: true) }
        defer { H5Aclose(attribute) }
        let fileType = H5Aget_type(attribute)
        defer { H5Tclose(fileType) }
        let space = H5Aget_space(attribute)
        defer { H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        return try body(attribute, fileType, space, count, label)
    }

    /// Creates (or replaces) a scalar attribute and writes `data` to it.
    func writeAttribute(_ name: String, on path: String, fileType: hid_t, memoryType: hid_t,
                        data: UnsafeRawPointer) throws {
        let label = Self.attributeLabel(name, path)
        try requireWritable(label)
        guard !name.isEmpty else { throw failure(label, "attribute name is empty") }
        let object = try openObject(path, label: label)
        defer { H5Oclose(object) }
        if H5Aexists(object, name) > 0 && H5Adelete(object, name) < 0 {
            throw failure(label, "cannot replace the existing attribute", library: true)
        }
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(object, name, fileType, space, chdf5_p_default(), chdf5_p_default())
        guard attribute >= 0 else { throw failure(label, "cannot create attribute", library: true) }
        defer { H5Aclose(attribute) }
        guard H5Awrite(attribute, memoryType, data) >= 0 else {
            throw failure(label, "writing the attribute failed", library: true)
        }
    }

    /// A short human description of an HDF5 datatype, e.g. "float (2 bytes)" or "string (variable length)".
    static func describe(type: hid_t) -> String {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            return (H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned" : "signed") + " integer (\(size) bytes)"
        case H5T_FLOAT: return "float (\(size) bytes)"
        case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "string (variable length)" : "string (\(size) bytes)"
        case H5T_OPAQUE: return "opaque (\(size) bytes)"
        case H5T_COMPOUND: return "compound (\(size) bytes)"
        case H5T_ENUM: return "enum (\(size) bytes)"
        case H5T_BITFIELD: return "bitfield (\(size) bytes)"
        case H5T_REFERENCE: return "reference"
        case H5T_VLEN: return "variable-length sequence"
        case H5T_ARRAY: return "array type"
        case H5T_TIME: return "time"
        default: return "unknown type"
        }
    }
}
