"""Lazy-compute benchmark: Gyre (`gyre eval`, release build) beside xarray + dask (threaded
scheduler, 2 workers, flox for groupby) on the 1.5 GB (1460, 360, 720) float32 Zarr v2
blosc-lz4 store of the Zarr benchmark. Every case runs in a fresh process of each tool; time is
measured around the computation (xarray: after imports and open; Gyre: the whole command), and
peak memory is the child's maximum resident set size. Prints the ratios.

Usage: compute.py --store bench-data/zarr/v2-blosc-lz4.zarr --gyre PATH/TO/gyre [--repeat N]
"""
import argparse, json, os, shutil, subprocess, sys, time

p = argparse.ArgumentParser()
p.add_argument("--store", required=True)
p.add_argument("--gyre", required=True)
p.add_argument("--repeat", type=int, default=2)
p.add_argument("--case", action="append")
p.add_argument("--peer-case")   # internal: run one xarray case in this process
p.add_argument("--out")
a = p.parse_args()

CASES = {
    "read": ("sst.max()", "ds.sst.max().compute()"),
    "mean": ('sst.mean("time")', 'ds.sst.mean("time").compute()'),
    "climatology": ('sst.groupby("time.month").mean()', 'ds.sst.groupby("time.month").mean().compute()'),
    "weighted": ('sst.weighted(np.cos(np.deg2rad(sst.lat))).mean(("lat", "lon"))',
                 'ds.sst.weighted(np.cos(np.deg2rad(ds.lat))).mean(("lat", "lon")).compute()'),
    "rolling": ('sst.rolling(time=30).mean().isel(lat=0, lon=0)', 'ds.sst.rolling(time=30).mean().isel(lat=0, lon=0).compute()'),
    # The floor of any computation written to a store: the store copied (read, recompressed,
    # written) with no computation, with each of the anomaly's codecs.
    "copy": ('sst', 'ds.sst.drop_encoding().to_dataset(name="sst").to_zarr(OUT, mode="w", zarr_format=2, consolidated=True, encoding={"sst": {"compressors": [numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)]}})'),
    "copy-zstd": ('sst', 'ds.sst.drop_encoding().to_dataset(name="sst").to_zarr(OUT, mode="w", zarr_format=2, consolidated=True, encoding={"sst": {"compressors": [numcodecs.Zstd(level=3)]}})'),
    # Written with the source's codec (blosc lz4, byte shuffle) on both sides, and with zstd-3
    # (zarr-python's default) on both sides.
    "anomaly": ('sst.groupby("time.month") - sst.groupby("time.month").mean()',
                '(ds.sst.groupby("time.month") - ds.sst.groupby("time.month").mean()).chunk(time=73).to_dataset(name="sst").to_zarr(OUT, mode="w", zarr_format=2, consolidated=True, encoding={"sst": {"compressors": [numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)]}})'),
    "anomaly-zstd": ('sst.groupby("time.month") - sst.groupby("time.month").mean()',
                     '(ds.sst.groupby("time.month") - ds.sst.groupby("time.month").mean()).chunk(time=73).to_dataset(name="sst").to_zarr(OUT, mode="w", zarr_format=2, consolidated=True, encoding={"sst": {"compressors": [numcodecs.Zstd(level=3)]}})'),
}
CODECS = {"copy": "blosc:lz4:5:shuffle", "copy-zstd": "zstd:3", "anomaly": "blosc:lz4:5:shuffle", "anomaly-zstd": "zstd:3"}
# A written result beside the plain copy with the same codec.
FLOOR = {"anomaly": "copy", "anomaly-zstd": "copy-zstd"}

