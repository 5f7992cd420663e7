"""STAC items to a median mosaic (issue 28): Gyre against stackstac + dask and odc-stac + dask
(threaded scheduler, 2 threads), on the same items, in one run: wall time and peak memory (RSS).

  cube_bench.py --dir DIR --gyre PATH/TO/gyre [--quick] [--repeat N] [--items N] [--size PX]
  cube_bench.py --dir DIR --skip-gyre ...            (the peers only)

Data (written once into DIR, kept while DIR/done-* matches the parameters): N items (default 120:
4 tile positions, a 2 x 2 block of tiles overlapping by a tenth, each revisited on N/4 dates over
2020 with offsets of up to 4 pixels) of three single-band uint16 COGs each (B04, B03, B02;
DEFLATE, predictor 2, 512-px blocks, overviews), EPSG:32633, 10 m pixels, SIZE x SIZE pixels
(default 1024: 120 x 3 x 1024^2 uint16 = 0.75 GB uncompressed, 0.46 GB on disk; the mosaic is
3 x 1954 x 1954). Nodata 0: a swath edge on some dates, cloud blobs on most; values a smooth
function of position and season plus noise.
Why not 2048 px (3 GB): the peers' dense (time=120, band, y, x) float64 stack costs
N x mosaic pixels, and at 2048 px one stackstac run took 9 min and 15 GB of RSS and odc-stac
went past 6 min and 20 GB (of this machine's 23 GB) before it was stopped; at 1024 px one
round of the peers takes about 3 min (stackstac ~90 s, odc-stac ~80 s, 5.5 GB each), so a
full run (three tools, 3 repeats) stays well under 20 minutes.
Items (projection v2 fields on each asset, raster:bands nodata 0, eo:cloud_cover) are in
DIR/items.json with absolute hrefs. Seeded: a run gives the same files every time.

The query: all items, bounds = their union footprint in EPSG:32633, 10 m, assets B04,B03,B02,
nearest, the NaN-skipping median over time as a (band, y, x) float mosaic written to a Zarr
(v3) store as the variable `cube`:
  - stackstac.stack(..., dtype=float64, fill_value=NaN, chunksize=1024).median("time") to_zarr;
  - odc.stac.load(..., dtype=float64, nodata=NaN, chunks 1024 x 1024, groupby="id"), the
    bands to_array("band"), .median("time"), to_zarr;
  - gyre cube --items ... --method median -o OUT.zarr.
No explicit rechunk: dask's median puts time into one chunk itself, with "auto" chunks along y
and x (373 x 373 here: 120 x 373^2 float64 = dask's 128 MiB array.chunk-size), which are also
the Zarr chunks the peers write.
Each tool runs in its own process under GNU time (peak RSS = its max RSS); the Python peers
are this script in --worker mode and time themselves from reading items.json to the written
store (interpreter start and imports left out, the old store removed before the clock starts);
Gyre is timed as a whole process (its old store removed beforehand). os.sync() before every
run; the COGs are read once beforehand so every run finds them in the page cache. The median
of --repeat runs is reported, with the largest peak RSS. Then the mosaics are compared (on the
pixels their grids share; stackstac's coords are pixel corners, odc's and Gyre's centres) and
the run fails if Gyre's differs from stackstac's in more than 0.1% of the pixels.
"""
import argparse, json, math, os, shutil, subprocess, sys, tempfile, time, warnings

import numpy as np

RES = 10.0
EPSG = 32633
X0, Y0 = 600000.0, 5600000.0  # upper-left corner of the first tile position (about 14.4 E, 50.5 N)
BANDS = [("B04", "red", 0.665, 900.0, 1.0), ("B03", "green", 0.56, 1100.0, 0.8), ("B02", "blue", 0.49, 1300.0, 0.6)]
ASSETS = [b[0] for b in BANDS]
POSITIONS = [(0, 0), (1, 0), (0, 1), (1, 1)]  # (column, row) of the 2 x 2 block of tiles
MAX_SHIFT = 4  # pixels a revisit's grid may be offset by, either way
BLOCK = 512
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
EXTENSIONS = ["https://stac-extensions.github.io/projection/v2.0.0/schema.json",
              "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
              "https://stac-extensions.github.io/raster/v1.1.0/schema.json"]
