"""The sources `gyre serve --dataset` serves in the interop test, and the check that xarray reads
each served Zarr view as it reads the source itself.

  dataset_server_cases.py OUTDIR           xarray writes a Zarr v2 store (blosc), a Zarr v3 sharded
                                           store (zstd) and three netCDF-4 files of one dataset
                                           (times, NaNs, packed ints, attributes, coordinates)
  dataset_server_cases.py --check URL DIR NAMES
                                           for each served dataset NAME (v2, s3, v3, nc), xarray opens URL/datasets/NAME/zarr/
                                           with zarr-python 3 (the v3 view, and zarr_format=2 for the
                                           v2 view) and checks assert_identical against the source
                                           opened directly (s3: the v2 store uploaded to a bucket); exits 1
                                           with a report otherwise
  dataset_server_cases.py --edr URL DIR NAMES
                                           for each served dataset NAME, the EDR position, area and cube
                                           answers (CoverageJSON, CSV, netCDF) hold the values xarray's
                                           sel/isel give on the source, and every CoverageJSON answer
                                           passes covjson_validate.py
  dataset_server_cases.py --eval URL DIR NAMES
                                           for each served dataset NAME, xarray opens computed results
                                           as Zarr (/datasets/NAME/eval/TOKEN/zarr/, TOKEN the base64url
                                           of the expression) and finds them equal to xarray computing
                                           the same expressions on the source
  dataset_server_cases.py --zarr2 URL DIR NAMES
                                           in the second venv (zarr-python 2, xarray 2024): xarray opens
                                           each served view (its v2 keys) and finds it identical to the
                                           v2 store read directly (every source holds the same dataset)
  dataset_server_cases.py --signed URL DIR NAME
                                           against a server started with --require-signing: xarray opens
                                           URL/datasets/NAME/zarr/ with an anonymous token sent as
                                           Authorization: SAS (storage_options headers) and finds it
                                           identical to the source; without the token, and with a tampered
                                           one, the read is refused (403); a signed EDR href works as is
"""
import os, sys, warnings
import numpy as np, pandas as pd, xarray as xr

warnings.simplefilter("ignore")


def dataset():
    rng = np.random.default_rng(24)
    time = pd.date_range("2002-01-01", periods=12, freq="D")
    lat = np.linspace(-30, 30, 5)
    lon = np.linspace(0, 350, 8)
    sst = (rng.standard_normal((12, 5, 8)) * 2 + 18).astype("f4")
    sst[1, 2, 3] = np.nan
    ds = xr.Dataset(
        {"sst": (("time", "lat", "lon"), sst, {"units": "degC", "long_name": "sea surface temperature"}),
         "count": (("time", "lat"), rng.integers(0, 100, (12, 5)).astype("i4"), {"long_name": "observations"}),
         "packed": (("time",), np.linspace(0, 11, 12), {"units": "m"})},
        coords={"time": time, "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
        attrs={"title": "served dataset", "version": 2})
    ds["packed"].encoding = {"dtype": "int16", "scale_factor": 0.5, "add_offset": 0.0, "_FillValue": -1}
    ds["packed"][4] = np.nan
    return ds


def generate(out):
    import numcodecs, zarr
    ds = dataset()
    ds.to_zarr(os.path.join(out, "v2.zarr"), zarr_format=2, consolidated=True,
               encoding={"sst": {"chunks": (4, 5, 4), "compressors": (numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1),)}})
    ds.to_zarr(os.path.join(out, "v3.zarr"), zarr_format=3, consolidated=True,
               encoding={"sst": {"chunks": (2, 5, 4), "shards": (4, 5, 8), "compressors": zarr.codecs.ZstdCodec(level=3)}})
    os.makedirs(os.path.join(out, "nc"))
    for i in range(3):
        part = ds.isel(time=slice(4 * i, 4 * (i + 1)))
        part.to_netcdf(os.path.join(out, "nc", f"part-{i}.nc"), engine="netcdf4", unlimited_dims=["time"],
                       encoding={"sst": {"zlib": True, "complevel": 1, "chunksizes": (1, 5, 8)}})


def sources(d, names):
    every = {
        "v2": xr.open_zarr(os.path.join(d, "v2.zarr")),
        # The same v2 store, uploaded to an S3 bucket (moto) and served from there.
        "s3": xr.open_zarr(os.path.join(d, "v2.zarr")),
        "v3": xr.open_zarr(os.path.join(d, "v3.zarr")),
        "nc": xr.open_mfdataset(os.path.join(d, "nc", "*.nc"), combine="by_coords", engine="netcdf4"),
    }
    return {n: every[n] for n in names}


