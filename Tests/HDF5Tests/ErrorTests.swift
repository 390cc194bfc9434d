import Foundation
import HDF5
import Testing

/// Bad input must throw an HDF5Error naming the file and the object, never crash.
@Suite struct ErrorTests {
    @Test func missingFile() {
        withTempPath { path in
            expectHDF5Error([path, "does not exist"]) { _ = try HDF5File(path: path, mode: .readOnly) }
            expectHDF5Error([path, "does not exist"]) { _ = try HDF5File(path: path, mode: .readWrite) }
        }
        expectHDF5Error(["/no/such/dir/x.h5", "cannot create"]) {
            _ = try HDF5File(path: "/no/such/dir/x.h5", mode: .truncate)
        }
    }

    @Test func notAnHDF5File() throws {
        try withTempPath(".txt") { path in
            try "just some text\n".write(toFile: path, atomically: true, encoding: .utf8)
            expectHDF5Error([path, "not an HDF5 file"]) { _ = try HDF5File(path: path, mode: .readOnly) }
        }
        try withTempPath(".txt") { path in
            try Data().write(to: URL(fileURLWithPath: path))
            expectHDF5Error([path, "not an HDF5 file"]) { _ = try HDF5File(path: path, mode: .readOnly) }
        }
        let directory = FileManager.default.temporaryDirectory.path
        expectHDF5Error([directory, "directory"]) { _ = try HDF5File(path: directory, mode: .readOnly) }
    }

    @Test func truncatedFile() throws {
        try withTempPath { path in
            let file = try HDF5File(path: path, mode: .truncate)
            for i in 0..<4 { try file.write("group/d\(i)", shape: [256], float32: [Float](repeating: Float(i), count: 256)) }
            try file.setAttribute("note", "will be cut")
            try file.close()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))

            // 1.10 detects the short end-of-file when opening; either way the error must name the file.
            let error = #expect(throws: HDF5Error.self) {
                let cut = try HDF5File(path: path, mode: .readOnly)
                for name in try cut.datasetPaths() { _ = try cut.readFloat32(name) }
            }
            #expect(error?.file == path)
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("truncated") == true)
        }
    }

    @Test func exclusiveCreateOfExistingFile() throws {
        try withTempPath { path in
            try HDF5File(path: path, mode: .truncate).close()
            expectHDF5Error([path, "already exists"]) { _ = try HDF5File(path: path, mode: .exclusive) }
        }
    }

    @Test func missingDatasetAndAttribute() throws {
        try withTempFile { file in
            try file.write("vit/x", shape: [1], float32: [1])
            expectHDF5Error([file.path, "'vit/y'", "no such dataset"]) { _ = try file.readFloat32("vit/y") }
            expectHDF5Error([file.path, "'a/b/c'"]) { _ = try file.readUInt8("a/b/c") }
            expectHDF5Error([file.path, "'vit/x/below'"]) { _ = try file.shape(of: "vit/x/below") }
            expectHDF5Error([file.path, "'vit'", "expected a dataset, found a group"]) { _ = try file.readFloat32("vit") }
            expectHDF5Error([file.path, "vit@heads", "no such attribute"]) { _ = try file.intAttribute("heads", on: "vit") }
            expectHDF5Error([file.path, "nope@heads", "no such dataset or group"]) { _ = try file.intAttribute("heads", on: "nope") }
            expectHDF5Error(["'nope'"]) { _ = try file.attributeNames(on: "nope") }
            expectHDF5Error(["'nope'"]) { try file.setAttribute("a", 1, on: "nope") }
        }
    }

    @Test func countAndShapeMismatch() throws {
        try withTempFile { file in
            expectHDF5Error([file.path, "'w'", "shape [2, 3] needs 6 values, got 5"]) {
                try file.write("w", shape: [2, 3], float32: [1, 2, 3, 4, 5])
            }
            expectHDF5Error(["'s'", "needs 1 values, got 2"]) { try file.write("s", shape: [], int64: [1, 2]) }
            expectHDF5Error(["negative"]) { try file.write("n", shape: [-1, 2], uint8: []) }
            #expect(!file.exists("w"))

            try file.write("r", shape: [4, 2], float32: [Float](repeating: 1, count: 8))
            expectHDF5Error(["'r'", "rows 3..<5", "4 rows"]) { _ = try file.readFloat32("r", rows: 3..<5) }
            try file.write("scalar", shape: [], float32: [1])
            expectHDF5Error(["'scalar'", "scalar"]) { _ = try file.readFloat32("scalar", rows: 0..<1) }
        }
    }

    @Test func wrongTypes() throws {
        try withTempFile { file in
            try file.write("f", shape: [2], float32: [1.5, 2])
            try file.write("u", shape: [2], uint8: [1, 2])
            try file.setAttribute("text", "hello")
            try file.setAttribute("real", 0.5)
            try file.setAttribute("count", 3)
            expectHDF5Error([file.path, "'f'", "expected an integer dataset to read as uint8, found float (4 bytes)"]) {
                _ = try file.readUInt8("f")
            }
            expectHDF5Error(["'f'", "int64", "float (4 bytes)"]) { _ = try file.readInt64("f") }
            expectHDF5Error(["/@text", "expected an integer attribute, found string"]) { _ = try file.intAttribute("text") }
            expectHDF5Error(["/@real", "expected an integer attribute, found float"]) { _ = try file.intAttribute("real") }
            expectHDF5Error(["/@text", "expected a float attribute, found string"]) { _ = try file.doubleAttribute("text") }
            expectHDF5Error(["/@count", "expected a string attribute, found signed integer (8 bytes)"]) {
                _ = try file.stringAttribute("count")
            }
        }
    }

    @Test func badWrites() throws {
        try withTempFile { file in
            try file.write("d", shape: [2], float32: [1, 2])
            try file.write("g/inner", shape: [1], float32: [1])
            expectHDF5Error(["'d/x'", "'d' is a dataset"]) { try file.write("d/x", shape: [1], float32: [1]) }
            expectHDF5Error(["'g'", "a group exists"]) { try file.write("g", shape: [1], float32: [1]) }
            expectHDF5Error(["root group"]) { try file.write("/", shape: [1], float32: [1]) }
            expectHDF5Error(["'c'", "chunks [2]"]) { try file.write("c", shape: [2, 2], float32: [1, 2, 3, 4], chunks: [2]) }
            expectHDF5Error(["'c'", "chunks [0, 1]"]) { try file.write("c", shape: [2, 2], float32: [1, 2, 3, 4], chunks: [0, 1]) }
            expectHDF5Error(["'c'", "compression level"]) { try file.write("c", shape: [2], float32: [1, 2], compression: 10) }
            expectHDF5Error(["'c'", "scalar"]) { try file.write("c", shape: [], float32: [1], compression: 1) }
            expectHDF5Error(["attribute name is empty"]) { try file.setAttribute("", 1) }
            expectHDF5Error(["'d'", "compression level"]) { try file.write("d", shape: [2], float32: [5, 6], compression: -1) }
            expectHDF5Error(["'d'", "needs 2 values, got 1"]) { try file.write("d", shape: [2], float32: [5]) }
            #expect(try file.readFloat32("d").values == [1, 2])  // a rejected overwrite leaves the old dataset
            #expect(try file.readFloat32("g/inner").values == [1])
        }
    }

    @Test func badRowWrites() throws {
        try withTempFile { file in
            try file.createDataset("v", shape: [4, 2], type: .uint8)
            try file.createDataset("s", shape: [], type: .float32)
            expectHDF5Error(["'v'", "rows 3..<5", "4 rows"]) { try file.writeRows("v", start: 3, shape: [2, 2], uint8: [1, 2, 3, 4]) }
            expectHDF5Error(["'v'", "rows -1..<0"]) { try file.writeRows("v", start: -1, shape: [1, 2], uint8: [1, 2]) }
            expectHDF5Error(["'v'", "slab shape [1, 3]", "[4, 2]"]) { try file.writeRows("v", start: 0, shape: [1, 3], uint8: [1, 2, 3]) }
            expectHDF5Error(["'v'", "needs 4 values, got 3"]) { try file.writeRows("v", start: 0, shape: [2, 2], uint8: [1, 2, 3]) }
            expectHDF5Error(["'v'", "expected a float dataset to write float32, found unsigned integer (1 bytes)"]) {
                try file.writeRows("v", start: 0, shape: [1, 2], float32: [1, 2])
            }
            expectHDF5Error(["'s'", "scalar"]) { try file.writeRows("s", start: 0, shape: [1], float32: [1]) }
            expectHDF5Error(["'missing'", "no such dataset"]) { try file.writeRows("missing", start: 0, shape: [1], uint8: [1]) }
        }
    }

    @Test func readOnlyAndClosedFiles() throws {
        try withTempPath { path in
            let writer = try HDF5File(path: path, mode: .truncate)
            try writer.write("x", shape: [1], float32: [1])
            try writer.close()
            expectHDF5Error([path, "closed"]) { _ = try writer.readFloat32("x") }
            expectHDF5Error([path, "closed"]) { _ = try writer.datasetPaths() }
            #expect(!writer.exists("x"))

            let reader = try HDF5File(path: path, mode: .readOnly)
            expectHDF5Error([path, "'y'", "read-only"]) { try reader.write("y", shape: [1], float32: [1]) }
            expectHDF5Error([path, "/@a", "read-only"]) { try reader.setAttribute("a", "b") }
            expectHDF5Error([path, "'x'", "read-only"]) { try reader.createDataset("x", shape: [1], type: .int64) }
            #expect(try reader.readFloat32("x").values == [1])
        }
    }
}