GEN_VERSION = 1  # bump when the generated data change


# ---------------------------------------------------------------------------------------------
# data

def layout(n, size):
    """(index, id, tile position, date index, upper-left corner, datetime) of the n items."""
    import datetime as dt
    ndates = math.ceil(n / len(POSITIONS))
    step = size - size // 10  # tiles overlap by a tenth
    out = []
    for i in range(n):
        d, p = divmod(i, len(POSITIONS))
        c, r = POSITIONS[p]
        rng = np.random.default_rng([7, d, p])
        dx, dy = (int(v) for v in rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, 2))
        ulx, uly = X0 + (c * step + dx) * RES, Y0 - (r * step + dy) * RES
        day = dt.datetime(2020, 1, 3, 10, 0, 0) + dt.timedelta(days=int(d * 362 / ndates), seconds=4 * p)
        tile = f"33U{'UV'[c]}{'SR'[r]}"  # made-up tile names
        sid = f"S2{'AB'[d % 2]}_{tile}_{day:%Y%m%d}_{i:04d}"
        out.append((i, sid, p, d, (ulx, uly), day.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return out


def scene(entry, size):
    """The three uint16 bands of one item (0 = nodata) and its cloud/nodata fraction."""
    i, sid, p, d, (ulx, uly), dtime = entry
    rows, cols = np.ogrid[0:size, 0:size]
    x = ulx + (cols + 0.5) * RES  # (1, size)
    y = uly - (rows + 0.5) * RES  # (size, 1)
    spatial = (350 * np.sin(x / 610.0) * np.cos(y / 830.0) + 200 * np.sin((x - y) / 1900.0)
               + 120 * np.cos(x / 4700.0 + y / 3100.0)).astype(np.float32)
    doy = int(dtime[5:7]) * 30.5 + int(dtime[8:10])
    season = 150 * math.sin(2 * math.pi * (doy - 80) / 366)
    rng = np.random.default_rng([11, i])
    nodata = np.zeros((size, size), bool)
    c, r = POSITIONS[p]
    if c == 1 and d % 2 == 1:  # swath edge across the eastern tiles on every other orbit
        nodata |= cols > -0.7 * rows + 1.2 * size
    if c == 0 and d % 3 == 2:
        nodata |= cols < 0.6 * rows - 0.25 * size
    cloud = np.zeros((size, size), bool)
    for _ in range(int(rng.integers(0, 6))):  # cloud blobs (masked out, as a scene's cloud mask does)
        r0, c0 = rng.uniform(0, size, 2)
        rr, rc = rng.uniform(0.03, 0.15, 2) * size
        cloud |= ((rows - r0) / rr) ** 2 + ((cols - c0) / rc) ** 2 <= 1.0
    cloud_frac = float(cloud.mean())
    nodata |= cloud
    bands = []
    for b, (_, _, _, base, scale) in enumerate(BANDS):
        v = base + season * scale + scale * spatial + rng.standard_normal((size, size), dtype=np.float32) * 20
        v = np.clip(np.rint(v), 1, 65535).astype(np.uint16)
        v[nodata] = 0
        bands.append(v)
    return bands, cloud_frac


def make_item(args):
    entry, size, cogdir = args
    import pyproj, rasterio
    from rasterio.transform import Affine
    i, sid, p, d, (ulx, uly), dtime = entry
    tr = Affine(RES, 0.0, ulx, 0.0, -RES, uly)
    bands, cloud_frac = scene(entry, size)
    assets = {}
    with rasterio.Env(GDAL_NUM_THREADS="1"):
        for (name, common, wl, _, _), arr in zip(BANDS, bands):
            path = os.path.join(cogdir, f"{sid}_{name}.tif")
            with rasterio.open(path, "w", driver="COG", width=size, height=size, count=1, dtype="uint16",
                               crs=f"EPSG:{EPSG}", transform=tr, nodata=0, COMPRESS="DEFLATE", PREDICTOR=2,
                               BLOCKSIZE=BLOCK, OVERVIEWS="AUTO", RESAMPLING="AVERAGE") as dst:
                dst.write(arr, 1)
            assets[name] = {
                "href": os.path.abspath(path), "type": COG_TYPE, "roles": ["data"], "title": f"{name} ({common})",
                "proj:epsg": EPSG, "proj:code": f"EPSG:{EPSG}", "proj:transform": [tr.a, tr.b, tr.c, tr.d, tr.e, tr.f],
                "proj:shape": [size, size], "proj:bbox": [ulx, uly - size * RES, ulx + size * RES, uly],
                "eo:bands": [{"name": name, "common_name": common, "center_wavelength": wl}],
                "raster:bands": [{"data_type": "uint16", "nodata": 0, "spatial_resolution": RES}],
            }
    to_ll = pyproj.Transformer.from_crs(EPSG, 4326, always_xy=True)
    t = np.linspace(0, size, 5)[:-1]
    cr = ([(0, v) for v in t] + [(v, size) for v in t] + [(size, size - v) for v in t] + [(size - v, 0) for v in t])
    xy = [tr * q for q in cr]
    lon, lat = to_ll.transform([q[0] for q in xy], [q[1] for q in xy])
    ring = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat)]
    ring.append(ring[0])
    return {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": EXTENSIONS, "id": sid,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [round(min(lon), 7), round(min(lat), 7), round(max(lon), 7), round(max(lat), 7)],
        "properties": {"datetime": dtime, "platform": "sentinel-2" + sid[2].lower(), "constellation": "sentinel-2",
                       "eo:cloud_cover": round(100 * cloud_frac, 2)},
        "links": [], "assets": assets,
    }


