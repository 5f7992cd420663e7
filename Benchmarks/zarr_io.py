"""Python side of the Zarr I/O benchmark: writes the stores (timing zarr-python and xarray writes),
then times full reads with zarr-python and xarray, and a conversion with xarray.

Writes a JSON file {store: {"write_zarr", "write_xarray", "read_zarr", "read_xarray", "convert_xarray",
"nbytes", "checksum"}} for the Swift side, which times Gyre on the same stores and prints ratios.
"""
import argparse, json, os, shutil, time, warnings
import numpy as np, xarray as xr, zarr, numcodecs, dask
from zarr.codecs import ZstdCodec

# xarray opens Zarr stores as dask arrays when dask is installed: the threaded scheduler with
# 2 workers, as every issue's benchmark names it.
dask.config.set(scheduler="threads", num_workers=2)

warnings.simplefilter("ignore")
p = argparse.ArgumentParser()
p.add_argument("--data", required=True)   # the .npy cube
p.add_argument("--dir", required=True)
p.add_argument("--out", required=True)
a = p.parse_args()
cube = np.load(a.data)
t, ny, nx = cube.shape
chunks = (max(1, t // 20), ny, nx)
stores = {
    "v2-blosc-lz4": dict(zarr_format=2, compressors=numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)),
    "v2-zstd3": dict(zarr_format=2, compressors=numcodecs.Zstd(level=3)),
    "v3-zstd": dict(zarr_format=3, compressors=ZstdCodec(level=3)),
    "v3-zstd-sharded": dict(zarr_format=3, compressors=ZstdCodec(level=3), shards=(chunks[0] * 5, ny, nx)),
}
def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r
result = {}
for name, kw in stores.items():
    path = os.path.join(a.dir, name + ".zarr")
    shutil.rmtree(path, ignore_errors=True)
    fmt = kw["zarr_format"]
    def write_zarr():
        g = zarr.open_group(path, mode="w", zarr_format=fmt)
        arr = g.create_array("sst", shape=cube.shape, chunks=chunks, dtype="f4", fill_value=np.nan,
                             dimension_names=("time", "lat", "lon") if fmt == 3 else None, **{k: v for k, v in kw.items() if k != "zarr_format"})
        if fmt == 2:
            arr.attrs["_ARRAY_DIMENSIONS"] = ["time", "lat", "lon"]
        arr[...] = cube
        zarr.consolidate_metadata(path)
    tw, _ = timed(write_zarr)
    xpath = os.path.join(a.dir, name + "-xr.zarr")
    shutil.rmtree(xpath, ignore_errors=True)
    ds = xr.Dataset({"sst": (("time", "lat", "lon"), cube)})
    enc = {"sst": {"chunks": chunks, "compressors": kw["compressors"]}}
    if "shards" in kw:
        enc["sst"]["shards"] = kw["shards"]
    txw, _ = timed(lambda: ds.to_zarr(xpath, zarr_format=fmt, encoding=enc, consolidated=True, mode="w"))
    shutil.rmtree(xpath, ignore_errors=True)
    tr, data = min((timed(lambda: zarr.open_array(path, path="sst", mode="r")[...]) for _ in range(2)), key=lambda x: x[0])
    txr, _ = min((timed(lambda: xr.open_zarr(path, zarr_format=fmt).load()) for _ in range(2)), key=lambda x: x[0])
    cpath = os.path.join(a.dir, name + "-conv.zarr")
    shutil.rmtree(cpath, ignore_errors=True)
    # dask chunks must not split a shard (or a chunk) of the target; open with one shard each.
    along = kw["shards"][0] if "shards" in kw else chunks[0]
    tc, _ = timed(lambda: xr.open_zarr(path, zarr_format=fmt, chunks={"time": along}).to_zarr(cpath, zarr_format=fmt, mode="w", consolidated=True))
    shutil.rmtree(cpath, ignore_errors=True)
    result[name] = {"write_zarr": tw, "write_xarray": txw, "read_zarr": tr, "read_xarray": txr, "convert_xarray": tc,
                    "nbytes": int(cube.nbytes), "checksum": float(np.nansum(data, dtype=np.float64))}
    print(f"  {name}: zarr-python write {tw:.2f} s, read {tr:.2f} s; xarray write {txw:.2f} s, read {txr:.2f} s, convert {tc:.2f} s", flush=True)
json.dump(result, open(a.out, "w"))
