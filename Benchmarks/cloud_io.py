"""Issue 23's benchmark: the time mean of a float32 cube (T, 360, 720) stored as Zarr v2
(blosc-lz4, chunks of 10 days) and as Zarr v3 (zstd, chunks (10, 180, 360) in shards
(20, 360, 720)), served by nginx (HTTP with Range) and by moto's S3 server, read by Gyre
(`gyre eval URL "ds.sst.mean('time')"`), by xarray with fsspec (s3fs for S3, its HTTP
filesystem for nginx) and dask threads, and by zarr-python 3 with obstore. Prints the time,
peak memory and requests each took, and Gyre's ratio to each peer. Release build:

    .venv/bin/python Benchmarks/cloud_io.py --gyre .build/release/gyre [--time 1460]

With `--netcdf`, also the same cube as 20 netCDF-4 files (73 days each, chunks of one day,
zlib level 1 with shuffle, written by netcdf-c) on moto: Gyre (`gyre eval "s3://bench/nc/*.nc"`)
against xarray's open_mfdataset with h5netcdf through s3fs and dask threads (`--only-netcdf`
skips the Zarr runs).

The peers' times are measured inside their process (imports not counted); Gyre's is the whole
`gyre eval` process. Each line also gives the CPU the run cost (the tool's user and system
time, and the server's while it ran) and so the fastest that run could be on this machine's
cores; Gyre's runs on the local copies come first, for what the network adds.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

from bench_common import cube, free_port, v2_encoding, wait

ap = argparse.ArgumentParser()
ap.add_argument("--gyre", required=True)
ap.add_argument("--time", type=int, default=1460, help="days in the cube (1460: 1.5 GB of float32)")
ap.add_argument("--dir", default="bench-data/cloud")
ap.add_argument("--only", default="gyre,xarray,zarr")
ap.add_argument("--servers", default="nginx,moto")
ap.add_argument("--formats", default="v2,v3")
ap.add_argument("--netcdf", action="store_true", help="also the 20 netCDF-4 files on moto")
ap.add_argument("--only-netcdf", action="store_true", help="only the 20 netCDF-4 files on moto")
args = ap.parse_args()
py = sys.executable
root = os.path.abspath(args.dir)
data = os.path.join(root, "www")
marker = os.path.join(root, "made")


# The data, once per size.
if not (os.path.exists(marker) and open(marker).read() == str(args.time)):
    import zarr
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(data)
    t0 = time.time()
    ds = cube(args.time)
    ds.to_zarr(os.path.join(data, "v2.zarr"), zarr_format=2, consolidated=True, encoding=v2_encoding())
    ds.to_zarr(os.path.join(data, "v3.zarr"), zarr_format=3, consolidated=True,
               encoding={"sst": {"chunks": (10, 180, 360), "shards": (20, 360, 720), "compressors": zarr.codecs.ZstdCodec(level=3)}})
    del ds
    open(marker, "w").write(str(args.time))
    print(f"made the cube ({args.time} x 360 x 720 float32) in {time.time() - t0:.0f} s")

nc_dir = os.path.join(data, "nc")
nc_marker = os.path.join(root, "made-nc")
if (args.netcdf or args.only_netcdf) and not (os.path.exists(nc_marker) and open(nc_marker).read() == str(args.time)):
    import netCDF4
    import xarray as xr
    t0 = time.time()
    shutil.rmtree(nc_dir, ignore_errors=True)
    os.makedirs(nc_dir)
    src = xr.open_zarr(os.path.join(data, "v2.zarr"))
    per = args.time // 20
    for i in range(20):
        part = src.isel(time=slice(i * per, (i + 1) * per)).load()
        with netCDF4.Dataset(os.path.join(nc_dir, f"sst-{i:02d}.nc"), "w", format="NETCDF4") as nc:
            nc.createDimension("time", None)
            nc.createDimension("lat", 360)
            nc.createDimension("lon", 720)
            t = nc.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            t[:] = np.arange(i * per, (i + 1) * per, dtype="f8")
            nc.createVariable("lat", "f8", ("lat",))[:] = part.lat.values
            nc.createVariable("lon", "f8", ("lon",))[:] = part.lon.values
            v = nc.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, complevel=1, shuffle=True, chunksizes=(1, 360, 720))
            v.units = "degC"
            v[:] = part.sst.values
    open(nc_marker, "w").write(str(args.time))
    print(f"wrote 20 netCDF-4 files ({per} days each) in {time.time() - t0:.0f} s")
if args.only_netcdf:
    args.formats = ""
    args.servers = "moto"

logs = os.path.join(root, "logs")
os.makedirs(logs, exist_ok=True)
servers = {}
procs = []
server_pids = {}


def cpu_seconds(pid):
    # User plus system time of a running process (a server), from /proc.
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


try:
    if "nginx" in args.servers:
        port = free_port()
        conf = os.path.join(logs, "nginx.conf")
        open(conf, "w").write(f"""daemon off; master_process off; worker_processes 1; pid {logs}/nginx.pid; error_log {logs}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{ log_format ranges '$request $http_range'; access_log {logs}/access.log ranges; client_body_temp_path {logs}/body; proxy_temp_path {logs}/proxy; fastcgi_temp_path {logs}/fcgi;
  uwsgi_temp_path {logs}/uwsgi; scgi_temp_path {logs}/scgi; default_type application/octet-stream; keepalive_requests 100000; sendfile on;
  server {{ listen 127.0.0.1:{port}; root {data}; }} }}""")
        p = subprocess.Popen(["nginx", "-c", conf, "-p", logs, "-e", f"{logs}/nginx-error.log"])
        procs.append(p)
        server_pids["nginx"] = p.pid
        wait(port, p, "nginx")
        servers["nginx"] = f"http://127.0.0.1:{port}"
    if "moto" in args.servers:
        port = free_port()
        mlog = open(os.path.join(logs, "moto.log"), "w")
        p = subprocess.Popen([os.path.join(os.path.dirname(py), "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=mlog, stderr=mlog)
        procs.append(p)
        server_pids["moto"] = p.pid
        wait(port, p, "moto")
        servers["moto"] = f"http://127.0.0.1:{port}"
        import boto3
        s3 = boto3.client("s3", endpoint_url=servers["moto"], aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        t0 = time.time()
        for d, _, files in os.walk(data):
            for f in files:
                path = os.path.join(d, f)
                rel = os.path.relpath(path, data)
                if rel.startswith("nc/") and not (args.netcdf or args.only_netcdf):
                    continue
                if not rel.startswith("nc/") and args.only_netcdf:
                    continue
                s3.upload_file(path, "bench", os.path.relpath(path, data))
        print(f"uploaded the stores to moto in {time.time() - t0:.0f} s")

    def repeated(server, before):
        # Requests asked again (the same method, URL and range) within one run; nginx only.
        if server != "nginx":
            return None
        lines = open(os.path.join(logs, "access.log")).read().splitlines()[before:]
        return len(lines) - len(set(lines))

    def requests_so_far(server):
        if server == "nginx":
            return sum(1 for _ in open(os.path.join(logs, "access.log")))
        return sum(1 for line in open(os.path.join(logs, "moto.log")) if re.search(r'(GET|HEAD|PUT|POST) /', line))

    cores = os.cpu_count()

    def cpu_note(out):
        # The CPU the run cost on this machine: the tool's own (user + system) and the server's
        # while it ran. Their sum over the cores is the fastest the run could be here.
        return (f"  cpu {out['cpu']:.2f} s + server {out['server_cpu']:.2f} s"
                f" (at least {(out['cpu'] + out['server_cpu']) / cores:.2f} s on {cores} cores)")

    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    peer_code = r"""
