#!/usr/bin/env python3
"""Reference sin-cos position tables for Tests/NNTests/PositionEmbeddingTests.swift.

Re-implements, with NumPy in float64, the MAE / I-JEPA 2-D table (including its meshgrid quirk:
`np.meshgrid(grid_w, grid_h)` puts the column coordinate first, so the first half of the channels
encodes the column) and the V-JEPA 3-D table (`np.meshgrid(grid_h, grid_d, grid_w)`, channels
[time D/2 | row D/4 | column D/4], or 2*ceil(D/6) each with uniform_power, cut to D).

Writes Tests/NNTests/Fixtures/sincos.json:  {name: {"shape": [...], "values": [...]}}.
Usage:  python3 tools/make_fixtures_sincos.py
"""
import json
import os

import numpy as np


def sincos_1d(dim, positions):
    assert dim % 2 == 0
    omega = np.arange(dim // 2, dtype=np.float64) / (dim / 2.0)
    omega = 1.0 / 10000 ** omega
    angles = np.outer(positions.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_2d_mae(dim, h, w):
    gh = np.arange(h, dtype=np.float64)
    gw = np.arange(w, dtype=np.float64)
    grid = np.stack(np.meshgrid(gw, gh), axis=0).reshape(2, 1, h, w)  # grid[0]: column index
    first = sincos_1d(dim // 2, grid[0])
    second = sincos_1d(dim // 2, grid[1])
    return np.concatenate([first, second], axis=1)


def sincos_3d_vjepa(dim, t, h, w, uniform_power=False):
    gd = np.arange(t, dtype=np.float64)
    gh = np.arange(h, dtype=np.float64)
    gw = np.arange(w, dtype=np.float64)
    mh, md, mw = np.meshgrid(gh, gd, gw)  # each of shape (t, h, w)
    if uniform_power:
        dd = dh = dw = int(np.ceil(dim / 6) * 2)
    else:
        dd, dh, dw = dim // 2, dim // 4, dim // 4
    table = np.concatenate([sincos_1d(dd, md), sincos_1d(dh, mh), sincos_1d(dw, mw)], axis=1)
    return table[:, :dim]


def main():
    tables = {
        "2d_dim8_3x3": sincos_2d_mae(8, 3, 3),
        "2d_dim12_2x3": sincos_2d_mae(12, 2, 3),
        "3d_dim16_t2_2x3": sincos_3d_vjepa(16, 2, 2, 3),
        "3d_dim16_t3_2x2_uniform": sincos_3d_vjepa(16, 3, 2, 2, uniform_power=True),
        "1d_dim6_len5": sincos_1d(6, np.arange(5)),
    }
    out = {k: {"shape": list(v.shape), "values": [float(x) for x in v.reshape(-1)]} for k, v in tables.items()}
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures", "sincos.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None)
        f.write("\n")
    print("wrote", os.path.normpath(path), {k: v.shape for k, v in tables.items()})


if __name__ == "__main__":
    main()
