import Tensors

/// A module with fixed tensors (not parameters) that other tools store beside the weights, such as
/// the sin-cos position tables I-JEPA and V-JEPA keep as non-trainable `pos_embed` parameters.
/// Loading a foreign file checks such entries against these instead of reporting them unexpected.
public protocol FixedTensors: Module {
    /// Key (relative to the module, as a parameter key would be) → value.
    var fixedTensors: [String: Tensor] { get }
}

extension Module {
    /// Every fixed tensor of this module and its submodules, keyed by dotted name.
    public func namedFixedTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (prefix, module) in [("", self)] + namedModules() {
            guard let fixed = module as? any FixedTensors else { continue }
            for (key, value) in fixed.fixedTensors { out[prefix.isEmpty ? key : "\(prefix).\(key)"] = value }
        }
        return out
    }
}

extension VisionTransformer: FixedTensors {
    public var fixedTensors: [String: Tensor] { fixedPosEmbed.map { ["pos_embed": $0.value] } ?? [:] }
}