import json, resource, sys, time
kind, server, url, endpoint = sys.argv[1:5]
t0 = time.time()
if kind == "xarray-nc":
    import xarray as xr, dask, s3fs
    t0 = time.time()
    fs = s3fs.S3FileSystem(key="testing", secret="testing", client_kwargs={"endpoint_url": endpoint})
    files = [fs.open(p, "rb") for p in sorted(fs.glob(url[len("s3://"):]))]
    ds = xr.open_mfdataset(files, engine="h5netcdf", combine="by_coords", data_vars="minimal", coords="minimal", compat="override", chunks={})
    m = ds.sst.mean("time").compute()
    value = float(m.mean())
elif kind == "xarray":
    import xarray as xr, dask
    so = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint}} if server == "moto" else {}
    t0 = time.time()
    m = xr.open_zarr(url, storage_options=so, chunks={}).sst.mean("time").compute()
    value = float(m.mean())
else:
    import zarr, obstore.store as os_, numpy as np
    from zarr.storage import ObjectStore
    t0 = time.time()
    if server == "moto":
        bucket, _, prefix = url[len("s3://"):].partition("/")
        store = os_.S3Store(bucket, prefix=prefix, endpoint=endpoint, access_key_id="testing", secret_access_key="testing", region="us-east-1",
                            client_options={"allow_http": True})
    else:
        store = os_.HTTPStore.from_url(url, client_options={"allow_http": True})
    a = zarr.open_array(ObjectStore(store, read_only=True), path="sst", mode="r")
    m = a[:].mean(axis=0)
    value = float(m.mean())
