#!/usr/bin/env python3
"""Violation-of-expectation accuracy from `jepa score --frames-output` files at several horizons.

Reads a violation set (written by `jepa data violations`) and per-frame energies scored with
`jepa score --horizon h --frames-output F_h.csv` for h = 1..H, and prints the pairwise accuracy per
category for two readings of the frames from the violation frame t on:
  horizon h   max over frames t..t+3 of the h-step-ahead surprise (jepa eval's at_violation);
  shared      frame t+j predicted j+1 steps ahead, j = 0..H-1: every prediction made from the frames
              before t, which the two clips of a pair share (max and mean over the H frames).
Usage: tools/voe_horizons.py violations.h5 'frames-h%d.csv' H
"""
import collections
import csv
import json
import sys

import h5py


def load(path):
    energies = collections.defaultdict(dict)
    with open(path) as f:
        for row in csv.DictReader(f):
            energies[int(row["clip"])][int(row["frame"])] = float(row["energy"])
    return energies


def accuracy(pairs, names, score):
    hits = collections.defaultdict(list)
    for p, (category, frame) in enumerate(pairs):
        possible, impossible = score(2 * p, frame), score(2 * p + 1, frame)
        hit = 1.0 if impossible > possible else 0.5 if impossible == possible else 0.0
        hits[names[category]].append(hit)
        hits["overall"].append(hit)
    return "  ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in hits.items())


def main():
    violations, pattern, horizons = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with h5py.File(violations, "r") as f:
        category, frame = f["category"][:], f["violation_frame"][:]
        names = json.loads(f.attrs["category_names"])
    pairs = [(int(category[2 * p]), int(frame[2 * p])) for p in range(len(category) // 2)]
    energies = {h: load(pattern % h) for h in range(1, horizons + 1)}
    for h in range(1, horizons + 1):
        e = energies[h]
        print(f"horizon {h}, max t..t+3: " + accuracy(pairs, names, lambda c, t: max(e[c][f] for f in range(t, t + 4) if f in e[c])))
    shared = lambda c, t: [energies[j + 1][c][t + j] for j in range(horizons) if t + j in energies[j + 1][c]]
    print(f"shared context, max of {horizons}: " + accuracy(pairs, names, lambda c, t: max(shared(c, t))))
    print(f"shared context, mean of {horizons}: " + accuracy(pairs, names, lambda c, t: sum(shared(c, t)) / len(shared(c, t))))


if __name__ == "__main__":
    main()
