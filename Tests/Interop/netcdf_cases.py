"""netCDF4-python writes the files Gyre's netCDF backend is checked against; xarray says what they decode to.

  netcdf_cases.py OUTDIR           writes files across formats (classic, 64-bit offset, CDF-5,
                                   netCDF-4 classic, netCDF-4 with groups), with every numeric type
                                   the format has, strings and char arrays, packed ints, fill values,
                                   every CF calendar, unlimited dims and compression; plus a
                                   multi-file collection and mismatched collections. meta.json says
                                   what xarray decodes for each file/group (values in .npy/.json).
  netcdf_cases.py --verify OUTDIR  xarray opens Gyre's netCDF output (gyre.nc, gyre-mf.nc) and
                                   checks it equals what xarray reads from the inputs.
"""
import json, os, sys, warnings
import numpy as np, xarray as xr, netCDF4

warnings.simplefilter("ignore")
CALENDARS = ["standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day", "all_leap", "366_day", "360_day"]

def numeric_file(path, fmt):
    rng = np.random.default_rng(3)
    with netCDF4.Dataset(path, "w", format=fmt) as nc:
        nc.createDimension("time", None)
        nc.createDimension("y", 3)
        nc.createDimension("x", 5)
        nc.createDimension("nchar", 4)
        nc.title = "formats"
        nc.version = np.int32(7)
        nc.scales = np.array([1.5, 2.5])
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = np.arange(4) * 1.5
        y = nc.createVariable("y", "f4", ("y",)); y[:] = [10, 20, 30]; y.units = "m"
        types = ["i1", "i2", "i4", "f4", "f8"]
        if fmt in ("NETCDF4", "NETCDF3_64BIT_DATA"):
            types += ["u1", "u2", "u4", "i8", "u8"]
        for tp in types:
            v = nc.createVariable(f"v_{tp}", tp, ("time", "y", "x"))
            info = np.iinfo(tp) if tp[0] in "iu" else None
            data = rng.integers(max(info.min, -1000), min(info.max, 1000), (4, 3, 5)) if info else rng.standard_normal((4, 3, 5)) * 10
            v[:] = data.astype(tp)
        # Fill values: explicit, and the default one where nothing was written.
        f = nc.createVariable("filled", "f4", ("time", "x"), fill_value=-99.0)
        f[0:2, :] = rng.standard_normal((2, 5))
        f[1, 3] = -99.0
        m = nc.createVariable("missing", "i2", ("x",))
        m.missing_value = np.int16(-1)
        m[:] = [1, -1, 3, -1, 5]
        # Packed: int16 with scale/offset and a fill value.
        p = nc.createVariable("packed", "i2", ("time", "x"), fill_value=-32767)
        p.scale_factor = 0.01
        p.add_offset = 20.0
        p.set_auto_maskandscale(False)
        raw = rng.integers(-2000, 2000, (4, 5)).astype("i2")
        raw[2, 2] = -32767
        p[:] = raw
        c = nc.createVariable("label", "S1", ("y", "nchar"))
        c[:] = netCDF4.stringtochar(np.array(["ab", "cdef", ""], dtype="S4"))
        s = nc.createVariable("scalar", "f8", ())
        s[...] = 3.25
        s.long_name = "a 0-d variable"

def netcdf4_file(path):
    rng = np.random.default_rng(5)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("time", 6)
        nc.createDimension("lat", 4)
        nc.createDimension("lon", 8)
        nc.Conventions = "CF-1.8"
        nc.names = ["a", "b"]  # NC_STRING attribute list
        lat = nc.createVariable("lat", "f8", ("lat",)); lat[:] = [-60, -20, 20, 60]; lat.units = "degrees_north"
        lon = nc.createVariable("lon", "f8", ("lon",)); lon[:] = np.arange(8) * 45.0
        for cal in CALENDARS:
            t = nc.createVariable(f"time_{cal}", "f8", ("time",))
            t.units = "days since 1999-12-30 06:00"
            t.calendar = cal
            t[:] = [0, 1.5, 31, 59.25, 60, 365]
        sst = nc.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, complevel=4, shuffle=True, chunksizes=(2, 4, 4), fill_value=np.float32(1e20))
        data = (rng.standard_normal((6, 4, 8)) * 3 + 15).astype("f4")
        data[0, 0, :3] = 1e20
        sst[:] = data
        sst.units = "degC"
        sst.coordinates = "station"
        st = nc.createVariable("station", str, ("lon",))
        st[:] = np.array(["alpha", "b", "", "δelta", "e", "f", "g", "h"], dtype=object)
        g = nc.createGroup("ocean")
        g.createDimension("depth", 3)
        g.region = "nested"
        d = g.createVariable("depth", "f4", ("depth",)); d[:] = [0, 10, 50]
        temp = g.createVariable("temp", "f4", ("depth", "lat"), zlib=True)
        temp[:] = rng.standard_normal((3, 4)).astype("f4")
        inner = g.createGroup("deep")
        inner.createDimension("z", 2)
        z = inner.createVariable("z", "i4", ("z",)); z[:] = [1000, 2000]
        w = inner.createVariable("w", "u2", ("z", "lon"))
        w[:] = rng.integers(0, 60000, (2, 8)).astype("u2")

