import Foundation
import Yams

/// Dotted paths into a YAML tree: `optim.lr`, `model.widths.2` (a list element by index).
/// Used by command-line overrides and by sweeps.
extension ConfigLoader {
    /// Splits a dotted path into its components; empty components are an error.
    public static func pathComponents(_ path: String) throws -> [String] {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.isEmpty || parts.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ConfigError(key: path, "invalid key path (empty component)")
        }
        return parts
    }

    /// The node at `path` in `root`, or nil if there is none.
    public static func node(at path: String, in root: Node) throws -> Node? {
        node(at: try pathComponents(path)[...], in: root)
    }

    static func node(at components: ArraySlice<String>, in root: Node) -> Node? {
        guard let head = components.first else { return root }
        switch root {
        case .mapping(let mapping):
            guard let child = mapping[head] else { return nil }
            return node(at: components.dropFirst(), in: child)
        case .sequence(let sequence):
            guard let index = Int(head), index >= 0, index < sequence.count else { return nil }
            return node(at: components.dropFirst(), in: sequence[index])
        default:
            return nil
        }
    }

    /// The value at `path` in a YAML document: a scalar as written (`3e-4`, `true`, `text`),
    /// a list or mapping as YAML in flow style (`[2, 4]`), or nil if the path does not exist.
    public static func value(at path: String, in yaml: String) throws -> String? {
        guard let root = try parse(yaml, file: nil) else { return nil }
        guard let found = try node(at: path, in: root) else { return nil }
        return try flowText(found)
    }

    /// Sets `value` at `path` in `root`, creating missing mapping levels. A list index may name
    /// an existing element or the position just past the end (appending).
    public static func set(_ value: Node, at path: String, in root: inout Node) throws {
        let components = try pathComponents(path)
        root = try setting(value, at: components[...], in: root, done: [])
    }

    /// Returns `yaml` with the YAML value `valueYAML` (e.g. `3e-4`, `[2, 4]`, `{a: 1}`) set at
    /// `path`, as a YAML document.
    public static func setting(_ path: String, to valueYAML: String, in yaml: String) throws -> String {
        var root = try parse(yaml, file: nil) ?? Node([(Node, Node)]())
        let value = try parseValue(valueYAML, key: path)
        try set(value, at: path, in: &root)
        return try Yams.serialize(node: root)
    }

    static func setting(_ value: Node, at components: ArraySlice<String>, in node: Node?,
                        done: [String]) throws -> Node {
        guard let head = components.first else { return value }
        let rest = components.dropFirst()
        let here = done + [head]
        switch node {
        case .mapping(var mapping)?:
            mapping[head] = try setting(value, at: rest, in: mapping[head], done: here)
            return .mapping(mapping)
        case .sequence(var sequence)?:
            guard let index = Int(head), index >= 0 else {
                throw ConfigError(key: here.joined(separator: "."),
                                  "\(done.joined(separator: ".")) is a list; use an index 0..<\(sequence.count)")
            }
            if index < sequence.count {
                sequence[index] = try setting(value, at: rest, in: sequence[index], done: here)
            } else if index == sequence.count {
                sequence.append(try setting(value, at: rest, in: nil, done: here))
            } else {
                throw ConfigError(key: here.joined(separator: "."),
                                  "index \(index) is out of range (the list has \(sequence.count) elements)")
            }
            return .sequence(sequence)
        case nil:
            return try setting(value, at: components, in: Node([(Node, Node)]()), done: done)
        case let scalar? where scalar.null != nil:
            return try setting(value, at: components, in: Node([(Node, Node)]()), done: done)
        default:
            throw ConfigError(key: here.joined(separator: "."),
                              "cannot set a key inside \(done.joined(separator: ".")), which is a single value")
        }
    }

    /// Parses a YAML document, turning syntax errors into `ConfigError`s with file and line.
    static func parse(_ yaml: String, file: String?) throws -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(yamlError: error, file: file)
        }
    }

    /// Parses an override value as a YAML scalar or flow collection; an empty value is null.
    static func parseValue(_ text: String, key: String) throws -> Node {
        do {
            return try Yams.compose(yaml: text) ?? Node("null", Tag(.null))
        } catch let error as YamlError {
            var e = ConfigError(yamlError: error, file: nil)
            e.key = key
            e.line = nil
            e.message = "invalid value \"\(text)\": \(e.message)"
            throw e
        }
    }

    /// One-line text for a node: a scalar as written, a collection in YAML flow style.
    static func flowText(_ node: Node) throws -> String {
        if case .scalar(let scalar) = node { return scalar.string }
        let text = try Yams.serialize(node: flowStyled(node), width: -1, allowUnicode: true)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    static func flowStyled(_ node: Node) -> Node {
        switch node {
        case .mapping(let mapping):
            return Node(mapping.map { ($0.key, flowStyled($0.value)) }, mapping.tag, .flow)
        case .sequence(let sequence):
            return Node(sequence.map(flowStyled), sequence.tag, .flow)
        default:
            return node
        }
    }
}

extension ConfigError {
    init(yamlError error: YamlError, file: String?) {
        func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> ConfigError {
            var message = "invalid YAML: \(problem) (column \(mark.column))"
            if let context { message += " \(context.text) at line \(context.mark.line)" }
            return ConfigError(file: file, line: mark.line, message)
        }
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            self = located(problem, context, mark)
        case let .duplicatedKeysInMapping(duplicates, context):
            self = ConfigError(file: file, line: context.mark.line,
                               "duplicate key\(duplicates.count == 1 ? "" : "s") \(duplicates.joined(separator: ", "))")
        default:
            self = ConfigError(file: file, "invalid YAML: \(error)")
        }
    }
}
