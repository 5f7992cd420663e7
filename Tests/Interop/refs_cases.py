"""Kerchunk-compatible reference sets: netCDF files, kerchunk's own references to them, and a check
that xarray reads Gyre's references (through fsspec's ReferenceFileSystem) as it reads the files.

  refs_cases.py OUTDIR                 writes, with netCDF4-python (seeded, each file < 200 KB):
                                         nc3/classic.nc     netCDF-3 classic: unlimited time (5
                                                            records), several record variables
                                                            (f8, f4, i2, i1: record padding), a
                                                            non-record f8, _FillValue and NaNs
                                         nc4/single.nc      netCDF-4: zlib+shuffle, zlib only,
                                                            contiguous, fletcher32, never-written
                                                            chunks, a 0-d variable, a dimension
                                                            without a coordinate variable
                                         many/day_NNN.nc    12 files x 3 time steps, chunks (1,y,x)
                                         unequal/part_N.nc  4, 3, 5 time steps, time chunk 1
                                         unequal_bad/part_N.nc  4, 3, 5 steps, time chunk 2: a
                                                            partial chunk in the middle file, so
                                                            no reference set can join them
                                       and kerchunk's references (absolute paths, default inline
                                       thresholds) in kerchunk/{classic,single,many,unequal}.json;
                                       what kerchunk left out is listed in kerchunk/skipped.txt.
  refs_cases.py --verify OUTDIR        for each OUTDIR/gyre/*.json (Gyre's references), with
                                       OUTDIR/gyre/manifest.json mapping its name to
                                       {"sources": [files], "concat_dim": "time" | null}
                                       (or [[files], dim]; relative paths are taken from OUTDIR;
                                       an optional "skip": ["VAR", "VAR:ATTR", ":GLOBALATTR"]
                                       excuses what a tool is known to leave out or get wrong:
                                       only for checking this script against kerchunk's own
                                       output, never for Gyre's),
                                       xarray opens the references (engine zarr, consolidated False)
                                       and the sources (open_dataset, or open_mfdataset nested
                                       along concat_dim) and checks they are equal: the same
                                       variables and dims, values (NaN equal to NaN), dtypes,
                                       attributes and global attributes. Prints a line per
                                       difference and exits 1, or prints "ok N".
  refs_cases.py --values REFS OUT.npz  saves what xarray reads through REFS (any reference JSON):
                                       each variable decoded under its name and undecoded
                                       (decode_cf=False) under "raw/NAME"; strings as unicode.

Attributes the comparison leaves out, because no reference set can carry them through xarray's
zarr backend the way its netCDF backend reports them: none by name. Attribute values are compared
as values (JSON cannot keep an attribute's netCDF type: an i2 attribute comes back as an int),
a one-element list equals a scalar, a string never equals a number, and _FillValue, missing_value,
units and calendar of decoded variables are in .encoding on both sides, so they are not compared
(the decoded values are). Not in the fixture because JSON cannot carry it: a float32 scale_factor
(xarray unpacks to float32 from netCDF but to float64 through zarr's JSON attributes).

kerchunk's own references pass --verify only with these excused (kerchunk 0.2.10), which is how
this script was checked: classic.json "skip": ["t2m:valid_range", ":scales", ":version"]
(NetCDF3ToZarr writes every attribute but scale_factor/add_offset as str(value)); single.json
"skip": ["checked", "crs"] (SingleHdf5ToZarr drops fletcher32 variables above its inline
threshold, and gives the 0-d crs the HDF5 default fill value, so xarray masks it to float64).
"""
import glob, json, os, sys, warnings

import numpy as np
import xarray as xr
import netCDF4

warnings.simplefilter("ignore")

UNITS = "days since 2000-01-01"


# ---------------------------------------------------------------------------------- the files

