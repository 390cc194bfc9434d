/// An error in a run configuration: which file, which key (a dotted path such as `optim.lr` or
/// `model.widths.2`), where in the file if known, and what is wrong.
///
/// The description reads like a compiler diagnostic:
/// `experiments/balls-vjepa.yaml:7: optim.lr: expected a number, found "fast"`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The configuration file (or a label such as `<embedded default>`), if known.
    public var file: String?
    /// The dotted path of the offending key, if the error concerns one key.
    public var key: String?
    /// The 1-based line in `file`, if known.
    public var line: Int?
    /// What is wrong.
    public var message: String

    public init(file: String? = nil, key: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let file {
            parts.append(line.map { "\(file):\($0)" } ?? file)
        } else if let line {
            parts.append("line \(line)")
        }
        if let key, !key.isEmpty { parts.append(key) }
        parts.append(message)
        return parts.joined(separator: ": ")
    }

    /// The same error with `prefix` put in front of its key (`lr` under `optim` becomes `optim.lr`).
    public func prefixed(by prefix: String) -> ConfigError {
        var copy = self
        if prefix.isEmpty { return copy }
        if let key, !key.isEmpty { copy.key = prefix + "." + key } else { copy.key = prefix }
        return copy
    }
}

/// A configuration that checks its values (ranges, consistency) after decoding.
///
/// `ConfigLoader` calls `validate()` on the top-level value after decoding; a nested config is
/// validated by calling `validate(_:at:)` from its parent, which prefixes its keys:
///
/// ```swift
/// extension OptimConfig: ValidatableConfig {
///     func validate() throws {
///         try check(lr > 0, key: "lr", "must be positive, got \(lr)")
///         try check(betas.count == 2, key: "betas", "needs 2 values, got \(betas.count)")
///     }
/// }
/// extension RunConfig: ValidatableConfig {
///     func validate() throws {
///         try check(seed >= 0, key: "seed", "must not be negative, got \(seed)")
///         try validate(optim, at: "optim")          // errors name `optim.lr`, `optim.betas`
///     }
/// }
/// ```
/// The loader adds the file name and, where it can find the key, the line.
public protocol ValidatableConfig {
    func validate() throws
}

extension ValidatableConfig {
    /// Throws a `ConfigError` for `key` with `message` unless `condition` holds.
    public func check(_ condition: Bool, key: String, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConfigError(key: key, message()) }
    }

    /// Validates a nested configuration, naming its keys under `key` (e.g. `optim` or `layers.2`).
    public func validate(_ child: some ValidatableConfig, at key: String) throws {
        do {
            try child.validate()
        } catch let error as ConfigError {
            throw error.prefixed(by: key)
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes the value for `key`, or returns `defaultValue` if the key is missing or null.
    /// This is what lets YAML files state only what they change; see `ConfigLoader`.
    public func decode<T: Decodable>(_ key: Key, default defaultValue: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? defaultValue()
    }
}
