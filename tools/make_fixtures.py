#!/usr/bin/env python3
"""Write Tests/NNTests/Fixtures/parity.h5: forward and backward reference values for the NN layers.

Each reference layer is written out explicitly in plain torch ops (F.linear, F.layer_norm, softmax,
F.gelu(approximate='none'), F.conv2d, sigmoid/tanh); timm is not used. Where torch has a built-in
equivalent (nn.GRUCell, scaled_dot_product_attention, an explicit LayerNorm formula, an unfold-based
convolution), the script checks its reference against it before writing anything.

Precision: every random input and parameter is drawn in float64 and rounded to float32 values, so
what is stored is exactly what a float32 implementation reads. The forward pass and the gradients are
then computed in float64 from those values and only the results are cast to float32 for storage,
so the stored outputs are the float32-rounded exact answers (no float32 accumulation error).

Gradients are for loss = sum(y * gy), with gy a random upstream gradient stored as <group>/gy.
Layout (all datasets float32; group attributes int64 or float64):
  linear/     x [2,3,5] weight [4,5] bias [4] y [2,3,4] gy grad_x grad_weight grad_bias
  layer_norm/ @eps=1e-6  x [2,3,6] weight [6] bias [6] y gy grad_x grad_weight grad_bias
  attention/  @heads=2  x [2,5,8]  params/{qkv.weight [24,8], qkv.bias [24], proj.weight [8,8], proj.bias [8]}
              y (no mask)  mask [5,5] (1 = may attend; block-causal, frames {0,1},{2,3,4})  y_masked
              gy grad_x grad/<param>   (backward of the masked forward)
  vit/        @patch=4 @dim=16 @depth=2 @heads=2 @mlp_ratio=4 @eps=1e-6  x [2,1,8,8]
              params/<timm name> (patch_embed.proj.*, pos_embed, blocks.{0,1}.{norm1,attn.qkv,attn.proj,
              norm2,mlp.fc1,mlp.fc2}.*, norm.*)  y [2,4,16]  gy grad_x grad/<param>
  conv2d/     @stride=2 @padding=1  x [2,3,7,6] weight [4,3,3,3] bias [4] y [2,4,4,3] gy grad_x grad_weight grad_bias
  gru_cell/   x [3,5] h [3,4] params/{weight_ih [12,5], weight_hh [12,4], bias_ih [12], bias_hh [12]}
              y (= h') gy grad_x grad_h grad/<param>     (PyTorch GRUCell: gate order r, z, n)

Re-run (deterministic, fixed seed):  python3 tools/make_fixtures.py [--out PATH]
"""
import argparse
import os

import h5py
import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240611
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures", "parity.h5")
F64 = torch.float64


class Random:
    """Float64 tensors holding float32-representable values, from one seeded generator."""

    def __init__(self, seed):
        self.gen = torch.Generator().manual_seed(seed)

    def normal(self, *shape, std=1.0, mean=0.0):
        values = mean + std * torch.randn(*shape, generator=self.gen, dtype=F64)
        return values.float().to(F64).requires_grad_(True)


def store(group, name, tensor):
    group.create_dataset(name, data=tensor.detach().to(torch.float32).numpy())


def check_close(name, ours, theirs):
    if not torch.allclose(ours, theirs, rtol=1e-10, atol=1e-12):
        raise SystemExit(f"self-check failed for {name}: max |diff| = {(ours - theirs).abs().max().item()}")


def backward(y, rng):
    """Random upstream gradient gy; runs backward for loss = sum(y * gy); returns gy."""
    gy = rng.normal(*y.shape).detach()
    (y * gy).sum().backward()
    return gy


# ---- Reference layers, written out in plain torch ops ---------------------------------------------

