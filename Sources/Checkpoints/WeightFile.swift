// Reading weight files written by other tools (and our own) into one list of named float32
// tensors: PyTorch state dicts saved to HDF5 (`tools/torch_to_hdf5.py`, flat or nested, one or
// several state dicts), Keras 3 `.weights.h5` and legacy Keras 2 H5 weight files. Mapping the
// names onto our modules is WeightMapping.swift's job; layouts are in docs/foreign-weights.md.
import Foundation
import HDF5
import NN
import Tensors

/// The tools whose HDF5 weight files can be read.
public enum WeightFileFormat: String, Sendable, CaseIterable {
    /// A jepa-swift checkpoint (docs/checkpoint-format.md).
    case jepa
    /// A PyTorch state dict (or a dict of state dicts) written to HDF5 one dataset per key.
    case torch
    /// Keras 3 `model.save_weights("x.weights.h5")`: `layers/<class>[_n]/vars/<i>`.
    case keras3
    /// Legacy Keras H5 (`layer_names` / `weight_names` attributes), from Keras 2 or Keras 3's `.h5`.
    case kerasLegacy = "keras-legacy"
}

/// One float tensor of a weight file.
public struct WeightEntry {
    /// The key the mapping works with: the dotted PyTorch key with DDP/compile prefixes removed
    /// (`encoder.blocks.0.attn.qkv.weight`); for Keras `<layer path>.<variable>` (`dense_1.kernel`).
    public var name: String
    /// Where it is in the file.
    public var path: String
    /// The stored element type ("float32", "float16", "bfloat16", …).
    public var storedType: String
    public var tensor: Tensor
    /// Keras only: the layer's class as the file tells it (`dense`, `conv2d`, `layer_normalization`).
    public var layerKind: String?
}

/// All float tensors of one weight file, and what was left out (with why).
public struct WeightFile {
    public let path: String
    public let format: WeightFileFormat
    public var entries: [WeightEntry]
    /// Datasets that are not weights (integer buffers such as `num_batches_tracked`, strings, optimiser state).
    public var skipped: [(path: String, reason: String)]

    /// Reads `path`. The format is detected unless given; `.keras3` and `.kerasLegacy` are
    /// interchangeable when asked for (the file decides which). Errors are `CheckpointError`s:
    /// missing, not HDF5, truncated, unsupported layout or element type, NaN/Inf weights.
    public static func read(_ path: String, format asked: WeightFileFormat? = nil) throws -> WeightFile {
        let file = try openHDF5(path)
        defer { try? file.close() }
        return try CheckpointIO.corruptOnHDF5Error(path) {
            let detected = try detectFormat(file)
            let format: WeightFileFormat
            switch (asked, detected) {
            case (nil, _): format = detected
            case (.keras3?, .kerasLegacy), (.kerasLegacy?, .keras3): format = detected
            case (let a?, let d) where a == d: format = a
            case (let a?, let d):
                throw CheckpointError(.unsupported, path: path, "\(path) was given as a \(a.rawValue) file but looks like a \(d.rawValue) file (\(describeLayout(d)))")
            }
            var result = WeightFile(path: path, format: format, entries: [], skipped: [])
            switch format {
            case .jepa: try result.readJEPA(file)
            case .torch: try result.readTorch(file)
            case .keras3: try result.readKeras3(file)
            case .kerasLegacy: try result.readKerasLegacy(file)
            }
            for entry in result.entries { try checkFinite(entry.tensor, name: entry.path, path: path) }
            return result
        }
    }

    /// The format of the weight file at `path` (errors as `read`). Our checkpoints are recognised
    /// by their integrity header alone, so the caller's own read checks them once.
    public static func format(of path: String) throws -> WeightFileFormat {
        if Integrity.hasHeader(path) { return .jepa }
        let file = try openHDF5(path)
        defer { try? file.close() }
        return try CheckpointIO.corruptOnHDF5Error(path) { try detectFormat(file) }
    }

    static func describeLayout(_ format: WeightFileFormat) -> String {
        switch format {
        case .jepa: "root attribute format = \(CheckpointIO.formatName)"
        case .torch: "datasets named by state-dict keys"
        case .keras3: "a 'layers' group with <layer>/vars/<i> datasets"
        case .kerasLegacy: "a 'layer_names' attribute"
        }
    }

    static func detectFormat(_ file: HDF5File) throws -> WeightFileFormat {
        let rootAttributes = Set(try file.attributeNames())
        if rootAttributes.contains("format"), (try? file.stringAttribute("format")) == CheckpointIO.formatName { return .jepa }
        if rootAttributes.contains("layer_names") || rootAttributes.contains("layer_names0") { return .kerasLegacy }
        if file.exists("model_weights"), let names = try? file.attributeNames(on: "model_weights"),
           names.contains("layer_names") || names.contains("layer_names0") { return .kerasLegacy }
        if file.exists("layers"), try file.datasetPaths().contains(where: { $0.hasPrefix("layers/") && $0.contains("/vars/") }) {
            return .keras3
        }
        return .torch
    }

