"""Counts drawn pixels of a PNG (8-bit RGBA or RGB, non-interlaced, as rsvg-convert writes)
inside and outside a rectangle: `ink.py FILE LEFT TOP WIDTH HEIGHT` prints `inside outside`.
A pixel is drawn when it is not transparent; standard library only."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            chunks["header"] = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color, _, _, interlace = chunks["header"]
    assert depth == 8 and color in (2, 6) and interlace == 0, chunks["header"]
    channels = 4 if color == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    rows, previous, offset = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    path, left, top, width, height = sys.argv[1], *map(int, sys.argv[2:6])
    image_width, image_height, channels, rows = pixels(path)
    inside = outside = 0
    for y, row in enumerate(rows):
        for x in range(image_width):
            drawn = row[x * channels + 3] > 0 if channels == 4 else True
            if drawn:
                if left <= x < left + width and top <= y < top + height:
                    inside += 1
                else:
                    outside += 1
    print(inside, outside)


main()
