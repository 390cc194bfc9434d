import Tensors

/// Base class of every layer and model.
///
/// Parameters are found by reflection (`Mirror`, including superclass mirrors) over stored
/// properties, in declaration order (superclass properties first):
/// - a `Tensor` (or non-nil `Tensor?`) property is a parameter;
/// - a `Module` (or non-nil `Module?`) property is a child module;
/// - an array of modules (`[Module]`, `[TransformerBlock]`, …) is an indexed child list
///   (`blocks.0`, `blocks.1`, …); an array of tensors is an indexed parameter list;
/// - everything else is ignored, including labels starting with `_` or `$` (property-wrapper
///   and lazy storage) and non-trainable tensors wrapped in `Constant`.
///
/// A property label becomes a key by camelCase → snake_case (`posEmbed` → `pos_embed`,
/// `weightIh` → `weight_ih`, `fc1` → `fc1`); a subclass can override individual keys with
/// `keyOverrides`. Keys are joined with dots, PyTorch `state_dict` style:
/// `blocks.0.attn.qkv.weight`.
///
/// Reflection runs on every call of `namedParameters()` / `parameters()`: cache the list in hot
/// loops (an optimiser keeps its own). Store back-references to a parent only under a `_` label
/// (the walk would otherwise recurse forever). Dictionaries of modules are not traversed.
///
/// Modules are reference types and not `Sendable`: a model belongs to one task at a time.
open class Module {
    /// Training mode (dropout active). Set for a whole tree with `train()` / `eval()`.
    public var isTraining: Bool = true

    public init() {}

    /// Per-class key overrides, property label → key (applied instead of snake_casing).
    open class var keyOverrides: [String: String] { [:] }

    // MARK: Traversal

    /// Walks parameters and child modules below this module in declaration order.
    /// `parameter` receives each parameter's full key; `module` each child module's full key.
    private func visit(prefix: String,
                       parameter: (String, Tensor) -> Void,
                       module: (String, Module) -> Void) {
        let overrides = type(of: self).keyOverrides
        func key(_ label: String) -> String { prefix + (overrides[label] ?? snakeCased(label)) }

        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let current = m {
            mirrors.append(current)
            m = current.superclassMirror
        }
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard let label = child.label, !label.hasPrefix("_"), !label.hasPrefix("$") else { continue }
                let value = child.value
                if let t = value as? Tensor {
                    parameter(key(label), t)
                } else if let sub = value as? Module {
                    let k = key(label)
                    module(k, sub)
                    sub.visit(prefix: k + ".", parameter: parameter, module: module)
                } else if let list = value as? [Module] {
                    for (i, sub) in list.enumerated() {
                        let k = key(label) + ".\(i)"
                        module(k, sub)
                        sub.visit(prefix: k + ".", parameter: parameter, module: module)
                    }
                } else if let list = value as? [Tensor] {
                    for (i, t) in list.enumerated() { parameter(key(label) + ".\(i)", t) }
                }
            }
        }
    }

    /// Every parameter with its dotted key, in declaration order (deterministic).
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        visit(prefix: "", parameter: { out.append((name: $0, tensor: $1)) }, module: { _, _ in })
        return out
    }

    /// Parameters as a dictionary keyed by dotted name (a PyTorch-style state dict).
    public func parameterDictionary() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in namedParameters() {
            precondition(out[name] == nil, "Module: duplicate parameter key '\(name)'")
            out[name] = t
        }
        return out
    }

    /// Every parameter once (a tensor reachable under two names is listed once), in declaration order.
    public func parameters() -> [Tensor] {
        var seen = Set<ObjectIdentifier>()
        return namedParameters().map(\.tensor).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    /// Number of scalar parameters (each distinct tensor counted once).
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Every descendant module with its dotted key (this module itself excluded), in declaration order.
    public func namedModules() -> [(name: String, module: Module)] {
        var out: [(name: String, module: Module)] = []
        visit(prefix: "", parameter: { _, _ in }, module: { out.append((name: $0, module: $1)) })
        return out
    }

    // MARK: Gradients and mode

    /// Sets `requiresGrad` on every parameter (`false` freezes the module, e.g. an EMA target encoder).
    public func setRequiresGrad(_ flag: Bool) {
        for p in parameters() { p.requiresGrad = flag }
    }

    /// Clears the accumulated gradient of every parameter.
    public func zeroGrad() {
        for p in parameters() { p.grad = nil }
    }

    /// Puts this module and all descendants in training mode.
    public func train() { setTraining(true) }

    /// Puts this module and all descendants in evaluation mode.
    public func eval() { setTraining(false) }

    private func setTraining(_ flag: Bool) {
        isTraining = flag
        for (_, m) in namedModules() { m.isTraining = flag }
    }

    // MARK: Loading

    /// Copies values into the parameters, matching by name (never by order). Values are copied
    /// into the existing tensors, so references held elsewhere (optimisers) stay valid.
    ///
    /// With `strict`, missing and unexpected keys are errors; shape mismatches always are.
    /// On error nothing is modified. The error lists every problem, each naming its key.
    public func load(_ params: [String: Tensor], strict: Bool = true) throws {
        let own = namedParameters()
        var problems = LoadError(missing: [], unexpected: [], shapeMismatches: [])
        var ownNames = Set<String>()
        for (name, t) in own {
            ownNames.insert(name)
            guard let source = params[name] else {
                problems.missing.append(name)
                continue
            }
            if source.shape != t.shape {
                problems.shapeMismatches.append(.init(key: name, expected: t.shape, found: source.shape))
            }
        }
        problems.unexpected = params.keys.filter { !ownNames.contains($0) }.sorted()
        let failed = !problems.shapeMismatches.isEmpty
            || (strict && (!problems.missing.isEmpty || !problems.unexpected.isEmpty))
        if failed { throw problems }
        for (name, t) in own {
            if let source = params[name], source !== t { t.assign(source) }
        }
    }

    /// Copies every parameter value from `other`, which must have the same names and shapes
    /// (e.g. initialising an EMA target encoder from the context encoder).
    public func copyParameters(from other: Module) throws {
        try load(other.parameterDictionary(), strict: true)
    }
}

