// Periodic checkpoints in one directory: keep the last K, the best one, and a `latest` pointer.
import Foundation
import HDF5

/// Manages a checkpoint directory:
/// - `step_<step>.h5`: periodic checkpoints; only the `keepLast` highest steps are kept
///   (the file just saved is never deleted);
/// - `best.h5`: a hard link to the checkpoint with the best metric so far (replaced atomically);
/// - `latest`: a text file holding the file name of the newest checkpoint (written atomically).
/// Every file is written with `CheckpointIO.write`, so a crash leaves complete files only.
public struct CheckpointRotation: Sendable {
    public let directory: String
    public let keepLast: Int

    public static let bestName = "best.h5"
    public static let latestName = "latest"

    public init(directory: String, keepLast: Int) {
        precondition(keepLast >= 1, "CheckpointRotation: keepLast must be at least 1, got \(keepLast)")
        self.directory = directory
        self.keepLast = keepLast
    }

    /// Path of the periodic checkpoint for `step`.
    public func path(step: Int) -> String { join("step_\(step).h5") }

    /// Path of the best checkpoint (it may not exist yet).
    public var bestPath: String { join(Self.bestName) }

    /// Writes `step_<step>.h5`, updates `best.h5` when `metric` improves on the best so far
    /// (the metric is stored in the file's root `metric` attribute), points `latest` at it and
    /// deletes periodic checkpoints beyond the last `keepLast`. Returns the written path.
    @discardableResult
    public func save(_ checkpoint: Checkpoint, metric: Double? = nil, lowerIsBetter: Bool = true) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.io, path: directory, "cannot create checkpoint directory \(directory): \(error.localizedDescription)")
        }
        var c = checkpoint
        if let metric { c.metric = metric }
        let name = "step_\(c.step).h5"
        let path = join(name)
        try CheckpointIO.write(c, to: path)

        if let metric = c.metric, try isImprovement(metric, lowerIsBetter: lowerIsBetter) {
            try replace(bestPath) { temporary in
                guard link(path, temporary) == 0 else {
                    throw CheckpointError(.io, path: bestPath, "cannot link \(path) as \(bestPath): \(CheckpointIO.errnoText())")
                }
            }
        }
        try replace(join(Self.latestName)) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data((name + "\n").utf8)) else {
                throw CheckpointError(.io, path: temporary, "cannot write \(temporary)")
            }
            try CheckpointIO.fsyncPath(temporary, directory: false)
        }
        try? CheckpointIO.fsyncPath(directory, directory: true)

        removeStaleTemporaries()
        let old = try periodicCheckpoints().filter { $0.name != name }.dropLast(keepLast - 1)
        for (_, oldName) in old {
            let oldPath = join(oldName)
            guard unlink(oldPath) == 0 || errno == ENOENT else {
                throw CheckpointError(.io, path: oldPath, "cannot delete old checkpoint \(oldPath): \(CheckpointIO.errnoText())")
            }
        }
        return path
    }

    /// Path of the newest checkpoint (from the `latest` pointer), or nil if none was saved.
    /// Throws if the pointer names a file that no longer exists.
    public func latest() throws -> String? {
        let pointer = join(Self.latestName)
        guard FileManager.default.fileExists(atPath: pointer) else { return nil }
        guard let data = FileManager.default.contents(atPath: pointer) else {
            throw CheckpointError(.io, path: pointer, "cannot read \(pointer)")
        }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, !name.contains("/") else {
            throw CheckpointError(.corrupt, path: pointer, "\(pointer) does not hold a checkpoint file name")
        }
        let path = join(name)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError(.missingFile, path: path, "\(pointer) points to \(path), which does not exist")
        }
        return path
    }

    /// Periodic checkpoints on disk as (step, file name), ascending by step.
    public func periodicCheckpoints() throws -> [(step: Int, name: String)] {
        guard FileManager.default.fileExists(atPath: directory) else { return [] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw CheckpointError(.io, path: directory, "cannot list \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name -> (step: Int, name: String)? in
            guard name.hasPrefix("step_"), name.hasSuffix(".h5"),
                  let step = Int(name.dropFirst(5).dropLast(3)) else { return nil }
            return (step, name)
        }.sorted { $0.step < $1.step }
    }

    // MARK: - Internals

    func join(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// True if there is no readable best checkpoint with a metric yet, or `metric` beats it.
    func isImprovement(_ metric: Double, lowerIsBetter: Bool) throws -> Bool {
        guard !metric.isNaN else { return false }
        guard FileManager.default.fileExists(atPath: bestPath) else { return true }
        let best: Double
        do {
            let file = try HDF5File(path: bestPath, mode: .readOnly)
            defer { try? file.close() }
            guard try file.attributeNames().contains("metric") else { return true }
            best = try file.doubleAttribute("metric")
        } catch {
            throw CheckpointError(.corrupt, path: bestPath, "cannot read the metric of \(bestPath): \(error)")
        }
        return lowerIsBetter ? metric < best : metric > best
    }

    /// Deletes temporary files (`*.tmp-<pid>`) left in the directory by a writer that crashed;
    /// this process's own temporaries are left alone. Assumes one writer per directory.
    func removeStaleTemporaries() {
        let mine = ".tmp-\(getpid())"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let range = name.range(of: ".tmp-"), !name.hasSuffix(mine),
                  Int(name[range.upperBound...]) != nil else { continue }
            unlink(join(name))
        }
    }

    /// Creates `path` atomically: `make` fills a temporary name in the same directory, which is
    /// then renamed over `path`; the temporary is removed on failure.
    func replace(_ path: String, _ make: (String) throws -> Void) throws {
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        do {
            try make(temporary)
            guard rename(temporary, path) == 0 else {
                throw CheckpointError(.io, path: path, "cannot rename \(temporary) to \(path): \(CheckpointIO.errnoText())")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
