#!/usr/bin/env python3
"""Write Tests/ForeignWeightsTests/Fixtures: weights in other tools' layouts and the outputs an
independent implementation computes with them.

The PyTorch models below are written with torch.nn (Conv2d/Conv3d, LayerNorm eps 1e-6, Linear,
exact GELU, F.scaled_dot_product_attention), with attribute names as timm / I-JEPA / V-JEPA name
them, so their state_dict keys are the real ones. The Keras files are written with h5py in the
layouts Keras 3 and legacy Keras produce (docs/foreign-weights.md), and their outputs computed in
numpy with Keras semantics (channels-last conv, kernel [in, out]).

Files (small; weights drawn with a fixed seed):
  vjepa_tiny.pth.tar  V-JEPA-style checkpoint: {"encoder", "predictor", "target_encoder"} with DDP
                      `module.` prefixes, "epoch", and an optimiser state; video ViT (frames 4,
                      tubelet 2, 8×8 px, patch 4, dim 16, depth 2, heads 2) with the fixed sin-cos
                      pos_embed, predictor (dim 8, depth 1, heads 2) with mask_tokens.0 and
                      predictor_pos_embed; the predictor stored in bfloat16.
  vjepa_tiny.h5       the same through tools/torch_to_hdf5.py.
  vit_split_qkv.h5    a plain 2-D ViT state dict (8×8 px, patch 4, dim 16, depth 2, heads 2, learned
                      pos_embed) with separate attn.q / attn.k / attn.v projections, float16.
  keras3_mlp.weights.h5, keras2_mlp.h5   Dense(12) → GELU → Dense(5) from 7 inputs (Keras 3 and legacy).
  keras3_conv.weights.h5                 Conv2D(3×3 same) → LayerNormalization → SiLU → Conv2D → LN, residual.
  expected.h5         inputs and outputs:
      vjepa/x [2,1,4,8,8]  context_indices [2,5] target_indices [2,3] (int64)
      vjepa/target_features [2,8,16]  vjepa/context_features [2,5,16]  vjepa/prediction [2,3,16]
      vit/x [2,1,8,8]  vit/y [2,4,16]
      mlp/x [3,7]  mlp/y [3,5]     conv/x [2,4,5,5] (NCHW)  conv/y [2,4,5,5]

Weights are rounded to the stored precision before the reference outputs are computed (in float64).
Re-run:  python3 tools/make_foreign_fixtures.py   (needs torch, numpy, h5py)
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures_sincos import sincos_3d_vjepa  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ForeignWeightsTests", "Fixtures")
torch.manual_seed(7)


class Attention(nn.Module):
    def __init__(self, dim, heads, split=False):
        super().__init__()
        self.heads, self.split = heads, split
        if split:
            self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        else:
            self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = (self.q(x), self.k(x), self.v(x)) if self.split else self.qkv(x).chunk(3, dim=-1)
        shape = lambda t: t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        y = F.scaled_dot_product_attention(shape(q), shape(k), shape(v))
        return self.proj(y.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, split=False):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, heads, split)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch, tubelet=None):
        super().__init__()
        self.proj = (nn.Conv2d(1, dim, patch, patch) if tubelet is None
                     else nn.Conv3d(1, dim, (tubelet, patch, patch), (tubelet, patch, patch)))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, dim, depth, heads, patch, tokens, tubelet=None, split=False, pos_table=None):
        super().__init__()
        self.patch_embed = PatchEmbed(dim, patch, tubelet)
        if pos_table is None:
            self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        else:  # V-JEPA: the fixed sin-cos table, a frozen parameter
            self.pos_embed = nn.Parameter(torch.tensor(pos_table, dtype=torch.float32)[None], requires_grad=False)
        self.blocks = nn.ModuleList([Block(dim, heads, split) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x, keep=None):
        x = self.patch_embed(x) + self.pos_embed
        if keep is not None:
            x = torch.gather(x, 1, keep[..., None].expand(-1, -1, x.shape[-1]))
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class Predictor(nn.Module):
    """V-JEPA's predictor: embed context, add positions, append mask tokens at target positions."""

    def __init__(self, encoder_dim, dim, depth, heads, pos_table):
        super().__init__()
        self.predictor_embed = nn.Linear(encoder_dim, dim)
        self.mask_tokens = nn.ParameterList([nn.Parameter(torch.randn(1, 1, dim) * 0.02)])
        self.predictor_pos_embed = nn.Parameter(torch.tensor(pos_table, dtype=torch.float32)[None], requires_grad=False)
        self.predictor_blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.predictor_norm = nn.LayerNorm(dim, eps=1e-6)
        self.predictor_proj = nn.Linear(dim, encoder_dim)

    def forward(self, context, context_indices, target_indices):
        b, dim = context.shape[0], self.predictor_pos_embed.shape[-1]
        pos = self.predictor_pos_embed.expand(b, -1, -1)
        take = lambda idx: torch.gather(pos, 1, idx[..., None].expand(-1, -1, dim))  # noqa: E731
        x = self.predictor_embed(context) + take(context_indices)
        m = self.mask_tokens[0].expand(b, target_indices.shape[1], -1) + take(target_indices)
        z = torch.cat([x, m], dim=1)
        for block in self.predictor_blocks:
            z = block(z)
        z = self.predictor_norm(z)
        return self.predictor_proj(z[:, context.shape[1]:])


