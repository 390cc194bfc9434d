#!/usr/bin/env python3
"""Load a jepa-swift checkpoint with h5py + numpy only, and summarise it.

Usage: load_checkpoint.py PATH [--value GROUP/KEY]

Prints the root attributes, each group with its tensor count (and shapes), and the extra
state under `state/`. With --value, also prints the first element of one dataset as
repr(float) (exact for float32). The layout is described in docs/checkpoint-format.md.
"""
import argparse
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


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--value", help="print the first element of GROUP/KEY")
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
