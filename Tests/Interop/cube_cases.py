"""stackstac (and odc-stac) build the STAC -> (time, band, y, x) cube -> median cases Gyre's cube is compared against.

  cube_cases.py OUTDIR   writes OUTDIR/cogs/*.tif (Sentinel-2-like single-band COGs), OUTDIR/items/*.json
                         and OUTDIR/items.json (STAC 1.1 items, projection v2 + eo + raster), one set of
                         .npy files per case and OUTDIR/cases.json; prints a summary

Scenes: 10 items in EPSG:32633 (one far away, so stackstac drops it), 2 in EPSG:32634 (reprojection),
600 x 600 pixels of 10 m, origins shifted by 10 m multiples and by 5 m / 3 m, three uint16 assets
B04/B03/B02 with nodata=0 (a diagonal swath edge and a 'cloud' blob), values smooth + noise. Values
are a function of the EPSG:32633 position, so overlapping scenes agree up to noise and season.

Each case is stackstac.stack(...) on a fixed grid, computed, with its median over time and its
monthly median. cases.json also records checks that pin down what stackstac/GDAL did, computed on
every run (not assumed): the grid rule, how nearest breaks ties, whether overviews were read, which
bilinear kernel was used, how much GDAL's approximate reprojection moves nearest picks.
odc-stac loads the 10 m cases too ("odc_cube"), with its own grid rule (see "odc" in cases.json).

Fixed seeds; GDAL stamps no dates, so a run gives the same files every time. Needs stackstac
(pins pandas<3) and odc-stac (optional: skipped with a note when it does not import).
"""
import json, math, os, sys, time, warnings
import numpy as np
import pyproj
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT

import stackstac

try:
    import odc.stac as odc_stac
    import pystac
    ODC_ERROR = None
except Exception as e:  # odc-stac is optional
    odc_stac, ODC_ERROR = None, repr(e)

RES = 10.0
SIZE = 600
X0, Y0 = 700000.0, 5560000.0  # reference corner in EPSG:32633 (about 17.8 E, 50.2 N)
BANDS = [("B04", "red", 0.665, 900.0), ("B03", "green", 0.56, 1100.0), ("B02", "blue", 0.49, 1300.0)]
ASSETS = [b[0] for b in BANDS]
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
EXTENSIONS = ["https://stac-extensions.github.io/projection/v2.0.0/schema.json",
              "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
              "https://stac-extensions.github.io/raster/v1.1.0/schema.json"]

# id, epsg, upper-left offset from (X0, Y0) in m (for 32634: where the corner should land in 32633),
# datetime, COG block size, diagonal edge (nodata where col > a*row + b), cloud (row, col, r_rows, r_cols),
# proj:transform length. The list order is NOT date order (stackstac sorts; ties keep this order).
SCENES = [
    ("S2A_T33_20200105", 32633, (0, 0), "2020-01-05T10:03:21Z", 256, None, (150, 420, 60, 90), 6),
    ("S2B_T33_20200118", 32633, (1000, -1000), "2020-01-18T10:04:10Z", 128, (0.8, 330), None, 6),
    ("S2A_T33_20200214", 32633, (1003, -497), "2020-02-14T10:05:00Z", 128, (-0.6, 520), (300, 200, 70, 50), 6),
    ("S2B_T33_20200202", 32633, (5, 5), "2020-02-02T10:02:55Z", 256, None, (420, 120, 80, 110), 9),
    ("S2A_T33_20200303", 32633, (-1000, -1500), "2020-03-03T10:01:30Z", 256, None, None, 6),
    ("S2B_T33_20200320", 32633, (1500, 1500), "2020-03-20T10:03:45Z", 128, (0.8, 300), None, 6),
    ("S2A_T33_20200408", 32633, (-5, -10), "2020-04-08T10:02:12Z", 256, None, (250, 300, 100, 80), 6),
    ("S2B_T33_20200425", 32633, (2000, 0), "2020-04-25T10:04:40Z", 128, None, None, 9),
    ("S2A_T33_20200527", 32633, (500, 500), "2020-05-27T10:03:03Z", 128, None, (100, 100, 50, 60), 6),
    ("S2B_T33_20200510", 32633, (3, -1003), "2020-05-10T10:00:58Z", 256, (0.7, 380), (480, 250, 40, 70), 6),
    ("S2A_T33_20200611_far", 32633, (30000, 0), "2020-06-11T10:02:00Z", 256, None, None, 6),
    # same datatake as S2B_T33_20200320: identical datetime, neighbouring UTM zone
    ("S2B_T34_20200320", 32634, (500, -7000), "2020-03-20T10:03:45Z", 256, (-0.5, 560), (200, 350, 60, 60), 9),
    ("S2A_T34_20200616", 32634, (1800, -1500), "2020-06-16T10:03:30Z", 128, None, (330, 120, 90, 70), 6),
]

