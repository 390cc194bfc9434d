#!/usr/bin/env python3
"""Groups a `perf report --no-children --sort symbol --stdio` listing into the shares that
BENCHMARKS.md reports (OpenBLAS GEMM, attention, GELU, ...). Usage:
    perf record -o p.data .build/release/jepa bench --sections train-step --threads 1 --seconds 10
    perf report -i p.data --no-children --sort symbol --stdio | python3 tools/profile_shares.py
"""
import re
import sys

GROUPS = [  # first match wins
    ("OpenBLAS GEMM (kernel, packing, beta)", r"sgemm_"),
    ("attention (fused op, TileGemm)", r"selfAttention|TileGemm"),
    ("GELU", r"gelu"),
    ("LayerNorm", r"layerNorm"),
    ("AdamW, EMA, gradient clipping and sums", r"AdamW|EMA|clipGradientNorm|GradientSink"),
    ("copies (memmove, strided copy, gather, slice, concat)", r"memmove|memcpy|stridedCopy|gather|slice|concat|indexSelect"),
    ("other elementwise and reductions", r"broadcast|reduce|map|linear|softmax|sum|mean|squared|Tensor"),
    ("model set-up (random init; not in the step)", r"truncatedNormal|randn|cos_fma|log_fma|RandomGenerator"),
    ("kernel (page faults, scheduling)", r"^\[k\]"),
]

shares = {name: 0.0 for name, _ in GROUPS}
shares["other"] = 0.0
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+(\[[.k]\])\s+(.*)", line)
    if not m:
        continue
    pct, kind, symbol = float(m.group(1)), m.group(2), m.group(3).strip()
    for name, pattern in GROUPS:
        if re.search(pattern, f"{kind} {symbol}" if pattern.startswith("^") else symbol):
            shares[name] += pct
            break
    else:
        shares["other"] += pct
for name, pct in sorted(shares.items(), key=lambda kv: -kv[1]):
    print(f"{pct:6.1f} %  {name}")