def classic_file(path):
    rng = np.random.default_rng(31)
    with netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC") as nc:
        nc.createDimension("time", None)
        nc.createDimension("lat", 6)
        nc.createDimension("lon", 8)
        nc.title = "Gyre reference fixture: netCDF-3 classic"
        nc.institution = "Gyre tests – ünïcode"
        nc.history = "written by refs_cases.py"
        nc.Conventions = "CF-1.8"
        nc.version = np.int32(2)
        nc.scales = np.array([0.25, 4.0])
        t = nc.createVariable("time", "f8", ("time",))
        t.units = UNITS
        t.calendar = "standard"
        t.standard_name = "time"
        la = nc.createVariable("lat", "f4", ("lat",))
        la.units = "degrees_north"
        la[:] = np.linspace(-62.5, 62.5, 6)
        lo = nc.createVariable("lon", "f4", ("lon",))
        lo.units = "degrees_east"
        lo[:] = np.arange(8) * 45.0 + 22.5
        t2m = nc.createVariable("t2m", "f4", ("time", "lat", "lon"), fill_value=np.float32(-999.0))
        t2m.units = "K"
        t2m.long_name = "2 metre temperature"
        t2m.valid_range = np.array([150.0, 350.0], dtype="f4")
        count = nc.createVariable("count", "i2", ("time",))  # 2 bytes a record: padded to 4
        count.long_name = "observations per step"
        qc = nc.createVariable("qc", "i1", ("time", "lat"))  # 6 bytes a record: padded to 8
        qc.long_name = "quality flag"
        elev = nc.createVariable("elev", "f8", ("lat", "lon"))
        elev.units = "m"
        elev.long_name = "surface elevation"
        elev[:] = rng.normal(500, 300, (6, 8))
        data = (rng.standard_normal((5, 6, 8)) * 8 + 280).astype("f4")
        data[0, 0, :3] = np.nan
        data[3, 4, 5] = np.nan
        data[2, 1, 1] = -999.0  # the fill value: masked on decode
        for i in range(5):  # one record at a time, as a logger would
            t[i] = i * 1.5
            t2m[i] = data[i]
            count[i] = np.int16(100 + 7 * i)
            qc[i] = rng.integers(-3, 4, 6).astype("i1")


def single_file(path):
    rng = np.random.default_rng(37)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("time", 10)
        nc.createDimension("lat", 20)
        nc.createDimension("lon", 30)
        nc.createDimension("nv", 2)  # a dimension without a coordinate variable
        nc.title = "Gyre reference fixture: netCDF-4"
        nc.institution = "Gyre tests – ünïcode"
        nc.Conventions = "CF-1.8"
        nc.version = np.int32(3)
        nc.scales = np.array([0.5, 2.0])
        t = nc.createVariable("time", "f8", ("time",))
        t.units = UNITS
        t.calendar = "standard"
        t.bounds = "time_bnds"
        t[:] = np.arange(10) + 0.5
        tb = nc.createVariable("time_bnds", "f8", ("time", "nv"))
        tb[:] = np.stack([np.arange(10), np.arange(10) + 1.0], axis=1)
        la = nc.createVariable("lat", "f4", ("lat",))
        la.units = "degrees_north"
        la[:] = np.linspace(-57, 57, 20)
        lo = nc.createVariable("lon", "f4", ("lon",))
        lo.units = "degrees_east"
        lo[:] = np.arange(30) * 12.0
        sst = nc.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, complevel=4, shuffle=True,
                                chunksizes=(2, 10, 15), fill_value=np.float32(1e20))
        sst.units = "degC"
        sst.long_name = "sea surface temperature"
        sst.valid_range = np.array([-5.0, 45.0], dtype="f4")
        sst.grid_mapping = "crs"
        data = (rng.standard_normal((10, 20, 30)) * 4 + 15).astype("f4")
        data[0, 0, :4] = np.nan
        data[5, 7, 9] = np.nan
        data[9, 19, 29] = 1e20  # the fill value: masked on decode
        sst[:] = data
        mask = nc.createVariable("mask", "i1", ("lat", "lon"), contiguous=True)
        mask.flag_values = np.array([0, 1], dtype="i1")
        mask.flag_meanings = "water land"
        mask[:] = (rng.random((20, 30)) > 0.6).astype("i1")
        cnt = nc.createVariable("counts", "i4", ("time", "lat", "lon"), zlib=True, complevel=2, shuffle=False,
                                chunksizes=(5, 20, 30))
        cnt.long_name = "counts, zlib without shuffle"
        cnt[:] = rng.integers(-50000, 50000, (10, 20, 30)).astype("i4")
        chk = nc.createVariable("checked", "f8", ("lat", "lon"), fletcher32=True, chunksizes=(10, 30))
        chk.long_name = "fletcher32 checksummed"
        chk[:] = rng.standard_normal((20, 30))
        sp = nc.createVariable("sparse", "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(2, 10, 15),
                               fill_value=np.float32(-9999.0))
        sp.long_name = "only some chunks written"
        sp[0:2, 0:10, 0:15] = rng.standard_normal((2, 10, 15)).astype("f4")
        sp[4:6, 10:20, 15:30] = rng.standard_normal((2, 10, 15)).astype("f4")
        sp[9, 19, 29] = 1.0  # part of one more chunk
        crs = nc.createVariable("crs", "i4", ())
        crs.grid_mapping_name = "latitude_longitude"
        crs.semi_major_axis = 6378137.0
        crs[...] = 0


