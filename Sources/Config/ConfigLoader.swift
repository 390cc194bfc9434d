import Foundation
import Yams

/// Loads YAML run configurations into `Codable` structs, strictly.
///
/// - Command-line overrides `key.path=value` (from `--set optim.lr=3e-4`) are applied to the YAML
///   tree before decoding; the value is YAML (`3e-4`, `true`, `[2, 4]`, `{a: 1}`, `"text"`).
/// - Unknown keys (in the file or in an override), wrong types, missing required keys and failed
///   `ValidatableConfig.validate()` checks throw a `ConfigError` naming the file, the dotted key
///   and, where known, the line.
/// - Keys are snake_case in YAML (`weight_decay`), mapped with `CodingKeys`.
///
/// Config structs give every field a default, so a file states only what it changes. The pattern:
///
/// ```swift
/// struct OptimConfig: Codable, Equatable, Sendable {
///     var lr = 1e-4
///     var weightDecay = 0.04
///     var betas = [0.9, 0.999]
///
///     enum CodingKeys: String, CodingKey { case lr, weightDecay = "weight_decay", betas }
///
///     init() {}
///     init(from decoder: Decoder) throws {
///         let c = try decoder.container(keyedBy: CodingKeys.self)
///         let d = Self()                                   // the defaults, stated once above
///         lr = try c.decode(.lr, default: d.lr)            // missing (or null) key -> default
///         weightDecay = try c.decode(.weightDecay, default: d.weightDecay)
///         betas = try c.decode(.betas, default: d.betas)
///     }
///     // encode(to:) is synthesized and uses the same snake_case keys.
/// }
/// ```
/// A field without a default uses `c.decode(T.self, forKey:)` and is then required.
/// `Optional` fields with `nil` values are left out of `resolvedYAML`; writing `key: null` for
/// them is accepted.
///
/// Unknown keys are found by encoding the decoded value again and looking for every input key in
/// that tree, so `encode(to:)` must write every field under the key `init(from:)` reads (the
/// synthesized one does). Limitation: a key whose value is `null` is not checked (it may be a
/// `nil` Optional, which the encoder leaves out).
public enum ConfigLoader {
    /// Decodes `type` from `yaml` after applying `overrides`; `file` names the source in errors
    /// (use `"<embedded default>"` for a YAML string compiled into the binary).
    public static func load<T: Codable>(_ type: T.Type, yaml: String, file: String?,
                                        overrides: [String] = []) throws -> T {
        var root = try parse(yaml, file: file) ?? Node([(Node, Node)]())
        let parsed = try overrides.map(parseOverride)
        for (override, (key, value)) in zip(overrides, parsed) {
            do {
                try set(value, at: key, in: &root)
            } catch var error as ConfigError {
                error.file = file
                error.message += " (override \"\(override)\")"
                throw error
            }
        }
        func located(_ error: ConfigError) -> ConfigError {
            var error = error
            error.file = file
            if let key = error.key {
                let errorNode = try? node(at: key, in: root)
                let createdByOverride = errorNode?.mark == nil
                if let override = Array(zip(overrides, parsed)).last(where: { text, parsed in
                    key == parsed.key || key.hasPrefix(parsed.key + ".")        // inside the overridden value
                        || (createdByOverride && parsed.key.hasPrefix(key + "."))  // a level it created
                })?.0 {
                    error.message += " (override \"\(override)\")"
                    error.line = nil
                } else if error.line == nil, let found = errorNode {
                    error.line = found.mark?.line
                }
            }
            return error
        }

        let value: T
        do {
            value = try YAMLDecoder().decode(T.self, from: root)
        } catch let error as DecodingError {
            throw located(ConfigError(decodingError: error, root: root))
        } catch let error as YamlError {
            throw ConfigError(yamlError: error, file: file)
        } catch let error as ConfigError {                 // thrown by a custom init(from:)
            throw located(error)
        }

        let encoded = try parse(try YAMLEncoder().encode(value), file: nil) ?? Node([(Node, Node)]())
        let unknown = unknownKeys(in: root, known: encoded, path: [])
        if let first = unknown.first {
            var message = "unknown key"
            if let hint = unknownKeyHint(first, encoded: encoded) { message += "; " + hint }
            if unknown.count > 1 {
                message += " (also unknown: \(unknown.dropFirst().map { $0.joined(separator: ".") }.joined(separator: ", ")))"
            }
            throw located(ConfigError(key: first.joined(separator: "."), message))
        }

        if let validatable = value as? any ValidatableConfig {
            do {
                try validatable.validate()
            } catch let error as ConfigError {
                throw located(error)
            } catch {
                throw ConfigError(file: file, "\(error)")
            }
        }
        return value
    }