# name, resolution, bounds in EPSG:32633, resampling, snap_bounds
CASES = [
    ("a_r10_nearest", 10, (698500.0, 5552500.0, 702500.0, 5555500.0), "nearest", True),
    ("a_r10_bilinear", 10, (698500.0, 5552500.0, 702500.0, 5555500.0), "bilinear", True),
    # holds both items of 2020-03-20T10:03:45Z (one per UTM zone): two equal time labels
    ("b_r20_nearest", 20, (697000.0, 5550000.0, 703000.0, 5556000.0), "nearest", True),
    ("b_r20_bilinear", 20, (697000.0, 5550000.0, 703000.0, 5556000.0), "bilinear", True),
    # bounds off the 10 m grid, width 2497.05 m: unsnapped, the coords do not step by 10 m; snapped,
    # stackstac ceils maxx 701500.05 to 701510 where odc-stac (1/100 px tolerance) keeps 701500
    ("c_r10_unaligned_nosnap", 10, (699003.0, 5552995.0, 701500.05, 5555001.0), "nearest", False),
    ("d_r10_unaligned_snap", 10, (699003.0, 5552995.0, 701500.05, 5555001.0), "nearest", True),
]

TO_33 = {32634: pyproj.Transformer.from_crs(32634, 32633, always_xy=True)}
FROM_33 = {32634: pyproj.Transformer.from_crs(32633, 32634, always_xy=True)}
TO_LL = {e: pyproj.Transformer.from_crs(e, 4326, always_xy=True) for e in (32633, 32634)}


def field(x, y, band, month):
    """Smooth 'reflectance' at EPSG:32633 position (x, y) plus a seasonal term."""
    base = BANDS[band][3]
    return (base + 350 * np.sin(x / 610.0) * np.cos(y / 830.0) + 200 * np.sin((x - y) / 1900.0)
            + 40 * month)


def scene_data(i, scene):
    """The three uint16 bands of one scene (0 = nodata) and its transform."""
    sid, epsg, (dx, dy), dt, _, edge, cloud, _ = scene
    ulx, uly = X0 + dx, Y0 + dy
    if epsg != 32633:  # put the corner where it lands in 32633, on the 10 m grid of its own zone
        ulx, uly = FROM_33[epsg].transform(ulx, uly)
        ulx, uly = round(ulx / RES) * RES, round(uly / RES) * RES
    tr = Affine(RES, 0.0, ulx, 0.0, -RES, uly)
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    x = ulx + (cols + 0.5) * RES
    y = uly - (rows + 0.5) * RES
    if epsg != 32633:
        x, y = TO_33[epsg].transform(x, y)
    nodata = np.zeros((SIZE, SIZE), bool)
    if edge is not None:
        nodata |= cols > edge[0] * rows + edge[1]
    if cloud is not None:
        r0, c0, rr, rc = cloud
        nodata |= ((rows - r0) / rr) ** 2 + ((cols - c0) / rc) ** 2 <= 1.0
    month = int(dt[5:7])
    bands = []
    for b in range(3):
        rng = np.random.default_rng(1000 * i + b)
        v = field(x, y, b, month) + rng.normal(0.0, 20.0, (SIZE, SIZE))
        v = np.clip(np.rint(v), 1, 65535).astype(np.uint16)
        v[nodata] = 0
        bands.append(v)
    return tr, bands, float(nodata.mean())


def write_cog(path, arr, epsg, tr, blocksize):
    with rasterio.open(path, "w", driver="COG", width=SIZE, height=SIZE, count=1, dtype="uint16",
                       crs=f"EPSG:{epsg}", transform=tr, nodata=0, COMPRESS="DEFLATE",
                       BLOCKSIZE=blocksize, OVERVIEWS="AUTO", RESAMPLING="AVERAGE") as dst:
        dst.write(arr, 1)
    with rasterio.open(path) as src:
        return src.overviews(1)


def footprint(epsg, tr):
    """Lon/lat ring (counter-clockwise, 4 points a side) of the raster extent and its bbox."""
    t = np.linspace(0, SIZE, 5)[:-1]
    cr = ([(0, v) for v in t] + [(v, SIZE) for v in t] + [(SIZE, SIZE - v) for v in t]
          + [(SIZE - v, 0) for v in t])  # (col, row): left side down, bottom, right side up, top
    xy = [tr * p for p in cr]
    lon, lat = TO_LL[epsg].transform([p[0] for p in xy], [p[1] for p in xy])
    ring = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat)]
    ring.append(ring[0])
    return ring, [min(lon), min(lat), max(lon), max(lat)]


