#!/usr/bin/env python3
"""Load a jepa-swift checkpoint with h5py + numpy only, and summarise it.

Usage: load_checkpoint.py PATH [--value GROUP/KEY] [--embed CLIPS.h5 OUT.h5 [--group target_encoder]]

Prints the root attributes, each group with its tensor count (and shapes), and the extra
state under `state/`. With --value, also prints the first element of one dataset as
repr(float) (exact for float32). With --embed, runs the checkpoint's ViT encoder forward in
numpy (`vit_forward`) on the first window of every clip of CLIPS.h5 (/frames [N, T, C, H, W]
float32) and writes /features [N, tokens, D] to OUT.h5: an implementation independent of the
Swift one, so both can be compared. The layout is described in docs/checkpoint-format.md.
"""
import argparse
import math
import sys

import h5py
import numpy as np

FORMAT = "jepa-swift-checkpoint"
SUPPORTED_VERSION = 1


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def state_value(dataset):
    """Decode one `state/<key>` dataset according to its `kind` attribute."""
    kind = text(dataset.attrs.get("kind", ""))
    data = dataset[()]
    if kind == "string":
        return np.asarray(data, dtype=np.uint8).tobytes().decode("utf-8")
    if kind in ("int", "double"):
        return data.item()
    return np.asarray(data).tolist()


def load(path):
    """Returns (attrs, groups, state): groups maps group name -> {key: numpy array}."""
    with h5py.File(path, "r") as f:
        attrs = {k: f.attrs[k] for k in f.attrs}
        if text(attrs.get("format", "")) != FORMAT:
            raise ValueError(f"{path} is not a jepa-swift checkpoint (format attribute missing or wrong)")
        version = int(attrs.get("format_version", 0))
        if version > SUPPORTED_VERSION:
            raise ValueError(f"{path}: format_version {version} is newer than this tool supports ({SUPPORTED_VERSION})")
        groups, state = {}, {}
        for name, group in f.items():
            if name == "state":
                state = {k: state_value(d) for k, d in group.items()}
            else:
                groups[name] = {k: np.asarray(d[()]) for k, d in group.items()}
        return attrs, groups, state


def model_config(yaml_text):
    """The scalar keys of the `model:` section of our resolved config YAML (no PyYAML needed:
    the writer emits one `key: value` per line, two-space indented, keys sorted)."""
    values, inside = {}, False
    for line in yaml_text.splitlines():
        if not line.startswith(" "):
            inside = line.strip() == "model:"
            continue
        if inside and line.startswith("  ") and not line.startswith("   ") and ":" in line:
            key, _, value = line.strip().partition(":")
            value = value.strip().strip("'\"")
            try:
                values[key] = int(value)
            except ValueError:
                try:
                    values[key] = float(value)
                except ValueError:
                    values[key] = value
    return values


def sincos_1d(dim, positions):
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    angles = np.outer(positions.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_3d(dim, t, h, w):
    """V-JEPA's fixed table: channels [time D/2 | row D/4 | column D/4], tokens in (t, h, w) order."""
    mt, mh, mw = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    return np.concatenate([sincos_1d(dim // 2, mt), sincos_1d(dim // 4, mh), sincos_1d(dim // 4, mw)], axis=1)


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x, approximate):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def vit_forward(p, clips, cfg):
    """Our video ViT (timm blocks) in float64 numpy. p: {key: array} of one encoder group;
    clips: [B, C, T, H, W] with T = cfg frames; returns [B, tokens, D]."""
    w = p["patch_embed.proj.weight"].astype(np.float64)           # [D, C, tubelet, P, P]
    d, c, tub, ps = w.shape[0], w.shape[1], w.shape[2], w.shape[3]
    b, _, t, hh, ww = clips.shape
    gt, gh, gw = t // tub, hh // ps, ww // ps
    patches = clips.reshape(b, c, gt, tub, gh, ps, gw, ps).transpose(0, 2, 4, 6, 1, 3, 5, 7).reshape(b, gt * gh * gw, -1)
    x = patches @ w.reshape(d, -1).T + p["patch_embed.proj.bias"]
    x = x + (p["pos_embed"].reshape(-1, d) if "pos_embed" in p else sincos_3d(d, gt, gh, gw))
    eps, heads = float(cfg.get("layer_norm_eps", 1e-6)), int(cfg["encoder_heads"])
    approximate = cfg.get("activation", "gelu") == "gelu_tanh"
    depth = len({k.split(".")[1] for k in p if k.startswith("blocks.")})
    for i in range(depth):
        q = lambda name: p[f"blocks.{i}.{name}"].astype(np.float64)  # noqa: E731
        h = layer_norm(x, q("norm1.weight"), q("norm1.bias"), eps)
        qkv = (h @ q("attn.qkv.weight").T + q("attn.qkv.bias")).reshape(b, -1, 3, heads, d // heads).transpose(2, 0, 3, 1, 4)
        scores = qkv[0] @ qkv[1].transpose(0, 1, 3, 2) / np.sqrt(d // heads)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = (scores / scores.sum(-1, keepdims=True)) @ qkv[2]
        x = x + attention.transpose(0, 2, 1, 3).reshape(b, -1, d) @ q("attn.proj.weight").T + q("attn.proj.bias")
        h = layer_norm(x, q("norm2.weight"), q("norm2.bias"), eps)
        h = gelu(h @ q("mlp.fc1.weight").T + q("mlp.fc1.bias"), approximate)
        x = x + h @ q("mlp.fc2.weight").T + q("mlp.fc2.bias")
    return layer_norm(x, p["norm.weight"], p["norm.bias"], eps)


def embed(attrs, groups, clips_path, out_path, group):
    cfg = model_config(text(attrs["config"]))
    with h5py.File(clips_path, "r") as f:
        frames = np.asarray(f["frames"][()], dtype=np.float64)       # [N, T, C, H, W]
    window = int(cfg.get("frames", frames.shape[1]))
    clips = frames[:, :window].transpose(0, 2, 1, 3, 4)
    features = vit_forward(groups[group], clips, cfg)
    with h5py.File(out_path, "w") as f:
        f["features"] = features.astype(np.float32)
    print(f"embedded {frames.shape[0]} clips with {group}: features {list(features.shape)} -> {out_path}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--value", help="print the first element of GROUP/KEY")
    parser.add_argument("--embed", nargs=2, metavar=("CLIPS", "OUT"), help="run the ViT encoder forward in numpy")
    parser.add_argument("--group", default="target_encoder", help="encoder group for --embed")
    args = parser.parse_args(argv)
    try:
        attrs, groups, state = load(args.path)
    except OSError as error:
        print(f"error: cannot read {args.path} (truncated, corrupt or not HDF5?): {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    print(f"checkpoint {args.path}")
    for key in sorted(attrs):
        value = text(attrs[key])
        if key == "config":
            print(f"  config = ({len(value.splitlines())} lines of YAML)")
        else:
            print(f"  {key} = {value}")
    for name in sorted(groups):
        tensors = groups[name]
        count = sum(a.size for a in tensors.values())
        print(f"{name}: {len(tensors)} tensors, {count} values")
        for key in sorted(tensors):
            print(f"    {key} {list(tensors[key].shape)} {tensors[key].dtype}")
    for key in sorted(state):
        print(f"state/{key} = {state[key]!r}")
    if args.value:
        group, _, key = args.value.partition("/")
        array = groups[group][key]
        print(f"value {args.value}[0] = {float(array.reshape(-1)[0])!r}")
    if args.embed:
        embed(attrs, groups, args.embed[0], args.embed[1], args.group)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