/// Files held by someone else, and descriptors that must not leak into child processes.
@Suite struct FileLockTests {
    /// Writes a one-value file at `path`, then holds an exclusive flock on it through a separate
    /// open file description, as another process would; returns that descriptor.
    private func lockedElsewhere(_ path: String) throws -> Int32 {
        let file = try HDF5File(path: path, mode: .truncate)
        try file.write("x", shape: [1], float32: [1])
        try file.close()
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd
    }

    @Test func aFileLockedElsewhereIsNamedAsSuchNotAsCorrupt() throws {
        try withTempPath { path in
            let fd = try lockedElsewhere(path)
            defer { close(fd) }
            expectHDF5Error([path, "another process holds it open", "HDF5_USE_FILE_LOCKING"]) {
                _ = try HDF5File(path: path, mode: .readWrite)
            }
        }
    }

    @Test func aLockHeldForAMomentIsWaitedOut() throws {
        try withTempPath { path in
            // Released after 100 ms, as by a child forked by another thread when it execs.
            let fd = try lockedElsewhere(path)
            let released = Thread { usleep(100_000); close(fd) }
            released.start()
            let reopened = try HDF5File(path: path, mode: .readWrite)
            #expect(try reopened.readFloat32("x").values == [1])
        }
    }

    @Test func openFilesAreCloseOnExec() throws {
        try withTempPath { path in
            for mode in [HDF5File.Mode.truncate, .readWrite, .readOnly] {
                let file = try HDF5File(path: path, mode: mode)
                defer { try? file.close() }
                let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap(Int32.init)
                let mine = descriptors.filter {
                    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == resolved
                }
                #expect(!mine.isEmpty, "no descriptor of \(path) open in mode \(mode)")
                for fd in mine { #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "mode \(mode)") }
            }
        }
    }
}