    // MARK: - Reading one dataset

    /// Reads a float dataset of any width as float32; bfloat16 (2-byte opaque, as h5py stores
    /// ml_dtypes' bfloat16) is widened. Returns nil with a reason for datasets that are not weights.
    static func readFloat(_ file: HDF5File, _ dataset: String) throws -> (Tensor, String)? {
        let stored = try file.storedType(of: dataset)
        let shape = try file.shape(of: dataset)
        if stored.hasPrefix("float") {
            let values = try file.readFloat32(dataset).values
            let type = stored == "float (2 bytes)" ? "float16" : stored == "float (8 bytes)" ? "float64" : "float32"
            return (values.isEmpty ? Tensor.zeros(shape) : Tensor(values, shape: shape), type)
        }
        if stored == "opaque (2 bytes)" {
            let raw = try file.readOpaque(dataset)
            let values = stride(from: 0, to: raw.bytes.count, by: 2).map { i in
                Float(bitPattern: (UInt32(raw.bytes[i]) | UInt32(raw.bytes[i + 1]) << 8) << 16)
            }
            return (values.isEmpty ? Tensor.zeros(shape) : Tensor(values, shape: shape), "bfloat16")
        }
        return nil
    }

    mutating func add(_ file: HDF5File, dataset: String, name: String, layerKind: String? = nil) throws {
        if let (tensor, type) = try Self.readFloat(file, dataset) {
            entries.append(WeightEntry(name: name, path: dataset, storedType: type, tensor: tensor, layerKind: layerKind))
        } else {
            skipped.append((dataset, "not a float tensor (\(try file.storedType(of: dataset)))"))
        }
    }

    // MARK: - Formats

    mutating func readJEPA(_ file: HDF5File) throws {
        for dataset in try file.datasetPaths() {
            let parts = dataset.split(separator: "/").map(String.init)
            let skip = [CheckpointIO.stateGroup: "training state", CheckpointIO.optimizerGroup: "optimiser state",
                        CheckpointIO.calibrationGroup: "surprise calibration"]
            if let first = parts.first, let why = skip[first] {
                skipped.append((dataset, why))
                continue
            }
            guard parts.count == 2 else {
                throw CheckpointError(.corrupt, path: path, "\(path) has an unexpected dataset '\(dataset)' (expected <group>/<key>)")
            }
            try add(file, dataset: dataset, name: parts.joined(separator: "."))
        }
    }

    /// Group names join with "."; `module.` (DDP) and `_orig_mod.` (torch.compile) components are dropped.
    mutating func readTorch(_ file: HDF5File) throws {
        for dataset in try file.datasetPaths() {
            let components = dataset.split(separator: "/").flatMap { $0.split(separator: ".", omittingEmptySubsequences: false) }
                .map(String.init).filter { $0 != "module" && $0 != "_orig_mod" }
            try add(file, dataset: dataset, name: components.joined(separator: "."))
        }
        if entries.isEmpty {
            throw CheckpointError(.unsupported, path: path, "\(path) holds no float tensors (\(skipped.count) other datasets); not a weight file")
        }
    }

    /// Keras 3: `layers/<name>[/<sublayer>…]/vars/<i>`, variables positional per layer class.
    mutating func readKeras3(_ file: HDF5File) throws {
        var byLayer: [String: [(Int, String)]] = [:]
        for dataset in try file.datasetPaths() {
            guard dataset.hasPrefix("layers/"), let range = dataset.range(of: "/vars/", options: .backwards),
                  let index = Int(dataset[range.upperBound...]) else {
                skipped.append((dataset, dataset.hasPrefix("optimizer/") ? "optimiser state" : "not a layer variable"))
                continue
            }
            let layer = String(dataset[dataset.index(dataset.startIndex, offsetBy: 7)..<range.lowerBound])
            byLayer[layer, default: []].append((index, dataset))
        }
        for layer in byLayer.keys.sorted(by: Self.naturalOrder) {
            let kind = Self.kerasClass(layer.split(separator: "/").last.map(String.init) ?? layer)
            let names = Self.kerasVariableNames[kind] ?? []
            for (index, dataset) in byLayer[layer]!.sorted(by: { $0.0 < $1.0 }) {
                let variable = index < names.count ? names[index] : "vars.\(index)"
                try add(file, dataset: dataset, name: "\(layer.replacingOccurrences(of: "/", with: ".")).\(variable)", layerKind: kind)
            }
        }
    }

