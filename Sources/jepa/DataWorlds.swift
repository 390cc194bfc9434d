import Foundation
import Worlds

/// The worlds `jepa data` knows, by name. The one place to register a new `WorldGenerator`.
enum WorldRegistry {
    static let names = ["balls", "grasp"]

    /// The world `name` with its default configuration, or with `configJSON` laid over the
    /// defaults (keys left out keep their default values).
    static func makeWorld(name: String, configJSON: String?) throws -> any WorldGenerator {
        do {
            switch name {
            case "balls": return try BallsWorld(config: config(BallsConfig(), overlay: configJSON))
            case "grasp": return try GraspWorld(config: config(GraspConfig(), overlay: configJSON))
            default:
                throw DataCommandError("--world: unknown world '\(name)'; known worlds: \(names.joined(separator: ", "))")
            }
        } catch let error as WorldConfigError {
            throw DataCommandError("--config: \(error)")
        }
    }

    /// Decodes `defaults` with the keys of the JSON object `overlay` replacing its own.
    static func config<C: Codable>(_ defaults: C, overlay: String?) throws -> C {
        guard let overlay else { return defaults }
        let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] ?? [:]
        guard let patch = (try? JSONSerialization.jsonObject(with: Data(overlay.utf8))) as? [String: Any] else {
            throw DataCommandError("--config: the file is not a JSON object")
        }
        let unknown = Set(patch.keys).subtracting(base.keys)
        guard unknown.isEmpty else {
            throw DataCommandError("--config: unknown key(s) \(unknown.sorted().joined(separator: ", ")); known: \(base.keys.sorted().joined(separator: ", "))")
        }
        let merged = base.merging(patch) { _, new in new }
        do {
            return try decode(merged)
        } catch let error as DecodingError {
            // Some decoding errors come without a key path: find the key by trying each alone.
            if case let .dataCorrupted(context) = error, context.codingPath.isEmpty {
                for key in patch.keys.sorted() where (try? decode(base.merging([key: patch[key]!]) { _, new in new }) as C) == nil {
                    throw DataCommandError("--config: \(key): invalid value\(found(key, in: patch)) for this setting")
                }
            }
            throw DataCommandError("--config: " + describe(error, in: patch))
        }
    }

    static func decode<C: Decodable>(_ object: [String: Any]) throws -> C {
        try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: object))
    }

    static func found(_ key: String, in patch: [String: Any]) -> String {
        guard let value = patch[key] else { return "" }
        let text = (try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed))
            .flatMap { String(data: $0, encoding: .utf8) } ?? "\(value)"
        return " \(text)"
    }

    /// "key: expected a number, found "fast"" for a value of the wrong type.
    static func describe(_ error: DecodingError, in patch: [String: Any]) -> String {
        func key(_ path: [CodingKey]) -> String { path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        func expected(_ type: Any.Type) -> String {
            switch type {
            case is Float.Type, is Double.Type: return "a number"
            case is Int.Type, is UInt64.Type: return "an integer"
            case is Bool.Type: return "true or false"
            case is String.Type: return "a string"
            default: return "\(type)"
            }
        }
        func found(_ path: [CodingKey]) -> String {
            guard let first = path.first, patch[first.stringValue] != nil else { return "" }
            return "," + Self.found(first.stringValue, in: patch).replacingOccurrences(of: " ", with: " found ", options: .anchored)
        }
        switch error {
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            return "\(key(context.codingPath)): expected \(expected(type))\(found(context.codingPath))"
        case let .dataCorrupted(context):
            return "\(key(context.codingPath)): invalid value\(found(context.codingPath)) (\(context.debugDescription))"
        case let .keyNotFound(missing, context):
            return "\(key(context.codingPath + [missing])): missing"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A `jepa data` failure with a message naming the option or path at fault.
struct DataCommandError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