def make_item(i, scene, cogdir):
    sid, epsg, _, dt, blocksize, edge, cloud, tlen = scene
    tr, bands, nodata_frac = scene_data(i, scene)
    ring, bbox = footprint(epsg, tr)
    pbbox = [tr.c, tr.f - SIZE * RES, tr.c + SIZE * RES, tr.f]
    transform = [tr.a, tr.b, tr.c, tr.d, tr.e, tr.f] + ([0.0, 0.0, 1.0] if tlen == 9 else [])
    assets, overviews = {}, None
    for (name, common, wl, _), arr in zip(BANDS, bands):
        path = os.path.join(cogdir, f"{sid}_{name}.tif")
        overviews = write_cog(path, arr, epsg, tr, blocksize)
        assets[name] = {
            "href": os.path.abspath(path), "type": COG_TYPE, "roles": ["data"], "title": f"{name} ({common})",
            "proj:epsg": epsg, "proj:code": f"EPSG:{epsg}", "proj:transform": transform,
            "proj:shape": [SIZE, SIZE], "proj:bbox": pbbox,
            "eo:bands": [{"name": name, "common_name": common, "center_wavelength": wl}],
            "raster:bands": [{"data_type": "uint16", "nodata": 0, "spatial_resolution": RES}],
        }
    item = {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": EXTENSIONS, "id": sid,
        "geometry": {"type": "Polygon", "coordinates": [ring]}, "bbox": bbox,
        "properties": {"datetime": dt, "platform": "sentinel-2" + sid[2].lower(), "constellation": "sentinel-2",
                       "eo:cloud_cover": round(100 * nodata_frac, 2) if cloud else 0.0},
        "links": [], "assets": assets,
    }
    return item, {"id": sid, "epsg": epsg, "transform": transform[:6], "blocksize": blocksize,
                  "overviews": overviews, "nodata_fraction": round(nodata_frac, 4)}


# ---------------------------------------------------------------------------------------------
# numpy models of what GDAL's warper does for same-CRS, axis-aligned sources (used as checks)

def src_coords(item, spec):
    """Continuous source pixel coordinates (col, row) of the output pixel centres (1-D each)."""
    a = item["assets"][ASSETS[0]]["proj:transform"]
    t = spec.transform
    h, w = spec.shape
    xs = t.c + (np.arange(w) + 0.5) * t.a
    ys = t.f + (np.arange(h) + 0.5) * t.e
    return (xs - a[2]) / a[0], (ys - a[5]) / a[4]


def model_nearest(src, sc, sr, eps):
    """GDAL nearest: index = floor(coord + eps); eps>0 breaks exact ties towards the higher index."""
    ci, ri = np.floor(sc + eps).astype(int), np.floor(sr + eps).astype(int)
    out = np.full((len(ri), len(ci)), np.nan)
    okc, okr = (ci >= 0) & (ci < src.shape[1]), (ri >= 0) & (ri < src.shape[0])
    out[np.ix_(okr, okc)] = src[np.ix_(ri[okr], ci[okc])]
    return out


def model_kernel(src, sc, sr, scale):
    """Bilinear (triangle) kernel, widened by 1/scale when scale < 1 (scale=1: plain 2 x 2 bilinear).
    Output is nodata when the source pixel holding the output centre (floor(coord + 1e-9)) is nodata
    or outside; otherwise nodata/outside taps are dropped, the weights renormalised, and the result
    rounded half up (uint16 working type)."""
    radius = 1.0 / scale
    def taps(coord, n):
        base = np.floor(coord - 0.5).astype(int)
        offs = np.arange(-int(math.ceil(radius)) + 1, int(math.ceil(radius)) + 1)
        idx = base[:, None] + offs[None, :]
        d = (idx + 0.5) - coord[:, None]
        wgt = np.clip(1.0 - np.abs(d) * scale, 0.0, None)
        ok = (idx >= 0) & (idx < n)
        return np.clip(idx, 0, n - 1), np.where(ok, wgt, 0.0)
    ic, wc = taps(sc, src.shape[1])
    ir, wr = taps(sr, src.shape[0])
    valid = ~np.isnan(src)
    vals = np.where(valid, src, 0.0)
    # sum over taps: out[y, x] = sum_r sum_c wr*wc*v
    blk = vals[ir[:, :, None, None], ic[None, None, :, :]]  # (h, tr, w, tc)
    vb = valid[ir[:, :, None, None], ic[None, None, :, :]]
    wgt = wr[:, :, None, None] * wc[None, None, :, :]
    num = (blk * wgt).sum(axis=(1, 3))
    den = (vb * wgt).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.floor(num / den + 0.5)
    out[den < 1e-6] = np.nan
    out[np.isnan(model_nearest(src, sc, sr, 1e-9))] = np.nan
    return out