def ensure_data(root, n, size, jobs):
    """Writes DIR/cogs/*.tif and DIR/items.json unless the stamp for (n, size) is there."""
    stamp = os.path.join(root, f"done-n{n}-s{size}-v{GEN_VERSION}")
    items_path = os.path.join(root, "items.json")
    if os.path.exists(stamp) and os.path.exists(items_path):
        return items_path
    need = n * len(BANDS) * size * size * 2 * 0.8  # DEFLATE of the noisy data keeps well under this
    os.makedirs(root, exist_ok=True)
    free = shutil.disk_usage(root).free
    if free < need + 2e9:
        sys.exit(f"{root}: {free / 1e9:.1f} GB free, the data need up to {need / 1e9:.1f} GB (and room for the outputs)")
    for f in os.listdir(root):
        if f.startswith("done-"):
            os.remove(os.path.join(root, f))
    cogdir = os.path.join(root, "cogs")
    shutil.rmtree(cogdir, ignore_errors=True)
    os.makedirs(cogdir)
    t0 = time.time()
    work = [(e, size, cogdir) for e in layout(n, size)]
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        items = pool.map(make_item, work, chunksize=1)  # in order: deterministic whatever the scheduling
    with open(items_path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": items}, f, indent=1)
    open(stamp, "w").close()
    print(f"wrote {n} items ({3 * n} COGs of {size} x {size}) in {time.time() - t0:.0f} s", flush=True)
    return items_path


def union_bounds(items_path):
    with open(items_path) as f:
        feats = json.load(f)["features"]
    bb = np.array([a["proj:bbox"] for it in feats for a in it["assets"].values()])
    w, s = math.floor(bb[:, 0].min() / RES) * RES, math.floor(bb[:, 1].min() / RES) * RES
    e, n = math.ceil(bb[:, 2].max() / RES) * RES, math.ceil(bb[:, 3].max() / RES) * RES
    return (w, s, e, n), len(feats)


def fmt(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))


# ---------------------------------------------------------------------------------------------
# the peers, each run as `cube_bench.py --worker NAME` in a process of its own

