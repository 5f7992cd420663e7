"""xarray computes the expressions `gyre eval` is checked against.

Usage: compute_cases.py OUTDIR. Writes two Zarr stores (NaNs, descending latitudes, odd
chunkings; one on a standard calendar, one noleap, one 360_day) and, for each case, the
expression Gyre evaluates and xarray's result: dims, shape, values (NaN as null) and the
coordinates along the result's dimensions.
"""
import json, os, sys, warnings
import numpy as np, pandas as pd, xarray as xr

warnings.simplefilter("ignore")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)

def cube(times, name):
    nt = len(times)
    lat = np.linspace(60, -60, 7)          # descending
    lon = np.arange(0, 360, 60.0)
    sst = (10 + 5 * rng.standard_normal((nt, 7, 6))).astype("f4")
    sst[rng.random(sst.shape) < 0.08] = np.nan
    sst[:, 3, 2] = np.nan                  # one all-NaN column
    err = rng.random((nt, 7, 6)).astype("f4")
    depth = np.arange(42.0).reshape(7, 6)  # a variable without time
    ds = xr.Dataset({"sst": (("time", "lat", "lon"), sst), "err": (("time", "lat", "lon"), err),
                     "depth": (("lat", "lon"), depth)},
                    coords={"time": times, "lat": lat, "lon": lon,
                            # non-index coordinates: interp must interpolate them too
                            "area": (("lat", "lon"), np.cos(np.deg2rad(lat))[:, None] * np.linspace(1, 2, 6)),
                            "zone": ("lat", np.array([3, 2, 2, 1, 2, 2, 3], dtype="i4"))})
    path = os.path.join(out, name)
    ds.to_zarr(path, mode="w", zarr_format=2, consolidated=True,
               encoding={"sst": {"chunks": (37, 3, 4)}, "err": {"chunks": (50, 7, 6)}})
    return xr.open_zarr(path, consolidated=True).load()

stores = {
    "standard.zarr": cube(pd.date_range("2000-01-01", periods=760, freq="D"), "standard.zarr"),
    "noleap.zarr": cube(xr.date_range("2001-01-01", periods=730, freq="D", calendar="noleap", use_cftime=True), "noleap.zarr"),
    "360day.zarr": cube(xr.date_range("2001-01-01", periods=720, freq="D", calendar="360_day", use_cftime=True), "360day.zarr"),
}