print(json.dumps({"seconds": time.time() - t0, "value": value}))
"""
    results = {}
    def run_gyre(url, base):
        cmd = ["/usr/bin/time", "-f", "%e %M %U %S", args.gyre, "eval", url, "ds.sst.mean('time').mean()"]
        if url.startswith("s3://"):
            cmd += ["--storage-option", f"endpoint_url={base}"]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"gyre on {url}: {r.stderr[-2000:]}")
        secs, kb, user, system = r.stderr.strip().splitlines()[-1].split()
        value = float(re.search(r"array\(([-0-9.e+]+)", r.stdout).group(1))
        return {"seconds": float(secs), "rss": int(kb) * 1024, "value": value, "cpu": float(user) + float(system)}

    def run_peer(tool, server, url, base):
        # Peak memory from /usr/bin/time, as for Gyre (ru_maxrss inside the process
        # would carry this script's own peak across the exec).
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", py, "-c", peer_code, tool, server, url, base], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{tool} on {url}: {r.stderr[-2000:]}")
        out = json.loads(r.stdout.strip().splitlines()[-1])
        _, kb, user, system = r.stderr.strip().splitlines()[-1].split()
        out["rss"] = int(kb) * 1024
        out["cpu"] = float(user) + float(system)  # the whole process, imports included
        return out

    # Gyre on the same files on local disk: what the network adds is the difference.
    if "gyre" in args.only.split(","):
        local = [(f, os.path.join(data, f"{f}.zarr")) for f in args.formats.split(",") if f]
        if (args.netcdf or args.only_netcdf) and "moto" in servers:
            local.append(("nc4", os.path.join(data, "nc", "*.nc")))
        for fmt, path in local:
            out = run_gyre(path, None)
            out["server_cpu"] = 0.0
            print(f"  local  {fmt:3} gyre    {out['seconds']:7.2f} s  peak {out['rss'] / 2**20:6.0f} MiB  mean {out['value']:.5f}" + cpu_note(out), flush=True)
    if (args.netcdf or args.only_netcdf) and "moto" in servers:
        url = "s3://bench/nc/*.nc"
        for tool in ("gyre", "xarray-nc"):
            if tool != "gyre" and "xarray" not in args.only.split(","):
                continue
            before, served = requests_so_far("moto"), cpu_seconds(server_pids["moto"])
            out = run_gyre(url, servers["moto"]) if tool == "gyre" else run_peer(tool, "moto", url, servers["moto"])
            out["requests"] = requests_so_far("moto") - before
            out["server_cpu"] = cpu_seconds(server_pids["moto"]) - served
            results[("moto", "nc", tool)] = out
            print(f"  moto   nc4 {tool:9} {out['seconds']:7.2f} s  peak {out['rss'] / 2**20:6.0f} MiB  {out['requests']:5} requests  mean {out['value']:.5f}"
                  + cpu_note(out), flush=True)
        g, p = results.get(("moto", "nc", "gyre")), results.get(("moto", "nc", "xarray-nc"))
        if g and p:
            print(f"  moto   nc4 {'':9} gyre is {p['seconds'] / g['seconds']:.2f}x xarray + h5netcdf + s3fs (goal 5x)")
    for server, base in servers.items():
        for fmt in [f for f in args.formats.split(",") if f]:
            url = f"{base}/{fmt}.zarr" if server == "nginx" else f"s3://bench/{fmt}.zarr"
            for tool in args.only.split(","):
                before, served = requests_so_far(server), cpu_seconds(server_pids[server])
                out = run_gyre(url, base) if tool == "gyre" else run_peer(tool, server, url, base)
                out["requests"] = requests_so_far(server) - before
                out["server_cpu"] = cpu_seconds(server_pids[server]) - served
                again = repeated(server, before)
                results[(server, fmt, tool)] = out
                print(f"  {server:6} {fmt:3} {tool:7} {out['seconds']:7.2f} s  peak {out['rss'] / 2**20:6.0f} MiB  {out['requests']:5} requests"
                      + (f" ({again} repeated)" if again is not None else "") + f"  mean {out['value']:.5f}" + cpu_note(out), flush=True)
            g = results.get((server, fmt, "gyre"))
            for tool in ("xarray", "zarr"):
                p = results.get((server, fmt, tool))
                if g and p:
                    print(f"  {server:6} {fmt:3} {'':7} gyre is {p['seconds'] / g['seconds']:.2f}x {tool}")
finally:
    for p in procs:
        p.terminate()
        p.wait()
