#!/usr/bin/env python3
"""Draws Gridwork's app icon: a blue rounded square with a white 4x4 grid,
one cell filled (a worker's own grid). Standard library only, so it runs on
any machine with Python 3.

    scripts/make-icon.py [SIZE] [OUT]   # default: 256 src-tauri/icons/icon.png

Tauri needs an RGBA PNG at src-tauri/icons/icon.png even with bundling off;
`tauri icon` can derive the platform icon sets from a larger one (SIZE 1024).
"""

import struct
import sys
import zlib
from pathlib import Path

BLUE = (25, 137, 250, 255)  # Vant's primary blue, so the icon matches the UI
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def pixel(x: int, y: int, size: int) -> tuple[int, int, int, int]:
    radius = size * 0.18
    # Transparent outside the rounded corners.
    cx = min(max(x + 0.5, radius), size - radius)
    cy = min(max(y + 0.5, radius), size - radius)
    if (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius**2:
        return CLEAR
    margin = size * 0.2
    inner = size - 2 * margin
    line = max(1.0, size / 48)
    u, v = x + 0.5 - margin, y + 0.5 - margin
    if not (-line / 2 <= u <= inner + line / 2 and -line / 2 <= v <= inner + line / 2):
        return BLUE
    cell = inner / 4
    on_line = min(u % cell, cell - u % cell) <= line / 2 or min(v % cell, cell - v % cell) <= line / 2
    if on_line:
        return WHITE
    # The filled cell: second column, third row.
    if 1 <= u // cell < 2 and 2 <= v // cell < 3:
        return (255, 255, 255, 200)
    return BLUE


def png(size: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    root = Path(__file__).resolve().parent.parent
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "src-tauri/icons/icon.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png(size))


if __name__ == "__main__":
    main()
