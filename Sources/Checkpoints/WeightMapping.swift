// Mapping a weight file's tensors onto our modules: by name for PyTorch and our own files (with
// the timm / I-JEPA / V-JEPA renames), by layer order and kind for Keras, with every shape checked.
// The rules are documented in docs/foreign-weights.md.
import NN
import Tensors

/// How each tensor of a weight file maps onto a world model's modules, and what does not fit.
public struct WeightMapping {
    /// One tensor of the file: where it goes (`group/key`), or why it goes nowhere.
    public struct Row: Sendable {
        public var source: String
        public var shape: [Int]
        public var storedType: String
        public var target: String?
        public var note: String
    }

    public private(set) var rows: [Row] = []
    /// Values ready to load: module group → parameter key → tensor (already in our layout).
    public private(set) var values: [String: [String: Tensor]] = [:]
    /// Our parameters (`group/key`) the file does not provide.
    public private(set) var missing: [String] = []
    /// File tensors with nowhere to go (`source: reason`).
    public private(set) var unexpected: [String] = []
    /// File tensors whose shape does not fit (`source → group/key: expected …, found …`).
    public private(set) var mismatched: [String] = []
    /// What was filled in without coming from the file directly (e.g. a target encoder copied from the encoder).
    public private(set) var notes: [String] = []
    /// Our keys (`group/key`) the file has with the wrong shape: listed as mismatched, not also as missing.
    var misshapen = Set<String>()

    /// Prefix rules for PyTorch and jepa-swift files, tried longest source prefix first. An empty
    /// source prefix matches every key (a plain ViT state dict is an encoder).
    public static let defaultRenames: [(from: String, to: String)] = [
        ("encoder", "context_encoder"), ("context_encoder", "context_encoder"), ("target_encoder", "target_encoder"),
        ("predictor", "predictor"), ("inverse_dynamics", "inverse_dynamics"), ("", "context_encoder"),
    ]

    public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    /// Every problem, one line each (empty when the mapping is complete).
    public var problems: [String] {
        missing.map { "missing key \($0)" } + unexpected.map { "unexpected key \($0)" } + mismatched.map { "shape mismatch \($0)" }
    }

    /// Maps `file` onto `modules` (group name → module).
    /// - Parameters:
    ///   - renames: PyTorch / jepa files: source prefix → `group[.key prefix]`; nil = `defaultRenames`.
    ///   - kerasTarget: Keras files: the `group[.key prefix]` whose layers receive the file's layers.
    public init(_ file: WeightFile, onto modules: [String: Module], renames: [(from: String, to: String)]? = nil,
                kerasTarget: String = "context_encoder") {
        switch file.format {
        case .jepa, .torch: mapByName(file, modules, renames ?? (file.format == .jepa ? Self.identity(modules) : Self.defaultRenames))
        case .keras3, .kerasLegacy: mapKeras(file, modules, target: kerasTarget)
        }
    }

    static func identity(_ modules: [String: Module]) -> [(from: String, to: String)] {
        modules.keys.map { ($0, $0) }
    }

    // MARK: - By name (PyTorch, jepa-swift)