def read_src(href, overview_level=None):
    kw = {} if overview_level is None else {"overview_level": overview_level}
    with rasterio.open(href, **kw) as ds:
        a = ds.read(1).astype(float)
        a[a == 0] = np.nan
        return a, ds.transform


def compare(ref, got):
    """Agreement of two 2-D arrays: same NaN pattern count and max |diff| where both are valid."""
    both = ~np.isnan(ref) & ~np.isnan(got)
    diff = np.abs(ref[both] - got[both])
    return {"valid_both": int(both.sum()), "nan_mismatch": int((np.isnan(ref) != np.isnan(got)).sum()),
            "equal": int((diff == 0).sum()), "max_abs_diff": float(diff.max()) if diff.size else 0.0,
            "mean_abs_diff": round(float(diff.mean()), 6) if diff.size else 0.0}


def vrt_read(href, spec, resampling, tolerance=0.125, overview_level=None):
    """What stackstac's reader does, done by hand (optionally on an overview / with exact transform)."""
    kw = {} if overview_level is None else {"overview_level": overview_level}
    with rasterio.open(href, **kw) as ds, WarpedVRT(ds, resampling=resampling, tolerance=tolerance,
                                                    add_alpha=ds.nodata is None, **spec.vrt_params) as v:
        return np.ma.filled(v.read(1, out_dtype="float64", masked=True), np.nan)


# ---------------------------------------------------------------------------------------------

def iso(t):
    return np.datetime_as_string(np.datetime64(t, "s"), unit="s") + "Z"


def save(outdir, name, arr):
    np.save(os.path.join(outdir, name), np.ascontiguousarray(arr))
    return name


def run_case(outdir, items, by_id, case):
    name, res, bounds, resampling, snap = case
    da = stackstac.stack(items, assets=ASSETS, epsg=32633, resolution=res, bounds=bounds,
                         snap_bounds=snap, resampling=Resampling[resampling], dtype="float64",
                         fill_value=np.nan, rescale=False)
    spec = da.attrs["spec"]
    t0 = time.time()
    da = da.compute()
    secs = time.time() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        med = da.median("time", skipna=True)
        mon = da.groupby("time.month").median(skipna=True)
    tr = da.attrs["transform"]
    h, w = spec.shape
    # the documented grid rule, recomputed here
    b = spec.bounds
    if snap:
        exp_b = (math.floor(bounds[0] / res) * res, math.floor(bounds[1] / res) * res,
                 math.ceil(bounds[2] / res) * res, math.ceil(bounds[3] / res) * res)
    else:
        exp_b = tuple(bounds)
    exp_shape = (int((exp_b[3] - exp_b[1] + res / 2) / res), int((exp_b[2] - exp_b[0] + res / 2) / res))
    x, y = da.x.values, da.y.values
    grid = {
        "bounds_used": list(b), "rule_bounds_ok": tuple(b) == exp_b, "rule_shape_ok": tuple(spec.shape) == exp_shape,
        "x_is_linspace_left_edges": bool(np.array_equal(x, np.linspace(b[0], b[2], w, endpoint=False))),
        "y_is_linspace_top_edges": bool(np.array_equal(y, np.linspace(b[3], b[1], h, endpoint=False))),
        "x_step": float(x[1] - x[0]), "y_step": float(y[1] - y[0]),
        "max_coord_vs_transform_x": float(np.abs(x - (tr.c + np.arange(w) * tr.a)).max()),
        "max_coord_vs_transform_y": float(np.abs(y - (tr.f + np.arange(h) * tr.e)).max()),
    }
    ids = [str(v) for v in da.id.values]
    dropped = [s[0] for s in SCENES if s[0] not in ids]
    cube = da.values
    p = name + "."
    entry = {
        "name": name, "epsg": 32633, "resolution": res, "bounds": list(bounds), "snap_bounds": snap,
        "resampling": resampling, "assets": [str(v) for v in da.band.values],
        "transform": [tr.a, tr.b, tr.c, tr.d, tr.e, tr.f], "shape": [h, w],
        "times": [iso(t) for t in da.time.values], "item_ids": ids, "dropped_item_ids": dropped,
        "xy_coords": "topleft",
        "cube": save(outdir, p + "cube.npy", cube), "median": save(outdir, p + "median.npy", med.values),
        "monthly": save(outdir, p + "monthly.npy", mon.values), "months": [int(m) for m in mon.month.values],
        "x": save(outdir, p + "x.npy", x), "y": save(outdir, p + "y.npy", y),
        "x_center": save(outdir, p + "x_center.npy", tr.c + (np.arange(w) + 0.5) * tr.a),
        "y_center": save(outdir, p + "y_center.npy", tr.f + (np.arange(h) + 0.5) * tr.e),
        "grid": grid,
        "stats": {"all_nan_pixels": int(np.isnan(cube).all(axis=(0, 1)).sum()),
                  "nan_fraction": round(float(np.isnan(cube).mean()), 4),
                  "integral_values": bool(np.all(np.isnan(cube) | (cube == np.round(cube)))),
                  "compute_seconds": round(secs, 2)},
    }
    entry["checks"] = checks(da, spec, by_id, resampling, res)
    return entry, da, spec