def daily_files(d, n=6, start=0, lat=4, drop=None, units="days since 2001-01-01", overlap=False, tas_units="K", calendar="standard"):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(11)
    for i in range(n):
        # Names in reverse of time order: the combine must sort by coordinate, not by name.
        path = os.path.join(d, f"part-{n - i:02d}.nc")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
            nc.createDimension("time", None)
            nc.createDimension("lat", lat)
            nc.createDimension("lon", 5)
            t = nc.createVariable("time", "i4", ("time",)); t.units = units; t.calendar = calendar
            days = np.arange(3) + 3 * (start + i) - (1 if overlap and i == 2 else 0)
            t[:] = days
            la = nc.createVariable("lat", "f4", ("lat",)); la[:] = np.linspace(-45, 45, lat)
            lo = nc.createVariable("lon", "f4", ("lon",)); lo[:] = np.arange(5) * 72.0
            v = nc.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=1, fill_value=np.float32(np.nan))
            v[:] = (rng.standard_normal((3, lat, 5)) + 280).astype("f4")
            v.units = tas_units
            if drop != i:
                pr = nc.createVariable("pr", "i2", ("time", "lat", "lon"), fill_value=-1)
                pr.scale_factor = 0.5
                pr.set_auto_maskandscale(False)
                pr[:] = rng.integers(-1, 100, (3, lat, 5)).astype("i2")
            mask = nc.createVariable("mask", "i1", ("lat", "lon"))
            mask[:] = np.ones((lat, 5), dtype="i1")

def describe(ds, out, key):
    meta = {"vars": {}, "attrs": sorted(ds.attrs.keys())}
    for name, v in ds.variables.items():
        vals = v.values
        f = f"{key}__{name}".replace("/", "_")
        if vals.dtype.kind in "OUS":
            items = [x.decode() if isinstance(x, bytes) else str(x) for x in vals.ravel()]
            json.dump(items, open(os.path.join(out, f + ".json"), "w"))
            f += ".json"
        else:
            np.save(os.path.join(out, f + ".npy"), vals)
            f += ".npy"
        meta["vars"][name] = {"dims": list(v.dims), "coord": name in ds.coords, "file": f, "dtype": str(vals.dtype),
                              "attrs": sorted(v.attrs.keys())}
    return meta

if sys.argv[1] == "--verify":
    out = sys.argv[2]
    bad = []
    for mine, theirs, opts in (("gyre.nc", "netcdf4.nc", {}), ("gyre-mf.nc", os.path.join("mf", "*.nc"), {"multi": True})):
        try:
            got = xr.open_dataset(os.path.join(out, mine)).load()
            if opts.get("multi"):
                want = xr.open_mfdataset(os.path.join(out, theirs), combine="by_coords", data_vars="minimal", coords="minimal", compat="override").load()
            else:
                want = xr.open_dataset(os.path.join(out, theirs)).load()
            xr.testing.assert_equal(got, want)
            for name in want.variables:
                if set(got[name].attrs) != set(want[name].attrs):
                    bad.append(f"{mine} {name}: attrs {sorted(got[name].attrs)} != {sorted(want[name].attrs)}")
            if dict(got.attrs).keys() != dict(want.attrs).keys():
                bad.append(f"{mine}: global attrs {sorted(got.attrs)} != {sorted(want.attrs)}")
        except Exception as e:
            bad.append(f"{mine}: {e!r}"[:3000])
    print("\n".join(bad))
    sys.exit(1 if bad else 0)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
meta = {"files": {}}
for fmt in ("NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_64BIT_DATA", "NETCDF4_CLASSIC", "NETCDF4"):
    numeric_file(os.path.join(out, f"{fmt}.nc"), fmt)
    meta["files"][f"{fmt}.nc"] = {"/": describe(xr.open_dataset(os.path.join(out, f"{fmt}.nc")).load(), out, fmt), "format": fmt}
netcdf4_file(os.path.join(out, "netcdf4.nc"))
meta["files"]["netcdf4.nc"] = {g: describe(xr.open_dataset(os.path.join(out, "netcdf4.nc"), group=g if g != "/" else None).load(), out, "nc4" + g)
                               for g in ("/", "ocean", "ocean/deep")}
meta["files"]["netcdf4.nc"]["format"] = "NETCDF4"
daily_files(os.path.join(out, "mf"))
mf = xr.open_mfdataset(os.path.join(out, "mf", "*.nc"), combine="by_coords", data_vars="minimal", coords="minimal", compat="override").load()
meta["multi"] = describe(mf, out, "mf")
# Collections that do not fit together.
daily_files(os.path.join(out, "bad-missing"), drop=3)
daily_files(os.path.join(out, "bad-lat"), n=2)
daily_files(os.path.join(out, "bad-lat-more"), n=1, start=2, lat=6)
os.system(f"mv {out}/bad-lat-more/part-01.nc {out}/bad-lat/part-00.nc")
daily_files(os.path.join(out, "bad-overlap"), overlap=True)
daily_files(os.path.join(out, "bad-units"), n=2)
daily_files(os.path.join(out, "bad-units-b"), n=1, start=4, tas_units="degC")
os.system(f"mv {out}/bad-units-b/part-01.nc {out}/bad-units/part-00.nc")
daily_files(os.path.join(out, "bad-calendar"), n=2)
daily_files(os.path.join(out, "bad-calendar-b"), n=1, start=4, calendar="noleap")
os.system(f"mv {out}/bad-calendar-b/part-01.nc {out}/bad-calendar/part-00.nc")
# Units relative to each file's own start (as xarray writes them): not a mismatch.
daily_files(os.path.join(out, "own-units"), n=2)
daily_files(os.path.join(out, "own-units-b"), n=1, start=0, units="hours since 2001-01-10")
os.system(f"mv {out}/own-units-b/part-01.nc {out}/own-units/part-00.nc")
json.dump(meta, open(os.path.join(out, "meta.json"), "w"))
