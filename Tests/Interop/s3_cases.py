"""Zarr on moto's S3 server, written and read by xarray with s3fs (the peers of issue 23).

    s3_cases.py write DIR ENDPOINT BUCKET   xarray writes one dataset to s3://BUCKET/ as Zarr v2,
                                            v3 and v3 sharded, and the same locally in DIR/ref.zarr
    s3_cases.py verify ENDPOINT URL DIR     xarray opens URL (written by Gyre) and checks it is
                                            identical to DIR/ref.zarr; prints what differs
    s3_cases.py netcdf DIR ENDPOINT BUCKET  the dataset as netCDF-4 (h5netcdf, chunked, zlib) and
                                            netCDF-3 (scipy) in DIR/nc/ and on s3://BUCKET/nc/,
                                            and in three netCDF-4 parts split along time
                                            (nc/part-*.nc); xarray reads each back from S3
                                            through fsspec (h5netcdf / scipy) and saves what it
                                            read as DIR/NAME.xarray.zarr
"""
import sys

import numpy as np
import pandas as pd
import xarray as xr


def options(endpoint):
    return {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}


def dataset():
    rng = np.random.default_rng(23)
    t = pd.date_range("2020-01-01", periods=12, freq="D")
    lat = np.linspace(-60, 60, 9)
    lon = np.arange(0, 360, 30.0)
    sst = (rng.standard_normal((12, 9, 12)) * 3 + 15).astype("float32")
    sst[0, 0, 0] = np.nan
    ds = xr.Dataset(
        {"sst": (("time", "lat", "lon"), sst, {"units": "degC", "long_name": "sea surface temperature"}),
         "mask": (("lat", "lon"), (rng.random((9, 12)) > 0.3).astype("int8"))},
        coords={"time": t, "lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
        attrs={"title": "issue 23 fixture", "source": "s3_cases.py"})
    return ds


if sys.argv[1] == "write":
    out, endpoint, bucket = sys.argv[2:5]
    ds = dataset()
    so = options(endpoint)
    enc2 = {"sst": {"chunks": (4, 9, 6)}}
    ds.to_zarr(f"s3://{bucket}/v2.zarr", storage_options=so, zarr_format=2, consolidated=True, encoding=enc2, mode="w")
    ds.to_zarr(f"s3://{bucket}/v3.zarr", storage_options=so, zarr_format=3, consolidated=True, encoding=enc2, mode="w")
    enc3 = {"sst": {"chunks": (2, 9, 6), "shards": (4, 9, 12)}}
    ds.to_zarr(f"s3://{bucket}/sharded.zarr", storage_options=so, zarr_format=3, consolidated=True, encoding=enc3, mode="w")
    ds.to_zarr(f"{out}/ref.zarr", zarr_format=3, consolidated=True, encoding=enc2, mode="w")
elif sys.argv[1] == "netcdf":
    import os
    import s3fs
    out, endpoint, bucket = sys.argv[2:5]
    os.makedirs(f"{out}/nc", exist_ok=True)
    ds = dataset()
    enc = {"sst": {"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": (4, 9, 6)}}
    ds.to_netcdf(f"{out}/nc/cube4.nc", engine="h5netcdf", encoding=enc)
    ds.to_netcdf(f"{out}/nc/cube3.nc", engine="scipy")
    for i in range(3):
        ds.isel(time=slice(4 * i, 4 * i + 4)).to_netcdf(f"{out}/nc/part-{i}.nc", engine="h5netcdf", encoding=enc,
                                                           unlimited_dims=["time"])
    fs = s3fs.S3FileSystem(key="testing", secret="testing", client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"})
    for name in ["cube4.nc", "cube3.nc", "part-0.nc", "part-1.nc", "part-2.nc"]:
        fs.put(f"{out}/nc/{name}", f"{bucket}/nc/{name}")
    for name, engine in [("cube4.nc", "h5netcdf"), ("cube3.nc", "scipy")]:
        with fs.open(f"{bucket}/nc/{name}", "rb") as f:
            xr.open_dataset(f, engine=engine).load().to_zarr(f"{out}/{name}.xarray.zarr", zarr_format=2, mode="w")
    files = [fs.open(f"{bucket}/nc/part-{i}.nc", "rb") for i in range(3)]
    xr.open_mfdataset(files, engine="h5netcdf", combine="by_coords", data_vars="minimal", coords="minimal", compat="override").load().to_zarr(f"{out}/parts.xarray.zarr", zarr_format=2, mode="w")
else:
    endpoint, url, out = sys.argv[2:5]
    got = xr.open_zarr(url, storage_options=options(endpoint)).load()
    want = xr.open_zarr(f"{out}/ref.zarr").load()
    try:
        xr.testing.assert_identical(got, want)
    except AssertionError as e:
        print(e)
        sys.exit(1)
