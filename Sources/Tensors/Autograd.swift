/// The record of one differentiable op: its inputs and how to map the output's gradient
/// to theirs. Closures capture what backward needs (never the output tensor itself, which
/// would form a cycle; they capture `detached()` views instead).
final class Node {
    let name: String
    let inputs: [Tensor]
    let backward: (Tensor) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record a graph. Task-local, so a `noGrad` scope affects only its own task/thread.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording autodiff history (e.g. the target encoder, EMA updates, evaluation).
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Attaches autodiff history to a freshly computed `output` when grad mode is on and some input
    /// requires grad. `backward` receives the output's gradient and returns one gradient (or nil)
    /// per input, each of that input's shape.
    @discardableResult
    func recorded(_ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        #if DEBUG
        checkNoNewNaN(name, inputs)
        #endif
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            requiresGrad = true
            node = Node(name: name, inputs: inputs, backward: backward)
        }
        return self
    }

    #if DEBUG
    /// Debug builds stop at the first op that turns finite inputs into NaN, naming it.
    private func checkNoNewNaN(_ name: String, _ inputs: [Tensor]) {
        func hasNaN(_ t: Tensor) -> Bool {
            for i in 0..<t.count where t.ptr[i].isNaN { return true }
            return false
        }
        if hasNaN(self) && !inputs.contains(where: hasNaN) {
            preconditionFailure("\(name) produced NaN from NaN-free inputs of shapes \(inputs.map(\.shape))")
        }
    }
    #endif

    /// Back-propagates from this tensor. Without `gradient` the tensor must hold one element
    /// (a loss), seeded with 1. Leaf tensors that require grad accumulate into `grad` (inside a
    /// data-parallel shard, the shard's `GradientSink` takes those it holds); the graph
    /// is released afterwards, so each forward supports one backward. Runs without recording
    /// (no higher-order gradients).
    public func backward(_ gradient: Tensor? = nil) {
        precondition(requiresGrad, "backward(): this tensor does not require grad (no input of its graph requires grad, or it was computed under noGrad)")
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape, "backward(): gradient shape \(gradient.shape) does not match tensor shape \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward() without a gradient needs a one-element tensor, got shape \(shape)")
            seed = Tensor(repeating: 1, shape: shape)
        }
        let order = topologicalOrder()
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        noGrad {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.node else {
                    precondition(!t.graphReleased, "backward(): the graph through a tensor of shape \(t.shape) was already released by an earlier backward(); run the forward again")
                    if let sink = DataParallel.sink, sink.accumulate(g, for: t) { continue }
                    t.grad = t.grad.map { $0 + g } ?? g
                    continue
                }
                let inputGrads = node.backward(g)
                precondition(inputGrads.count == node.inputs.count, "\(node.name): backward returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (input, ig) in zip(node.inputs, inputGrads) where input.requiresGrad {
                    guard let ig else { continue }
                    precondition(ig.shape == input.shape, "\(node.name): gradient shape \(ig.shape) does not match input shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { $0 + ig } ?? ig
                }
            }
        }
        for t in order where t.node != nil {
            t.node = nil
            t.graphReleased = true
        }
    }

    /// Tensors of the graph ending here, inputs before outputs (iterative DFS: graphs are deep).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, i) = stack.popLast() {
            let inputs = t.node?.inputs ?? []
            if i < inputs.count {
                stack.append((t, i + 1))
                let child = inputs[i]
                if child.requiresGrad && visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(t)
            }
        }
        return order
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}
