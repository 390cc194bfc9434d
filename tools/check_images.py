#!/usr/bin/env python3
"""Decodes the PNG and GIF files the Swift encoders wrote and compares their pixels.

Usage: check_images.py DIR
For every NAME.png / NAME.gif in DIR with a NAME.png.raw / NAME.gif.raw beside it, the raw file
holds the expected pixels: PNG as stored (grey or interleaved RGB), GIF as every frame's RGB
(grey GIFs: one byte per pixel). Exits non-zero on any mismatch. Needs Pillow.
"""
import os
import sys

from PIL import Image, ImageSequence


def check(path, expected):
    image = Image.open(path)
    if path.endswith(".png"):
        if image.mode not in ("L", "RGB"):
            return f"{path}: unexpected mode {image.mode}"
        got = image.tobytes()
        frames = 1
    else:
        mode = "L" if len(expected) == image.width * image.height * image.n_frames else "RGB"
        got = b"".join(frame.convert(mode).tobytes() for frame in ImageSequence.Iterator(image))
        frames = image.n_frames
        if image.info.get("loop") != 0:
            return f"{path}: expected an infinite loop (NETSCAPE2.0 loop 0), got {image.info.get('loop')}"
    if got != expected:
        diff = sum(a != b for a, b in zip(got, expected))
        return f"{path}: {diff} of {len(expected)} bytes differ (decoded {len(got)} bytes)"
    print(f"ok  {os.path.basename(path)}  {image.width}x{image.height}  {frames} frame(s)")
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    failures, checked = [], 0
    for name in sorted(os.listdir(directory)):
        if name.endswith((".png", ".gif")) and os.path.exists(os.path.join(directory, name + ".raw")):
            with open(os.path.join(directory, name + ".raw"), "rb") as f:
                expected = f.read()
            error = check(os.path.join(directory, name), expected)
            checked += 1
            if error:
                failures.append(error)
    for failure in failures:
        print("FAIL", failure)
    if checked == 0:
        sys.exit("no images with .raw expectations found")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
