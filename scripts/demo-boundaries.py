#!/usr/bin/env python3
"""Writes the demo city's boundaries (Node.boundary, GeoJSON in WGS84) into
the seed files given, one node per line as they are kept.

The places are real: the Jianwai (建外) and Chaowai (朝外) subdistricts of
Chaoyang, Beijing, between the East 2nd and East 3rd Ring Roads, Jianwai
south of Guanghua Road and Chaowai north of it. The shapes are simplified
(rectangles tiling each subdistrict), plausible rather than surveyed: the
grids tile their communities, the communities their subdistrict, so every
point of a subdistrict is in exactly one grid (edges aside), and
39.9087 N, 116.4605 E (China World, Guomao) falls in the Jianwai Avenue
grid. Run it again after changing the numbers below:

    scripts/demo-boundaries.py conf/demo-city.json tests/fixtures/seed-small.json
"""
import json
import re
import sys

W, E = 116.434, 116.468  # East 2nd Ring .. a little past the East 3rd Ring
S, MID, N = 39.899, 39.918, 39.930  # Tonghui River, Guanghua Road, Chaoyangmen


def rect(x0, y0, x1, y1):
    r = [[round(x, 6), round(y, 6)] for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return {"type": "Polygon", "coordinates": [r]}


def split(lo, hi, n):
    step = (hi - lo) / n
    return [(lo + i * step, lo + (i + 1) * step) for i in range(n)]


B = {}
# Chaoyang district: far larger than the two subdistricts, roughly its extent
B["110105"] = {"type": "Polygon", "coordinates": [[[116.434, 39.82], [116.66, 39.82], [116.66, 40.09],
                                                    [116.40, 40.09], [116.40, 39.93], [116.434, 39.93],
                                                    [116.434, 39.82]]]}
# Jianwai (建外街道)
B["110105001"] = rect(W, S, E, MID)
CW = 116.445  # Jianguoli to the west, Yong'anli and Guanghuali to the east
B["110105001003"] = rect(W, S, CW, MID)             # 建国里社区
B["110105001001"] = rect(CW, S, E, 39.910)          # 永安里社区, along Jianguomenwai Avenue
B["110105001002"] = rect(CW, 39.910, E, MID)        # 光华里社区, along Guanghua Road
XM, YM = 116.4565, 39.9045
B["110105001001001"] = rect(XM, S, E, YM)           # 永安东里
B["110105001001002"] = rect(CW, S, XM, YM)          # 永安西里
B["110105001001003"] = rect(CW, YM, XM, 39.910)     # 秀水街 (the Silk Market)
B["110105001001004"] = rect(XM, YM, E, 39.910)      # 建外大街 (China World, Guomao)
for code, (x0, x1) in zip(("003", "001", "002", "004"), split(CW, E, 4)):  # west to east
    B["110105001002" + code] = rect(x0, 39.910, x1, MID)
for code, (y0, y1) in zip(("003", "001", "002", "004"), split(S, MID, 4)):  # south to north
    B["110105001003" + code] = rect(W, y0, CW, y1)
# Chaowai (朝外街道)
CE = 116.462
B["110105002"] = rect(W, MID, CE, N)
strips = split(W, CE, 3)
for comm, (x0, x1) in zip(("002", "001", "003"), strips):  # 雅宝里, 吉祥里, 芳草地, west to east
    B["110105002" + comm] = rect(x0, MID, x1, N)
    for grid, (y0, y1) in zip(("001", "002", "003", "004"), split(MID, N, 4)):
        B["110105002" + comm + grid] = rect(x0, y0, x1, y1)


def main(paths):
    for path in paths:
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r'(\s*)\{"code": "(\d+)"', line)
                if m and m.group(2) in B and '"kind": "building"' not in line:
                    body = line.rstrip("\n")
                    comma = body.endswith(",")
                    body = body.rstrip(",")
                    body = re.sub(r', "boundary": \{.*\}\}$', "}", body)
                    assert body.endswith("}"), line
                    text = json.dumps(B[m.group(2)], separators=(",", ":"))
                    body = body[:-1] + ', "boundary": ' + text + "}"
                    line = body + ("," if comma else "") + "\n"
                out.append(line)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(out)
        json.load(open(path, encoding="utf-8"))  # still JSON


if __name__ == "__main__":
    main(sys.argv[1:])
