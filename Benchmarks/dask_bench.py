"""Gyre on Dask against xarray on Dask, on the same local cluster, in one run.

Starts `dask scheduler` and workers of one thread each (no nanny) on loopback, with
GYRE_LIBRARY pointing at the release libGyreWorker.so. On the 1.5 GB (1460, 360, 720) float32
cube (Zarr v2, blosc-lz4, chunks of 10 days, from files), times the time mean and the monthly
climatology:
  - Gyre: gyre_dask.compute(client, [store], expression), plan and result included;
  - xarray + dask (+ flox): xr.open_zarr(store) and .compute() on the same client.
Each case is run --repeat times (the first run of each tool also counted as a warm-up); the
best time is reported, with Dask's task count for both, the results checked to agree, then Gyre
again on one worker for the 1 -> 2 worker scaling. Last, gyre-bench large-plan (10^7-chunk
task graphs and a local 10^7-chunk run) when --gyre-bench is given.

With --s3 the cube is uploaded to moto's S3 server (from the venv, on loopback) and both tools
read it from there (Gyre's S3 store on the workers; s3fs for xarray).

Usage: dask_bench.py --store bench-data/serve/cube-1460.zarr --lib .build/release/libGyreWorker.so
                     [--gyre-bench .build/release/gyre-bench] [--repeat 3] [--s3]
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings

warnings.simplefilter("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Sources/GyreDistributed/Python"))

p = argparse.ArgumentParser()
p.add_argument("--store", required=True)
p.add_argument("--lib", required=True)
p.add_argument("--gyre-bench")
p.add_argument("--repeat", type=int, default=3)
p.add_argument("--case", action="append")
p.add_argument("--s3", action="store_true", help="read the cube from moto's S3 server (uploaded first) instead of files")
a = p.parse_args()
os.environ["GYRE_LIBRARY"] = os.path.abspath(a.lib)

import numpy as np, xarray as xr, dask
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import free_port
from distributed import Client
import gyre_dask

CASES = {
    "mean": ("sst.mean('time')", lambda ds: ds.sst.mean("time")),
    "climatology": ("sst.groupby('time.month').mean()", lambda ds: ds.sst.groupby("time.month").mean()),
}
DASK = os.path.join(os.path.dirname(sys.executable), "dask")
SOURCE, GYRE_OPTIONS, XARRAY_OPTIONS = a.store, None, None
moto = None
if a.s3:
    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    moto = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import boto3
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    for _ in range(100):
        try:
            s3.create_bucket(Bucket="bench")
            break
        except Exception:
            time.sleep(0.2)
    t0 = time.time()
    for d, _, files in os.walk(a.store):
        for f in files:
            path = os.path.join(d, f)
            s3.upload_file(path, "bench", "cube.zarr/" + os.path.relpath(path, a.store))
    print("uploaded the cube to moto in %.0f s" % (time.time() - t0), flush=True)
    SOURCE = "s3://bench/cube.zarr"
    GYRE_OPTIONS = {"endpoint_url": endpoint, "key": "testing", "secret": "testing", "region": "us-east-1"}
    XARRAY_OPTIONS = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint}}


class Cluster:
    def __init__(self, workers):
        self.dir = tempfile.mkdtemp(prefix="gyre-dask-bench-")
        port = free_port()
        self.address = "tcp://127.0.0.1:%d" % port
        log = open(os.path.join(self.dir, "scheduler.log"), "w")
        self.procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                       stdout=log, stderr=log)]
        for i in range(workers):
            wl = open(os.path.join(self.dir, "worker-%d.log" % i), "w")
            self.procs.append(subprocess.Popen([DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                                "--host", "127.0.0.1", "--local-directory", self.dir, "--memory-limit", "8GB"],
                                               stdout=wl, stderr=wl, env=dict(os.environ)))
        deadline = time.time() + 60
        while True:
            try:
                self.client = Client(self.address, timeout=5)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.client.wait_for_workers(workers, timeout=60)

    def close(self):
        self.client.close()
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def gyre_run(client, expr):
    t0 = time.perf_counter()
    r = gyre_dask.compute(client, [SOURCE], expr, storage_options=GYRE_OPTIONS)
    return time.perf_counter() - t0, r["sst"]


def xarray_run(client, make):
    t0 = time.perf_counter()
    ds = xr.open_zarr(SOURCE, consolidated=True, storage_options=XARRAY_OPTIONS)
    lazy = make(ds)
    v = lazy.compute().values
    return time.perf_counter() - t0, v


def best(fn, n):
    times, value = [], None
    for _ in range(n + 1):     # the first run warms up
        t, value = fn()
        times.append(t)
    return min(times[1:]), value


cases = a.case or list(CASES)
results = {}
print("cluster: dask %s / distributed, workers of one thread, no nanny; store %s" % (dask.__version__, SOURCE if a.s3 else a.store + " (files)"), flush=True)
two = Cluster(2)
try:
    for name in cases:
        expr, make = CASES[name]
        graph = gyre_dask.plan([SOURCE], expr, storage_options=GYRE_OPTIONS)
        gyre_tasks = len(graph["tasks"])
        xr_tasks = len(make(xr.open_zarr(SOURCE, consolidated=True, storage_options=XARRAY_OPTIONS)).__dask_graph__())
        g, gv = best(lambda: gyre_run(two.client, expr), a.repeat)
        x, xv = best(lambda: xarray_run(two.client, make), a.repeat)
        diff = float(np.nanmax(np.abs(gv.astype("f8") - xv.astype("f8"))))
        same_nan = bool(np.array_equal(np.isnan(gv), np.isnan(xv)))
        results[name] = {"gyre_2": g, "xarray_2": x, "gyre_tasks": gyre_tasks, "xarray_tasks": xr_tasks}
        print(json.dumps({"case": name, "workers": 2, "gyre_s": round(g, 3), "xarray_s": round(x, 3), "ratio": round(x / g, 2),
                          "gyre_dask_tasks": gyre_tasks, "xarray_dask_tasks": xr_tasks, "max_abs_diff": diff, "same_nan": same_nan}), flush=True)
finally:
    two.close()
one = Cluster(1)
try:
    for name in cases:
        expr, _ = CASES[name]
        g1, _ = best(lambda: gyre_run(one.client, expr), a.repeat)
        r = results[name]
        print(json.dumps({"case": name, "gyre_1_worker_s": round(g1, 3), "gyre_2_workers_s": round(r["gyre_2"], 3),
                          "scaling": round(g1 / r["gyre_2"], 2)}), flush=True)
finally:
    one.close()

if moto is not None:
    moto.terminate()
    moto.wait()

if a.gyre_bench:
    out = subprocess.run([a.gyre_bench, "large-plan"], capture_output=True, text=True)
    sys.stdout.write(out.stdout)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        sys.exit(1)