def time_file(path, start, n, tchunk, lat=7, lon=9, unlimited=False, seed=0):
    """A netCDF-4 file of n time steps starting at day `start` (units shared by all files)."""
    rng = np.random.default_rng(seed)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("time", None if unlimited else n)
        nc.createDimension("lat", lat)
        nc.createDimension("lon", lon)
        nc.title = "Gyre reference fixture: collection"
        nc.source = os.path.basename(path)
        t = nc.createVariable("time", "i4", ("time",))
        t.units = UNITS
        t.calendar = "standard"
        t[:] = np.arange(start, start + n, dtype="i4")
        la = nc.createVariable("lat", "f4", ("lat",))
        la.units = "degrees_north"
        la[:] = np.linspace(-60, 60, lat)
        lo = nc.createVariable("lon", "f4", ("lon",))
        lo.units = "degrees_east"
        lo[:] = np.arange(lon) * (360.0 / lon)
        tas = nc.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=3,
                                chunksizes=(tchunk, lat, lon), fill_value=np.float32(np.nan))
        tas.units = "K"
        tas.long_name = "air temperature"
        data = (rng.standard_normal((n, lat, lon)) * 5 + 285).astype("f4")
        data[0, 0, 0] = np.nan
        tas[:] = data
        pr = nc.createVariable("pr", "i2", ("time", "lat", "lon"), zlib=True, chunksizes=(tchunk, lat, lon),
                               fill_value=np.int16(-1))
        pr.units = "mm"
        pr.scale_factor = 0.25
        pr.set_auto_maskandscale(False)
        pr[:] = rng.integers(-1, 400, (n, lat, lon)).astype("i2")


# ----------------------------------------------------------------------------- kerchunk side

def kerchunk_refs(out):
    from kerchunk.combine import MultiZarrToZarr
    from kerchunk.hdf import SingleHdf5ToZarr
    from kerchunk.netCDF3 import NetCDF3ToZarr

    kdir = os.path.join(out, "kerchunk")
    os.makedirs(kdir, exist_ok=True)
    skipped = []

    def hdf(path):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            h = SingleHdf5ToZarr(path)
            refs = h.translate()
            if hasattr(h, "close"):  # kerchunk >= 0.2.10
                h.close()
        for w in caught:
            text = str(w.message)
            if "quashed" in text:
                reason = text.splitlines()[1] if len(text.splitlines()) > 1 else text
                skipped.append(f"{os.path.relpath(path, out)}: {reason}")
        return refs

    def missing(name, refs, sources):
        """Variables of the sources that kerchunk did not reference."""
        have = {k.split("/")[0] for k in refs["refs"] if k.endswith("/.zarray")}
        with xr.open_dataset(sources[0], decode_cf=False) as ds:
            for v in ds.variables:
                if v not in have:
                    skipped.append(f"{name}: variable {v} not referenced")

    def save(name, refs, sources):
        missing(name, refs, sources)
        with open(os.path.join(kdir, name), "w") as f:
            json.dump(refs, f)

    classic = os.path.abspath(os.path.join(out, "nc3", "classic.nc"))
    save("classic.json", NetCDF3ToZarr(classic).translate(), [classic])
    single = os.path.abspath(os.path.join(out, "nc4", "single.nc"))
    save("single.json", hdf(single), [single])
    for name, sub, pattern in (("many.json", "many", "day_*.nc"), ("unequal.json", "unequal", "part_*.nc")):
        files = sorted(os.path.abspath(p) for p in glob.glob(os.path.join(out, sub, pattern)))
        mzz = MultiZarrToZarr([hdf(p) for p in files], concat_dims=["time"], identical_dims=["lat", "lon"])
        save(name, mzz.translate(), files)
    skipped.append("unequal_bad: not referenced: time chunk 2 over files of 4, 3, 5 steps leaves a partial "
                   "chunk inside the aggregate; kerchunk's MultiZarrToZarr accepts it without error and "
                   "maps part_2's chunks onto the wrong (overlapping) chunk keys")
    with open(os.path.join(kdir, "skipped.txt"), "w") as f:
        f.write("".join(line + "\n" for line in skipped))