def attention(x, p, heads, prefix="", additive_mask=None):
    """timm-style self-attention; p maps '<prefix>qkv.weight' etc. to tensors."""
    batch, tokens, dim = x.shape
    head_dim = dim // heads
    qkv = F.linear(x, p[prefix + "qkv.weight"], p[prefix + "qkv.bias"])
    qkv = qkv.reshape(batch, tokens, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, heads, N, head_dim)
    scores = (q @ k.transpose(-2, -1)) * head_dim ** -0.5
    if additive_mask is not None:
        scores = scores + additive_mask
    weights = scores.softmax(dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(batch, tokens, dim)
    return F.linear(out, p[prefix + "proj.weight"], p[prefix + "proj.bias"])


def vit(x, p, patch, heads, depth, eps):
    tokens = F.conv2d(x, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=patch)
    tokens = tokens.flatten(2).transpose(1, 2) + p["pos_embed"]  # (B, num_patches, dim), row-major patches
    dim = tokens.shape[-1]
    for i in range(depth):
        b = f"blocks.{i}."
        h = F.layer_norm(tokens, (dim,), p[b + "norm1.weight"], p[b + "norm1.bias"], eps)
        tokens = tokens + attention(h, p, heads, prefix=b + "attn.")
        h = F.layer_norm(tokens, (dim,), p[b + "norm2.weight"], p[b + "norm2.bias"], eps)
        h = F.gelu(F.linear(h, p[b + "mlp.fc1.weight"], p[b + "mlp.fc1.bias"]), approximate="none")
        tokens = tokens + F.linear(h, p[b + "mlp.fc2.weight"], p[b + "mlp.fc2.bias"])
    return F.layer_norm(tokens, (dim,), p["norm.weight"], p["norm.bias"], eps)


def gru_cell(x, h, p):
    """PyTorch GRUCell semantics, gates stacked in the order r, z, n."""
    gi = F.linear(x, p["weight_ih"], p["bias_ih"])
    gh = F.linear(h, p["weight_hh"], p["bias_hh"])
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


# ---- Fixture sections -------------------------------------------------------------------------------

def write_linear(f, rng):
    g = f.create_group("linear")
    x, w, b = rng.normal(2, 3, 5), rng.normal(4, 5, std=0.3), rng.normal(4, std=0.1)
    y = F.linear(x, w, b)
    check_close("linear", y, x @ w.T + b)
    gy = backward(y, rng)
    for name, t in [("x", x), ("weight", w), ("bias", b), ("y", y), ("gy", gy),
                    ("grad_x", x.grad), ("grad_weight", w.grad), ("grad_bias", b.grad)]:
        store(g, name, t)


def write_layer_norm(f, rng):
    g = f.create_group("layer_norm")
    eps = 1e-6
    g.attrs["eps"] = np.float64(eps)
    x, w, b = rng.normal(2, 3, 6), rng.normal(6, std=0.1, mean=1.0), rng.normal(6, std=0.1)
    y = F.layer_norm(x, (6,), w, b, eps)
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased variance, as LayerNorm uses
    check_close("layer_norm", y, (x - mean) / torch.sqrt(var + eps) * w + b)
    gy = backward(y, rng)
    for name, t in [("x", x), ("weight", w), ("bias", b), ("y", y), ("gy", gy),
                    ("grad_x", x.grad), ("grad_weight", w.grad), ("grad_bias", b.grad)]:
        store(g, name, t)


def block_causal_mask(frames):
    """mask[i, j] = 1 if token j's frame is not later than token i's frame."""
    frames = torch.tensor(frames)
    return (frames[None, :] <= frames[:, None]).to(F64)


def write_attention(f, rng):
    g = f.create_group("attention")
    heads, dim = 2, 8
    g.attrs["heads"] = np.int64(heads)
    x = rng.normal(2, 5, dim)
    p = {"qkv.weight": rng.normal(3 * dim, dim, std=0.3), "qkv.bias": rng.normal(3 * dim, std=0.1),
         "proj.weight": rng.normal(dim, dim, std=0.3), "proj.bias": rng.normal(dim, std=0.1)}
    mask = block_causal_mask([0, 0, 1, 1, 1])
    additive = torch.zeros_like(mask).masked_fill(mask == 0, float("-inf"))

    with torch.no_grad():
        y = attention(x, p, heads)
    y_masked = attention(x, p, heads, additive_mask=additive)

    # Self-check against torch's fused attention.
    with torch.no_grad():
        qkv = F.linear(x, p["qkv.weight"], p["qkv.bias"]).reshape(2, 5, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
        for m, ours in [(None, y), (mask.bool(), y_masked)]:
            out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=m)
            check_close("attention", ours, F.linear(out.transpose(1, 2).reshape(2, 5, dim), p["proj.weight"], p["proj.bias"]))

    gy = backward(y_masked, rng)
    for name, t in [("x", x), ("y", y), ("mask", mask), ("y_masked", y_masked), ("gy", gy), ("grad_x", x.grad)]:
        store(g, name, t)
    for name, t in p.items():
        store(g, f"params/{name}", t)
        store(g, f"grad/{name}", t.grad)


def write_vit(f, rng):
    g = f.create_group("vit")
    patch, dim, depth, heads, mlp_ratio, eps = 4, 16, 2, 2, 4, 1e-6
    for key, value in [("patch", patch), ("dim", dim), ("depth", depth), ("heads", heads), ("mlp_ratio", mlp_ratio)]:
        g.attrs[key] = np.int64(value)
    g.attrs["eps"] = np.float64(eps)
    x = rng.normal(2, 1, 8, 8)
    hidden = mlp_ratio * dim
    num_patches = (8 // patch) ** 2
    p = {"patch_embed.proj.weight": rng.normal(dim, 1, patch, patch, std=0.3),
         "patch_embed.proj.bias": rng.normal(dim, std=0.1),
         "pos_embed": rng.normal(1, num_patches, dim, std=0.1)}
    for i in range(depth):
        b = f"blocks.{i}."
        p[b + "norm1.weight"] = rng.normal(dim, std=0.1, mean=1.0)
        p[b + "norm1.bias"] = rng.normal(dim, std=0.1)
        p[b + "attn.qkv.weight"] = rng.normal(3 * dim, dim, std=0.3)
        p[b + "attn.qkv.bias"] = rng.normal(3 * dim, std=0.1)
        p[b + "attn.proj.weight"] = rng.normal(dim, dim, std=0.3)
        p[b + "attn.proj.bias"] = rng.normal(dim, std=0.1)
        p[b + "norm2.weight"] = rng.normal(dim, std=0.1, mean=1.0)
        p[b + "norm2.bias"] = rng.normal(dim, std=0.1)
        p[b + "mlp.fc1.weight"] = rng.normal(hidden, dim, std=0.3)
        p[b + "mlp.fc1.bias"] = rng.normal(hidden, std=0.1)
        p[b + "mlp.fc2.weight"] = rng.normal(dim, hidden, std=0.3)
        p[b + "mlp.fc2.bias"] = rng.normal(dim, std=0.1)
    p["norm.weight"] = rng.normal(dim, std=0.1, mean=1.0)
    p["norm.bias"] = rng.normal(dim, std=0.1)

    y = vit(x, p, patch, heads, depth, eps)
    gy = backward(y, rng)
    for name, t in [("x", x), ("y", y), ("gy", gy), ("grad_x", x.grad)]:
        store(g, name, t)
    for name, t in p.items():
        store(g, f"params/{name}", t)
        store(g, f"grad/{name}", t.grad)


def write_conv2d(f, rng):
    g = f.create_group("conv2d")
    stride, padding = 2, 1
    g.attrs["stride"] = np.int64(stride)
    g.attrs["padding"] = np.int64(padding)
    x, w, b = rng.normal(2, 3, 7, 6), rng.normal(4, 3, 3, 3, std=0.3), rng.normal(4, std=0.1)
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    # Self-check: im2col (unfold) followed by a matrix product.
    cols = F.unfold(x, kernel_size=3, padding=padding, stride=stride)  # (B, 3*3*3, L)
    out_h, out_w = y.shape[2], y.shape[3]
    check_close("conv2d", y, (w.reshape(4, -1) @ cols + b[:, None]).reshape(2, 4, out_h, out_w))
    gy = backward(y, rng)
    for name, t in [("x", x), ("weight", w), ("bias", b), ("y", y), ("gy", gy),
                    ("grad_x", x.grad), ("grad_weight", w.grad), ("grad_bias", b.grad)]:
        store(g, name, t)


def write_gru_cell(f, rng):
    g = f.create_group("gru_cell")
    x, h = rng.normal(3, 5), rng.normal(3, 4)
    p = {"weight_ih": rng.normal(12, 5, std=0.3), "weight_hh": rng.normal(12, 4, std=0.3),
         "bias_ih": rng.normal(12, std=0.1), "bias_hh": rng.normal(12, std=0.1)}
    y = gru_cell(x, h, p)
    cell = torch.nn.GRUCell(5, 4).to(F64)
    with torch.no_grad():
        for name, t in p.items():
            getattr(cell, name).copy_(t)
        check_close("gru_cell", y, cell(x, h))
    gy = backward(y, rng)
    for name, t in [("x", x), ("h", h), ("y", y), ("gy", gy), ("grad_x", x.grad), ("grad_h", h.grad)]:
        store(g, name, t)
    for name, t in p.items():
        store(g, f"params/{name}", t)
        store(g, f"grad/{name}", t.grad)


def main():
    parser = argparse.ArgumentParser(description="Write NN parity fixtures (see module docstring).")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output .h5 path (default: %(default)s)")
    args = parser.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)

    torch.use_deterministic_algorithms(True)
    rng = Random(SEED)
    # libver bounded at v110 so Debian's HDF5 1.10 reads it; h5py does not store timestamps by default.
    with h5py.File(out, "w", libver=("earliest", "v110")) as f:
        f.attrs["generator"] = "tools/make_fixtures.py"
        f.attrs["precision"] = "inputs float32-representable; computed in float64; stored as float32"
        f.attrs["seed"] = np.int64(SEED)
        for section in (write_linear, write_layer_norm, write_attention, write_vit, write_conv2d, write_gru_cell):
            section(f, rng)

    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
    with h5py.File(out, "r") as f:
        for key, value in sorted(f.attrs.items()):
            print(f"  @{key} = {value!r}")

        def show(name, obj):
            if isinstance(obj, h5py.Group) and len(obj.attrs):
                print(f"  {name}/  " + "  ".join(f"@{k}={v!r}" for k, v in sorted(obj.attrs.items())))
            elif isinstance(obj, h5py.Dataset):
                print(f"  {name}  {list(obj.shape)}")

        f.visititems(show)


if __name__ == "__main__":
    main()
