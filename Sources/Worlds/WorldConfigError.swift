/// An impossible world configuration: which field, its value, and what would be allowed.
///
/// Thrown by `BallsConfig.validate()` and `GraspConfig.validate()`.
public struct WorldConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration field at fault, e.g. "maxRadius".
    public var field: String
    /// The offending value, as text.
    public var value: String
    /// The allowed range or rule, as text.
    public var allowed: String

    public init(field: String, value: String, allowed: String) {
        self.field = field
        self.value = value
        self.allowed = allowed
    }

    public var description: String { "invalid world configuration: \(field) = \(value); allowed: \(allowed)" }
}
