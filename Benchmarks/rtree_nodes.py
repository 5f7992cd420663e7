"""Nodes an R*Tree search reads in Gyre's SQLite catalogs: a count that does not vary with the
machine's load, for choosing how `SQLiteRTree` packs the tree. Walks each catalog's own
`items_space_time` shadow tables for searches of six shapes at seeded random places and start
times, each with the first window of time `SQLiteSearch.firstLength` gives that area (limit 10)
and one four times as long, and prints the mean nodes read and boxes matched per shape.

    .venv/bin/python Benchmarks/rtree_nodes.py bench-data/stac/gyre.db [other.db ...]
"""
import sqlite3
import struct
import sys

import numpy as np


def read_tree(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    nodes = {}
    for nodeno, data in c.execute("SELECT nodeno, data FROM items_space_time_node"):
        n = struct.unpack(">H", data[2:4])[0]
        cells = np.frombuffer(data[4:4 + 32 * n], dtype=np.dtype([("id", ">i8"), ("b", ">f4", 6)]))
        nodes[nodeno] = (cells["id"].astype(np.int64), cells["b"].astype(np.float64))
    depth = struct.unpack(">H", c.execute("SELECT data FROM items_space_time_node WHERE nodeno = 1").fetchone()[0][:2])[0]
    span = c.execute("SELECT MIN(mint), MAX(maxt), COUNT(*) FROM items_space_time").fetchone()
    return nodes, depth, span


def search(nodes, depth, q):
    """(nodes read, leaf boxes matched) for q = (west, east, south, north, start, end)."""
    read = hits = 0
    frontier = [1]
    for level in range(depth + 1):
        below = []
        for n in frontier:
            ids, b = nodes[n]
            read += 1
            m = (b[:, 0] <= q[1]) & (b[:, 1] >= q[0]) & (b[:, 2] <= q[3]) & (b[:, 3] >= q[2]) & (b[:, 4] <= q[5]) & (b[:, 5] >= q[4])
            if level == depth:
                hits += int(m.sum())
            else:
                below.extend(int(i) for i in ids[m])
        frontier = below
    return read, hits


trees = {p: read_tree(p) for p in sys.argv[1:]}
if not trees:
    sys.exit(__doc__)
low, high, count = next(iter(trees.values()))[2]
span = high - low
rng = np.random.default_rng(7)
shapes = [(3, 3), (10, 10), (30, 30), (90, 110), (180, 120), (5, 40)]
queries = []
for w, h in shapes:
    # SQLiteSearch.firstLength in days: twice the 11 items wanted, spread evenly.
    window = max(2 * 11 / (count / span * max(w * h / 64800, 1e-4)), 1 / 86400)
    for _ in range(40):
        x, y, end = rng.uniform(-180, 180 - w), rng.uniform(-56, 74 - h), rng.uniform(low + 0.2 * span, high)
        for times in (1, 4):
            queries.append((f"{w} x {h}, window x{times}", (x, x + w, y, y + h, end - times * window, end)))
print(f"{'shape':24}" + "".join(f"{p[-28:]:>30}" for p in trees))
totals = dict.fromkeys(trees, 0)
for shape in dict.fromkeys(k for k, _ in queries):
    row = f"{shape:24}"
    for p, (nodes, depth, _) in trees.items():
        counts = [search(nodes, depth, q) for k, q in queries if k == shape]
        totals[p] += sum(r for r, _ in counts)
        row += f"{np.mean([r for r, _ in counts]):20.1f} nodes {np.mean([h for _, h in counts]):4.0f} hits"
    print(row)
print(f"{'all searches':24}" + "".join(f"{totals[p]:24} nodes" for p in trees))
