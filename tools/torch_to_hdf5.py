#!/usr/bin/env python3
"""Convert a PyTorch checkpoint (.pt / .pth / .pth.tar) to HDF5, one dataset per state-dict key.

Usage:  torch_to_hdf5.py IN OUT.h5 [--unsafe]

IN may hold a plain state dict ({"blocks.0.attn.qkv.weight": tensor, ...}) or a dict of state
dicts as I-JEPA / V-JEPA save them ({"encoder": {...}, "predictor": {...}, "target_encoder": {...},
"epoch": 12, "opt": {...}}). Layout of OUT:

  plain state dict   /<key>                  e.g. /blocks.0.attn.qkv.weight
  dict of dicts      /<name>/<key>           e.g. /encoder/module.blocks.0.attn.qkv.weight

Keys are kept exactly ("." is an ordinary character in an HDF5 name; `module.` prefixes stay and
are stripped by the reader). float16/float32/float64 tensors keep their dtype; bfloat16, which
numpy cannot hold, is stored as 2-byte opaque elements holding the raw bits (as h5py stores
ml_dtypes' bfloat16); integer buffers are kept (readers skip them). Scalar numbers and strings at
the top level become root attributes; optimiser states (dicts with "state" and "param_groups")
and anything else that is not a tensor are skipped and listed. `torch.load` runs with
weights_only=True unless --unsafe is given (only for files you trust).

Needs torch, numpy and h5py. jepa-swift reads OUT with `jepa inspect`, `jepa convert --from torch`,
`jepa train --init-from` and `jepa eval --checkpoint` (see docs/foreign-weights.md).
"""
import argparse
import sys

import h5py
import numpy as np
import torch


def as_numpy(tensor):
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16).view("V2")
    return tensor.numpy()


def is_state_dict(value):
    return isinstance(value, dict) and len(value) > 0 and all(torch.is_tensor(v) for v in value.values())


def convert(source, out_path):
    """Writes `source` (a loaded checkpoint) to `out_path`; returns (written, skipped) key lists."""
    written, skipped = [], []
    with h5py.File(out_path, "w") as f:
        f.attrs["source_format"] = "pytorch"
        if is_state_dict(source):
            for key, tensor in source.items():
                f.create_dataset(key, data=as_numpy(tensor))
                written.append(key)
            return written, skipped
        if not isinstance(source, dict):
            raise SystemExit(f"error: expected a state dict or a dict of state dicts, found {type(source).__name__}")
        for name, value in source.items():
            if "/" in name:
                skipped.append(f"{name} (a '/' in a top-level name)")
            elif is_state_dict(value) and not {"state", "param_groups"} <= set(value):
                group = f.create_group(name)
                for key, tensor in value.items():
                    group.create_dataset(key, data=as_numpy(tensor))
                    written.append(f"{name}/{key}")
            elif torch.is_tensor(value):
                f.create_dataset(name, data=as_numpy(value))
                written.append(name)
            elif isinstance(value, (bool, int, float, str)):
                f.attrs[name] = value
            else:
                skipped.append(f"{name} ({type(value).__name__}{', optimiser state' if isinstance(value, dict) and 'param_groups' in value else ''})")
    if not written:
        raise SystemExit("error: no tensors found in the input")
    return written, skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--unsafe", action="store_true", help="torch.load with weights_only=False (trusted files only)")
    args = parser.parse_args()
    try:
        source = torch.load(args.input, map_location="cpu", weights_only=not args.unsafe)
    except Exception as error:  # noqa: BLE001 - report any load failure plainly
        sys.exit(f"error: cannot load {args.input} with torch.load: {error}")
    written, skipped = convert(source, args.output)
    print(f"wrote {len(written)} tensors to {args.output}")
    for item in skipped:
        print(f"skipped {item}")


if __name__ == "__main__":
    main()
