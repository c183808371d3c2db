#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""shotcheck.py SCREEN.ppm "HOLD x=X y=Y w=W h=H": gl_checks.exe's last
frame on QEMU's screen: red top-left, green top-right, blue bottom-left,
yellow bottom-right, filling the client area the HOLD line gives (screen
coordinates), up to its corner pixels. Each channel within 8 of the exact
value (a 16-bit desktop rounds 255 to 248); prints what it saw."""
import re
import sys


def read_ppm(path):
    data = open(path, "rb").read()
    tokens, pos = [], 0
    while len(tokens) < 4:
        m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
        tokens.append(m.group(2))
        pos = m.end()
    if tokens[0] != b"P6" or int(tokens[3]) != 255:
        sys.exit("not an 8-bit P6 PPM")
    w, h = int(tokens[1]), int(tokens[2])
    return w, h, data[pos + 1:]


def main():
    w, h, px = read_ppm(sys.argv[1])
    m = re.search(r"x=(-?\d+) y=(-?\d+) w=(\d+) h=(\d+)", sys.argv[2] if len(sys.argv) > 2 else "")
    if not m:
        print("no HOLD line from gl_checks.exe")
        return 1
    cx, cy, cw, ch = (int(v) for v in m.groups())
    red, green, blue, yellow = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
    points = [
        (cw // 4, ch // 4, red, "top-left"), (3 * cw // 4, ch // 4, green, "top-right"),
        (cw // 4, 3 * ch // 4, blue, "bottom-left"), (3 * cw // 4, 3 * ch // 4, yellow, "bottom-right"),
        (0, 0, red, "top-left corner"), (cw - 1, 0, green, "top-right corner"),
        (0, ch - 1, blue, "bottom-left corner"), (cw - 1, ch - 1, yellow, "bottom-right corner"),
    ]
    bad = 0
    for x, y, want, what in points:
        sx, sy = cx + x, cy + y
        if not (0 <= sx < w and 0 <= sy < h):
            print("%s (%d,%d) is off the %dx%d screen" % (what, sx, sy, w, h))
            bad += 1
            continue
        o = 3 * (sy * w + sx)
        got = tuple(px[o:o + 3])
        ok = all(abs(g - e) <= 8 for g, e in zip(got, want))
        print("%s %s (%d,%d): %s, want %s" % ("ok " if ok else "BAD", what, sx, sy, got, want))
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
