import Foundation
import HDF5
import Testing

@Suite struct RoundTripTests {
    @Test func float32() throws {
        try withTempFile { file in
            let values: [Float] = [0, -1.5, 3.25, .pi, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
            try file.write("x", shape: [2, 3], float32: values)
            let read = try file.readFloat32("x")
            #expect(read.shape == [2, 3])
            #expect(read.values == values)
            #expect(try file.shape(of: "x") == [2, 3])
            #expect(try file.readFloat64("x").values == values.map(Double.init))
        }
    }

    @Test func float64() throws {
        try withTempFile { file in
            let values: [Double] = [0.1, -2.5, 1e-300, .infinity, -.infinity, 3.141592653589793, -0.0]
            try file.write("d", shape: [7], float64: values)
            let read = try file.readFloat64("d")
            #expect(read.shape == [7])
            #expect(read.values == values)
            #expect(read.values[6].sign == .minus)
            try file.write("nan", shape: [1], float64: [.nan])
            #expect(try file.readFloat64("nan").values[0].isNaN)
        }
    }

    @Test func uint8() throws {
        try withTempFile { file in
            let values = (0..<24).map { UInt8(($0 * 37) % 256) } + [255]
            try file.write("u", shape: [5, 5], uint8: values)
            let read = try file.readUInt8("u")
            #expect(read.shape == [5, 5])
            #expect(read.values == values)
            #expect(try file.readFloat32("u").values == values.map(Float.init))
            #expect(try file.readInt64("u").values == values.map(Int64.init))
        }
    }

    @Test func int64() throws {
        try withTempFile { file in
            let values: [Int64] = [.min, -1, 0, 1, .max, 1 << 53 + 1]
            try file.write("i", shape: [3, 2], int64: values)
            let read = try file.readInt64("i")
            #expect(read.shape == [3, 2])
            #expect(read.values == values)
            #expect(try file.readFloat64("i").values[1] == -1)
        }
    }

    @Test func scalarDatasets() throws {
        try withTempFile { file in
            try file.write("s/f", shape: [], float32: [2.5])
            try file.write("s/i", shape: [], int64: [-7])
            #expect(try file.shape(of: "s/f") == [])
            let f = try file.readFloat32("s/f")
            #expect(f.shape == [] && f.values == [2.5])
            let i = try file.readInt64("s/i")
            #expect(i.shape == [] && i.values == [-7])
            #expect(try file.readFloat32("s/i").values == [-7])
        }
    }

    @Test func emptyDataset() throws {
        try withTempFile { file in
            try file.write("empty", shape: [0, 3], float32: [])
            let read = try file.readFloat32("empty")
            #expect(read.shape == [0, 3] && read.values.isEmpty)
        }
    }

    @Test func nestedPathsWithDots() throws {
        try withTempFile { file in
            let name = "vit/params/blocks.0.attn.qkv.weight"
            try file.write(name, shape: [2], float32: [1, 2])
            try file.write("/vit/params/pos_embed", shape: [1], float32: [3])  // leading "/" is optional
            #expect(file.exists(name))
            #expect(file.exists("/" + name))
            #expect(file.exists("vit"))
            #expect(file.exists("vit/params"))
            #expect(file.exists("/"))
            #expect(!file.exists("vit/params/blocks"))            // dots do not nest
            #expect(!file.exists("vit/params/blocks/0"))
            #expect(!file.exists(name + "/below"))                // through a dataset
            #expect(!file.exists("missing/deeply/nested/path"))
            #expect(try file.readFloat32("vit//params/pos_embed/").values == [3])
        }
    }

    @Test func datasetPathsListing() throws {
        try withTempFile { file in
            #expect(try file.datasetPaths() == [])
            try file.write("b", shape: [1], uint8: [1])
            try file.write("a.b", shape: [1], uint8: [1])
            try file.write("a/b", shape: [1], uint8: [1])
            try file.write("vit/params/blocks.1.norm1.weight", shape: [1], float32: [1])
            try file.write("vit/params/blocks.0.norm1.weight", shape: [1], float32: [1])
            try file.write("vit/x", shape: [], float32: [0])
            try file.setAttribute("kind", "group only", on: "vit")
            #expect(try file.datasetPaths() == [
                "a.b", "a/b", "b",
                "vit/params/blocks.0.norm1.weight", "vit/params/blocks.1.norm1.weight", "vit/x",
            ])
        }
    }

    @Test func overwriteReplacesDataset() throws {
        try withTempFile { file in
            try file.write("g/x", shape: [2, 2], float32: [1, 2, 3, 4])
            try file.setAttribute("note", "old", on: "g/x")
            try file.write("g/x", shape: [3], uint8: [7, 8, 9])
            #expect(try file.readUInt8("g/x").values == [7, 8, 9])
            #expect(try file.shape(of: "g/x") == [3])
            #expect(try file.attributeNames(on: "g/x") == [])  // a replaced dataset starts fresh
            #expect(try file.datasetPaths() == ["g/x"])
        }
    }

    @Test func attributesOfEachKind() throws {
        try withTempFile { file in
            try file.write("layer_norm/y", shape: [1], float32: [0])
            try file.setAttribute("format", "jepa-swift/1")
            try file.setAttribute("unicode", "héllo ✓ 日本")
            try file.setAttribute("empty", "")
            try file.setAttribute("step", 100)
            try file.setAttribute("lr", 3e-4)
            try file.setAttribute("eps", 1e-6, on: "layer_norm")
            try file.setAttribute("heads", 2, on: "/layer_norm/")
            try file.setAttribute("units", "none", on: "layer_norm/y")

            #expect(try file.stringAttribute("format") == "jepa-swift/1")
            #expect(try file.stringAttribute("unicode", on: "/") == "héllo ✓ 日本")
            #expect(try file.stringAttribute("empty") == "")
            #expect(try file.intAttribute("step") == 100)
            #expect(try file.doubleAttribute("lr") == 3e-4)
            #expect(try file.doubleAttribute("step") == 100)  // integers widen to Double
            #expect(try file.doubleAttribute("eps", on: "layer_norm") == 1e-6)
            #expect(try file.intAttribute("heads", on: "layer_norm") == 2)
            #expect(try file.stringAttribute("units", on: "layer_norm/y") == "none")
            #expect(try file.attributeNames() == ["empty", "format", "lr", "step", "unicode"])
            #expect(try file.attributeNames(on: "layer_norm") == ["eps", "heads"])

            try file.setAttribute("step", "replaced with a string")
            #expect(try file.stringAttribute("step") == "replaced with a string")
            try file.setAttribute("step", Int.min)
            #expect(try file.intAttribute("step") == Int.min)
        }
    }

    @Test func chunkedCompressedWriteAndRowSlabRead() throws {
        try withTempFile { file in
            let shape = [10, 3, 4, 4]
            let values = (0..<480).map { UInt8($0 % 251) }
            try file.write("clips/frames", shape: shape, uint8: values, chunks: [2, 3, 4, 4], compression: 4)
            #expect(try file.readUInt8("clips/frames").values == values)
            let slab = try file.readUInt8("clips/frames", rows: 3..<7)
            #expect(slab.shape == [4, 3, 4, 4])
            #expect(slab.values == Array(values[(3 * 48)..<(7 * 48)]))
            let none = try file.readUInt8("clips/frames", rows: 5..<5)
            #expect(none.shape == [0, 3, 4, 4] && none.values.isEmpty)

            let floats = (0..<60).map { Float($0) * 0.5 }
            try file.write("f", shape: [6, 10], float32: floats, compression: 9)  // chunks chosen automatically
            let rows = try file.readFloat32("f", rows: 4..<6)
            #expect(rows.shape == [2, 10] && rows.values == Array(floats[40..<60]))
            try file.write("big-chunks", shape: [3, 2], float64: [1, 2, 3, 4, 5, 6], chunks: [100, 100])  // clamped
            #expect(try file.readFloat64("big-chunks", rows: 1..<2).values == [3, 4])
        }
    }

    @Test func compressionShrinksTheFile() throws {
        let zeros = [Float](repeating: 0, count: 100_000)
        let sizes = try [nil, 6].map { (level: Int?) -> Int in
            try withTempPath { path in
                let file = try HDF5File(path: path, mode: .truncate)
                try file.write("zeros", shape: [100, 1000], float32: zeros, chunks: [10, 1000], compression: level)
                try file.close()
                return try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            }
        }
        #expect(sizes[0] > 400_000)
        #expect(sizes[1] < 50_000)
    }

    @Test func streamingRowWrites() throws {
        try withTempFile { file in
            try file.createDataset("video/frames", shape: [5, 2, 3], type: .uint8, chunks: [1, 2, 3], compression: 1)
            try file.createDataset("video/actions", shape: [5, 2], type: .float32)
            try file.writeRows("video/frames", start: 3, shape: [2, 2, 3], uint8: Array(1...12))
            try file.writeRows("video/frames", start: 0, shape: [1, 2, 3], uint8: [9, 9, 9, 9, 9, 9])
            try file.writeRows("video/actions", start: 1, shape: [3, 2], float32: [1, 2, 3, 4, 5, 6])
            let frames = try file.readUInt8("video/frames")
            #expect(frames.shape == [5, 2, 3])
            #expect(frames.values == [9, 9, 9, 9, 9, 9] + [UInt8](repeating: 0, count: 12) + Array(1...12))
            #expect(try file.readFloat32("video/actions").values == [0, 0, 1, 2, 3, 4, 5, 6, 0, 0])
            #expect(try file.readUInt8("video/frames", rows: 4..<5).values == Array(7...12))
        }
    }

    @Test func reopenReadWriteAndReadOnly() throws {
        try withTempPath { path in
            let created = try HDF5File(path: path, mode: .exclusive)
            try created.write("a", shape: [1], int64: [1])
            try created.flush()
            try created.close()
            try created.close()  // closing twice is harmless

            let appended = try HDF5File(path: path, mode: .readWrite)
            try appended.write("b", shape: [1], int64: [2])
            try appended.setAttribute("done", 1)
            try appended.close()

            let reader = try HDF5File(path: path, mode: .readOnly)
            #expect(try reader.datasetPaths() == ["a", "b"])
            #expect(try reader.intAttribute("done") == 1)
            #expect(reader.path == path)
        }
    }

    @Test func concurrentUseFromManyTasks() async throws {
        let shared = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5-tests-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: shared) }
        do {
            let writer = try HDF5File(path: shared, mode: .truncate)
            for i in 0..<8 { try writer.write("d\(i)", shape: [100], float32: (0..<100).map { Float($0 + i) }) }
            try writer.close()
            let reader = try HDF5File(path: shared, mode: .readOnly)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        // Each task reads the shared file and writes its own.
                        #expect(try reader.readFloat32("d\(i)").values[99] == Float(99 + i))
                        try withTempFile { own in
                            for j in 0..<20 { try own.write("x/\(j)", shape: [2], int64: [Int64(i), Int64(j)]) }
                            #expect(try own.datasetPaths().count == 20)
                            #expect(try own.readInt64("x/19").values == [Int64(i), 19])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