def checks(da, spec, by_id, resampling, res):
    """Per same-CRS item: does a numpy model of GDAL reproduce stackstac's slice exactly?"""
    out = {"per_item": {}}
    scale = RES / res  # source/destination pixel ratio (GDAL's dfXScale)
    for ti, sid in enumerate(str(v) for v in da.id.values):
        item = by_id[sid]
        a0 = item["assets"][ASSETS[0]]
        got = da.values[ti, 0]
        src, _ = read_src(a0["href"])
        same = {"vrt_defaults": compare(vrt_read(a0["href"], spec, Resampling[resampling]), got)}
        if a0["proj:epsg"] != 32633:  # reprojected: GDAL approximates the transform (0.125 px)
            # (WarpedVRT refuses tolerance=0, so 1e-9 stands for 'exact')
            exact = vrt_read(a0["href"], spec, Resampling[resampling], tolerance=1e-9)
            rec = {"kind": "reprojected", **same, "vrt_tolerance_1e-9": compare(exact, got)}
            if resampling == "nearest":  # per-pixel pyproj transform of the output centres, then floor
                h, w = spec.shape
                t = spec.transform
                X, Y = np.meshgrid(t.c + (np.arange(w) + 0.5) * t.a, t.f + (np.arange(h) + 0.5) * t.e)
                sx, sy = FROM_33[a0["proj:epsg"]].transform(X, Y)
                at = a0["proj:transform"]
                ci = np.floor((sx - at[2]) / at[0] + 1e-9).astype(int)
                ri = np.floor((sy - at[5]) / at[4] + 1e-9).astype(int)
                ok = (ci >= 0) & (ci < SIZE) & (ri >= 0) & (ri < SIZE)
                ref = np.full((h, w), np.nan)
                ref[ok] = src[ri[ok], ci[ok]]
                rec["pyproj_exact_floor"] = compare(ref, got)
            out["per_item"][sid] = rec
            continue
        sc, sr = src_coords(item, spec)
        frac = lambda c: float(np.abs(c - np.rint(c)).min())
        rec = {"kind": "same_crs", **same, "min_dist_to_pixel_edge_col": round(frac(sc), 6),
               "min_dist_to_pixel_edge_row": round(frac(sr), 6)}
        if resampling == "nearest":
            rec["floor(c+1e-9)"] = compare(model_nearest(src, sc, sr, 1e-9), got)
            rec["floor(c-1e-9)"] = compare(model_nearest(src, sc, sr, -1e-9), got)
            if scale < 1:
                ov, ovt = read_src(a0["href"], overview_level=0)
                sco = (spec.transform.c + (np.arange(spec.shape[1]) + 0.5) * res - ovt.c) / ovt.a
                sro = (spec.transform.f - (np.arange(spec.shape[0]) + 0.5) * res - ovt.f) / ovt.e
                rec["overview0_nearest"] = compare(model_nearest(ov, sco, sro, 1e-9), got)
        else:
            rec["bilinear_2x2"] = compare(model_kernel(src, sc, sr, 1.0), got)
            if scale < 1:
                rec["bilinear_widened"] = compare(model_kernel(src, sc, sr, scale), got)
                rec["vrt_on_overview0"] = compare(vrt_read(a0["href"], spec, Resampling[resampling],
                                                           overview_level=0), got)
        out["per_item"][sid] = rec
    return out


