"""Issue 25's tile benchmark: 256 px PNG map tiles of the 1.5 GB cube (float32 (1460, 360, 720),
Zarr v2 blosc-lz4, chunks of 10 days; the cube serve_bench.py and cloud_io.py use) drawn by
`gyre serve` and by titiler.xarray (uvicorn, 2 workers: one a core, as Gyre uses both), on
loopback, in one run:

  - wrk at 16 connections (and 64) for SECONDS each, cycling through a shuffled list of
    distinct tiles (zoom 2 to 4, random days, the same viridis colormap and range for both),
    so that no tile is asked twice within a run and Gyre's tile cache does not help it;
    requests per second and latency percentiles (p50, p99);
  - a sample of tiles from both servers decoded and compared (how many pixels agree; the
    servers resample differently, so they are not expected to be equal);
  - each server's memory after the runs.

Release build; titiler.xarray in its own venv (made here when missing, from
scripts/requirements-titiler.txt):

    .venv/bin/python Benchmarks/tiles_bench.py --gyre .build/release/gyre [--seconds 10]
"""
import argparse
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

from bench_common import ensure_cube, free_port, wait

ap = argparse.ArgumentParser()
ap.add_argument("--gyre", required=True)
ap.add_argument("--time", type=int, default=1460, help="days in the cube (1460: 1.5 GB of float32)")
ap.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
ap.add_argument("--connections", default="16,64")
ap.add_argument("--dir", default="bench-data/serve")
ap.add_argument("--titiler-venv", default=".venv-titiler")
args = ap.parse_args()
root = os.path.abspath(args.dir)
cube_path = os.path.join(root, f"cube-{args.time}.zarr")

ensure_cube(cube_path, args.time)

tpy = os.path.join(args.titiler_venv, "bin", "python")
if subprocess.run([tpy, "-c", "import titiler.xarray, uvicorn"], capture_output=True).returncode != 0:
    print("making the titiler venv", flush=True)
    subprocess.run(["python3", "-m", "venv", args.titiler_venv], check=True)
    subprocess.run([tpy, "-m", "pip", "install", "-q", "-r", os.path.join(os.path.dirname(__file__), "..", "scripts", "requirements-titiler.txt")], check=True)
versions = subprocess.run([tpy, "-c", "import titiler.xarray, xarray, zarr, rio_tiler; print(titiler.xarray.__version__, xarray.__version__, zarr.__version__, rio_tiler.__version__)"],
                          capture_output=True, text=True).stdout.split()


def rss(pid):
    total = 0
    for p in [pid] + children(pid):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except FileNotFoundError:
            pass
    return total


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out] + [c for p in out for c in children(int(p))]


rng = random.Random(25)
days = [str(d)[:10] for d in np.arange(np.datetime64("2000-01-01"), np.datetime64("2000-01-01") + args.time)]
tiles = []
seen = set()
while len(tiles) < 20000:
    z = rng.choice([2, 3, 3, 4, 4])
    x, y = rng.randrange(2 ** z), rng.randrange(2 ** z)
    d = rng.choice(days)
    if (z, x, y, d) not in seen:
        seen.add((z, x, y, d))
        tiles.append((z, x, y, d))
RANGE = (-2.0, 32.0)


def gyre_path(z, x, y, d):
    return f"/tiles/cube/sst/{z}/{x}/{y}.png?time={d}&cmap=viridis&range={RANGE[0]},{RANGE[1]}"


def titiler_path(z, x, y, d):
    return (f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=file://{cube_path}&variable=sst&sel=time%3Dnearest%3A%3A{d}"
            f"&rescale={RANGE[0]},{RANGE[1]}&colormap_name=viridis")


work = tempfile.mkdtemp(prefix="gyre-tiles-bench-")


def lua_for(paths, name):
    f = os.path.join(work, name + ".lua")
    body = ",\n".join(json.dumps(p) for p in paths)
    open(f, "w").write("local paths = {\n" + body + "\n}\nlocal i = 0\nrequest = function()\n  i = (i % #paths) + 1\n"
                       "  return wrk.format(\"GET\", paths[i])\nend\n")
    return f