    mutating func mapByName(_ file: WeightFile, _ modules: [String: Module], _ renames: [(from: String, to: String)]) {
        let ordered = renames.sorted { $0.from.count > $1.from.count }
        // source entry → (group, key) after the prefix rules
        var byGroup: [String: [(entry: WeightEntry, key: String)]] = [:]
        for entry in file.entries {
            guard let rule = ordered.first(where: { $0.from.isEmpty || entry.name == $0.from || entry.name.hasPrefix($0.from + ".") }) else {
                reject(entry, "no rename rule matches")
                continue
            }
            let rest = rule.from.isEmpty ? entry.name : String(entry.name.dropFirst(rule.from.count).drop { $0 == "." })
            let destination = rule.to.split(separator: ".", maxSplits: 1).map(String.init)
            let group = destination[0]
            let key = destination.count > 1 ? (rest.isEmpty ? destination[1] : "\(destination[1]).\(rest)") : String(rest)
            guard modules[group] != nil else {
                reject(entry, "this model has no module '\(group)' (it has: \(modules.keys.sorted().joined(separator: ", ")))")
                continue
            }
            byGroup[group, default: []].append((entry, key))
        }
        for group in modules.keys.sorted() {
            mapGroup(group, modules[group]!, byGroup[group] ?? [])
        }
        // An encoder-only file (timm ViT, a released target encoder) initialises both encoders.
        for (empty, full) in [("target_encoder", "context_encoder"), ("context_encoder", "target_encoder")]
        where modules[empty] != nil && modules[full] != nil && byGroup[empty] == nil && byGroup[full] != nil
            && Self.sameShapes(modules[empty]!, modules[full]!) {
            values[empty] = values[full]
            missing.removeAll { $0.hasPrefix(empty + "/") }
            notes.append("\(empty) is not in the file: copied from \(full)")
        }
    }