def odc_load(items_sorted, case, spec):
    name, res, bounds, resampling, snap = case
    pitems = [pystac.Item.from_dict(d) for d in items_sorted]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = odc_stac.load(pitems, bands=ASSETS, crs="EPSG:32633", resolution=res,
                           x=(bounds[0], bounds[2]), y=(bounds[1], bounds[3]), resampling=resampling,
                           dtype="float64", nodata=np.nan, groupby="id")
        grouped = odc_stac.load(pitems, bands=ASSETS, crs="EPSG:32633", resolution=res,
                                x=(bounds[0], bounds[2]), y=(bounds[1], bounds[3]), resampling=resampling,
                                dtype="float64", nodata=np.nan, chunks={})  # default groupby="time", lazy
    arr = ds[ASSETS].to_array("band").transpose("time", "band", "y", "x").values
    gb = ds.odc.geobox
    t = gb.transform
    return arr, ds, {
        "transform": [t.a, t.b, t.c, t.d, t.e, t.f], "shape": list(gb.shape),
        "x_first": float(ds.x.values[0]), "y_first": float(ds.y.values[0]), "xy_coords": "center",
        "times": [iso(v) for v in ds.time.values],
        "groupby_time_times": [iso(v) for v in grouped.time.values],
    }


def compare_grids(a, ta, b, tb, ids):
    """Compare two (time, band, y, x) cubes on the pixels their grids share (same res, whole-pixel offset)."""
    if ta[0] != tb[0] or ta[4] != tb[4]:
        return {"same_grid": False, "comparable": False}
    dx, dy = (tb[2] - ta[2]) / ta[0], (tb[5] - ta[5]) / ta[4]
    if dx != round(dx) or dy != round(dy):
        return {"same_grid": False, "comparable": False, "offset_px": [dx, dy]}
    dx, dy = int(round(dx)), int(round(dy))
    y0, x0 = max(0, dy), max(0, dx)
    y1, x1 = min(a.shape[2], dy + b.shape[2]), min(a.shape[3], dx + b.shape[3])
    A, B = a[:, :, y0:y1, x0:x1], b[:, :, y0 - dy:y1 - dy, x0 - dx:x1 - dx]
    flat = lambda c: c.reshape(-1, c.shape[-1])
    out = {"same_grid": ta == tb and a.shape == b.shape, "comparable": True, "offset_px": [dx, dy],
           "overlap_shape": [y1 - y0, x1 - x0], **compare(flat(A), flat(B))}
    out["per_item"] = {sid: compare(flat(A[i]), flat(B[i])) for i, sid in enumerate(ids)}
    return out


def findings(cases):
    """Roll the per-item checks up into the few facts a reimplementation needs."""
    exact = lambda c: c["nan_mismatch"] == 0 and c["equal"] == c["valid_both"]
    recs = [(c, r) for c in cases for r in c["checks"]["per_item"].values()]
    same = [(c, r) for c, r in recs if r["kind"] == "same_crs"]
    near = [r for c, r in same if c["resampling"] == "nearest"]
    bil = [r for c, r in same if c["resampling"] == "bilinear"]
    rep_near = [r for c, r in recs if r["kind"] == "reprojected" and c["resampling"] == "nearest"]
    rep_bil = [r for c, r in recs if r["kind"] == "reprojected" and c["resampling"] == "bilinear"]
    n_b = sum(r["bilinear_2x2"]["valid_both"] for r in bil)
    return {
        "hand_made_warpedvrt_reproduces_stackstac": all(exact(r["vrt_defaults"]) for _, r in recs),
        "nearest_is_floor_of_coord_plus_eps": all(exact(r["floor(c+1e-9)"]) for r in near),
        "nearest_exact_ties_go_to_higher_index": any(not exact(r["floor(c-1e-9)"]) for r in near),
        "r20_nearest_reads_overview": any(exact(r["overview0_nearest"]) and not exact(r["floor(c+1e-9)"])
                                          for r in near if "overview0_nearest" in r),
        "bilinear_2x2_nan_pattern_exact": all(r["bilinear_2x2"]["nan_mismatch"] == 0 for r in bil),
        "bilinear_2x2_max_abs_diff": max(r["bilinear_2x2"]["max_abs_diff"] for r in bil),
        "bilinear_2x2_fraction_off_by_one": round(sum(r["bilinear_2x2"]["valid_both"] - r["bilinear_2x2"]["equal"]
                                                      for r in bil) / n_b, 5),
        "r20_bilinear_kernel_widened": any(not exact(r["bilinear_2x2"]) and r["bilinear_widened"]["max_abs_diff"] == 0
                                           for r in bil if "bilinear_widened" in r),
        "reprojected_nearest_fraction_differing_from_exact": round(
            sum(r["pyproj_exact_floor"]["valid_both"] - r["pyproj_exact_floor"]["equal"] for r in rep_near)
            / sum(r["pyproj_exact_floor"]["valid_both"] for r in rep_near), 5),
        "reprojected_bilinear_fraction_differing_from_exact": round(
            sum(r["vrt_tolerance_1e-9"]["valid_both"] - r["vrt_tolerance_1e-9"]["equal"] for r in rep_bil)
            / sum(r["vrt_tolerance_1e-9"]["valid_both"] for r in rep_bil), 5),
        "reprojected_bilinear_max_abs_diff_from_exact": max(r["vrt_tolerance_1e-9"]["max_abs_diff"] for r in rep_bil),
    }


