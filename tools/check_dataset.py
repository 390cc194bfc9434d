#!/usr/bin/env python3
"""Checks a jepa dataset file (format_version 1) with h5py and prints a summary.

Usage: check_dataset.py FILE
Checks dataset shapes and dtypes against the root attributes, that the JSON attributes parse,
and, for violation sets, the pair layout. Exits non-zero with a message on the first problem.
"""
import json
import sys

import h5py
import numpy as np


def fail(message):
    sys.exit(f"FAIL {message}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with h5py.File(sys.argv[1], "r") as f:
        a = f.attrs
        for key in ["world", "config", "state_names", "action_names", "seed", "episodes",
                    "frames_per_episode", "tool_version", "format_version", "created_by"]:
            if key not in a:
                fail(f"missing root attribute '{key}'")
        if int(a["format_version"]) != 1:
            fail(f"format_version {a['format_version']} != 1")
        n, t = int(a["episodes"]), int(a["frames_per_episode"])
        config = json.loads(a["config"])
        state_names, action_names = json.loads(a["state_names"]), json.loads(a["action_names"])
        frames = f["frames"]
        if frames.dtype != np.uint8:
            fail(f"frames dtype {frames.dtype} != uint8")
        if frames.ndim not in (4, 5) or frames.shape[:2] != (n, t):
            fail(f"frames shape {frames.shape} does not start with ({n}, {t}) or has rank {frames.ndim}")
        if frames.chunks is None or frames.chunks[0] != 1 or frames.chunks[1:] != frames.shape[1:]:
            fail(f"frames chunks {frames.chunks}: expected one episode per chunk")
        states = f["states"]
        if states.dtype != np.float32 or states.shape != (n, t, len(state_names)):
            fail(f"states {states.dtype} {states.shape} != float32 {(n, t, len(state_names))}")
        if action_names:
            actions = f["actions"]
            if actions.dtype != np.float32 or actions.shape != (n, t, len(action_names)):
                fail(f"actions {actions.dtype} {actions.shape} != float32 {(n, t, len(action_names))}")
        elif "actions" in f:
            fail("'actions' present but action_names is empty")
        first = frames[0]
        print(f"world {a['world']}  episodes {n}  frames/episode {t}  frame shape {frames.shape[2:]}  "
              f"compression {frames.compression} {frames.compression_opts}")
        print(f"states {len(state_names)}: {', '.join(state_names)}")
        print(f"actions {len(action_names)}: {', '.join(action_names)}")
        print(f"config keys: {', '.join(sorted(config)) if isinstance(config, dict) else type(config).__name__}")
        print(f"seed {a['seed']}  tool {a['tool_version']}  created by: {a['created_by']}")
        print(f"episode 0: pixel mean {first.mean():.2f}, min {first.min()}, max {first.max()}; "
              f"states finite: {bool(np.isfinite(states[0]).all())}")
        if "impossible" in f:
            names = json.loads(a["category_names"])
            imp, pair, cat, vf = (f[k][()] for k in ["impossible", "pair", "category", "violation_frame"])
            if imp.dtype != np.uint8 or pair.dtype != np.int64 or cat.dtype != np.int64 or vf.dtype != np.int64:
                fail("violation label dtypes: expected uint8, int64, int64, int64")
            if not (imp.shape == pair.shape == cat.shape == vf.shape == (n,)) or n % 2:
                fail("violation labels must all have shape [N] with N even")
            if (imp != np.arange(n) % 2).any() or (pair != np.arange(n) // 2).any():
                fail("pairs must be adjacent rows: possible then impossible")
            if cat.min() < 0 or cat.max() >= len(names) or vf.min() < 0 or vf.max() >= t:
                fail("category or violation_frame out of range")
            print(f"violation pairs {n // 2}; categories: {', '.join(names)}")
    print("ok")


if __name__ == "__main__":
    main()
