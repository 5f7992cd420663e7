"""xarray writes (and checks) the datasets Gyre's Zarr backend is compared against.

  xarray_zarr_cases.py OUTDIR           xarray writes one dataset as Zarr v2 and v3 (times, coords,
                                        NaNs, packed ints, strings, attributes) and describes what
                                        xarray decodes (meta.json, one .npy/.json per variable)
  xarray_zarr_cases.py --verify OUTDIR  xarray opens Gyre's stores (gyre-v2.zarr, gyre-v3.zarr) and
                                        checks they equal the original; exits 1 otherwise
"""
import json, os, sys, warnings
import numpy as np, pandas as pd, xarray as xr

warnings.simplefilter("ignore")

def dataset():
    rng = np.random.default_rng(9)
    time = pd.date_range("2001-01-01", periods=10, freq="D")
    lat = np.array([10.0, 20.0, 30.0])
    lon = np.array([100.0, 110.0, 120.0, 130.0])
    sst = (rng.standard_normal((10, 3, 4)) * 3 + 20).astype("f4")
    sst[0, 0, 0] = np.nan
    ds = xr.Dataset(
        {"sst": (("time", "lat", "lon"), sst, {"units": "degC", "long_name": "sea surface temperature"}),
         "flag": (("lat", "lon"), rng.integers(0, 5, (3, 4)).astype("i2"), {"flag_values": [0, 1, 2, 3, 4]}),
         "packed": (("time",), np.linspace(0, 9, 10), {})},
        coords={"time": time, "lat": ("lat", lat, {"units": "degrees_north"}), "lon": lon,
                "station": ("lon", np.array(["a", "bb", "ccc", "dddd"], dtype=object))},
        attrs={"title": "xarray interop", "version": 3, "scale": 1.5})
    ds["packed"].encoding = {"dtype": "int16", "scale_factor": 0.1, "add_offset": 0.0, "_FillValue": -999}
    ds["packed"][3] = np.nan
    return ds

def describe(ds, out):
    meta = {"vars": {}, "attrs": {k: (v.item() if hasattr(v, "item") else v) for k, v in ds.attrs.items()}}
    for name, v in ds.variables.items():
        vals = v.values
        if vals.dtype.kind in "OUT":
            json.dump([str(x) for x in vals.ravel()], open(os.path.join(out, name + ".json"), "w"))
            f = name + ".json"
        else:
            np.save(os.path.join(out, name + ".npy"), vals)
            f = name + ".npy"
        meta["vars"][name] = {"dims": list(v.dims), "coord": name in ds.coords, "file": f,
                              "attrs": {k: (val.tolist() if hasattr(val, "tolist") else val) for k, val in v.attrs.items()}}
    json.dump(meta, open(os.path.join(out, "meta.json"), "w"))

if sys.argv[1] == "--verify":
    out = sys.argv[2]
    want = dataset()
    bad = []
    for fmt, name in ((2, "gyre-v2.zarr"), (3, "gyre-v3.zarr"), (3, "conv-v3.zarr"), (2, "conv-v2.zarr")):
        if not os.path.exists(os.path.join(out, name)):
            bad.append(f"{name} was not written"); continue
        try:
            got = xr.open_zarr(os.path.join(out, name), zarr_format=fmt).load()
            xr.testing.assert_equal(got, want)
            for name in want.variables:
                if dict(got[name].attrs) != dict(want[name].attrs):
                    bad.append(f"{fmt} {name}: attrs {dict(got[name].attrs)} != {dict(want[name].attrs)}")
            if dict(got.attrs) != dict(want.attrs):
                bad.append(f"v{fmt}: global attrs {dict(got.attrs)} != {dict(want.attrs)}")
        except Exception as e:
            bad.append(f"v{fmt}: {e!r}"[:2000])
    print("\n".join(bad))
    sys.exit(1 if bad else 0)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
ds = dataset()
for fmt in (2, 3):
    ds.to_zarr(os.path.join(out, f"xr-v{fmt}.zarr"), zarr_format=fmt, mode="w", consolidated=True)
describe(xr.open_zarr(os.path.join(out, "xr-v3.zarr")).load(), out)
def plain(x):
    if isinstance(x, dict): return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)): return [plain(v) for v in x]
    if hasattr(x, "tolist"): return x.tolist()
    return x
for fmt in (2, 3):
    d = xr.open_zarr(os.path.join(out, f"xr-v{fmt}.zarr"), zarr_format=fmt).to_dict(data=False)
    for group in ("coords", "data_vars"):
        for v in d[group].values():
            v["dtype"] = str(v["dtype"])
    json.dump(plain(d), open(os.path.join(out, f"todict-v{fmt}.json"), "w"))
