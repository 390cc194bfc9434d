import Foundation
import HDF5
import Testing

/// A unique path in the temp directory (tests run in parallel), removed after `body`.
func withTempPath<T>(_ suffix: String = ".h5", _ body: (String) throws -> T) rethrows -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("hdf5-tests-\(UUID().uuidString)\(suffix)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A new file (mode .truncate) at a unique temp path; the file is closed and removed afterwards.
func withTempFile<T>(_ body: (HDF5File) throws -> T) throws -> T {
    try withTempPath { path in
        let file = try HDF5File(path: path, mode: .truncate)
        defer { try? file.close() }
        return try body(file)
    }
}

/// Expects `body` to throw an HDF5Error whose description contains every fragment.
func expectHDF5Error(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) {
    let error = #expect(throws: HDF5Error.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    for fragment in fragments {
        #expect(error.description.contains(fragment), "'\(fragment)' not in: \(error.description)",
                sourceLocation: sourceLocation)
    }
}
