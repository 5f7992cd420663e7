"""NumPy side of the reduction benchmark: generates the array (once) and times NumPy.

Writes a JSON file {case: {"seconds": best, "checksum": nansum of the result}} that the Swift
side reads to print ratios and to check that both computed the same thing.
"""
import argparse, json, os, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--shape", required=True)
p.add_argument("--data", required=True)
p.add_argument("--out", required=True)
p.add_argument("--repeat", type=int, default=3)
a = p.parse_args()
shape = tuple(int(x) for x in a.shape.split(","))
path = os.path.join(a.data, "reductions_" + "x".join(map(str, shape)) + ".npy")
if not os.path.exists(path):
    rng = np.random.default_rng(42)
    t, ny, nx = shape
    lat = np.linspace(-89.75, 89.75, ny)
    base = (28 - 30 * np.sin(np.deg2rad(lat)) ** 2).astype(np.float32)[:, None]
    arr = np.empty(shape, dtype=np.float32)
    land = rng.random((ny, nx)) < 0.3
    for i in range(t):
        arr[i] = base + rng.standard_normal((ny, nx), dtype=np.float32)
        arr[i][land] = np.nan
    np.save(path + ".tmp.npy", arr)
    os.replace(path + ".tmp.npy", path)
arr = np.load(path)

cases = {}
ops = {
    "sum": np.sum,
    "mean": np.mean,
    "nanmean": np.nanmean,
    "std": np.std,
}
for name, f in ops.items():
    for axis in range(arr.ndim):
        best = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            r = f(arr, axis=axis)
            best = min(best, time.perf_counter() - t0)
        cases[f"{name} axis={axis}"] = {"seconds": best, "checksum": float(np.nansum(r, dtype=np.float64))}
        print(f"  numpy {name} axis={axis}: {best:.3f} s", flush=True)
with open(a.out, "w") as fh:
    json.dump(cases, fh)