def worker(a):
    warnings.simplefilter("ignore")
    import dask
    bounds = tuple(float(v) for v in a.bounds.split(","))
    if a.worker == "stackstac":
        import stackstac
        from rasterio.enums import Resampling
    else:
        import odc.stac, pystac
    import xarray as xr  # noqa: F401  (imported before the clock, as the peers import it anyway)
    dask.config.set(scheduler="threads", num_workers=a.threads)
    shutil.rmtree(a.out, ignore_errors=True)
    t0 = time.perf_counter()
    with open(a.items_json) as f:
        feats = json.load(f)["features"]
    if a.worker == "stackstac":
        cube = stackstac.stack(feats, assets=ASSETS, epsg=EPSG, resolution=RES, bounds=bounds,
                               resampling=Resampling.nearest, dtype="float64", fill_value=np.nan, chunksize=1024)
        tasks_in = len(cube.data.__dask_graph__())
        med = cube.median("time", skipna=True)
        # stackstac's per-band metadata coords (titles, eo:bands dicts...) and its attrs (the
        # RasterSpec, an Affine) are not Zarr-able: dropped, as users must
        ds = med.reset_coords(drop=True).drop_attrs().to_dataset(name="cube")
    else:
        items = [pystac.Item.from_dict(f) for f in feats]
        loaded = odc.stac.load(items, bands=ASSETS, crs=f"EPSG:{EPSG}", resolution=RES,
                               x=(bounds[0], bounds[2]), y=(bounds[1], bounds[3]), resampling="nearest",
                               dtype="float64", nodata=np.nan, chunks={"x": 1024, "y": 1024}, groupby="id")
        cube = loaded[ASSETS].to_array("band")
        tasks_in = len(cube.data.__dask_graph__())
        med = cube.median("time", skipna=True)
        ds = med.to_dataset(name="cube")
    chunks = [c[0] for c in ds["cube"].data.chunks]
    ds.to_zarr(a.out, mode="w")
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": secs, "shape": list(ds["cube"].shape), "chunks": chunks, "tasks": tasks_in,
                      "times": int(cube.sizes["time"])}))


# ---------------------------------------------------------------------------------------------
# the driver

def timed_process(cmd, log):
    """Runs cmd under GNU time; returns (process wall s, max RSS MB, stdout)."""
    os.sync()  # the previous run's written pages reach the disk before this one starts
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tf.name, *cmd], capture_output=True, text=True)
        wall = time.perf_counter() - t
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd[:4])} ... failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")
        last = tf.read().strip().splitlines()[-1].split()
    rss_mb = int(last[1]) / 1024
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}\n")
    return wall, rss_mb, r.stdout


def load_mosaic(path):
    """(values (band, y, x), x0, y0): the store's cube and the upper-left corner of its first pixel."""
    import xarray as xr
    da = xr.open_zarr(path)["cube"].transpose("band", "y", "x")
    v = da.values.astype("float64")
    x, y = da["x"].values, da["y"].values
    # our grid is on 10 m multiples: coords at a multiple are pixel corners, at a half pixel centres
    cx = 0.0 if np.isclose(x[0] % RES, 0) or np.isclose(x[0] % RES, RES) else RES / 2
    cy = 0.0 if np.isclose(y[0] % RES, 0) or np.isclose(y[0] % RES, RES) else RES / 2
    return v, float(x[0]) - cx, float(y[0]) + cy, [str(b) for b in da["band"].values]