    /// Legacy Keras: layers in `layer_names` order, each layer's variables in `weight_names` order.
    mutating func readKerasLegacy(_ file: HDF5File) throws {
        let root = (try file.attributeNames()).contains(where: { $0.hasPrefix("layer_names") }) ? "" : "model_weights/"
        let layers = try Self.splitAttribute(file, "layer_names", on: root.isEmpty ? "/" : root)
        var used = Set<String>()
        for layer in layers {
            let group = root + layer
            guard file.exists(group) else {
                throw CheckpointError(.corrupt, path: path, "\(path): layer '\(layer)' is listed in layer_names but has no group")
            }
            let weights = try Self.splitAttribute(file, "weight_names", on: group)
            let variables = weights.map { w -> String in
                let last = w.split(separator: "/").last.map(String.init) ?? w
                return last.hasSuffix(":0") ? String(last.dropLast(2)) : last
            }
            let kind = Self.legacyKind(variables)
            for (weight, variable) in zip(weights, variables) {
                let dataset = "\(group)/\(weight)"
                guard file.exists(dataset) else {
                    throw CheckpointError(.corrupt, path: path, "\(path): weight '\(weight)' of layer '\(layer)' is listed but missing")
                }
                used.insert(dataset)
                try add(file, dataset: dataset, name: "\(layer).\(variable)", layerKind: kind)
            }
        }
        for dataset in try file.datasetPaths() where !used.contains(dataset) {
            skipped.append((dataset, dataset.hasPrefix("optimizer_weights/") ? "optimiser state" : "not listed in weight_names"))
        }
    }

    /// Keras splits long list attributes into `name0`, `name1`, …
    static func splitAttribute(_ file: HDF5File, _ name: String, on path: String) throws -> [String] {
        let attributes = Set(try file.attributeNames(on: path))
        if attributes.contains(name) { return try file.stringArrayAttribute(name, on: path) }
        var out: [String] = [], chunk = 0
        while attributes.contains("\(name)\(chunk)") {
            out += try file.stringArrayAttribute("\(name)\(chunk)", on: path)
            chunk += 1
        }
        return out
    }

    /// `dense_12` → `dense`; `layer_normalization` stays.
    static func kerasClass(_ name: String) -> String {
        guard let underscore = name.lastIndex(of: "_"), Int(name[name.index(after: underscore)...]) != nil else { return name }
        return String(name[..<underscore])
    }

    static let kerasVariableNames: [String: [String]] = [
        "dense": ["kernel", "bias"], "conv2d": ["kernel", "bias"], "conv1d": ["kernel", "bias"],
        "layer_normalization": ["gamma", "beta"],
        "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"],
    ]

    static func legacyKind(_ variables: [String]) -> String {
        if variables.contains("moving_mean") { return "batch_normalization" }
        if variables.contains("gamma") { return "layer_normalization" }
        return variables.contains("kernel") ? "kernel" : "unknown"
    }

    /// `dense` < `dense_1` < `dense_2` < `dense_10` (Keras numbers layers of a class in creation order).
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        let (ka, na) = split(a), (kb, nb) = split(b)
        return ka != kb ? ka < kb : na < nb
    }

    static func split(_ name: String) -> (String, Int) {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        let base = kerasClass(last)
        let number = base == last ? 0 : Int(last[last.index(last.startIndex, offsetBy: base.count + 1)...]) ?? 0
        return (name.dropLast(last.count) + base, number)
    }
}

/// Opens any HDF5 file read-only with the same errors as checkpoints (missing, not HDF5, truncated).
func openHDF5(_ path: String) throws -> HDF5File {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CheckpointError(.missingFile, path: path, "weight file \(path) does not exist")
    }
    guard !isDirectory.boolValue else { throw CheckpointError(.notHDF5, path: path, "\(path) is a directory, not a weight file") }
    try Integrity.verify(path)
    do {
        return try HDF5File(path: path, mode: .readOnly)
    } catch let error as HDF5Error {
        if error.message.hasPrefix("not an HDF5 file") {
            let hint = path.hasSuffix(".pt") || path.hasSuffix(".pth") || path.hasSuffix(".tar")
                ? " (a PyTorch file: convert it with tools/torch_to_hdf5.py first)" : ""
            throw CheckpointError(.notHDF5, path: path, "\(path) is not an HDF5 file\(hint)")
        }
        if error.message.contains("another process holds it open") {
            throw CheckpointError(.io, path: path, "\(path): \(error.message)")
        }
        throw CheckpointError(.corrupt, path: path, "\(path) is truncated or corrupt (HDF5: \(CheckpointIO.libraryDetail(error.message)))")
    }
}

/// Throws `.nonFinite` naming the tensor if any value is NaN or ±Inf.
func checkFinite(_ tensor: Tensor, name: String, path: String) throws {
    let bad = tensor.scalars.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
    if bad > 0 {
        throw CheckpointError(.nonFinite, path: path, "\(path): '\(name)' has \(bad) non-finite value\(bad == 1 ? "" : "s") (NaN or Inf) of \(tensor.count)")
    }
}