/// Why `Module.load` refused a parameter set. Every key is listed.
public struct LoadError: Error, CustomStringConvertible, Sendable {
    public struct ShapeMismatch: Sendable, Equatable {
        public let key: String
        public let expected: [Int]
        public let found: [Int]
    }

    /// Keys the module has but the source lacks.
    public var missing: [String]
    /// Keys the source has but the module lacks.
    public var unexpected: [String]
    public var shapeMismatches: [ShapeMismatch]

    public var description: String {
        var lines = ["cannot load parameters:"]
        if !missing.isEmpty { lines.append("  missing keys: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("  unexpected keys: " + unexpected.joined(separator: ", ")) }
        for s in shapeMismatches {
            lines.append("  shape mismatch for \(s.key): expected \(s.expected), found \(s.found)")
        }
        return lines.joined(separator: "\n")
    }
}

/// A tensor that belongs to a module but is not a parameter (a fixed sin-cos position table,
/// a running statistic): reflection does not look inside this wrapper, so it is neither listed,
/// trained, nor loaded.
public struct Constant {
    public let value: Tensor
    public init(_ value: Tensor) { self.value = value }
}

/// camelCase → snake_case: `posEmbed` → `pos_embed`, `weightIh` → `weight_ih`,
/// `weightIH` → `weight_ih`, `fc1` → `fc1`, `norm1` → `norm1`.
func snakeCased(_ s: String) -> String {
    let chars = Array(s)
    var out = ""
    for (i, c) in chars.enumerated() {
        if c.isUppercase {
            let prev: Character? = i > 0 ? chars[i - 1] : nil
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            let startsWord = prev.map { $0.isLowercase || $0.isNumber } ?? false
            let endsAcronym = (prev?.isUppercase ?? false) && (next?.isLowercase ?? false)
            if startsWord || endsAcronym { out.append("_") }
            out.append(contentsOf: c.lowercased())
        } else {
            out.append(c)
        }
    }
    return out
}
