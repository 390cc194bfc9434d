import Foundation
import HDF5
import Testing

/// Interoperability with h5py in both directions.
@Suite struct InteropTests {
    /// Fixtures/h5py_written.h5 comes from tools/make_h5py_interop_fixture.py (h5py 3 on HDF5 2.0).
    @Test func readsFileWrittenByH5py() throws {
        let url = try #require(Bundle.module.url(forResource: "h5py_written", withExtension: "h5", subdirectory: "Fixtures"))
        let file = try HDF5File(path: url.path, mode: .readOnly)

        #expect(try file.datasetPaths() == [
            "bytes", "doubles", "groups/a/b/blocks.0.attn.qkv.weight", "groups/a/b/weights",
            "half", "ints", "labels", "scalar_float", "scalar_int",
        ])

        let half = try file.readFloat32("half")  // float16 converted by HDF5
        #expect(half.shape == [2, 3])
        #expect(half.values == [-1.5, -0.5, 0, 0.25, 1, 65504])

        let doubles = try file.readFloat64("doubles")
        #expect(doubles.shape == [4])
        #expect(doubles.values == [0.1, -2.5, 1e-300, 3.141592653589793])
        #expect(try file.readFloat32("doubles").values == [0.1, -2.5, 0, Float(3.141592653589793)])

        let ints = try file.readInt64("ints")
        #expect(ints.shape == [2, 2])
        #expect(ints.values == [-(1 << 53) - 1, -1, 0, (1 << 53) + 1])

        let bytes = try file.readUInt8("bytes")
        #expect(bytes.shape == [2, 2, 2])
        #expect(bytes.values == [0, 1, 2, 127, 128, 200, 254, 255])
        #expect(try file.readUInt8("bytes", rows: 1..<2).values == [128, 200, 254, 255])

        let scalarInt = try file.readInt64("scalar_int")
        #expect(scalarInt.shape == [] && scalarInt.values == [7])
        #expect(try file.readFloat32("scalar_int").values == [7])
        let scalarFloat = try file.readFloat32("scalar_float")
        #expect(scalarFloat.shape == [] && scalarFloat.values == [2.5])

        #expect(try file.readFloat32("groups/a/b/weights").values == [1, 2, 3])
        #expect(try file.readFloat32("/groups/a/b/blocks.0.attn.qkv.weight").values == [0.5, -0.5, 1.5, -1.5])
        #expect(try file.readInt64("labels").values == [3, -4, 5])  // int32 widened
        #expect(try file.readFloat32("labels").values == [3, -4, 5])

        #expect(try file.attributeNames() == [
            "ascii_vlen", "count", "fixed_nullpad", "fixed_nullterm", "names", "ratio", "small", "title", "unicode",
        ])
        #expect(try file.stringAttribute("title") == "h5py interop fixture")
        #expect(try file.stringAttribute("ascii_vlen") == "plain ascii")
        #expect(try file.stringAttribute("unicode") == "héllo ✓")
        #expect(try file.stringAttribute("fixed_nullpad") == "abc")
        #expect(try file.stringAttribute("fixed_nullterm") == "hello")
        #expect(try file.stringArrayAttribute("names") == ["input_1", "conv", "head"])
        #expect(try file.intAttribute("count") == 42)
        #expect(try file.intAttribute("small") == 7)
        #expect(try file.doubleAttribute("ratio") == 0.25)
        #expect(try file.stringAttribute("note", on: "groups/a") == "group attribute")
        expectHDF5Error(["@names", "expected a single string, found 3"]) { _ = try file.stringAttribute("names") }
    }

    /// Writes a file from Swift and, if h5py is importable, reads it back with python3.
    @Test func h5pyReadsFileWrittenBySwift() throws {
        guard let probe = try? runPython(["-c", "import h5py"]), probe.status == 0 else {
            print("note: python3 with h5py is not available; skipping the h5py read-back check")
            return
        }
        try withTempPath { path in
            let file = try HDF5File(path: path, mode: .truncate)
            try file.write("vit/params/blocks.0.attn.qkv.weight", shape: [2, 3], float32: [0.1, -0.2, 0.3, 1e-8, -5, 6.5])
            try file.write("doubles", shape: [2], float64: [0.1, -1e300])
            try file.write("ints", shape: [3], int64: [-(1 << 53) - 1, 0, (1 << 53) + 1])
            try file.write("scalar", shape: [], float32: [2.5])
            try file.write("clips", shape: [4, 2], uint8: [0, 1, 2, 3, 252, 253, 254, 255], chunks: [1, 2], compression: 5)
            try file.createDataset("stream", shape: [3, 2], type: .float32)
            try file.writeRows("stream", start: 1, shape: [2, 2], float32: [1, 2, 3, 4])
            try file.setAttribute("format", "jepa-swift/1 ✓")
            try file.setAttribute("step", 100)
            try file.setAttribute("lr", 3e-4, on: "vit")
            try file.close()

            let script = """
                import h5py, json, sys
                import numpy as np
                out = {"datasets": {}, "attrs": {}}
                def num(v):
                    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(int(v))
                with h5py.File(sys.argv[1], "r") as f:
                    def visit(name, obj):
                        if isinstance(obj, h5py.Dataset):
                            flat = np.asarray(obj[()]).reshape(-1).tolist()
                            out["datasets"][name] = {"dtype": str(obj.dtype), "shape": list(obj.shape),
                                                     "compression": str(obj.compression),
                                                     "values": [num(v) for v in flat]}
                        for key, value in obj.attrs.items():
                            enc = h5py.check_string_dtype(obj.attrs.get_id(key).dtype)
                            kind = "str/%s/%s" % (enc.encoding, enc.length) if enc else str(np.asarray(value).dtype)
                            out["attrs"][name + "@" + key] = [kind, value if isinstance(value, str) else num(value)]
                    visit("", f)
                    f.visititems(visit)
                print(json.dumps(out, sort_keys=True))
                """
            let result = try runPython(["-c", script, path])
            try #require(result.status == 0, "python3 failed: \(result.stderr)")
            let json = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let datasets = try #require(json["datasets"] as? [String: [String: Any]])
            let attrs = try #require(json["attrs"] as? [String: [String]])

            // Values come back as Python repr strings (shortest round-trip digits), parsed here exactly.
            func check(_ name: String, _ dtype: String, _ shape: [Int], _ values: [Double],
                       compression: String = "None", sourceLocation: SourceLocation = #_sourceLocation) {
                guard let entry = datasets[name] else {
                    Issue.record("h5py did not see \(name)", sourceLocation: sourceLocation)
                    return
                }
                #expect(entry["dtype"] as? String == dtype, sourceLocation: sourceLocation)
                #expect(entry["shape"] as? [Int] == shape, sourceLocation: sourceLocation)
                #expect((entry["values"] as? [String])?.compactMap(Double.init) == values, sourceLocation: sourceLocation)
                #expect(entry["compression"] as? String == compression, sourceLocation: sourceLocation)
            }
            #expect(datasets.keys.sorted() == ["clips", "doubles", "ints", "scalar", "stream", "vit/params/blocks.0.attn.qkv.weight"])
            check("vit/params/blocks.0.attn.qkv.weight", "float32", [2, 3], [Float(0.1), -0.2, 0.3, 1e-8, -5, 6.5].map(Double.init))
            check("doubles", "float64", [2], [0.1, -1e300])
            check("scalar", "float32", [], [2.5])
            check("clips", "uint8", [4, 2], [0, 1, 2, 3, 252, 253, 254, 255], compression: "gzip")
            check("stream", "float32", [3, 2], [0, 0, 1, 2, 3, 4])
            #expect(datasets["ints"]?["dtype"] as? String == "int64")
            #expect((datasets["ints"]?["values"] as? [String])?.compactMap { Int64($0) } == [-(1 << 53) - 1, 0, (1 << 53) + 1])
            #expect(attrs["@format"] == ["str/utf-8/None", "jepa-swift/1 ✓"])  // vlen UTF-8, as h5py writes str
            #expect(attrs["@step"] == ["int64", "100"])
            #expect(attrs["vit@lr"] == ["float64", "0.0003"])
        }
    }
}

/// Runs `python3 ARGS`; throws only if the process cannot be started.
private func runPython(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
