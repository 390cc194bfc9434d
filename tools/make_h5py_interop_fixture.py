#!/usr/bin/env python3
"""Write Tests/HDF5Tests/Fixtures/h5py_written.h5: a small file written by h5py that the Swift
HDF5 tests read back with exact expected values (see HDF5InteropTests.swift).

Contents (all values are exact in their stored type):
  /  @title      = "h5py interop fixture"        variable-length UTF-8 str (what h5py writes for str)
  /  @ascii_vlen = "plain ascii"                 variable-length ASCII string
  /  @unicode    = "héllo ✓"                     variable-length UTF-8, non-ASCII
  /  @fixed_nullpad  = b"abc"                    fixed-length |S3, NULLPAD (h5py's default for bytes)
  /  @fixed_nullterm = b"hello" in a 8-byte NULLTERM string
  /  @names      = ["input_1", "conv", "head"]   array of variable-length strings
  /  @count      = 42 (int64)   @ratio = 0.25 (float64)   @small = 7 (int32)
  half                    float16 [2,3]   = [-1.5, -0.5, 0, 0.25, 1, 65504]
  doubles                 float64 [4]     = [0.1, -2.5, 1e-300, 3.141592653589793]
  ints                    int64   [2,2]   = [-9007199254740993, -1, 0, 9007199254740993]
  bytes                   uint8   [2,2,2] = 0, 1, 2, 127, 128, 200, 254, 255
  scalar_int              int64   []      = 7
  scalar_float            float32 []      = 2.5
  groups/a/b/weights      float32 [3]     = [1, 2, 3]     (nested groups)
  groups/a/b/blocks.0.attn.qkv.weight  float32 [2,2] = [0.5, -0.5, 1.5, -1.5]  (dots in a link name)
  groups/a  @note = "group attribute"
  labels                  int32   [3]     = [3, -4, 5]

Written with libver=("earliest", "v110") so HDF5 1.10 (Debian's libhdf5) can read it.
Re-run: python3 tools/make_h5py_interop_fixture.py [--out PATH]
"""
import argparse
import os

import h5py
import numpy as np

DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "HDF5Tests", "Fixtures", "h5py_written.h5")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)

    with h5py.File(out, "w", libver=("earliest", "v110")) as f:
        f.attrs["title"] = "h5py interop fixture"
        f.attrs.create("ascii_vlen", "plain ascii", dtype=h5py.string_dtype("ascii"))
        f.attrs["unicode"] = "héllo ✓"
        f.attrs["fixed_nullpad"] = np.bytes_(b"abc")
        nullterm = h5py.h5t.C_S1.copy()
        nullterm.set_size(8)
        nullterm.set_strpad(h5py.h5t.STR_NULLTERM)
        f.attrs.create("fixed_nullterm", np.array(b"hello", dtype="S8"), dtype=h5py.Datatype(nullterm))
        f.attrs["names"] = ["input_1", "conv", "head"]
        f.attrs["count"] = np.int64(42)
        f.attrs["ratio"] = np.float64(0.25)
        f.attrs["small"] = np.int32(7)

        f["half"] = np.array([[-1.5, -0.5, 0.0], [0.25, 1.0, 65504.0]], dtype=np.float16)
        f["doubles"] = np.array([0.1, -2.5, 1e-300, 3.141592653589793], dtype=np.float64)
        f["ints"] = np.array([[-(2**53) - 1, -1], [0, 2**53 + 1]], dtype=np.int64)
        f["bytes"] = np.array([0, 1, 2, 127, 128, 200, 254, 255], dtype=np.uint8).reshape(2, 2, 2)
        f["scalar_int"] = np.int64(7)
        f["scalar_float"] = np.float32(2.5)
        f["groups/a/b/weights"] = np.array([1, 2, 3], dtype=np.float32)
        f["groups/a/b/blocks.0.attn.qkv.weight"] = np.array([[0.5, -0.5], [1.5, -1.5]], dtype=np.float32)
        f["groups/a"].attrs["note"] = "group attribute"
        f["labels"] = np.array([3, -4, 5], dtype=np.int32)

    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
    with h5py.File(out, "r") as f:
        f.visititems(lambda name, obj: print(f"  {name}  {obj.shape} {obj.dtype}") if isinstance(obj, h5py.Dataset) else None)
        for key, value in sorted(f.attrs.items()):
            print(f"  @{key} = {value!r}")


if __name__ == "__main__":
    main()