def randomise(module, scale=0.3):
    """Non-trivial values everywhere (LayerNorm weights away from 1, biases away from 0)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.requires_grad:
                p.copy_(torch.randn_like(p) * scale + (1.0 if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm.weight") else 0.0))


def round_to(module, dtype):
    """Trainable weights to the stored precision; fixed sin-cos tables stay exact (readers recompute them)."""
    with torch.no_grad():
        for p in module.parameters():
            if p.requires_grad:
                p.copy_(p.to(dtype).to(torch.float32))


def f64(module):
    return module.to(torch.float64)


def write_vjepa(expected):
    frames, tubelet, size, patch, dim = 4, 2, 8, 4, 16
    grid = (frames // tubelet, size // patch, size // patch)
    tokens = int(np.prod(grid))
    encoder = VisionTransformer(dim, 2, 2, patch, tokens, tubelet, pos_table=sincos_3d_vjepa(dim, *grid))
    target = VisionTransformer(dim, 2, 2, patch, tokens, tubelet, pos_table=sincos_3d_vjepa(dim, *grid))
    predictor = Predictor(dim, 8, 1, 2, sincos_3d_vjepa(8, *grid))
    for m in (encoder, target, predictor):
        randomise(m)
    round_to(predictor, torch.bfloat16)
    checkpoint = {
        "encoder": {f"module.{k}": v for k, v in encoder.state_dict().items()},
        "predictor": {f"module.{k}": v.to(torch.bfloat16) for k, v in predictor.state_dict().items()},
        "target_encoder": {f"module.{k}": v for k, v in target.state_dict().items()},
        "epoch": 3,
        "opt": torch.optim.AdamW(encoder.parameters()).state_dict(),
    }
    pth = os.path.join(OUT, "vjepa_tiny.pth.tar")
    torch.save(checkpoint, pth)
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "torch_to_hdf5.py"), pth,
                    os.path.join(OUT, "vjepa_tiny.h5")], check=True)

    x = torch.rand(2, 1, frames, size, size)
    context = torch.tensor([[0, 2, 3, 5, 7], [1, 2, 4, 6, 7]])
    targets = torch.tensor([[1, 4, 6], [0, 3, 5]])
    with torch.no_grad():
        enc, tgt, pred = f64(encoder), f64(target), f64(predictor)
        xd = x.double()
        ctx = enc(xd, keep=context)
        g = expected.create_group("vjepa")
        g["x"] = x.numpy()
        g["context_indices"], g["target_indices"] = context.numpy(), targets.numpy()
        g["target_features"] = tgt(xd).float().numpy()
        g["context_features"] = ctx.float().numpy()
        g["prediction"] = pred(ctx, context, targets).float().numpy()


def write_vit(expected):
    vit = VisionTransformer(16, 2, 2, 4, 4, split=True)
    randomise(vit)
    round_to(vit, torch.float16)
    with h5py.File(os.path.join(OUT, "vit_split_qkv.h5"), "w") as f:
        for k, v in vit.state_dict().items():
            f.create_dataset(k, data=v.to(torch.float16).numpy())
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        g = expected.create_group("vit")
        g["x"] = x.numpy()
        g["y"] = f64(vit)(x.double()).float().numpy()


def gelu(x):
    from math import erf, sqrt
    return 0.5 * x * (1 + np.vectorize(erf)(x / sqrt(2)))


def write_keras(expected, rng):
    # Dense(12) → GELU → Dense(5): kernels [in, out] as Keras stores them.
    k1, b1 = rng.standard_normal((7, 12)).astype(np.float32), rng.standard_normal(12).astype(np.float32)
    k2, b2 = rng.standard_normal((12, 5)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    with h5py.File(os.path.join(OUT, "keras3_mlp.weights.h5"), "w") as f:
        for group, name, (k, b) in (("dense", "fc1", (k1, b1)), ("dense_1", "fc2", (k2, b2))):
            f[f"layers/{group}/vars/0"], f[f"layers/{group}/vars/1"] = k, b
            f[f"layers/{group}/vars"].attrs["name"] = name
        f.create_group("layers/input_layer/vars").attrs["name"] = "input_layer"
        f.create_group("vars").attrs["name"] = "mlp"
    with h5py.File(os.path.join(OUT, "keras2_mlp.h5"), "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.21.0", "tensorflow"
        f.attrs["layer_names"] = np.array([b"input_1", b"fc1", b"act", b"fc2"])
        for layer in ("input_1", "act"):
            f.create_group(layer).attrs["weight_names"] = np.array([], dtype="S1")
        for layer, (k, b) in (("fc1", (k1, b1)), ("fc2", (k2, b2))):
            f.create_group(layer).attrs["weight_names"] = np.array([f"{layer}/kernel:0".encode(), f"{layer}/bias:0".encode()])
            f[f"{layer}/{layer}/kernel:0"], f[f"{layer}/{layer}/bias:0"] = k, b
    x = rng.standard_normal((3, 7)).astype(np.float32)
    h = gelu(x.astype(np.float64) @ k1 + b1)
    g = expected.create_group("mlp")
    g["x"], g["y"] = x, (h @ k2 + b2).astype(np.float32)

    # x + LN(conv2(silu(LN(conv1(x))))) in NHWC, 3×3 "same" convs, LayerNormalization over channels.
    c = 4
    convs = [(rng.standard_normal((3, 3, c, c)).astype(np.float32) * 0.3, rng.standard_normal(c).astype(np.float32)) for _ in range(2)]
    norms = [(1 + 0.3 * rng.standard_normal(c).astype(np.float32), 0.3 * rng.standard_normal(c).astype(np.float32)) for _ in range(2)]
    with h5py.File(os.path.join(OUT, "keras3_conv.weights.h5"), "w") as f:
        for i, (k, b) in enumerate(convs):
            group = "conv2d" if i == 0 else f"conv2d_{i}"
            f[f"layers/{group}/vars/0"], f[f"layers/{group}/vars/1"] = k, b
        for i, (gamma, beta) in enumerate(norms):
            group = "layer_normalization" if i == 0 else f"layer_normalization_{i}"
            f[f"layers/{group}/vars/0"], f[f"layers/{group}/vars/1"] = gamma, beta

    def conv_same(x, k, b):
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        out = np.zeros(x.shape[:3] + (k.shape[3],))
        for i in range(3):
            for j in range(3):
                out += padded[:, i:i + x.shape[1], j:j + x.shape[2], :] @ k[i, j].astype(np.float64)
        return out + b

    def layer_norm(x, gamma, beta):
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-6) * gamma + beta

    x = rng.standard_normal((2, c, 5, 5)).astype(np.float32)
    h = x.transpose(0, 2, 3, 1).astype(np.float64)
    z = layer_norm(conv_same(h, *convs[0]), *norms[0])
    z = z / (1 + np.exp(-z))
    z = layer_norm(conv_same(z, *convs[1]), *norms[1])
    g = expected.create_group("conv")
    g["x"], g["y"] = x, (h + z).transpose(0, 3, 1, 2).astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    with h5py.File(os.path.join(OUT, "expected.h5"), "w") as expected:
        write_vjepa(expected)
        write_vit(expected)
        write_keras(expected, np.random.default_rng(11))
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
