"""netCDF4, cftime and xarray write the cases Gyre's CF decoding is checked against.

Usage: cf_cases.py OUTDIR. A real netCDF-4 file is written with netCDF4-python; for each
variable the raw stored values and attributes are saved (as netCDF4 reads them with
auto-masking off), together with
  - xarray's decoded values and dtype (xarray.open_dataset, default decoding),
  - netCDF4-python's decoded values (auto mask and scale, which also applies valid ranges),
  - for times, cftime.num2date's fields (year..microsecond) in the variable's calendar.
"""
import json, os, sys, warnings
import numpy as np
import netCDF4, cftime, xarray as xr

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
warnings.simplefilter("ignore")
path = os.path.join(out, "cases.nc")
rng = np.random.default_rng(3)

with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
    nc.createDimension("x", 8)
    def var(name, dtype, values, **attrs):
        fill = attrs.pop("_FillValue", None)
        v = nc.createVariable(name, dtype, ("x",), fill_value=fill if fill is not None else False)
        v.set_auto_maskandscale(False)
        for k, a in attrs.items():
            v.setncattr(k, a)
        v[:] = np.asarray(values, dtype=dtype)
    raw16 = np.array([0, 100, -32767, 200, -5, 32000, 7, -32767], dtype="i2")
    var("packed_f32", "i2", raw16, _FillValue=np.int16(-32767), scale_factor=np.float32(0.01), add_offset=np.float32(20.0))
    var("packed_f64", "i2", raw16, _FillValue=np.int16(-32767), scale_factor=np.float64(0.01), add_offset=np.float64(20.0))
    var("packed_i32", "i4", raw16.astype("i4"), scale_factor=np.float32(0.5), add_offset=np.float32(1.0))
    var("scale_only", "i2", raw16, scale_factor=np.float32(0.25))
    var("offset_only", "i2", raw16, add_offset=np.float32(3.0))
    var("missing", "i2", raw16, missing_value=np.int16(7))
    var("both_fills", "f4", np.array([1, 2, -999, 4, 1e20, 6, 7, 8], "f4"), _FillValue=np.float32(-999), missing_value=np.float32(1e20))
    var("float_fill", "f8", np.array([1.5, np.nan, 3, -1, 0, 9.96921e36, 2, 2], "f8"), _FillValue=np.float64(9.96921e36))
    var("valid_range", "i2", raw16, valid_range=np.array([-10, 250], "i2"))
    var("valid_minmax", "f4", np.array([-5, 0, 50, 500, 1, 2, 3, 4], "f4"), valid_min=np.float32(0), valid_max=np.float32(100))
    var("unsigned", "i1", np.array([-1, -2, 0, 5, 127, -128, 1, 2], "i1"), _Unsigned="true", _FillValue=np.int8(-1))
    var("u8", "u1", np.array([0, 1, 2, 255, 4, 5, 6, 7], "u1"), _FillValue=np.uint8(255))
    for cal in ["standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day", "all_leap", "366_day", "360_day"]:
        var(f"time_days_{cal}", "f8", np.array([0, 0.5, 31, 59, 365.25, 730, 1e4, 12345.125]), units="days since 2000-01-01", calendar=cal)
        var(f"time_hours_{cal}", "i4", np.array([0, 1, 24, 1416, 8760, -24, 100000, 7]), units="hours since 1990-02-28 06:00:00", calendar=cal)
    var("time_early_standard", "i4", np.array([0, 1, 10, 100, 200, 300, 400, 500]), units="days since 1582-10-01", calendar="standard")
    var("time_year1", "f8", np.array([730119, 730120.5, 730200, 730500, 731000, 731500, 732000, 732500]), units="days since 0001-01-01", calendar="standard")
    var("time_seconds_fill", "i8", np.array([0, 60, -1, 3600, 86400, 7, 8, 9]), units="seconds since 1970-01-01T00:00:00Z", _FillValue=np.int64(-1))

cases = {}
nc = netCDF4.Dataset(path)
ds = xr.open_dataset(path)
def dtype_str(a):
    return a.dtype.str if a.dtype.kind not in "O" else "object"
for name, v in nc.variables.items():
    v.set_auto_maskandscale(False)
    raw = v[:]
    np.save(os.path.join(out, f"{name}.raw.npy"), np.asarray(raw))
    attrs = {}
    for k in v.ncattrs():
        a = v.getncattr(k)
        if isinstance(a, str):
            attrs[k] = {"kind": "str", "value": a}
        else:
            arr = np.atleast_1d(np.asarray(a))
            attrs[k] = {"kind": "num", "dtype": arr.dtype.str, "values": [repr(float(x)) if arr.dtype.kind == "f" else int(x) for x in arr]}
    entry = {"attrs": attrs}
    v.set_auto_maskandscale(True)
    nc4 = v[:]
    if np.ma.isMaskedArray(nc4) and nc4.dtype.kind in "fiu":
        nc4 = nc4.astype("f8").filled(np.nan)
    if np.asarray(nc4).dtype.kind in "fiu":
        np.save(os.path.join(out, f"{name}.netcdf4.npy"), np.asarray(nc4, dtype="f8"))
        entry["netcdf4"] = True
    xv = ds[name].values
    entry["xarray_dtype"] = dtype_str(xv)
    if xv.dtype.kind in "fiuM":
        np.save(os.path.join(out, f"{name}.xarray.npy"), xv)
    if "units" in attrs and "since" in attrs["units"]["value"]:
        cal = attrs.get("calendar", {"value": "standard"})["value"]
        dates = cftime.num2date(np.asarray(raw, dtype="f8"), attrs["units"]["value"], calendar=cal, only_use_cftime_datetimes=True)
        fill = attrs.get("_FillValue")
        fields = []
        for r, d in zip(np.asarray(raw), dates):
            if fill is not None and r == fill["values"][0]:
                fields.append(None)
            else:
                fields.append([d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond])
        entry["cftime"] = fields
        entry["calendar"] = cal
    cases[name] = entry
with open(os.path.join(out, "cases.json"), "w") as fh:
    json.dump(cases, fh)