def finish(failures):
    """Reports the failures and exits 1, or prints ok."""
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("ok")


def check(url, d, names):
    failures = []
    for name, src in sources(d, names).items():
        expected = src.load()
        for fmt in (3, 2):
            try:
                served = xr.open_zarr(f"{url}/datasets/{name}/zarr/", zarr_format=fmt).load()
                xr.testing.assert_identical(served, expected)
            except Exception as e:
                failures.append(f"{name} (Zarr v{fmt} view): {type(e).__name__}: {e}")
    finish(failures)


def edr(url, d, names):
    import io, json, urllib.request
    import shapely
    from covjson_validate import validate_text
    failures = []

    def get(path):
        with urllib.request.urlopen(url + path) as r:
            return r.status, r.headers.get("Content-Type"), r.read()

    def covjson(path):
        status, ctype, body = get(path)
        assert status == 200 and ctype == "application/prs.coverage+json", (path, status, ctype)
        problems = validate_text(body.decode())
        assert not problems, f"{path}: not valid CoverageJSON: {problems[:5]}"
        return json.loads(body)

    def same(got, want, what):
        # CoverageJSON nulls are the source's NaNs; numbers are the float32 values' shortest form.
        want = np.asarray(want, dtype="f4").ravel()
        got = np.array([np.nan if v is None else v for v in got], dtype="f4")
        assert got.shape == want.shape, f"{what}: {got.size} values, expected {want.size}"
        assert np.array_equal(got, want, equal_nan=True), f"{what}: {got} != {want}"

    def lons(values):
        # The answers give longitudes in -180..180 (CRS84); the source has 0..350.
        return [v % 360 for v in values]

    for name, src in sources(d, names).items():
        src = src.load()
        base = f"/edr/collections/{name}"
        try:
            status, _, meta = get(base)
            meta = json.loads(meta)
            assert list(meta["parameter_names"]) == ["sst"], meta["parameter_names"]
            assert meta["extent"]["spatial"]["bbox"] == [[-180, -30, 180, 30]], meta["extent"]

            # position: the nearest grid point (-60 is 300 on the source's axis), all times, then an interval.
            cov = covjson(f"{base}/position?coords=POINT(-61%2012)")
            want = src.sst.sel(lon=300, lat=15, method="nearest")
            assert cov["domain"]["domainType"] == "PointSeries"
            assert lons(cov["domain"]["axes"]["x"]["values"]) == [300.0] and cov["domain"]["axes"]["y"]["values"] == [15.0]
            assert [pd.Timestamp(t).tz_localize(None) for t in cov["domain"]["axes"]["t"]["values"]] == list(pd.DatetimeIndex(src.time.values))
            same(cov["ranges"]["sst"]["values"], want.values, f"{name} position")
            cov = covjson(f"{base}/position?coords=POINT(100%20-30)&datetime=2002-01-03T00:00:00Z/2002-01-06T00:00:00Z")
            want = src.sst.sel(lon=100, lat=-30, method="nearest").sel(time=slice("2002-01-03", "2002-01-06"))
            same(cov["ranges"]["sst"]["values"], want.values, f"{name} position with an interval")

            # area: a triangle over a box that crosses the prime meridian (lons 300, 350, 0, 50).
            poly = "POLYGON((-80 -20,60 -20,-80 20,-80 -20))"
            cov = covjson(f"{base}/area?coords={urllib.request.quote(poly)}&datetime=2002-01-02")
            box = src.sst.sel(time="2002-01-02", lat=slice(-20, 20)).isel(lon=[6, 7, 0, 1])
            frame = np.array([-60, -10, 0, 50], dtype=float)
            gx, gy = np.meshgrid(frame, box.lat.values)
            inside = shapely.intersects_xy(shapely.from_wkt(poly), gx, gy)
            assert cov["domain"]["axes"]["x"]["values"] == list(frame), cov["domain"]["axes"]["x"]
            same(cov["ranges"]["sst"]["values"], np.where(inside, box.values, np.nan), f"{name} area")

            # cube: a bbox and a time interval, as CoverageJSON, CSV and netCDF.
            q = f"{base}/cube?bbox=40,-20,160,20&datetime=2002-01-05/2002-01-08"
            want = src.sst.sel(lon=slice(40, 160), lat=slice(-20, 20), time=slice("2002-01-05", "2002-01-08"))
            cov = covjson(q)
            assert cov["ranges"]["sst"]["axisNames"] == ["t", "y", "x"] and cov["ranges"]["sst"]["shape"] == list(want.shape)
            same(cov["ranges"]["sst"]["values"], want.values, f"{name} cube")
            _, ctype, body = get(q + "&f=CSV")
            table = pd.read_csv(io.BytesIO(body))
            assert list(table.columns) == ["time", "lat", "lon", "sst"], list(table.columns)
            same(table["sst"].values, want.values, f"{name} cube as CSV")
            _, ctype, body = get(q + "&f=NetCDF")
            assert ctype == "application/x-netcdf"
            with open(os.path.join(d, f"{name}-cube.nc"), "wb") as f:
                f.write(body)
            got = xr.open_dataset(os.path.join(d, f"{name}-cube.nc")).load()
            xr.testing.assert_equal(got.sst.drop_vars([c for c in got.sst.coords if c not in want.coords]), want.drop_vars([c for c in want.coords if c not in got.sst.coords]))
        except Exception as e:
            failures.append(f"{name}: EDR: {type(e).__name__}: {e}")
    finish(failures)


