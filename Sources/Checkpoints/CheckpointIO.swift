// Reading, atomic writing and restoring of checkpoint files (layout: docs/checkpoint-format.md).
import Foundation
import HDF5
import NN
import Tensors

public enum CheckpointIO {
    /// Value of the root `format` attribute.
    public static let formatName = "jepa-swift-checkpoint"
    /// Highest `format_version` this tool reads; the one it writes.
    public static let formatVersion = 1
    /// The group holding optimiser state.
    public static let optimizerGroup = "optimizer"
    /// The group holding extra state.
    public static let stateGroup = "state"
    /// The group holding the surprise calibration of a next-frame model (fitted after training,
    /// not a module: weight loading skips it).
    public static let calibrationGroup = "surprise_calibration"

    // MARK: - Writing

    /// Writes `checkpoint` to `path` atomically: the file is written as `<path>.tmp-<pid>` in the
    /// same directory, closed, fsync'ed and renamed over `path` (then the directory is fsync'ed).
    /// On any error the temporary file is removed and an existing `path` is left untouched.
    public static func write(_ checkpoint: Checkpoint, to path: String) throws {
        try write(checkpoint, to: path, beforeRename: { _ in })
    }

    /// `write` with a hook run on the complete, synced temporary file just before the rename
    /// (tests inject failures here).
    static func write(_ checkpoint: Checkpoint, to path: String, beforeRename: (String) throws -> Void) throws {
        try validate(checkpoint, path)
        let temporary = "\(path).tmp-\(getpid())"
        do {
            let file = try HDF5File(path: temporary, mode: .truncate, userBlock: Integrity.blockSize)
            do {
                try fill(file, checkpoint)
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
            try Integrity.seal(temporary)
            try fsyncPath(temporary, directory: false)
            try beforeRename(temporary)
            guard rename(temporary, path) == 0 else {
                throw CheckpointError(.io, path: path, "cannot rename \(temporary) to \(path): \(errnoText())")
            }
        } catch {
            unlink(temporary)
            if let error = error as? CheckpointError { throw error }
            throw CheckpointError(.io, path: path, "cannot write checkpoint \(path): \(error)")
        }
        // The rename is durable once the directory entry is on disk; a failure here is not fatal
        // to the file's contents, so it is ignored (some file systems refuse fsync on directories).
        try? fsyncPath(directoryOf(path), directory: true)
    }

    static func fill(_ file: HDF5File, _ c: Checkpoint) throws {
        try file.setAttribute("format", formatName)
        try file.setAttribute("format_version", formatVersion)
        try file.setAttribute("tool_version", Toolkit.version)
        try file.setAttribute("step", c.step)
        try file.setAttribute("optimizer_step", c.optimizerStep)
        try file.setAttribute("config", c.config)
        try file.setAttribute("created", c.created ?? iso8601Now())
        if let metric = c.metric { try file.setAttribute("metric", metric) }
        for group in c.modules.keys.sorted() {
            for (name, tensor) in c.modules[group]! { try writeTensor(file, "\(group)/\(name)", tensor) }
        }
        for (name, tensor) in c.optimizer { try writeTensor(file, "\(optimizerGroup)/\(name)", tensor) }
        for key in c.state.keys.sorted() {
            let path = "\(stateGroup)/\(key)"
            let kind: String
            switch c.state[key]! {
            case .int(let v): try file.write(path, shape: [], int64: [Int64(v)]); kind = "int"
            case .double(let v): try file.write(path, shape: [], float64: [v]); kind = "double"
            case .ints(let v): try file.write(path, shape: [v.count], int64: v); kind = "ints"
            case .doubles(let v): try file.write(path, shape: [v.count], float64: v); kind = "doubles"
            case .string(let s):
                let bytes = Array(s.utf8)
                try file.write(path, shape: [bytes.count], uint8: bytes); kind = "string"
            }
            try file.setAttribute("kind", kind, on: path)
        }
    }

    static func writeTensor(_ file: HDF5File, _ path: String, _ tensor: Tensor) throws {
        try file.write(path, shape: tensor.shape, float32: tensor.scalars)
    }

    /// Rejects names HDF5 would nest or collide: empty names, "/", reserved or duplicate keys.
    static func validate(_ c: Checkpoint, _ path: String) throws {
        func check(_ name: String, _ what: String) throws {
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw CheckpointError(.invalidContent, path: path, "cannot write \(path): invalid \(what) name '\(name)' (empty, \".\"/\"..\" or containing \"/\")")
            }
        }
        func checkList(_ list: [NamedParameter], group: String) throws {
            var seen = Set<String>()
            for (name, _) in list {
                try check(name, "key in group '\(group)'")
                guard seen.insert(name).inserted else {
                    throw CheckpointError(.invalidContent, path: path, "cannot write \(path): duplicate key '\(name)' in group '\(group)'")
                }
            }
        }
        for (group, list) in c.modules {
            try check(group, "group")
            guard group != optimizerGroup, group != stateGroup else {
                throw CheckpointError(.invalidContent, path: path, "cannot write \(path): module group name '\(group)' is reserved")
            }
            try checkList(list, group: group)
        }
        try checkList(c.optimizer, group: optimizerGroup)
        for key in c.state.keys { try check(key, "state key") }
    }