def main(outdir):
    t_start = time.time()
    cogdir, itemdir = os.path.join(outdir, "cogs"), os.path.join(outdir, "items")
    os.makedirs(cogdir, exist_ok=True)
    os.makedirs(itemdir, exist_ok=True)
    items, scene_info = [], []
    for i, scene in enumerate(SCENES):
        item, info = make_item(i, scene, cogdir)
        with open(os.path.join(itemdir, item["id"] + ".json"), "w") as f:
            json.dump(item, f, indent=1)
        items.append(item)
        scene_info.append(info)
    with open(os.path.join(outdir, "items.json"), "w") as f:
        json.dump({"type": "FeatureCollection", "features": items}, f, indent=1)
    by_id = {it["id"]: it for it in items}

    cases, results = [], {}
    for case in CASES:
        entry, da, spec = run_case(outdir, items, by_id, case)
        results[case[0]] = (da, spec)
        if odc_stac is not None and case[0][0] in "ad":  # the 10 m aligned cases and the snapped unaligned one
            sorted_items = [by_id[i] for i in entry["item_ids"]]  # same order as stackstac's time axis
            arr, ds, meta = odc_load(sorted_items, case, spec)
            entry["odc_cube"] = save(outdir, case[0] + ".odc_cube.npy", arr)
            entry["odc"] = meta
            entry["odc_vs_stackstac"] = compare_grids(da.values, entry["transform"], arr, meta["transform"],
                                                      entry["item_ids"])
        cases.append(entry)

    # b_r20 with odc-stac too, only to record that odc reads the overview where stackstac does not
    odc_note = None
    if odc_stac is not None:
        case = CASES[2]
        da, spec = results[case[0]]
        sorted_items = [by_id[str(i)] for i in da.id.values]
        arr, _, meta = odc_load(sorted_items, case, spec)
        per = {}
        for ti, sid in enumerate(str(v) for v in da.id.values):
            a0 = by_id[sid]["assets"][ASSETS[0]]
            if a0["proj:epsg"] != 32633:
                continue
            per[sid] = {"vs_stackstac": compare(da.values[ti, 0], arr[ti, 0]),
                        "vs_vrt_on_overview0": compare(vrt_read(a0["href"], spec, Resampling.nearest,
                                                                overview_level=0), arr[ti, 0])}
        odc_note = {"case": case[0], "grid": meta, "per_item_B04": per}

    versions = {"stackstac": stackstac.__version__, "rasterio": rasterio.__version__,
                "gdal": rasterio.__gdal_version__, "numpy": np.__version__, "pyproj": pyproj.__version__}
    import xarray, dask, pandas
    versions.update(xarray=xarray.__version__, dask=dask.__version__, pandas=pandas.__version__)
    if odc_stac is not None:
        import odc.geo, odc.loader
        versions.update({"odc-stac": odc_stac.__version__, "odc-geo": odc.geo.__version__,
                         "odc-loader": odc.loader.__version__})
    doc = {
        "items": "items.json", "item_dir": "items", "cog_dir": "cogs", "versions": versions,
        "scenes": scene_info, "findings": findings(cases), "cases": cases, "odc_error": ODC_ERROR, "odc_r20_overview_check": odc_note,
        "notes": {
            "grid": "snap_bounds: minx,miny floored and maxx,maxy ceiled to multiples of resolution "
                    "(math.floor/ceil, no tolerance); transform = (res, 0, minx, 0, -res, maxy); "
                    "width = int((maxx-minx+res/2)/res), height likewise; x/y coords are the pixels' "
                    "top-left corners (default xy_coords='topleft'), linspace(minx, maxx, width, "
                    "endpoint=False) and linspace(maxy, miny, height, endpoint=False), so without "
                    "snapping they step by span/width, not res, and drift from the transform",
            "time": "items sorted by properties.datetime as a STRING (Python's stable sort: equal "
                    "datetimes keep input order); time coord = those datetimes, UTC, tz dropped; "
                    "equal datetimes give repeated time labels (no grouping)",
            "drop": "an asset is dropped when its bbox in the output CRS does not strictly overlap the "
                    "unsnapped bounds (touching edges = no overlap); bbox = 4 corners of "
                    "proj:transform x proj:shape reprojected (not densified); proj:bbox is used only "
                    "when the asset's proj:transform/proj:shape equal the item-level ones (here there "
                    "are none on the item, so it is ignored); only proj:epsg is read, never proj:code; "
                    "an item goes when all its assets are dropped, a band when no item has it",
            "read": "one rasterio WarpedVRT per asset with crs/transform/width/height of the output grid, "
                    "the requested resampling, add_alpha only when the file has no nodata, rasterio "
                    "defaults otherwise (tolerance 0.125 px, src/dst nodata = file nodata, working "
                    "dtype = file dtype so bilinear is rounded to uint16, init_dest_nodata); read at "
                    "the VRT's full resolution with masked=True, out_dtype=float64; masked pixels "
                    "(== nodata, or outside) -> fill_value NaN; no VRT when the file already has "
                    "exactly the output grid; no overviews (GDAL only picks overviews in gdalwarp or "
                    "on a downsampled RasterIO of the VRT, neither happens here)",
            "nearest": "source index = floor(source pixel coordinate of the output pixel centre + eps): "
                       "exact ties go to the higher index (right / down)",
            "bilinear": "2 x 2 taps at full resolution even at 20 m (no kernel widening); nodata when the "
                        "source pixel holding the output centre is nodata or outside; otherwise invalid "
                        "taps dropped and weights renormalised; rounded half up to uint16 (exact .5 "
                        "ties may go either way through floating-point noise: allow +-1)",
            "reprojection": "GDAL's approximate transformer (0.125 px) moves a few nearest picks and "
                            "bilinear values by +-1 against an exact per-pixel transform: see findings",
            "median": "xarray median(skipna): NaN-ignoring, mean of the two middle values for even "
                      "counts, NaN where no valid value; monthly = groupby('time.month') of the same",
            "odc": "odc.stac.load(x=, y=, crs=, resolution=) snaps with anchor EDGE: floor/ceil of "
                   "bounds/res with a 1/100 px tolerance (701500.05 -> 701500, stackstac -> 701510), "
                   "coords are pixel centres, always snapped (no unsnapped mode without a GeoBox); "
                   "same-CRS sources within 0.9 px (nearest) / 0.05 px (else) of a whole-pixel shift "
                   "are pasted by rounded shift instead of warped; others go through "
                   "rasterio.warp.reproject with float64 working type (bilinear not rounded); reads "
                   "an overview when the shrink factor is >= 2; groupby='time' fuses equal "
                   "datetimes (first valid pixel wins), groupby='id' keeps input order",
        },
    }
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(doc, f, indent=1)

    # summary
    print(f"cube_cases: {len(items)} items, {3 * len(items)} COGs, {len(cases)} cases in {outdir} "
          f"({time.time() - t_start:.1f} s)")
    for c in cases:
        print(f"  {c['name']:24s} shape={c['shape']} times={len(c['times'])} dropped={c['dropped_item_ids']} "
              f"all-NaN px={c['stats']['all_nan_pixels']} integral={c['stats']['integral_values']} "
              f"grid rule ok={c['grid']['rule_bounds_ok'] and c['grid']['rule_shape_ok']} "
              f"x_step={c['grid']['x_step']:.4f}")
        if "odc_vs_stackstac" in c:
            o = c["odc_vs_stackstac"]
            print(f"    odc: transform={c['odc']['transform']} shape={c['odc']['shape']} same_grid={o['same_grid']} "
                  + (f"equal={o['equal']}/{o['valid_both']} max|d|={o['max_abs_diff']:.3f} "
                     f"mean|d|={o['mean_abs_diff']:.4f} nan_mismatch={o['nan_mismatch']}" if o["comparable"] else ""))
    for k, v in doc["findings"].items():
        print(f"  {k}: {v}")
    if odc_note:
        ovr = all(v["vs_vrt_on_overview0"]["nan_mismatch"] == 0 and v["vs_vrt_on_overview0"]["max_abs_diff"] == 0
                  for v in odc_note["per_item_B04"].values())
        print(f"  odc-stac at 20 m reads overview 0 for every same-CRS item: {ovr}")
    if ODC_ERROR:
        print("  odc-stac unavailable:", ODC_ERROR)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
