"""References and recipes (issue 27): Gyre against kerchunk, xarray + fsspec and xarray's
open_mfdataset + to_zarr, in one run, on the netCDF benchmark's files
(bench_common.netcdf_files, written once).

  refs_bench.py --dir DIR --gyre PATH/TO/gyre [--quick] [--repeat N]

(a) references for the 20 netCDF-4 files of (73, 360, 720) float32, zlib (one chunk each),
    combined along time: kerchunk's SingleHdf5ToZarr + MultiZarrToZarr + json.dump, against
    `gyre refs create DIR/big/*.nc -o refs.json`;
(b) the same for the 4,000 small one-day files;
(c) the time mean of sst read through the references: xarray.open_dataset("reference://",
    engine="zarr", chunks={}) on kerchunk's references with dask (2 threads), against
    `gyre eval refs.json "sst.mean()"` on Gyre's. The two means must agree;
(d) the 20 files into one Zarr v3 store (zstd level 3, chunks of 73 days):
    xarray.open_mfdataset(...).to_zarr(...) with dask (2 threads), against `gyre recipe run`
    of a recipe listing the files (which also checks the target against the sources).
Each case is timed `repeat` times (wall clock, the Gyre side a whole process); the median is
reported, with the ratio peer / Gyre.
"""
import argparse, glob, json, os, subprocess, sys, time, warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True)
p.add_argument("--gyre", required=True)
p.add_argument("--quick", action="store_true")
p.add_argument("--repeat", type=int, default=3)
p.add_argument("--cases", default="refs,mean,recipe",
               help="which cases to run, comma-separated: refs (both file sets), mean (needs refs made once), recipe")
a = p.parse_args()
CASES = set(a.cases.split(","))
NFILES, NT, NY, NX, NSMALL = (20, 73, 360, 720, 4000) if not a.quick else (4, 5, 36, 72, 200)
bench_common.netcdf_files(a.dir, NFILES, NT, NY, NX, NSMALL)
warnings.simplefilter("ignore")

import dask, xarray as xr
from kerchunk.combine import MultiZarrToZarr
from kerchunk.hdf import SingleHdf5ToZarr

dask.config.set(scheduler="threads", num_workers=2)
out_dir = os.path.join(a.dir, "refs")
os.makedirs(out_dir, exist_ok=True)


def median(f, settle=False):
    times, r = [], None
    for _ in range(a.repeat):
        if settle:
            os.sync()  # the previous run's written pages reach the disk before this one starts
        t = time.perf_counter()
        r = f()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], r


def kerchunk(files, path):
    def one(f):
        h = SingleHdf5ToZarr(f)
        r = h.translate()
        if hasattr(h, "close"):
            h.close()
        return r
    refs = MultiZarrToZarr([one(f) for f in files], concat_dims=["time"], identical_dims=["lat", "lon"]).translate()
    with open(path, "w") as f:
        json.dump(refs, f)


def gyre(*args):
    r = subprocess.run([a.gyre, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"gyre {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return r.stdout


rows = []
for label, sub in () if "refs" not in CASES else (("references, %d netCDF-4 files" % NFILES, "big"), ("references, %d small files" % NSMALL, "small")):
    files = sorted(glob.glob(os.path.join(a.dir, sub, "*.nc")))
    kpath, gpath = os.path.join(out_dir, f"kerchunk-{sub}.json"), os.path.join(out_dir, f"gyre-{sub}.json")
    tk, _ = median(lambda: kerchunk(files, kpath))
    tg, _ = median(lambda: gyre("refs", "create", os.path.join(a.dir, sub, "*.nc"), "-o", gpath, "--overwrite"))
    rows.append((label, tk, tg))

kpath, gpath = os.path.join(out_dir, "kerchunk-big.json"), os.path.join(out_dir, "gyre-big.json")


def xarray_mean():
    ds = xr.open_dataset("reference://", engine="zarr", chunks={},
                         backend_kwargs={"consolidated": False, "storage_options": {"fo": kpath, "remote_protocol": "file"}})
    return float(ds["sst"].mean().compute())


if "mean" in CASES:
    tx, mx = median(xarray_mean)
    tg, text = median(lambda: gyre("eval", gpath, "sst.mean()", "--json"))


def first_number(j):
    if isinstance(j, (int, float)) and not isinstance(j, bool):
        return float(j)
    for v in (j.values() if isinstance(j, dict) else j if isinstance(j, list) else []):
        n = first_number(v)
        if n is not None:
            return n
    return None


if "mean" in CASES:
    mg = first_number(json.loads(text))
    if abs(mg - mx) > 1e-4 * max(1.0, abs(mx)):
        sys.exit(f"the means differ: Gyre {mg}, xarray {mx}")
    rows.append(("time mean through the references", tx, tg))

# (d) the recipe against open_mfdataset + to_zarr.
import shutil
import zarr.codecs
big = sorted(os.path.abspath(p) for p in glob.glob(os.path.join(a.dir, "big", "*.nc")))
xz, gz = os.path.abspath(os.path.join(out_dir, "xarray.zarr")), os.path.abspath(os.path.join(out_dir, "recipe.zarr"))


def xarray_convert():
    shutil.rmtree(xz, ignore_errors=True)
    ds = xr.open_mfdataset(big, combine="by_coords").chunk({"time": NT})
    ds.to_zarr(xz, zarr_format=3, mode="w", consolidated=True,
               encoding={"sst": {"compressors": [zarr.codecs.ZstdCodec(level=3)], "chunks": (NT, NY, NX)}})


recipe = os.path.join(out_dir, "recipe.yaml")
with open(recipe, "w") as f:
    f.write("name: bench\nsource:\n  files:\n" + "".join(f"    - {p}\n" for p in big)
            + f"  concat_dim: time\ntarget: {{url: {gz}, format: zarr3, chunks: {{time: {NT}}}, codec: 'zstd:3'}}\n")


def gyre_recipe():
    gyre("recipe", "run", recipe, "--overwrite")


if "recipe" in CASES:
    tx, _ = median(xarray_convert, settle=True)
    tg, _ = median(gyre_recipe, settle=True)
    a_ = xr.open_zarr(xz)["sst"]
    b_ = xr.open_zarr(gz)["sst"]
    if not bool((a_.isel(time=slice(0, 3)) == b_.isel(time=slice(0, 3))).all()):
        sys.exit("the recipe's store differs from xarray's")
    rows.append(("recipe: 20 files into Zarr v3 (zstd-3)", tx, tg))

print(f"{'case':<40} {'peer s':>9} {'Gyre s':>9} {'ratio':>7}")
for label, tp, tg in rows:
    print(f"{label:<40} {tp:9.3f} {tg:9.3f} {tp / tg:6.1f}x")