EXPRS = [
    'sst.mean("time")',
    'sst.mean()',
    'sst.sum(("lat", "lon"))',
    'sst.std("time")',
    'sst.var("lon", ddof=1)',
    'sst.min("time")',
    'sst.max(("time", "lon"))',
    'sst.count("time")',
    'sst.median("time")',
    'sst.quantile(0.9, dim="time")',
    'sst.mean("time", skipna=False)',
    # sst's NaNs make every skipna=False result above NaN: these check finite values without skipping
    'err.mean("time", skipna=False)',
    'err.std(("lat", "lon"), skipna=False)',
    'sst.fillna(0).mean("time", skipna=False)',
    'sst.groupby("time.month").mean()',
    'sst.groupby("time.month").std()',
    'sst.groupby("time.season").max()',
    'sst.groupby("time.year").count()',
    'sst.groupby("time.dayofyear").mean()',
    'sst.groupby("time.month").median()',
    'sst.groupby("time.month").first()',
    'sst.groupby("time.month").last()',
    'sst.sel(time=slice("2001-03-01", "2001-12-30")).groupby("time.month").mean()',
    '(sst.groupby("time.month") - sst.groupby("time.month").mean()).mean(("lat", "lon"))',
    'sst.weighted(np.cos(np.deg2rad(sst.lat))).mean(("lat", "lon"))',
    'sst.weighted(np.cos(np.deg2rad(sst.lat))).sum("lat")',
    'sst.rolling(time=30).mean().isel(lat=0, lon=0)',
    'sst.rolling(time=365, center=True, min_periods=1).mean().isel(lat=0, lon=0)',
    'sst.rolling(time=7, center=True).max().isel(lat=1)',
    'sst.rolling(time=10, min_periods=3).std().isel(lon=5)',
    'sst.where(sst > 10).count("time")',
    'sst.where(sst > 10, -1.0).mean("time")',
    'sst.fillna(0).sum("time")',
    'sst.clip(5, 15).mean("time")',
    'sst.isnull().sum("time")',
    'sst.diff("time").mean("time")',
    'sst.shift(time=3).isel(lat=2, lon=1)',
    'sst.cumsum("time").isel(lat=0, lon=1)',
    '(sst - sst.mean("time")).isel(time=5)',
    'np.sqrt(np.abs(sst)).mean("time")',
    'ds[["sst", "err"]].max()',
    '(sst * 2 + err).isel(time=slice(10, 20)).mean("time")',
    'sst.isel(time=-1) - sst.isel(time=0)',
    # resample: period starts and ends, multiples, anchors, closed/label, empty bins
    'sst.resample(time="1YS").mean()',
    '(sst - sst.mean("time")).resample(time="1YS").mean()',
    'sst.resample(time="MS").max()',
    'sst.resample(time="ME").sum()',
    'sst.resample(time="QS-DEC").mean()',
    'sst.resample(time="QE").std()',
    'sst.resample(time="YE").median()',
    'sst.resample(time="5D").mean().isel(lat=0)',
    'sst.resample(time="W").count().isel(lon=0)',
    'sst.resample(time="2MS", closed="right", label="right").mean().isel(lat=1)',
    'sst.isel(time=slice(3, 400)).resample(time="QE").first()',
    'sst.isel(time=[0, 1, 2, 100, 101, 400]).resample(time="MS").mean()',
    'sst.isel(time=[0, 1, 2, 100, 101, 400]).resample(time="MS").sum()',
    'sst.isel(time=[0, 1, 2, 100, 101, 400]).resample(time="MS").count()',
    # coarsen
    'sst.coarsen(time=7, boundary="trim").mean()',
    'sst.coarsen(lat=7, lon=2).max()',
    'sst.coarsen(time=10).sum()',
    'sst.coarsen(time=30, lon=4, boundary="trim").count()',
    'sst.coarsen(time=5).median().isel(lat=0)',
    'sst.coarsen(time=7, boundary="pad").mean()',
    'sst.coarsen(lat=2, lon=4, boundary="pad").max()',
    'sst.coarsen(time=11, boundary="pad").count()',
    # interp (linear, 1-D) and dropna
    'sst.interp(lat=[55.0, 0.0, -12.5, 70.0]).isel(time=0)',
    'sst.interp(lon=100.0).mean("time")',
    'sst.isel(lat=0, lon=0).interp(time=["2001-03-01T12:00:00", "2001-07-04T06:00:00"])',
    'sst.interp(lat=[55.0, 0.0, -12.5, 70.0]).area',
    'sst.interp(lat=[55.0, 0.0, -12.5, 70.0]).zone',
    'sst.interp(lat=-35.0).zone',
    'sst.isel(lat=3).dropna("lon", how="all").mean("time")',
    'sst.mean("time").dropna("lat")',
    'sst.isel(time=slice(0, 40)).dropna("time", how="any").count()',
    # Dataset-level groupby and resample: every data variable (depth, without time, is spread)
    'ds.groupby("time.month").mean()',
    'ds.groupby("time.year").count()',
    'ds.resample(time="QS-DEC").max()',
    'ds.resample(time="1YS").median()',
    '(ds.groupby("time.season") - ds.groupby("time.season").mean()).mean(("lat", "lon"))',
    '(ds.groupby("time.month") / sst.groupby("time.month").std()).isel(lat=0, lon=0)',
]

cases = []
def iso(x):
    if isinstance(x, np.datetime64):
        return pd.Timestamp(x).strftime("%Y-%m-%dT%H:%M:%S")
    return x.strftime("%Y-%m-%dT%H:%M:%S")

def result(store, e, var, names, r):
    if r.dtype == bool:
        r = r.astype("i8")
    coords = {}
    for d in r.dims:
        if d in r.coords:
            v = r.coords[d].values
            if np.issubdtype(v.dtype, np.number):
                coords[d] = [float(x) for x in v]
            elif np.issubdtype(v.dtype, np.datetime64) or (v.dtype == object and len(v) and hasattr(v[0], "calendar")):
                coords[d] = ["t:" + iso(x) for x in v]
            else:
                coords[d] = [str(x) for x in v]
    vals = [None if np.isnan(x) else float(x) for x in np.asarray(r.values, dtype="f8").ravel()]
    return {"store": store, "expr": e, "variable": var, "variables": names, "dims": list(r.dims), "shape": list(r.shape),
            "values": vals, "coords": coords}

for store, ds in stores.items():
    env = {"ds": ds, "np": np, "sst": ds.sst, "err": ds.err}
    for e in EXPRS:
        try:
            # flox's resample count gives NaN where a non-empty bin counts 0, and flox passes a
            # dataset's variables without the grouped dimension through unreduced (count gives
            # the values); xarray without flox (and pandas) give 0, and count 1 per value, which
            # is what Gyre gives.
            with xr.set_options(use_flox=not ("count" in e and ("resample" in e or e.startswith("ds.")))):
                r = eval(e, {}, env)
        except Exception as exc:   # not defined for this calendar in xarray: not a case
            print(f"{store}: {e}: xarray: {exc}", file=sys.stderr)
            continue
        # A dataset gives one case per data variable, and the list of its data variables.
        parts = [(k, r[k]) for k in r.data_vars] if isinstance(r, xr.Dataset) else [(None, r)]
        names = list(r.data_vars) if isinstance(r, xr.Dataset) else None
        for var, r in parts:
            cases.append(result(store, e, var, names, r))
json.dump(cases, open(os.path.join(out, "cases.json"), "w"))
