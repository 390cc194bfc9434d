"""Reference values for the optimiser tests, computed with PyTorch's own optimisers.

Prints Swift array literals that Tests/NNTests/OptimizerTests.swift pins. Re-run with
`python3 tools/optimizer_reference.py` (needs torch) and paste the output if the test inputs change.
Inputs are simple closed-form values so the Swift test can rebuild them exactly.
"""
import torch

torch.set_default_dtype(torch.float32)


def inputs():
    w = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
    return w, b


def grads(step):
    gw = torch.tensor([[0.1, -0.3, 0.5], [-0.7, 0.2, 0.05]]) * (step + 1)
    gb = torch.tensor([0.4, -0.1, 0.25]) / (step + 1)
    return gw, gb


def run(make_opt, steps=3):
    w, b = inputs()
    opt = make_opt(w, b)
    for s in range(steps):
        gw, gb = grads(s)
        w.grad, b.grad = gw.clone(), gb.clone()
        opt.step()
    return w.detach().flatten().tolist() + b.detach().flatten().tolist()


def lit(name, xs):
    print(f"let {name}: [Float] = [" + ", ".join(repr(float(x)) for x in xs) + "]")


lit("adamWReference", run(lambda w, b: torch.optim.AdamW(
    [{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
    lr=0.05, betas=(0.8, 0.95), eps=1e-6)))
lit("sgdMomentumReference", run(lambda w, b: torch.optim.SGD(
    [w, b], lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)))
lit("sgdNesterovReference", run(lambda w, b: torch.optim.SGD(
    [w, b], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)))

w, b = inputs()
w.grad, b.grad = grads(0)
norm = torch.nn.utils.clip_grad_norm_([w, b], max_norm=0.5)
print(f"let clipNormReference: Float = {float(norm)!r}")
lit("clippedGradientsReference", w.grad.flatten().tolist() + b.grad.flatten().tolist())