    // MARK: - Reading

    /// Reads a checkpoint; tensors are fresh. Errors say whether the file is missing, not HDF5,
    /// truncated/corrupt, not a checkpoint, or of a newer format version.
    public static func read(_ path: String) throws -> Checkpoint {
        let file = try open(path)
        defer { try? file.close() }
        return try corruptOnHDF5Error(path) {
            var c = Checkpoint(step: try file.intAttribute("step"))
            let attributes = Set(try file.attributeNames())
            c.config = attributes.contains("config") ? try file.stringAttribute("config") : ""
            c.optimizerStep = attributes.contains("optimizer_step") ? try file.intAttribute("optimizer_step") : 0
            c.created = attributes.contains("created") ? try file.stringAttribute("created") : nil
            c.toolVersion = attributes.contains("tool_version") ? try file.stringAttribute("tool_version") : nil
            c.metric = attributes.contains("metric") ? try file.doubleAttribute("metric") : nil
            for dataset in try file.datasetPaths() {
                let parts = dataset.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].contains("/") else {
                    throw CheckpointError(.corrupt, path: path, "\(path) has an unexpected dataset '\(dataset)' (expected <group>/<key>)")
                }
                let (group, key) = (parts[0], parts[1])
                if group == stateGroup {
                    c.state[key] = try readState(file, dataset, path)
                    continue
                }
                if case .failure(let stored) = try file.elementType(of: dataset) {
                    throw CheckpointError(.corrupt, path: path, "\(path): '\(dataset)' is \(stored), expected a float32 tensor")
                } else if case .success(let type) = try file.elementType(of: dataset), type != .float32 && type != .float64 {
                    throw CheckpointError(.corrupt, path: path, "\(path): '\(dataset)' is \(type), expected a float32 tensor")
                }
                let (shape, values) = try file.readFloat32(dataset)
                let tensor = values.isEmpty ? Tensor.zeros(shape) : Tensor(values, shape: shape)
                try checkFinite(tensor, name: dataset, path: path)
                if group == optimizerGroup {
                    c.optimizer.append((name: key, tensor: tensor))
                } else {
                    c.modules[group, default: []].append((name: key, tensor: tensor))
                }
            }
            return c
        }
    }

    static func readState(_ file: HDF5File, _ dataset: String, _ path: String) throws -> CheckpointValue {
        let kind = try file.stringAttribute("kind", on: dataset)
        switch kind {
        case "int": return .int(Int(try file.readInt64(dataset).values.first ?? 0))
        case "double": return .double(try file.readFloat64(dataset).values.first ?? 0)
        case "ints": return .ints(try file.readInt64(dataset).values)
        case "doubles": return .doubles(try file.readFloat64(dataset).values)
        case "string": return .string(String(decoding: try file.readUInt8(dataset).values, as: UTF8.self))
        default:
            throw CheckpointError(.corrupt, path: path, "\(path): state dataset '\(dataset)' has unknown kind '\(kind)'")
        }
    }

    /// Opens `path` read-only and checks the format markers.
    static func open(_ path: String) throws -> HDF5File {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(.missingFile, path: path, "checkpoint \(path) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw CheckpointError(.notHDF5, path: path, "checkpoint \(path) is a directory, not a file")
        }
        try Integrity.verify(path)
        let file: HDF5File
        do {
            file = try HDF5File(path: path, mode: .readOnly)
        } catch let error as HDF5Error {
            if error.message.hasPrefix("not an HDF5 file") {
                throw CheckpointError(.notHDF5, path: path, "\(path) is not a jepa-swift checkpoint: not an HDF5 file (no HDF5 signature)")
            }
            if error.message.contains("another process holds it open") {
                throw CheckpointError(.io, path: path, "\(path): \(error.message)")
            }
            throw CheckpointError(.corrupt, path: path, "\(path) is truncated or corrupt (HDF5: \(libraryDetail(error.message)))")
        }
        do {
            let attributes = Set(try file.attributeNames())
            guard attributes.contains("format") else {
                throw CheckpointError(.notCheckpoint, path: path, "\(path) is not a jepa-swift checkpoint (format attribute missing)")
            }
            let format = try file.stringAttribute("format")
            guard format == formatName else {
                throw CheckpointError(.notCheckpoint, path: path, "\(path) is not a jepa-swift checkpoint (format is '\(format)', expected '\(formatName)')")
            }
            guard attributes.contains("format_version"), attributes.contains("step") else {
                throw CheckpointError(.corrupt, path: path, "\(path) is a damaged checkpoint: root attribute 'format_version' or 'step' missing")
            }
            let version = try file.intAttribute("format_version")
            guard version <= formatVersion else {
                throw CheckpointError(.unsupportedVersion, path: path, "\(path): format_version \(version) is newer than this tool supports (\(formatVersion)); update jepa-swift")
            }
            guard version >= 1 else {
                throw CheckpointError(.unsupportedVersion, path: path, "\(path): format_version \(version) is not a valid version (this tool reads 1...\(formatVersion))")
            }
            return file
        } catch let error as HDF5Error {
            try? file.close()
            throw CheckpointError(.corrupt, path: path, "\(path) is truncated or corrupt (\(error.message))")
        } catch {
            try? file.close()
            throw error
        }
    }

    /// The HDF5 library's own message inside a wrapper message "… (detail)", or the whole message.
    static func libraryDetail(_ message: String) -> String {
        guard message.hasSuffix(")"), let open = message.firstIndex(of: "(") else { return message }
        return String(message[message.index(after: open)..<message.index(before: message.endIndex)])
    }

    /// Maps a low-level HDF5 failure while reading data to a "truncated or corrupt" error.
    static func corruptOnHDF5Error<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HDF5Error {
            let at = error.object.map { " at '\($0)'" } ?? ""
            throw CheckpointError(.corrupt, path: path, "\(path) is truncated or corrupt\(at) (\(error.message))")
        }
    }

    // MARK: - Restoring

    /// Reads `path` and loads it into live modules (strictly, by name; every module must have a
    /// group) and the optimiser (`loadState`, when given). Everything is checked before anything
    /// is modified, so on error the modules and optimiser are unchanged. Groups in the file that
    /// are not asked for are ignored. Returns the checkpoint (for `step`, `state`, `config`).
    @discardableResult
    public static func restore(_ path: String, into modules: [String: Module], optimizer: Optimizer?) throws -> Checkpoint {
        try restore(read(path), from: path, into: modules, optimizer: optimizer)
    }

    /// `restore(_:into:optimizer:)` from a checkpoint already read from `path` (its config first
    /// tells what to build), so the file is read once.
    @discardableResult
    public static func restore(_ c: Checkpoint, from path: String, into modules: [String: Module],
                               optimizer: Optimizer?) throws -> Checkpoint {
        var problems: [String] = []
        var sources: [String: [String: Tensor]] = [:]
        for group in modules.keys.sorted() {
            guard let list = c.modules[group] else {
                throw CheckpointError(.missingGroup, path: path, "\(path): missing group '\(group)' (the file has: \(c.modules.keys.sorted().joined(separator: ", ")))")
            }
            let source = Dictionary(list.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            sources[group] = source
            problems += mismatches(group: group, expected: modules[group]!.namedParameters(), source: source)
        }
        var optimizerSource: [String: Tensor] = [:]
        if let optimizer {
            optimizerSource = Dictionary(c.optimizer.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            let expected = optimizer.namedState()
            if optimizerSource.isEmpty && !expected.isEmpty {
                problems.append("the file has no optimizer state (group '\(optimizerGroup)' is missing); restore with optimizer: nil to load weights only")
            } else {
                problems += mismatches(group: optimizerGroup, expected: expected, source: optimizerSource)
            }
        }
        guard problems.isEmpty else {
            throw CheckpointError(.mismatch, path: path, "cannot restore \(path):\n  " + problems.joined(separator: "\n  "))
        }
        do {
            for (group, module) in modules { try module.load(sources[group]!, strict: true) }
            try optimizer?.loadState(optimizerSource, stepCount: c.optimizerStep)
        } catch {
            throw CheckpointError(.mismatch, path: path, "cannot restore \(path): \(error)")
        }
        return c
    }

    /// Missing keys, unexpected keys and shape mismatches, each as "group/key: …".
    static func mismatches(group: String, expected: [NamedParameter], source: [String: Tensor]) -> [String] {
        var out: [String] = []
        var names = Set<String>()
        for (name, tensor) in expected {
            names.insert(name)
            guard let saved = source[name] else { out.append("missing key \(group)/\(name)"); continue }
            if saved.shape != tensor.shape {
                out.append("shape mismatch for \(group)/\(name): expected \(tensor.shape), found \(saved.shape)")
            }
        }
        out += source.keys.filter { !names.contains($0) }.sorted().map { "unexpected key \(group)/\($0)" }
        return out
    }

    // MARK: - File-system helpers

    static func fsyncPath(_ path: String, directory: Bool) throws {
        let fd = Foundation.open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY)
        guard fd >= 0 else { throw CheckpointError(.io, path: path, "cannot open \(path) to sync it: \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CheckpointError(.io, path: path, "fsync of \(path) failed: \(errnoText())") }
    }

    static func directoryOf(_ path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func iso8601Now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
