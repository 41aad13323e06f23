#!/usr/bin/python3
"""png_stats.py — what is on a PNG screenshot, in pure Python (Debian has no PIL by default).

  png_stats.py FILE [X0 Y0 X1 Y1]        JSON: width, height, and over the whole image (or the
                                         box) the share of non-white pixels, the number of
                                         distinct colours, and a digest of the box's pixels
  png_stats.py --crop FILE X0 Y0 X1 Y1 OUT   write the box as a PNG (for looking at it)

Decodes 8-bit RGB/RGBA (non-interlaced) PNGs, which is what Chromium's --screenshot writes.
"""
import hashlib
import json
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("%s: not a PNG" % path)
    pos, idat, w = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit("%s: only 8-bit RGB/RGBA non-interlaced PNGs (depth %d type %d)" % (path, depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def stats(path, box=None):
    w, h, bpp, rows = decode(path)
    x0, y0, x1, y1 = box if box else (0, 0, w, h)
    x1, y1 = min(x1, w), min(y1, h)
    colours, nonwhite, total = set(), 0, 0
    md = hashlib.sha256()
    for y in range(y0, y1):
        line = rows[y]
        for x in range(x0, x1):
            px = line[x * bpp:x * bpp + 3]
            total += 1
            if px != b"\xff\xff\xff":
                nonwhite += 1
            colours.add(px)
        md.update(line[x0 * bpp:x1 * bpp])
    return {"width": w, "height": h, "box": [x0, y0, x1, y1], "pixels": total,
            "nonwhite": nonwhite, "nonwhite_share": nonwhite / total if total else 0,
            "colours": len(colours), "sha256": md.hexdigest()}


def crop(path, box, out):
    w, h, bpp, rows = decode(path)
    x0, y0, x1, y1 = box
    raw = b"".join(b"\x00" + rows[y][x0 * bpp:x1 * bpp] for y in range(y0, min(y1, h)))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", x1 - x0, min(y1, h) - y0, 8,
                                                           2 if bpp == 3 else 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(out, "wb").write(png)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "--crop":
        crop(a[1], tuple(int(v) for v in a[2:6]), a[6])
    else:
        print(json.dumps(stats(a[0], tuple(int(v) for v in a[1:5]) if len(a) >= 5 else None)))