def evalview(url, d, names):
    import base64, json, urllib.parse, urllib.request
    failures = []
    for name, src in sources(d, names).items():
        src = src.load()
        cases = [
            ("ds.sst.mean('time')", src.sst.mean("time"), "sst"),
            ("(ds.sst * 2 + 1).isel(time=slice(2, 9))", (src.sst * 2 + 1).isel(time=slice(2, 9)), "sst"),
            ("ds.sst.where(ds.sst > 18).max('lon')", src.sst.where(src.sst > 18).max("lon"), "sst"),
        ]
        for expr, want, var in cases:
            try:
                token = base64.urlsafe_b64encode(expr.encode()).decode().rstrip("=")
                # The helper route names the same store.
                with urllib.request.urlopen(f"{url}/datasets/{name}/eval/zarr?expr={urllib.parse.quote(expr)}") as r:
                    info = json.loads(r.read())
                assert info["zarr"] == f"{url}/datasets/{name}/eval/{token}/zarr/", info
                for fmt in (3, 2):
                    view = xr.open_zarr(info["zarr"], zarr_format=fmt)
                    assert view[var].chunks is not None, "the view is not lazy"
                    got = view[var].load()
                    xr.testing.assert_allclose(got, want.astype(got.dtype), rtol=1e-6)
            except Exception as e:
                failures.append(f"{name}: eval view of {expr}: {type(e).__name__}: {e}")
    finish(failures)


def zarr2(url, d, names):
    import zarr
    assert zarr.__version__.startswith("2."), zarr.__version__
    src = xr.open_zarr(os.path.join(d, "v2.zarr")).load()
    failures = []
    for name in names:
        try:
            xr.testing.assert_identical(xr.open_zarr(f"{url}/datasets/{name}/zarr/").load(), src)
        except Exception as e:
            failures.append(f"{name} (zarr-python {zarr.__version__}): {type(e).__name__}: {e}")
    finish(failures)


def signed(url, d, name):
    import json, urllib.error, urllib.parse, urllib.request
    src = sources(d, [name])[name].load()
    with urllib.request.urlopen(f"{url}/api/sas/v1/token/{name}") as r:
        token = json.loads(r.read())["token"]
    store = f"{url}/datasets/{name}/zarr/"
    got = xr.open_zarr(store, storage_options={"headers": {"Authorization": "SAS " + token}}).load()
    xr.testing.assert_identical(got, src)
    fields = dict(urllib.parse.parse_qsl(token))
    fields["sig"] = fields["sig"][::-1]
    for headers in ({}, {"Authorization": "SAS " + urllib.parse.urlencode(fields)}):
        try:
            req = urllib.request.Request(store + ".zmetadata", headers=headers)
            urllib.request.urlopen(req)
            sys.exit(f"read {store}.zmetadata with headers {list(headers)}: expected 403")
        except urllib.error.HTTPError as e:
            assert e.code == 403, e.code
    href = f"{url}/edr/collections/{name}/position?coords=POINT(100%20-30)"
    with urllib.request.urlopen(f"{url}/api/sas/v1/sign?href={urllib.parse.quote(href)}") as r:
        signed_href = json.loads(r.read())["href"]
    with urllib.request.urlopen(signed_href) as r:
        assert r.status == 200 and json.loads(r.read())["type"] == "Coverage"
    print("ok")


if __name__ == "__main__":
    if sys.argv[1] == "--zarr2":
        zarr2(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
    elif sys.argv[1] == "--signed":
        signed(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "--eval":
        evalview(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
    elif sys.argv[1] == "--edr":
        edr(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
    elif sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
    else:
        generate(sys.argv[1])