    mutating func mapGroup(_ group: String, _ module: Module, _ sources: [(entry: WeightEntry, key: String)]) {
        let own = Dictionary(module.namedParameters().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let fixed = module.namedFixedTensors()
        var provided: [String: Tensor] = [:]
        var pending = sources
        // Split q/k/v projections (some timm and Hugging Face ViTs) fuse into our packed qkv.
        var split: [String: [String: (WeightEntry, String)]] = [:]
        pending.removeAll { item in
            guard let (fused, part) = Self.splitProjection(item.key), own[fused] != nil else { return false }
            split[fused, default: [:]][part] = (item.entry, item.key)
            return true
        }
        for fused in split.keys.sorted() {
            let parts = split[fused]!
            guard let q = parts["q"], let k = parts["k"], let v = parts["v"] else {
                for (entry, _) in parts.values { reject(entry, "q/k/v projection without its siblings (need all three for \(group)/\(fused))") }
                continue
            }
            let tensor = concat([q.0.tensor, k.0.tensor, v.0.tensor], axis: 0)
            for (entry, _) in [q, k, v] {
                accept(entry, group: group, key: fused, tensor: tensor, expected: own[fused]!, note: "q, k, v fused into qkv", into: &provided)
            }
        }
        for (entry, rawKey) in pending {
            var key = rawKey
            var note = ""
            if own[key] == nil, key == "mask_tokens.0", own["mask_token"] != nil {
                key = "mask_token"; note = "V-JEPA mask_tokens.0"
            }
            if let expected = own[key] {
                accept(entry, group: group, key: key, tensor: entry.tensor, expected: expected, note: note, into: &provided)
            } else if let table = fixed[key] {
                let difference = Self.maxDifference(entry.tensor, table)
                // Compared at the stored precision: a bfloat16 copy of the table is still the table.
                let tolerance: Float = entry.storedType == "bfloat16" ? 8e-3 : entry.storedType == "float16" ? 1e-3 : 1e-4
                if let difference, difference <= tolerance * max(1, table.scalars.map(abs).max() ?? 1) {
                    rows.append(Row(source: entry.name, shape: entry.tensor.shape, storedType: entry.storedType, target: "\(group)/\(key)",
                                    note: "fixed sin-cos table, equal to ours (max |diff| \(difference)); not loaded"))
                } else {
                    reject(entry, difference.map { "differs from this model's fixed sin-cos table (max |diff| \($0)); the model has no learned \(key)" }
                           ?? "shape \(entry.tensor.shape) differs from this model's fixed table \(table.shape)")
                }
            } else {
                reject(entry, "this model's \(group) has no parameter '\(key)'")
            }
        }
        values[group] = provided
        missing += own.keys.filter { provided[$0] == nil && !misshapen.contains("\(group)/\($0)") }.sorted().map { "\(group)/\($0)" }
    }

    /// `blocks.0.attn.q.weight` / `blocks.0.attn.q_proj.weight` → (`blocks.0.attn.qkv.weight`, "q").
    static func splitProjection(_ key: String) -> (String, String)? {
        let parts = key.split(separator: ".").map(String.init)
        guard parts.count >= 3, parts[parts.count - 3] == "attn" else { return nil }
        let name = parts[parts.count - 2]
        let letter = name.hasSuffix("_proj") ? String(name.dropLast(5)) : name
        guard ["q", "k", "v"].contains(letter) else { return nil }
        return ((parts.dropLast(2) + ["qkv", parts.last!]).joined(separator: "."), letter)
    }

    mutating func accept(_ entry: WeightEntry, group: String, key: String, tensor: Tensor, expected: Tensor,
                         note: String, into provided: inout [String: Tensor]) {
        var value = tensor, note = note
        if value.shape != expected.shape, value.count == expected.count,
           value.shape.filter({ $0 != 1 }) == expected.shape.filter({ $0 != 1 }) {
            value = value.reshaped(expected.shape)   // e.g. a 2-D patch conv as a tubelet-1 3-D one, pos_embed [N, D] as [1, N, D]
            note += (note.isEmpty ? "" : "; ") + "reshaped \(tensor.shape) → \(expected.shape)"
        }
        guard value.shape == expected.shape else {
            misshapen.insert("\(group)/\(key)")
            mismatched.append("\(entry.name) → \(group)/\(key): expected \(expected.shape), found \(tensor.shape)")
            rows.append(Row(source: entry.name, shape: entry.tensor.shape, storedType: entry.storedType, target: nil,
                            note: "shape mismatch: \(group)/\(key) is \(expected.shape)"))
            return
        }
        provided[key] = value
        rows.append(Row(source: entry.name, shape: entry.tensor.shape, storedType: entry.storedType,
                        target: "\(group)/\(key)", note: note))
    }

    mutating func reject(_ entry: WeightEntry, _ reason: String) {
        unexpected.append("\(entry.name): \(reason)")
        rows.append(Row(source: entry.name, shape: entry.tensor.shape, storedType: entry.storedType, target: nil, note: reason))
    }

    static func maxDifference(_ a: Tensor, _ b: Tensor) -> Float? {
        guard a.count == b.count else { return nil }
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func sameShapes(_ a: Module, _ b: Module) -> Bool {
        let x = a.namedParameters(), y = b.namedParameters()
        return x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.tensor.shape == $1.tensor.shape }
    }

    // MARK: - Keras (by layer order within each kind)

    /// Our layers under `target` (`group[.prefix]`): parameters grouped by owning module, classified
    /// by shape as dense (2-D weight), conv2d (4-D weight) or norm (1-D weight and bias).
    mutating func mapKeras(_ file: WeightFile, _ modules: [String: Module], target: String) {
        let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
        guard let group = parts.first, let module = modules[group] else {
            for entry in file.entries { reject(entry, "this model has no module '\(target)'") }
            return
        }
        let prefix = parts.count > 1 ? parts[1] + "." : ""
        let own = module.namedParameters().filter { $0.name.hasPrefix(prefix) }
        var ourLayers: [(owner: String, kind: String, params: [String: Tensor])] = []
        for (name, tensor) in own {
            let owner = name.split(separator: ".").dropLast().joined(separator: ".")
            let leaf = String(name.split(separator: ".").last!)
            if ourLayers.last?.owner != owner { ourLayers.append((owner, "", [:])) }
            ourLayers[ourLayers.count - 1].params[leaf] = tensor
            let weight = ourLayers[ourLayers.count - 1].params["weight"]
            ourLayers[ourLayers.count - 1].kind = weight?.rank == 2 ? "dense" : weight?.rank == 4 ? "conv2d" : weight?.rank == 1 ? "norm" : "other"
        }
        var theirLayers: [(name: String, kind: String, entries: [WeightEntry])] = []
        for entry in file.entries {
            let layer = entry.name.split(separator: ".").dropLast().joined(separator: ".")
            if theirLayers.last?.name != layer { theirLayers.append((layer, "", [])) }
            theirLayers[theirLayers.count - 1].entries.append(entry)
        }
        for i in theirLayers.indices {
            let layer = theirLayers[i]
            let kernel = layer.entries.first { $0.name.hasSuffix(".kernel") }
            switch layer.entries.first?.layerKind {
            case "layer_normalization": theirLayers[i].kind = "norm"
            case "dense", "conv2d": theirLayers[i].kind = layer.entries.first!.layerKind!
            default: theirLayers[i].kind = kernel?.tensor.rank == 2 ? "dense" : kernel?.tensor.rank == 4 ? "conv2d" : "unsupported"
            }
        }
        var used = Set<String>()
        for kind in ["dense", "conv2d", "norm"] {
            let ours = ourLayers.filter { $0.kind == kind }, theirs = theirLayers.filter { $0.kind == kind }
            for (index, layer) in theirs.enumerated() {
                guard index < ours.count else {
                    for entry in layer.entries { reject(entry, "the file has \(theirs.count) \(kind) layers, \(target) has \(ours.count)") }
                    continue
                }
                let mine = ours[index]
                let ownerPrefix = mine.owner.isEmpty ? "" : mine.owner + "."
                var provided = values[group] ?? [:]
                for entry in layer.entries {
                    let variable = String(entry.name.split(separator: ".").last!)
                    let (ourName, converted, note): (String, Tensor, String) = switch (kind, variable) {
                    case ("dense", "kernel"): ("weight", entry.tensor.rank == 2 ? entry.tensor.transposed() : entry.tensor, "kernel [in, out] → weight [out, in]")
                    case ("conv2d", "kernel"): ("weight", entry.tensor.rank == 4 ? entry.tensor.permuted([3, 2, 0, 1]) : entry.tensor, "kernel HWIO → weight OIHW")
                    case ("norm", "gamma"): ("weight", entry.tensor, "")
                    case ("norm", "beta"), (_, "bias"): ("bias", entry.tensor, "")
                    default: ("", entry.tensor, "")
                    }
                    guard let expected = mine.params[ourName] else {
                        reject(entry, "no counterpart for Keras variable '\(variable)' in \(group)/\(mine.owner)")
                        continue
                    }
                    used.insert(ownerPrefix + ourName)
                    accept(entry, group: group, key: ownerPrefix + ourName, tensor: converted, expected: expected, note: note, into: &provided)
                }
                values[group] = provided
            }
        }
        for layer in theirLayers where layer.kind == "unsupported" {
            for entry in layer.entries { reject(entry, "layer kind '\(entry.layerKind ?? "?")' is not supported (Dense, Conv2D and LayerNormalization are)") }
        }
        missing += own.map(\.name).filter { !used.contains($0) && !misshapen.contains("\(group)/\($0)") }.map { "\(group)/\($0)" }
    }

    // MARK: - Loading

    /// Loads the mapped values into `modules`. Strict (the default) refuses any missing, unexpected
    /// or mis-shaped key, listing them all; otherwise what matches is loaded and the problems are
    /// returned. Nothing is modified when it throws.
    @discardableResult
    public func load(into modules: [String: Module], strict: Bool, path: String) throws -> [String] {
        if strict && !isComplete {
            throw CheckpointError(.mismatch, path: path, "cannot load \(path) (strict):\n  " + problems.joined(separator: "\n  ")
                                  + "\n  (--no-strict loads what matches)")
        }
        for (group, source) in values {
            guard let module = modules[group] else { continue }
            do {
                try module.load(source, strict: false)
            } catch {
                throw CheckpointError(.mismatch, path: path, "cannot load \(path) into \(group): \(error)")
            }
        }
        return problems
    }
}