if a.peer_case:
    import numpy as np, xarray as xr, dask, numcodecs, warnings
    warnings.simplefilter("ignore")
    dask.config.set(scheduler="threads", num_workers=2)
    xr.set_options(use_flox=True)
    ds = xr.open_zarr(a.store, consolidated=True)
    OUT = a.out
    t0 = time.perf_counter()
    r = eval(CASES[a.peer_case][1])
    dt = time.perf_counter() - t0
    val = None
    if r is not None and hasattr(r, "values"):
        val = float(np.nansum(r.values.astype("f8")))
    print(json.dumps({"seconds": dt, "checksum": val}))
    sys.exit(0)


def add_coordinates(store):
    """The Zarr benchmark's store has no coordinates; give it time (daily from 2000-01-01,
    noleap so 1460 days are four years), lat and lon, as xarray writes them."""
    import numpy as np, zarr
    g = zarr.open_group(store, mode="a", zarr_format=2, use_consolidated=False)
    if "time" in g:
        return
    t, ny, nx = g["sst"].shape
    for name, values, attrs in [
        ("time", np.arange(t, dtype="i8"), {"units": "days since 2000-01-01", "calendar": "noleap", "_ARRAY_DIMENSIONS": ["time"]}),
        ("lat", np.linspace(89.75, -89.75, ny), {"units": "degrees_north", "_ARRAY_DIMENSIONS": ["lat"]}),
        ("lon", np.linspace(0.25, 359.75, nx), {"units": "degrees_east", "_ARRAY_DIMENSIONS": ["lon"]}),
    ]:
        arr = g.create_array(name, shape=values.shape, dtype=values.dtype, chunks=values.shape, fill_value=None)
        arr[...] = values
        arr.attrs.update(attrs)
    zarr.consolidate_metadata(store)


def measured(cmd):
    """Wall time and peak RSS of a child, via wait4."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err.decode()[-3000:]}")
    return out.decode(), wall, usage.ru_maxrss * 1024


add_coordinates(a.store)
tmp = os.path.join(os.path.dirname(os.path.abspath(a.store)), "compute-out")
results = {}
print(f"{'case':<12} {'xarray+dask':>12} {'Gyre':>8} {'speedup':>8} {'peak RSS dask':>14} {'Gyre':>8} {'ratio':>6}  {'Gyre/read':>9}  {'Gyre/copy':>9}")
for case in (a.case or list(CASES)):
    gexpr = CASES[case][0]
    best_py = best_g = None
    for _ in range(a.repeat):
        shutil.rmtree(tmp + "-py.zarr", ignore_errors=True)
        out, _, rss = measured([sys.executable, __file__, "--store", a.store, "--gyre", a.gyre, "--peer-case", case, "--out", tmp + "-py.zarr"])
        r = json.loads(out.strip().splitlines()[-1])
        if best_py is None or r["seconds"] < best_py[0]:
            best_py = (r["seconds"], rss)
        shutil.rmtree(tmp + "-gyre.zarr", ignore_errors=True)
        cmd = [a.gyre, "eval", a.store, gexpr]
        if case in CODECS:
            cmd += ["-o", tmp + "-gyre.zarr", "--format", "zarr2", "--codec", CODECS[case]]
        _, wall, grss = measured(cmd)
        if best_g is None or wall < best_g[0]:
            best_g = (wall, grss)
    results[case] = {"xarray": best_py[0], "xarray_rss": best_py[1], "gyre": best_g[0], "gyre_rss": best_g[1]}
    read = results.get("read", {}).get("gyre")
    print(f"{case:<12} {best_py[0]:>11.2f}s {best_g[0]:>7.2f}s {best_py[0] / best_g[0]:>7.1f}x {best_py[1] / 2**20:>11.0f} MB {best_g[1] / 2**20:>5.0f} MB {best_g[1] / best_py[1]:>6.2f}  "
          f"{(best_g[0] / read) if read else float('nan'):>8.2f}x"
          + (f"  {best_g[0] / results[FLOOR[case]]['gyre']:>8.2f}x" if FLOOR.get(case) in results else ""), flush=True)
shutil.rmtree(tmp + "-py.zarr", ignore_errors=True)
shutil.rmtree(tmp + "-gyre.zarr", ignore_errors=True)