def wrk(base, lua, conns):
    r = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{args.seconds}s", "--latency", "-s", lua, base], capture_output=True, text=True)
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v if u == "ms" else v * 1000
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "timeouts": int(timeouts.group(1)) if timeouts else 0,
            "requests": int(re.search(r"(\d+) requests in", out).group(1))}


def fetch(url):
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.status, r.read()


procs = []
results = {"cube": cube_path, "titiler": versions, "seconds": args.seconds}
try:
    gport = free_port()
    g = subprocess.Popen([args.gyre, "serve", "--catalog", os.path.join(work, "catalog.db"), "--port", str(gport), "--dataset", f"cube={cube_path}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(g)
    wait(gport, g, "gyre serve", tries=1200)
    tport = free_port()
    t = subprocess.Popen([tpy, "-m", "uvicorn", "titiler.xarray.main:app", "--host", "127.0.0.1", "--port", str(tport), "--workers", "2",
                          "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(t)
    wait(tport, t, "titiler.xarray", tries=1200)
    gbase, tbase = f"http://127.0.0.1:{gport}", f"http://127.0.0.1:{tport}"

    # The same tiles from both: both answer PNG, and how many pixels agree.
    from PIL import Image
    agree, total, opaque_both = 0, 0, 0
    for z, x, y, d in tiles[:12]:
        sg, bg = fetch(gbase + gyre_path(z, x, y, d))
        st, bt = fetch(tbase + titiler_path(z, x, y, d))
        assert sg == 200 and st == 200, (sg, st)
        a = np.asarray(Image.open(io.BytesIO(bg)).convert("RGBA")).astype(int)
        b = np.asarray(Image.open(io.BytesIO(bt)).convert("RGBA")).astype(int)
        assert a.shape == b.shape == (256, 256, 4), (a.shape, b.shape)
        both = (a[..., 3] > 0) & (b[..., 3] > 0)
        opaque_both += int(both.sum())
        agree += int((np.abs(a - b)[..., :3].max(axis=2)[both] <= 8).sum())
        total += 256 * 256
    results["pixels_opaque_in_both"] = opaque_both / total
    results["pixels_agreeing_within_8_levels"] = agree / max(1, opaque_both)

    # Warm each server once (the store opened, code paths compiled) on tiles not in the runs.
    for z, x, y, d in tiles[-8:]:
        fetch(gbase + gyre_path(z, x, y, d))
        fetch(tbase + titiler_path(z, x, y, d))
    runs = tiles[12:-8]
    for conns in [int(c) for c in args.connections.split(",")]:
        # Each run its own slice of tiles: no tile is asked twice in the session.
        k = conns * 97 % len(runs)
        part = runs[k:] + runs[:k]
        for name, base, path in (("gyre", gbase, gyre_path), ("titiler", tbase, titiler_path)):
            r = wrk(base, lua_for([path(*p) for p in part], f"{name}-{conns}"), conns)
            results[f"{name}_{conns}"] = r
            print(f"{name:8s} {conns:3d} connections: {r['rps']:8.1f} tiles/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
                  + (f", {r['non_2xx']} non-2xx" if r["non_2xx"] else "")
                  + (f", {r['timeouts']} timed out (wrk's 2 s; not in the percentiles)" if r["timeouts"] else ""), flush=True)
        print(f"  ratio {results[f'gyre_{conns}']['rps'] / results[f'titiler_{conns}']['rps']:.1f}x", flush=True)
    results["rss_gyre"] = rss(g.pid)
    results["rss_titiler"] = rss(t.pid)
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
print(f"pixels opaque in both: {results.get('pixels_opaque_in_both', 0):.1%}, agreeing within 8 levels: {results.get('pixels_agreeing_within_8_levels', 0):.1%}")
print(f"memory after: gyre {results.get('rss_gyre', 0) / 2**20:.0f} MiB, titiler (2 workers) {results.get('rss_titiler', 0) / 2**20:.0f} MiB")
print(json.dumps(results))