def generate(out):
    for sub in ("nc3", "nc4", "many", "unequal", "unequal_bad"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    classic_file(os.path.join(out, "nc3", "classic.nc"))
    single_file(os.path.join(out, "nc4", "single.nc"))
    for i in range(12):
        time_file(os.path.join(out, "many", f"day_{i:03d}.nc"), 3 * i, 3, 1, seed=100 + i)
    start = 0
    for i, n in enumerate((4, 3, 5)):
        time_file(os.path.join(out, "unequal", f"part_{i}.nc"), start, n, 1, unlimited=True, seed=200 + i)
        time_file(os.path.join(out, "unequal_bad", f"part_{i}.nc"), start, n, 2, unlimited=True, seed=300 + i)
        start += n
    kerchunk_refs(out)


# ---------------------------------------------------------------------------------- reading

def remote_protocol(path):
    """The protocol of the files a reference set points at (its first URL's), as fsspec needs it."""
    with open(path) as f:
        doc = json.load(f)
    templates = doc.get("templates", {}) if doc.get("version") == 1 else {}
    refs = doc["refs"] if doc.get("version") == 1 else doc
    for v in refs.values():
        if isinstance(v, list) and v and isinstance(v[0], str):
            url = v[0]
            for k, t in templates.items():
                url = url.replace("{{" + k + "}}", t)
            return url.split("://")[0] if "://" in url else "file"
    return "file"


def open_refs(path, **kw):
    proto = remote_protocol(path)
    if proto == "file":
        return xr.open_dataset("reference://", engine="zarr", chunks=None, **kw,
                               backend_kwargs={"consolidated": False, "storage_options": {"fo": path, "remote_protocol": "file"}})
    # Remote files: the reference filesystem made here (xarray's own would read the JSON
    # through a synchronous filesystem beside an asynchronous one, which fsspec refuses).
    import fsspec, zarr
    fs = fsspec.filesystem("reference", fo=path, remote_protocol=proto, asynchronous=True, remote_options={"asynchronous": True})
    return xr.open_dataset(zarr.storage.FsspecStore(fs, read_only=True), engine="zarr", chunks=None, consolidated=False, **kw)


def open_sources(sources, dim, **kw):
    if dim is None:
        if len(sources) != 1:
            raise ValueError(f"{len(sources)} sources without a concat_dim")
        return xr.open_dataset(sources[0], **kw)
    return xr.open_mfdataset(sources, combine="nested", concat_dim=dim, data_vars="minimal",
                             coords="minimal", compat="override", join="exact", combine_attrs="override", **kw)




def same_value(a, b):
    try:
        a, b = np.asarray(a), np.asarray(b)
        text_a, text_b = a.dtype.kind in "OUS", b.dtype.kind in "OUS"
        if text_a != text_b:
            return False  # "2" is not 2
        if text_a:
            return a.size == b.size and [str(x) for x in a.ravel()] == [str(x) for x in b.ravel()]
        if a.size != b.size:
            return False
        return bool(np.array_equal(a.ravel(), b.ravel(), equal_nan=a.dtype.kind == "f" or b.dtype.kind == "f"))
    except Exception:
        return False


def attr_diffs(where, got, want, skip=()):
    bad = []
    for k in sorted(set(got) | set(want)):
        if k in skip:
            continue
        if k not in got:
            bad.append(f"{where}: attribute {k} missing (want {want[k]!r})")
        elif k not in want:
            bad.append(f"{where}: attribute {k}={got[k]!r} not in the source")
        elif not same_value(got[k], want[k]):
            bad.append(f"{where}: attribute {k}={got[k]!r}, want {want[k]!r}")
    return bad


def compare(name, got, want, skip=()):
    """What differs between got (read through references) and want (read from the sources)."""
    skip_vars = {s for s in skip if ":" not in s}
    skip_attrs = {}
    for s in skip:
        if ":" in s:
            v, a = s.split(":", 1)
            skip_attrs.setdefault(v, set()).add(a)
    bad = []
    if dict(got.sizes) != dict(want.sizes):
        bad.append(f"{name}: dims {dict(got.sizes)} != {dict(want.sizes)}")
    extra = sorted(set(got.variables) - set(want.variables) - skip_vars)
    if extra:
        bad.append(f"{name}: variables not in the sources: {extra}")
    for v in want.variables:
        if v in skip_vars:
            continue
        if v not in got.variables:
            bad.append(f"{name} {v}: missing")
            continue
        g, w = got[v].variable, want[v].variable
        where = f"{name} {v}"
        if g.dims != w.dims:
            bad.append(f"{where}: dims {g.dims} != {w.dims}")
            continue
        if g.dtype != w.dtype:
            bad.append(f"{where}: dtype {g.dtype} != {w.dtype}")
        if (v in want.coords) != (v in got.coords):
            bad.append(f"{where}: coordinate in one, data variable in the other")
        try:
            if not g.equals(w):
                gv, wv = g.values, w.values
                if gv.shape != wv.shape:
                    bad.append(f"{where}: shape {gv.shape} != {wv.shape}")
                else:
                    diff = ~((gv == wv) | (xr.core.duck_array_ops.isnull(gv) & xr.core.duck_array_ops.isnull(wv)))
                    idx = np.argwhere(diff)
                    first = tuple(int(i) for i in idx[0]) if len(idx) else ()
                    bad.append(f"{where}: {len(idx)} values differ, first at {first}: "
                               f"{gv[first] if len(idx) else ''!r} != {wv[first] if len(idx) else ''!r}")
        except Exception as e:
            bad.append(f"{where}: reading failed: {e!r}"[:2000])
        bad += attr_diffs(where, g.attrs, w.attrs, skip_attrs.get(v, ()))
    bad += attr_diffs(f"{name} (global)", got.attrs, want.attrs, skip_attrs.get("", ()))
    return bad


def load_manifest(out):
    with open(os.path.join(out, "gyre", "manifest.json")) as f:
        manifest = json.load(f)
    entries = {}
    for name, entry in manifest.items():
        skip = ()
        if isinstance(entry, dict):
            sources, dim, skip = entry["sources"], entry.get("concat_dim"), entry.get("skip", ())
        else:
            sources, dim = entry
        if isinstance(sources, str):
            sources = [sources]
        entries[name] = ([s if os.path.isabs(s) else os.path.join(out, s) for s in sources], dim, list(skip))
    return entries


def verify(out):
    bad = []
    try:
        manifest = load_manifest(out)
    except Exception as e:
        print(f"manifest.json: {e!r}")
        sys.exit(1)
    refs = sorted(p for p in glob.glob(os.path.join(out, "gyre", "*.json")) if os.path.basename(p) != "manifest.json")
    if not refs:
        bad.append("no reference sets in gyre/")
    for path in refs:
        name = os.path.basename(path)
        if name not in manifest:
            bad.append(f"{name}: not in manifest.json")
            continue
        sources, dim, skip = manifest[name]
        try:
            with open_refs(path) as got, open_sources(sources, dim) as want:
                got, want = got.load(), want.load()
                bad += compare(name, got, want, skip)
        except Exception as e:
            bad.append(f"{name}: {e!r}"[:3000])
    missing = sorted(set(manifest) - {os.path.basename(p) for p in refs})
    bad += [f"{name}: in manifest.json but not written" for name in missing]
    if bad:
        print("\n".join(bad))
        sys.exit(1)
    print(f"ok {len(refs)}")


def values(refs, npz):
    arrays = {}
    for key, kw in (("", {}), ("raw/", {"decode_cf": False})):
        with open_refs(refs, **kw) as ds:
            for v in ds.variables:
                a = ds[v].values
                if a.dtype.kind in "OS":
                    a = np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a.ravel()]).reshape(a.shape)
                arrays[key + v] = a
    np.savez(npz, **arrays)


if __name__ == "__main__":
    if sys.argv[1] == "--verify":
        verify(sys.argv[2])
    elif sys.argv[1] == "--values":
        values(sys.argv[2], sys.argv[3])
    else:
        generate(sys.argv[1])