def compare(ref, got):
    """Agreement of two mosaics on the pixels their grids share; unshared pixels of ref count as differing."""
    a, ax, ay, ab = ref
    b, bx, by, bb = got
    dx, dy = round((bx - ax) / RES), round((ay - by) / RES)  # b's first pixel in a's grid
    y0, x0 = max(0, dy), max(0, dx)
    y1, x1 = min(a.shape[1], dy + b.shape[1]), min(a.shape[2], dx + b.shape[2])
    A = a[:, y0:y1, x0:x1]
    B = b[:, y0 - dy:y1 - dy, x0 - dx:x1 - dx]
    same = (A == B) | (np.isnan(A) & np.isnan(B))
    both = ~np.isnan(A) & ~np.isnan(B)
    diff = np.abs(A[both] - B[both])
    return {"offset_px": [dx, dy], "shapes": [list(a.shape), list(b.shape)], "bands": ab == bb,
            "equal_fraction": float(same.sum()) / a.size, "nan_mismatch": int((np.isnan(A) != np.isnan(B)).sum()),
            "max_abs_diff": float(diff.max()) if diff.size else 0.0}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True, help="where the data (and the outputs) go, e.g. bench-data/cube")
    p.add_argument("--gyre", help="the gyre binary")
    p.add_argument("--skip-gyre", action="store_true", help="time the peers only")
    p.add_argument("--quick", action="store_true", help="12 items of 640 x 640, one run each")
    p.add_argument("--repeat", type=int, help="runs per tool (default 3; --quick 1)")
    p.add_argument("--items", type=int, help="number of items (default 120; --quick 12)")
    p.add_argument("--size", type=int, help="pixels a side of a scene (default 1024; --quick 640)")
    p.add_argument("--tools", default="stackstac,odc,gyre", help="which tools to run, comma-separated")
    p.add_argument("--threads", type=int, default=2, help="dask threads for the peers")
    p.add_argument("--jobs", type=int, default=os.cpu_count(), help="processes writing the data")
    p.add_argument("--worker", choices=["stackstac", "odc"], help=argparse.SUPPRESS)
    p.add_argument("--items-json", help=argparse.SUPPRESS)
    p.add_argument("--bounds", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        return worker(a)
    tools = [t for t in a.tools.split(",") if t and not (t == "gyre" and a.skip_gyre)]
    if "gyre" in tools and not a.gyre:
        p.error("--gyre PATH is needed (or --skip-gyre)")
    n = a.items or (12 if a.quick else 120)
    size = a.size or (640 if a.quick else 1024)
    repeat = a.repeat or (1 if a.quick else 3)

    root = os.path.abspath(a.dir)
    items_path = ensure_data(root, n, size, a.jobs)
    bounds, nitems = union_bounds(items_path)
    width, height = round((bounds[2] - bounds[0]) / RES), round((bounds[3] - bounds[1]) / RES)
    cogdir = os.path.join(root, "cogs")
    on_disk = sum(os.path.getsize(os.path.join(cogdir, f)) for f in os.listdir(cogdir))
    raw = nitems * len(BANDS) * size * size * 2
    print(f"data: {nitems} items ({len(POSITIONS)} tile positions x {math.ceil(nitems / len(POSITIONS))} dates), "
          f"{len(BANDS)} uint16 COGs each of {size} x {size} px; {raw / 1e9:.2f} GB uncompressed, "
          f"{on_disk / 1e9:.2f} GB on disk", flush=True)
    print(f"mosaic: EPSG:{EPSG}, 10 m, bounds {','.join(fmt(v) for v in bounds)}: {len(BANDS)} x {height} x {width} "
          f"({height * width / 1e6:.1f} Mpx per band), median over time, float64, to Zarr", flush=True)

    for f in sorted(os.listdir(cogdir)):  # into the page cache, so that no run pays for the first read
        with open(os.path.join(cogdir, f), "rb") as fh:
            while fh.read(1 << 24):
                pass

    out_dir = os.path.join(root, "out")
    os.makedirs(out_dir, exist_ok=True)
    log = os.path.join(out_dir, "runs.log")
    open(log, "w").close()
    stores = {t: os.path.join(out_dir, f"{t}.zarr") for t in tools}
    bstr = ",".join(fmt(v) for v in bounds)
    cmds = {}
    for t in tools:
        if t == "gyre":
            cmds[t] = [os.path.abspath(a.gyre), "cube", "--items", items_path, "--assets", ",".join(ASSETS),
                       "--resolution", fmt(RES), "--crs", f"EPSG:{EPSG}", "--bounds", bstr, "--no-overviews",
                       "--method", "median", "-o", stores[t], "--overwrite"]
        else:
            cmds[t] = [sys.executable, os.path.abspath(__file__), "--dir", root, "--worker", t, "--items-json", items_path,
                       "--bounds", bstr, "--out", stores[t], "--threads", str(a.threads)]
    runs = {t: [] for t in tools}
    for k in range(repeat):  # round robin: every tool sees the same machine state
        for t in tools:
            if t == "gyre":
                shutil.rmtree(stores[t], ignore_errors=True)  # outside the timing, as the peers do
            wall, rss, out = timed_process(cmds[t], log)
            secs = wall if t == "gyre" else json.loads(out.strip().splitlines()[-1])["seconds"]
            info = "" if t == "gyre" else json.loads(out.strip().splitlines()[-1])
            runs[t].append((secs, wall, rss))
            print(f"  run {k + 1}/{repeat} {t:<9} {secs:8.2f} s (process {wall:7.2f} s)  peak RSS {rss:8.0f} MB"
                  + (f"  [{info['times']} times, {info['tasks']} tasks in, chunks {info['chunks']}]" if info else ""),
                  flush=True)
    res = {t: (sorted(r[0] for r in runs[t])[len(runs[t]) // 2], max(r[2] for r in runs[t])) for t in tools}

    # do the mosaics agree?
    failed = False
    mosaics = {t: load_mosaic(stores[t]) for t in tools}
    pairs = [(x, y) for x, y in (("stackstac", "gyre"), ("stackstac", "odc"), ("odc", "gyre")) if x in tools and y in tools]
    for x, y in pairs:
        c = compare(mosaics[x], mosaics[y])
        print(f"{y} vs {x}: {100 * c['equal_fraction']:.4f}% of pixels equal (NaN == NaN), max |diff| "
              f"{c['max_abs_diff']:g}, NaN mismatches {c['nan_mismatch']}, grid offset {c['offset_px']} px, "
              f"shapes {c['shapes'][0]} / {c['shapes'][1]}" + ("" if c["bands"] else ", bands differ"))
        if (x, y) == ("stackstac", "gyre") and (1 - c["equal_fraction"] > 0.001 or not c["bands"]):
            failed = True

    names = {"stackstac": "stackstac + dask", "odc": "odc-stac + dask", "gyre": "Gyre"}
    peers = [t for t in tools if t != "gyre"]
    print()
    print(f"{'case':<40} {'peer s':>9} {'Gyre s':>9} {'ratio':>7}")
    for t in peers:
        label = f"median mosaic: {names[t]}"
        if "gyre" in tools:
            print(f"{label:<40} {res[t][0]:9.3f} {res['gyre'][0]:9.3f} {res[t][0] / res['gyre'][0]:6.1f}x")
        else:
            print(f"{label:<40} {res[t][0]:9.3f} {'-':>9} {'-':>7}")
    print()
    print(f"{'tool':<40} {'peak RSS MB':>11}")
    for t in tools:
        print(f"{names[t]:<40} {res[t][1]:11.0f}")
    if "gyre" in tools and peers:
        fast = min(peers, key=lambda t: res[t][0])
        small = min(peers, key=lambda t: res[t][1])
        sp = res[fast][0] / res["gyre"][0]
        mem = res["gyre"][1] / res[small][1]
        print()
        print(f"time: Gyre {sp:.1f}x faster than the faster peer ({names[fast]}); goal at least 5x: "
              f"{'met' if sp >= 5 else 'not met'}")
        print(f"memory: Gyre's peak RSS {mem:.2f} of the smaller peer's ({names[small]}); goal at most 0.5: "
              f"{'met' if mem <= 0.5 else 'not met'}")
    print(f"(runs: {log}; the peers' times leave out interpreter start and imports, Gyre's is the whole process)")
    if failed:
        sys.exit("Gyre's mosaic differs from stackstac's in more than 0.1% of the pixels")


if __name__ == "__main__":
    main()