    /// Reads the YAML file at `path` and decodes it as `load(_:yaml:file:overrides:)` does.
    public static func loadFile<T: Codable>(_ type: T.Type, path: String, overrides: [String] = []) throws -> T {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, "cannot read the file (\(error.localizedDescription))")
        }
        return try load(type, yaml: yaml, file: path, overrides: overrides)
    }

    /// The configuration as YAML with sorted keys (stable from run to run): saved beside runs and
    /// inside checkpoints. Loading it back gives an equal value.
    public static func resolvedYAML<T: Encodable>(_ value: T) throws -> String {
        // Yams writes doubles with 15 significant digits (0.30000000000000004 becomes 0.3), so
        // encode with JSONEncoder (shortest exact form) and re-emit that tree as block YAML.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: ".inf", negativeInfinity: "-.inf", nan: ".nan")
        let json = String(decoding: try encoder.encode(value), as: UTF8.self)
        guard let tree = try parse(json, file: nil) else { return "" }
        return try Yams.serialize(node: yamlStyled(tree), width: -1, allowUnicode: true, sortKeys: true)
    }

    /// Block mappings, flow lists of scalars, plain scalars unless a string needs quotes to stay one.
    static func yamlStyled(_ node: Node) -> Node {
        switch node {
        case .mapping(let mapping):
            return Node(mapping.map { (yamlStyled($0.key), yamlStyled($0.value)) }, mapping.tag, .block)
        case .sequence(let sequence):
            let scalars = sequence.allSatisfy { $0.scalar != nil }
            return Node(sequence.map(yamlStyled), sequence.tag, scalars && !sequence.isEmpty ? .flow : .block)
        case .scalar(let scalar) where scalar.style != .plain:
            let plain = Node(scalar.string)
            let staysString = plain.null == nil && plain.bool == nil && plain.int == nil && plain.float == nil
                && !scalar.string.isEmpty
            return Node(scalar.string, scalar.tag, staysString ? .any : .singleQuoted)
        default:
            return node
        }
    }

    /// Splits `key.path=value` into its dotted key and parsed YAML value.
    public static func parseOverride(_ override: String) throws -> (key: String, value: Node) {
        guard let equals = override.firstIndex(of: "=") else {
            throw ConfigError("invalid override \"\(override)\": expected key.path=value")
        }
        let key = override[..<equals].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty else {
            throw ConfigError("invalid override \"\(override)\": the key is empty")
        }
        do {
            _ = try pathComponents(key)
            let value = try parseValue(String(override[override.index(after: equals)...]), key: key)
            return (key, value)
        } catch var error as ConfigError {
            error.message = "invalid override \"\(override)\": \(error.message)"
            throw error
        }
    }

    // MARK: - Internals

    /// Keys of `input` with no counterpart in `known` (the decoded value encoded again).
    static func unknownKeys(in input: Node, known: Node, path: [String]) -> [[String]] {
        switch (input, known) {
        case let (.mapping(inputMapping), .mapping(knownMapping)):
            var result: [[String]] = []
            for (key, value) in inputMapping {
                let name = key.scalar?.string ?? "\(key)"
                if let knownValue = knownMapping[name] {
                    result += unknownKeys(in: value, known: knownValue, path: path + [name])
                } else if value.null == nil {   // `key: null` for a nil Optional
                    result.append(path + [name])
                }
            }
            return result
        case let (.sequence(inputSequence), .sequence(knownSequence)):
            return zip(inputSequence, knownSequence).enumerated().flatMap { index, pair in
                unknownKeys(in: pair.0, known: pair.1, path: path + ["\(index)"])
            }
        default:
            return []
        }
    }

    /// "did you mean" for a near miss (camelCase for snake_case), else the known keys.
    static func unknownKeyHint(_ path: [String], encoded: Node) -> String? {
        guard case .mapping(let mapping)? = node(at: path.dropLast(), in: encoded) else { return nil }
        let names = mapping.keys.compactMap { $0.scalar?.string }.sorted()
        guard !names.isEmpty else { return nil }
        func squash(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" } }
        if let last = path.last, let match = names.first(where: { squash($0) == squash(last) }) {
            return "did you mean \(match)?"
        }
        return "known keys: " + names.joined(separator: ", ")
    }
}

extension ConfigError {
    /// Turns a `DecodingError` into an error naming the dotted key, the expected type and what
    /// the YAML holds there.
    init(decodingError error: DecodingError, root: Node) {
        func dotted(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        func found(_ path: [CodingKey]) -> String? {
            guard let node = ConfigLoader.node(at: path.map { $0.intValue.map(String.init) ?? $0.stringValue }[...],
                                               in: root) else { return nil }
            switch node {
            case .scalar(let scalar):
                if node.null != nil { return "null" }
                if scalar.style == .plain || scalar.style == .any,
                   node.int != nil || node.float != nil || node.bool != nil {
                    return scalar.string
                }
                return "\"\(scalar.string)\""
            case .mapping: return "a mapping"
            case .sequence(let sequence): return "a list of \(sequence.count)"
            case .alias: return "an alias"
            }
        }
        switch error {
        case let .typeMismatch(type, context):
            let what = found(context.codingPath).map { ", found \($0)" } ?? ""
            self.init(key: dotted(context.codingPath), "expected \(ConfigError.describe(type))\(what)")
        case let .valueNotFound(type, context):
            self.init(key: dotted(context.codingPath), "expected \(ConfigError.describe(type)), found null")
        case let .keyNotFound(key, context):
            self.init(key: dotted(context.codingPath + [key]), "missing required key")
        case let .dataCorrupted(context):
            var message = "invalid value" + (found(context.codingPath).map { " \($0)" } ?? "")
            if !context.debugDescription.hasPrefix("Cannot initialize") { message += ": " + context.debugDescription }
            self.init(key: dotted(context.codingPath), message)
        @unknown default:
            self.init("\(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
             is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type:
            return "an integer"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is Node.Mapping.Type: return "a mapping"
        case is Node.Sequence.Type: return "a list"
        case is Node.Scalar.Type: return "a single value"
        default: return "\(type)"
        }
    }
}
