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
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
    else:
        generate(sys.argv[1])
