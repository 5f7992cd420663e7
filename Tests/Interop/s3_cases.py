"""Zarr on moto's S3 server, written and read by xarray with s3fs (the peers of issue 23).

    s3_cases.py write DIR ENDPOINT BUCKET   xarray writes one dataset to s3://BUCKET/ as Zarr v2,
                                            v3 and v3 sharded, and the same locally in DIR/ref.zarr
    s3_cases.py verify ENDPOINT URL DIR     xarray opens URL (written by Gyre) and checks it is
                                            identical to DIR/ref.zarr; prints what differs
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
else:
    endpoint, url, out = sys.argv[2:5]
    got = xr.open_zarr(url, storage_options=options(endpoint)).load()
    want = xr.open_zarr(f"{out}/ref.zarr").load()
    try:
        xr.testing.assert_identical(got, want)
    except AssertionError as e:
        print(e)
        sys.exit(1)
