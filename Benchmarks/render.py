"""Point rendering, Gyre beside datashader (numba) on the same generated points: count and
mean aggregates on a 1000x1000 canvas and the eq_hist shade of the count, datashader's first
call (numba's compile included, from an empty numba cache) and warm calls, on a pandas
DataFrame (datashader's one-thread path) and on a dask DataFrame with one partition per core.
Gyre runs in `gyre-bench render` (release build) on the same .npy files; its aggregates and
image are compared with datashader's in the same run.

    .venv/bin/python Benchmarks/render.py --gyre-bench .build/release/gyre-bench [--points 50e6,300e6]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
W = H = 1000
X_RANGE = (-6.0, 6.0)
Y_RANGE = (-4.0, 4.0)


def generate(n, out):
    out.mkdir(parents=True, exist_ok=True)
    if all((out / f).exists() for f in ("x.npy", "y.npy", "v.npy")):
        return
    rng = np.random.default_rng(2026)
    k = n // 4
    x = np.empty(n)
    y = np.empty(n)
    centres = [(-2, 1, 0.6), (1.5, -1, 1.0), (3, 2, 0.3), (0, 0, 2.5)]
    for i, (cx, cy, s) in enumerate(centres):
        lo, hi = i * k, (n if i == 3 else (i + 1) * k)
        x[lo:hi] = rng.normal(cx, s, hi - lo)
        y[lo:hi] = rng.normal(cy, s * 0.7, hi - lo)
    v = rng.normal(10, 3, n)
    np.save(out / "x.npy", x)
    np.save(out / "y.npy", y)
    np.save(out / "v.npy", v)


PEER = r'''
import json, sys, time
import numpy as np, pandas as pd
d, mode, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.DataFrame({c: np.load(f"{d}/{c}.npy") for c in ("x", "y", "v")})
import datashader as ds, datashader.transfer_functions as tf, colorcet as cc
if mode == "dask":
    import dask, dask.dataframe as dd, os
    dask.config.set(scheduler="threads")
    df = dd.from_pandas(df, npartitions=os.cpu_count()).persist()
cvs = ds.Canvas(plot_width=%d, plot_height=%d, x_range=%r, y_range=%r)
out = {}
res = {}
def run(name, f):
    t = time.perf_counter(); r = f(); first = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter(); r = f(); warm.append(time.perf_counter() - t)
    out[name] = dict(first=first, warm=sorted(warm)[len(warm) // 2])
    return r
count = run("count", lambda: cvs.points(df, "x", "y", agg=ds.count()))
mean = run("mean", lambda: cvs.points(df, "x", "y", agg=ds.mean("v")))
img = run("eq_hist", lambda: tf.shade(count, cmap=cc.fire, how="eq_hist"))
if mode == "pandas":
    np.save(f"{d}/ds-count.npy", count.data)
    np.save(f"{d}/ds-mean.npy", mean.data)
    np.save(f"{d}/ds-eq_hist.npy", np.ascontiguousarray(img.data).view(np.uint8).reshape(img.shape + (4,)))
print(json.dumps(out))
''' % (W, H, X_RANGE, Y_RANGE)


def peer(d, mode, repeat):
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cache-")  # a first call compiles
    r = subprocess.run([sys.executable, "-c", PEER, str(d), mode, str(repeat)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"datashader ({mode}) failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def gyre(binary, d, repeat):
    r = subprocess.run([binary, "render", "--dir", str(d), "--width", str(W), "--height", str(H),
                        "--x-range", f"{X_RANGE[0]},{X_RANGE[1]}", "--y-range", f"{Y_RANGE[0]},{Y_RANGE[1]}",
                        "--repeat", str(repeat)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"gyre-bench render failed: {r.stderr[-2000:]}")
    return {j["case"]: j for j in map(json.loads, r.stdout.strip().splitlines())}


def agreement(d):
    c_ds, c_g = np.load(d / "ds-count.npy"), np.load(d / "gyre-count.npy")
    m_ds, m_g = np.load(d / "ds-mean.npy"), np.load(d / "gyre-mean.npy")
    i_ds, i_g = np.load(d / "ds-eq_hist.npy"), np.load(d / "gyre-eq_hist.npy")
    both = ~np.isnan(m_ds)
    rel = np.max(np.abs(m_g[both] - m_ds[both]) / np.maximum(1, np.abs(m_ds[both]))) if both.any() else 0.0
    nan_same = np.array_equal(np.isnan(m_ds), np.isnan(m_g))
    return dict(count_equal=bool(np.array_equal(c_ds, c_g)), mean_rel=float(rel), mean_nan_same=bool(nan_same),
                eq_hist_max_diff=int(np.max(np.abs(i_ds.astype(int) - i_g.astype(int)))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gyre-bench", default=str(ROOT / ".build/release/gyre-bench"))
    ap.add_argument("--points", default="50e6,300e6")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", default=str(ROOT / "bench-data/render"))
    a = ap.parse_args()
    print(f"canvas {W}x{H}, x {X_RANGE}, y {Y_RANGE}; {os.cpu_count()} cores; warm = median of {a.repeat}")
    print(f"{'points':>8} {'case':8} {'ds first':>9} {'ds warm':>8} {'dask first':>10} {'dask warm':>9} {'gyre first':>10} {'gyre warm':>9}"
          f" {'warm x':>7} {'first x':>8}")
    for n in (int(float(p)) for p in a.points.split(",")):
        d = pathlib.Path(a.data) / f"n{n}"
        t = time.time()
        generate(n, d)
        pd_t = peer(d, "pandas", a.repeat)
        # dask's from_pandas copies the frame: above 100M points both copies do not fit in 24 GiB.
        dk_t = peer(d, "dask", a.repeat) if n <= 100_000_000 else None
        g_t = gyre(a.gyre_bench, d, a.repeat)
        for case in ("count", "mean", "eq_hist"):
            best_warm = min(pd_t[case]["warm"], dk_t[case]["warm"] if dk_t else float("inf"))
            best_first = min(pd_t[case]["first"], dk_t[case]["first"] if dk_t else float("inf"))
            dk_first = f"{dk_t[case]['first']:>10.3f}" if dk_t else f"{'-':>10}"
            dk_warm = f"{dk_t[case]['warm']:>9.3f}" if dk_t else f"{'-':>9}"
            print(f"{n / 1e6:>7.0f}M {case:8} {pd_t[case]['first']:>9.3f} {pd_t[case]['warm']:>8.3f} {dk_first}"
                  f" {dk_warm} {g_t[case]['first']:>10.3f} {g_t[case]['warm']:>9.3f}"
                  f" {best_warm / g_t[case]['warm']:>6.1f}x {best_first / g_t[case]['first']:>7.1f}x")
        print(f"         agreement: {agreement(d)}  ({time.time() - t:.0f} s)")
        sys.stdout.flush()
    print("warm x / first x: datashader's better time (pandas or dask) over Gyre's; goals 1.5x warm and 10x first call")


if __name__ == "__main__":
    main()
