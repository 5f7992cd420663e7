"""Recipes against xarray: a daily netCDF archive, xarray's open_mfdataset + to_zarr of it,
and checks of what Gyre's recipes and `gyre publish` wrote.

  recipe_cases.py DIR                  writes DIR/daily/sst_YYYYMMDD.nc for 2020-01-01..24 with
                                       xarray (float32 (1, 45, 90), zlib, each file's times in
                                       days since its own date, as xarray writes them)
  recipe_cases.py --verify STORE N DIR the Zarr store Gyre wrote equals
                                       xarray.open_mfdataset(the first N files).to_zarr(...)
                                       reopened: same variables, dims, dtypes, values,
                                       coordinates and attributes. Prints "ok" or the differences.
  recipe_cases.py --asset ROOT ID      pystac-client finds collection ID at the STAC API ROOT,
                                       and xarray opens its "zarr" asset with the
                                       xarray:open_kwargs (and xarray:storage_options) it
                                       carries; prints the dataset's sizes as JSON.
"""
import glob, json, os, shutil, sys, warnings

import numpy as np
import pandas as pd
import xarray as xr

warnings.simplefilter("ignore")


def generate(out):
    d = os.path.join(out, "daily")
    os.makedirs(d, exist_ok=True)
    lat = np.linspace(-88, 88, 45)
    lon = np.linspace(0, 356, 90)
    rng = np.random.default_rng(7)
    for t in pd.date_range("2020-01-01", "2020-01-24", freq="D"):
        sst = (15 + 10 * np.cos(np.deg2rad(lat))[:, None] + rng.standard_normal((45, 90))).astype("float32")[None]
        sst[0, :3, :5] = np.nan
        ds = xr.Dataset({"sst": (("time", "lat", "lon"), sst, {"units": "degC", "long_name": "sea surface temperature"})},
                        coords={"time": [t], "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
                                "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})},
                        attrs={"title": "daily sst", "source": "recipe_cases.py"})
        ds.to_netcdf(os.path.join(d, f"sst_{t:%Y%m%d}.nc"), encoding={"sst": {"zlib": True, "complevel": 1}})


def verify(store, n, out):
    files = sorted(glob.glob(os.path.join(out, "daily", "*.nc")))[: int(n)]
    ref = os.path.join(out, f"xarray-{n}.zarr")
    shutil.rmtree(ref, ignore_errors=True)
    xr.open_mfdataset(files, combine="by_coords").to_zarr(ref, consolidated=True)
    want = xr.open_zarr(ref).load()
    got = xr.open_zarr(store).load()
    bad = []
    if set(got.variables) != set(want.variables):
        bad.append(f"variables {sorted(got.variables)} vs {sorted(want.variables)}")
    for v in want.variables:
        if v not in got.variables:
            continue
        a, b = got[v], want[v]
        if a.dims != b.dims or a.dtype != b.dtype:
            bad.append(f"{v}: {a.dims} {a.dtype} vs {b.dims} {b.dtype}")
        elif not a.equals(b):
            bad.append(f"{v}: values differ")
        for k, x in b.attrs.items():
            if k not in a.attrs or str(a.attrs[k]) != str(x):
                bad.append(f"{v}: attribute {k} {a.attrs.get(k)!r} vs {x!r}")
    if set(got.coords) != set(want.coords):
        bad.append(f"coordinates {sorted(got.coords)} vs {sorted(want.coords)}")
    for k, x in want.attrs.items():
        if str(got.attrs.get(k)) != str(x):
            bad.append(f"global attribute {k}: {got.attrs.get(k)!r} vs {x!r}")
    print("\n".join(bad) if bad else "ok")
    sys.exit(1 if bad else 0)


def asset(root, cid):
    from pystac_client import Client
    client = Client.open(root)
    ids = [c.id for c in client.get_collections()]
    if cid not in ids:
        sys.exit(f"collection {cid} not among {ids}")
    c = client.get_collection(cid)
    a = c.assets["zarr"]
    kw = dict(a.extra_fields.get("xarray:open_kwargs", {}))
    so = a.extra_fields.get("xarray:storage_options")
    if so:
        kw["storage_options"] = so
    ds = xr.open_dataset(a.href, **kw)
    cube = c.extra_fields.get("cube:dimensions", {})
    print(json.dumps({"sizes": dict(ds.sizes), "media_type": a.media_type, "cube": sorted(cube),
                      "bbox": c.extent.spatial.bboxes[0], "interval": [str(x) for x in c.extent.temporal.intervals[0]]}))


if __name__ == "__main__":
    if sys.argv[1] == "--verify":
        verify(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "--asset":
        asset(sys.argv[2], sys.argv[3])
    else:
        generate(sys.argv[1])
