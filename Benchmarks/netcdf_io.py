"""The xarray side of the netCDF benchmarks (issue 4), on files generated here once.

  netcdf_io.py --dir DIR --out PEER.json [--quick]

(a) FILES netCDF-4 files of (73, 360, 720) float32, zlib level 1: open all as one dataset and
    read every value (xarray.open_mfdataset with dask, 2 threads).
(b) SMALL small netCDF files, one day each: time to open them as one dataset.
(c) the files of (a) converted to one Zarr v3 store (zstd level 3, chunks of 73 days).
Each case is timed three times; the median is reported.
"""
import argparse, glob, json, os, shutil, time
import numpy as np, netCDF4, xarray as xr, dask
import bench_common

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True)
p.add_argument("--out", required=True)
p.add_argument("--quick", action="store_true")
a = p.parse_args()
NFILES, NT, NY, NX, NSMALL = (20, 73, 360, 720, 4000) if not a.quick else (4, 5, 36, 72, 200)

big = os.path.join(a.dir, "big"); small = os.path.join(a.dir, "small")
bench_common.netcdf_files(a.dir, NFILES, NT, NY, NX, NSMALL)

dask.config.set(scheduler="threads", num_workers=2)
REPEAT = 3
def timed(f):
    """The median of REPEAT runs (Gyre's side does the same), and the last result."""
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter(); r = f(); times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], r

out = {}
# (a) open all and read every value.
ta, total = timed(lambda: float(xr.open_mfdataset(os.path.join(big, "*.nc"), combine="by_coords", parallel=False)["sst"].sum(skipna=True, dtype="f8").compute()))
out["read"] = {"seconds": ta, "checksum": total, "nbytes": NFILES * NT * NY * NX * 4}
# (b) open thousands of small files as one dataset (metadata only).
tb, ds = timed(lambda: xr.open_mfdataset(os.path.join(small, "*.nc"), combine="by_coords"))
out["open_small"] = {"seconds": tb, "files": NSMALL, "time": int(ds.sizes["time"])}
# (c) convert to Zarr v3, zstd level 3, chunks of NT days.
zpath = os.path.join(a.dir, "xr.zarr")
shutil.rmtree(zpath, ignore_errors=True)
import zarr.codecs
def convert():
    shutil.rmtree(zpath, ignore_errors=True)
    ds = xr.open_mfdataset(os.path.join(big, "*.nc"), combine="by_coords").chunk({"time": NT})
    enc = {"sst": {"compressors": [zarr.codecs.ZstdCodec(level=3)], "chunks": (NT, NY, NX)}}
    ds.to_zarr(zpath, zarr_format=3, mode="w", consolidated=True, encoding=enc)
tc, _ = timed(convert)
out["convert"] = {"seconds": tc}
shutil.rmtree(zpath, ignore_errors=True)
json.dump(out, open(a.out, "w"), indent=1)
print(json.dumps(out))
