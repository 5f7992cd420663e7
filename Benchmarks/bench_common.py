"""What the object-storage and serving benchmarks share: free loopback ports, waiting for a
server to listen, and the float32 cube (T, 360, 720) both read."""
import os
import socket
import sys
import time

import numpy as np


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(port, proc, what, tries=600):
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"{what} exited")
            time.sleep(0.1)
    sys.exit(f"{what} did not listen")


def cube(days):
    """The cube as an xarray Dataset: a meridional gradient, a seasonal cycle and noise."""
    import pandas as pd
    import xarray as xr
    lat = np.linspace(-89.75, 89.75, 360)
    lon = np.linspace(0.25, 359.75, 720)
    rng = np.random.default_rng(23)
    base = (15 + 12 * np.cos(np.deg2rad(lat))[:, None] + 2 * np.sin(np.deg2rad(lon))[None, :]).astype("float32")
    sst = np.empty((days, 360, 720), dtype="float32")
    for i in range(days):
        sst[i] = base + 3 * np.sin(2 * np.pi * i / 365) + rng.standard_normal((360, 720), dtype="float32") * 0.5
    return xr.Dataset({"sst": (("time", "lat", "lon"), sst, {"units": "degC"})},
                      coords={"time": pd.date_range("2000-01-01", periods=days, freq="D"), "lat": lat, "lon": lon})


def v2_encoding():
    """Zarr v2, blosc-lz4 with shuffle, chunks of 10 days."""
    import numcodecs
    return {"sst": {"chunks": (10, 360, 720), "compressors": (numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1),)}}


def ensure_cube(path, days):
    """Writes the cube as Zarr v2 (v2_encoding) at `path` unless it is there already."""
    if os.path.exists(os.path.join(path, ".zmetadata")):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    t0 = time.time()
    cube(days).to_zarr(path, zarr_format=2, consolidated=True, encoding=v2_encoding())
    print(f"made the cube ({days} x 360 x 720 float32) in {time.time() - t0:.0f} s", flush=True)


def netcdf_files(root, nfiles, nt, ny, nx, nsmall):
    """The netCDF benchmark's files, written once: `nfiles` netCDF-4 files of (nt, ny, nx)
    float32 in root/big (zlib level 1, shuffle, one chunk per file) and `nsmall` uncompressed
    one-day files of (1, 18, 36) in root/small."""
    import shutil
    import netCDF4

    def write(path, t0, nt, ny, nx, zlib, seed):
        rng = np.random.default_rng(seed)
        with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
            nc.createDimension("time", None); nc.createDimension("lat", ny); nc.createDimension("lon", nx)
            t = nc.createVariable("time", "i4", ("time",)); t.units = "days since 2000-01-01"; t.calendar = "standard"; t[:] = np.arange(t0, t0 + nt)
            la = nc.createVariable("lat", "f4", ("lat",)); la[:] = np.linspace(-89.75, 89.75, ny)
            lo = nc.createVariable("lon", "f4", ("lon",)); lo[:] = np.linspace(0.25, 359.75, nx)
            kw = dict(zlib=True, complevel=1, shuffle=True, chunksizes=(nt, ny, nx)) if zlib else {}
            v = nc.createVariable("sst", "f4", ("time", "lat", "lon"), fill_value=np.float32(np.nan), **kw)
            base = (20 + 8 * np.cos(np.deg2rad(np.linspace(-89.75, 89.75, ny))))[None, :, None].astype("f4")
            v[:] = base + rng.standard_normal((nt, ny, nx)).astype("f4")
            v.units = "degC"

    big = os.path.join(root, "big"); small = os.path.join(root, "small")
    stamp = os.path.join(root, f"done-{nfiles}-{nt}-{ny}-{nx}-{nsmall}")
    if os.path.exists(stamp):
        return
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(big); os.makedirs(small)
    for i in range(nfiles):
        write(os.path.join(big, f"sst_{i:03d}.nc"), i * nt, nt, ny, nx, True, i)
    for i in range(nsmall):
        write(os.path.join(small, f"day_{i:05d}.nc"), i, 1, 18, 36, False, i)
    open(stamp, "w").close()
