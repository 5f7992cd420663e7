"""pyproj and rasterio/GDAL compute the coordinate transforms and warps Gyre's reprojection is checked against.

Usage: warp_cases.py OUTDIR. Writes
  points.json  pyproj Transformer.from_crs(src, dst, always_xy=True) results (x, y = lon, lat / easting, northing);
  warp.json    raster cases (+ NAME.src.npy, NAME.out.npy, NAME.out_exact.npy, all (band, y, x)):
               "out" is rasterio.warp.reproject (GDAL's approximate transformer, 0.125 source pixel), "out_exact"
               the same warp through WarpedVRT with tolerance=1e-9 (rasterio 1.4 cannot turn the approximation
               off in reproject, see warp_rules.json);
  warp_rules.json  tiny-array experiments pinning GDAL's nearest/bilinear rules, and for every case the
               agreement of a numpy re-implementation of those rules (gdal_like below) with out and out_exact.
Deterministic (numpy default_rng seeds, network grids disabled), a few seconds.
"""
import json, math, os, sys, warnings
import numpy as np, pyproj, rasterio
from affine import Affine
from pyproj import Transformer
from pyproj.transformer import TransformerGroup
from rasterio.io import MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import Resampling, reproject, transform_bounds

warnings.simplefilter("ignore")
pyproj.network.set_network_enabled(False)  # only transforms that need no downloaded grid
out = sys.argv[1]
os.makedirs(out, exist_ok=True)

def dump(name, obj):
    with open(os.path.join(out, name), "w") as f:
        json.dump(obj, f, indent=1)

# ---------------------------------------------------------------- 1. points
# (src, dst, lon/lat box sampled, seed); boxes lie inside the CRS / operation areas of use.
PAIRS = [
    ("EPSG:4326", "EPSG:32633", (12.5, 0.5, 17.5, 83.5), 1),
    ("EPSG:4326", "EPSG:3857", (-179.0, -85.0, 179.0, 85.0), 2),
    ("EPSG:3857", "EPSG:4326", (-179.0, -85.0, 179.0, 85.0), 3),
    ("EPSG:32633", "EPSG:4326", (12.5, 0.5, 17.5, 83.5), 4),
    ("EPSG:32633", "EPSG:32634", (17.0, 0.5, 19.0, 83.5), 5),  # straddles the 18°E zone boundary
    ("EPSG:4326", "EPSG:3035", (-16.0, 33.5, 38.0, 84.5), 6),
    ("EPSG:27700", "EPSG:4326", (-8.5, 50.0, 1.7, 60.7), 7),
    ("EPSG:4326", "EPSG:3413", (-180.0, 60.5, 180.0, 89.5), 8),
]
points = []
for src, dst, (w, s, e, n), seed in PAIRS:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(w, e, 20), rng.uniform(s, n, 20)
    if src == "EPSG:4326":
        x, y = lon, lat
    else:  # projected source: project the sampled lon/lat, round to 1 mm, use those as inputs
        x, y = Transformer.from_crs("EPSG:4326", src, always_xy=True).transform(lon, lat)
        x, y = np.round(x, 3), np.round(y, 3)
    t = Transformer.from_crs(src, dst, always_xy=True)
    ox, oy = t.transform(x, y)
    # from_crs may hold several candidate operations ("unavailable until proj_trans is called"); pin the one it used
    group = TransformerGroup(src, dst, always_xy=True)
    op = next(o for o in group.transformers if np.array_equal(np.array(o.transform(x, y)), np.array([ox, oy])))
    d = op.definition
    shift = "grid" if ("gridshift" in d or "grids=" in d) else "helmert" if "helmert" in d else "none"
    points.append({
        "src": src, "dst": dst, "axis_order": "xy",
        "xy": np.column_stack([x, y]).tolist(), "out": np.column_stack([ox, oy]).tolist(),
        "description": op.description, "from_crs_description": t.description,
        "definition": d, "accuracy_m": op.accuracy, "datum_shift": shift,
        "unavailable_operations": [u.name + " (grids: " + ", ".join(g.short_name for g in u.grids) + ")"
                                   for u in group.unavailable_operations],
        "sampled_lonlat_box": [w, s, e, n],
    })
dump("points.json", points)

# ---------------------------------------------------------------- GDAL rule re-implementation (numpy)
# Kept here so the rules reported with these fixtures are executable and checked against every case.
EPS = 1e-10  # GWKCheckAndComputeSrcOffsets: iSrcX = int(x + 1e-10)

def pixel_mapper(src_crs, src_tr, dst_crs, dst_tr):
    """dst pixel/line -> src pixel/line, GDAL's GenImgProjTransform (dst geotransform, PROJ, inverse src geotransform)."""
    t = None if src_crs == dst_crs else Transformer.from_crs(dst_crs, src_crs, always_xy=True)
    inv = ~src_tr
    def base(px, py):
        X, Y = dst_tr * (px, py)
        if t is not None:
            X, Y = t.transform(X, Y)
        return inv * (X, Y)
    return base

def approx_row(base, xs, y, max_err=0.125):
    """GDALApproxTransform on one scanline (error in source pixels, recursive halving)."""
    n = len(xs)
    if n <= 5:
        return base(xs, np.full(n, y))
    m = (n - 1) // 2
    sx, sy = base(np.array([xs[0], xs[m], xs[-1]]), np.full(3, y))
    return _approx(base, xs, y, sx, sy, max_err)

def _approx(base, xs, y, sx, sy, max_err):
    n = len(xs); m = (n - 1) // 2
    dx = (sx[2] - sx[0]) / (xs[-1] - xs[0]); dy = (sy[2] - sy[0]) / (xs[-1] - xs[0])
    err = abs(sx[0] + dx * (xs[m] - xs[0]) - sx[1]) + abs(sy[0] + dy * (xs[m] - xs[0]) - sy[1])
    if err > max_err:  # transform 3 more points: middles of both halves and the last point of the first half
        px, py = base(np.array([xs[(m - 1) // 2], xs[m - 1], xs[m + (n - m - 1) // 2]]), np.full(3, y))
        ax, ay = _approx(base, xs[:m], y, [sx[0], px[0], px[1]], [sy[0], py[0], py[1]], max_err)
        bx, by = _approx(base, xs[m:], y, [sx[1], px[2], sx[2]], [sy[1], py[2], sy[2]], max_err)
        return np.concatenate([ax, bx]), np.concatenate([ay, by])
    d = xs - xs[0]
    return sx[0] + dx * d, sy[0] + dy * d

def src_coords(base, shape, exact):
    h, w = shape
    xs = np.arange(w) + 0.5  # destination pixel centres
    if exact:
        jj, ii = np.mgrid[0:h, 0:w]
        return base(ii + 0.5, jj + 0.5)
    rows = [approx_row(base, xs, j + 0.5) for j in range(h)]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])

def kernel_scale(base, shape, W, H, radius):
    """GDAL's dfXScale/dfYScale: ComputeSourceWindow (21 samples per destination edge) + PerformWarp snapping."""
    h, w = shape
    r = np.linspace(0, 1, 21)
    px = np.concatenate([r * w, r * w, np.zeros(21), np.full(21, w)])
    py = np.concatenate([np.zeros(21), np.full(21, h), r * h, r * h])
    sx, sy = base(px, py)
    res = []
    for lo, hi, size, nd in ((sx.min(), sx.max(), W, w), (sy.min(), sy.max(), H, h)):
        lo, hi = [round(v) if abs(v - round(v)) < 1e-6 else v for v in (lo, hi)]
        s0 = nd / (hi - lo)
        rad = math.ceil(radius / s0) if s0 < 0.95 else radius
        lo_c, hi_c = int(max(0.0, lo)), int(min(math.ceil(hi), size))
        raw = max(0.0, min(size - lo_c, hi - lo))
        if hi_c - lo_c > 0.9 * size:
            off, win = 0, size
        else:
            off = max(0, min(lo_c - rad, size)); win = max(0, min(size - off, hi_c - off + rad))
        scale = nd / raw
        if win >= nd and win <= nd + (win - raw):
            scale = 1.0
        if scale < 1.0 and abs(1 / scale - int(1 / scale + 0.5)) < 0.05:
            scale = 1.0 / int(1 / scale + 0.5)
        res.append(scale)
    return res

def gdal_like(src, sx, sy, method, nodata, scale, init):
    """GDAL warp kernel for one chunk covering the whole source: nearest / bilinear (2x2 or scaled tent)."""
    B, H, W = src.shape
    f = src.astype(np.float64)
    if nodata is None:
        valid = np.ones((H, W), bool)
    else:  # UNIFIED_SRC_NODATA=YES: a pixel is invalid only when every band is nodata
        valid = ~np.all(np.isnan(f) if nodata == "nan" else f == float(nodata), axis=0)
    res = np.full((B,) + sx.shape, init, dtype=np.float64)
    ok = (sx >= 0) & (sy >= 0) & (sx + EPS <= W) & (sy + EPS <= H)
    ix = np.zeros(sx.shape, int); iy = np.zeros(sx.shape, int)
    ix[ok] = np.minimum((sx[ok] + EPS).astype(int), W - 1)
    iy[ok] = np.minimum((sy[ok] + EPS).astype(int), H - 1)
    ok &= valid[iy, ix]  # the pixel containing the centre must be valid, for every method
    if method == "nearest":
        res[:, ok] = f[:, iy[ok], ix[ok]]
    else:
        x, y = sx[ok], sy[ok]
        x0 = np.floor(x - 0.5).astype(int); y0 = np.floor(y - 0.5).astype(int)
        dx = x - 0.5 - x0; dy = y - 0.5 - y0
        if scale[0] >= 0.95 and scale[1] >= 0.95:
            taps_x = [(0, 1 - dx), (1, dx)]; taps_y = [(0, 1 - dy), (1, dy)]
        else:  # downsampling: tent of half-width 1/scale, radius ceil(1/scale)
            def taps(d, s):
                k, rad = min(s, 1.0), (math.ceil(1 / s) if s < 1 else 1)
                return [(i, np.maximum(0.0, 1 - np.abs((i - d) * k))) for i in range(1 - rad, rad + 1)]
            taps_x, taps_y = taps(dx, scale[0]), taps(dy, scale[1])
        acc = np.zeros((B, x.size)); wsum = np.zeros(x.size)
        for oy, wy in taps_y:
            yy = y0 + oy
            for ox, wx in taps_x:
                xx = x0 + ox
                inb = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
                xc, yc = np.clip(xx, 0, W - 1), np.clip(yy, 0, H - 1)
                wgt = np.where(inb & valid[yc, xc], wx * wy, 0.0)  # off-image and nodata taps are dropped
                acc += f[:, yc, xc] * wgt; wsum += wgt
        good = wsum >= 1e-5
        vals = np.where(good, acc / np.where(good, wsum, 1), np.nan)  # renormalised by the kept weight
        sel = np.flatnonzero(ok)[good]
        res.reshape(B, -1)[:, sel] = vals[:, good]
    if src.dtype.kind in "ui":  # integer output: round half up, clamp
        info = np.iinfo(src.dtype)
        res = np.clip(np.floor(res + 0.5), info.min, info.max)
    return res.astype(src.dtype)

def compare(a, b, nearest, nodata=None):
    """Value differences where both hold data; nodata (as NaN) disagreements counted apart."""
    a, b = a.astype(float), b.astype(float)
    if nodata not in (None, "nan"):
        a, b = np.where(a == nodata, np.nan, a), np.where(b == nodata, np.nan, b)
    an, bn = np.isnan(a), np.isnan(b)
    both = ~an & ~bn
    d = np.abs(a - b)[both]
    return {"max_abs_diff": float(d.max()) if d.size else 0.0,
            "n_differ": int((d != 0).sum() if nearest else (d > 1e-4).sum()),
            "n_nan_mismatch": int((an != bn).sum()), "n_pixels": int(a.size)}

# ---------------------------------------------------------------- 2. raster cases
H, W = 200, 240
rng = np.random.default_rng(20240601)
yy, xx = np.mgrid[0:H, 0:W].astype(float)
smooth = 100 + 40 * np.sin(xx / 13.0) * np.cos(yy / 17.0) + 0.02 * xx * yy
noise = rng.random((H, W)) * 100  # high-frequency band: catches half-pixel and index errors
SRC2 = np.stack([smooth, noise]).astype("f4")
ND = smooth.astype("f4").copy()
ND[50:53, 60:63] = -9999  # a 3x3 hole, a 1-pixel line, 1% scattered nodata
ND[100:140, 150] = -9999
ND[rng.random((H, W)) < 0.01] = -9999
SRC_ND = ND[None]
SRC_U16 = (noise * 655 + 1).astype("u2")[None]  # 1..65501, so nodata 0 never occurs in the data

UTM_A = Affine(10, 0, 500000, 0, -10, 5600000)  # ~15.0°E 50.5°N
UTM_B = Affine(10, 0, 700000, 0, -10, 5600000)  # ~17.8°E, next to zone 34
GEO = Affine(0.001, 0, 14.0, 0, -0.001, 50.2)

def fit(src_crs, src_tr, dst_crs, res, margin):
    """Destination grid covering the source footprint plus `margin` pixels, snapped to multiples of res."""
    l, t = src_tr * (0, 0); r, b = src_tr * (W, H)
    bx = transform_bounds(src_crs, dst_crs, min(l, r), min(b, t), max(l, r), max(b, t), densify_pts=21)
    rx, ry = res
    x0 = math.floor(bx[0] / rx) * rx - margin * rx; y1 = math.ceil(bx[3] / ry) * ry + margin * ry
    w = math.ceil((bx[2] + margin * rx - x0) / rx); h = math.ceil((y1 - (bx[1] - margin * ry)) / ry)
    return Affine(rx, 0, x0, 0, -ry, y1), (h, w)

G4326 = fit("EPSG:32633", UTM_A, "EPSG:4326", (0.00014, 0.00009), 12)  # ~10 m
G3857 = fit("EPSG:4326", GEO, "EPSG:3857", (100.0, 100.0), 10)
G34 = fit("EPSG:32633", UTM_B, "EPSG:32634", (10.0, 10.0), 10)
SHIFT73 = (Affine(7.3, 0, 500000 - 4.9, 0, -7.3, 5600000 + 3.3), (278, 332))
SHIFT_ND = (Affine(10, 0, 500000 + 3.7, 0, -10, 5600000 - 6.1), (200, 240))  # 0.37 / 0.61 pixel shift
G20, G25 = (Affine(20, 0, 500000, 0, -20, 5600000), (100, 120)), (Affine(25, 0, 500000, 0, -25, 5600000), (80, 96))

CASES = []  # name, src, src_crs, src_tr, dst_crs, (dst_tr, shape), resampling, nodata
for m in ("nearest", "bilinear"):
    CASES += [(f"utm33_20m_{m}", SRC2, "EPSG:32633", UTM_A, "EPSG:32633", G20, m, None),
              (f"utm33_7.3m_shift_{m}", SRC2, "EPSG:32633", UTM_A, "EPSG:32633", SHIFT73, m, "nan"),
              (f"utm33_to_4326_{m}", SRC2, "EPSG:32633", UTM_A, "EPSG:4326", G4326, m, -9999.0),
              (f"4326_to_3857_{m}", SRC2, "EPSG:4326", GEO, "EPSG:3857", G3857, m, "nan"),
              (f"utm33_to_utm34_{m}", SRC2, "EPSG:32633", UTM_B, "EPSG:32634", G34, m, -9999.0),
              (f"nodata_shift_{m}", SRC_ND, "EPSG:32633", UTM_A, "EPSG:32633", SHIFT_ND, m, -9999.0),
              (f"uint16_to_4326_{m}", SRC_U16, "EPSG:32633", UTM_A, "EPSG:4326", G4326, m, 0)]
CASES += [("utm33_25m_bilinear", SRC2, "EPSG:32633", UTM_A, "EPSG:32633", G25, "bilinear", None),
          ("nodata_20m_bilinear", SRC_ND, "EPSG:32633", UTM_A, "EPSG:32633", G20, "bilinear", -9999.0),
          ("nodata_to_4326_bilinear", SRC_ND, "EPSG:32633", UTM_A, "EPSG:4326", G4326, "bilinear", -9999.0)]

def nd_value(nodata):
    return None if nodata is None else (np.nan if nodata == "nan" else nodata)

def run_reproject(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, **kw):
    v = nd_value(nodata)
    dst = np.full((src.shape[0],) + shape, 0 if v is None else v, dtype=src.dtype)
    reproject(src, dst, src_transform=src_tr, src_crs=src_crs, dst_transform=dst_tr, dst_crs=dst_crs,
              resampling=Resampling[m], src_nodata=v, dst_nodata=v, num_threads=1, init_dest_nodata=True, **kw)
    return dst

def run_vrt(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, tolerance):
    v = nd_value(nodata)
    kw = {} if v is None else {"src_nodata": v, "nodata": v}
    with MemoryFile() as mf:
        with mf.open(driver="GTiff", width=W, height=H, count=src.shape[0], dtype=src.dtype.name,
                     crs=src_crs, transform=src_tr) as ds:
            ds.write(src)
        with mf.open() as ds, WarpedVRT(ds, crs=dst_crs, transform=dst_tr, width=shape[1], height=shape[0],
                                         resampling=Resampling[m], tolerance=tolerance, **kw) as vrt:
            return vrt.read()

warp, checks = [], {}
for name, src, src_crs, src_tr, dst_crs, (dst_tr, shape), m, nodata in CASES:
    o = run_reproject(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata)
    ex = run_vrt(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, 1e-9)
    np.save(os.path.join(out, name + ".src.npy"), src)
    np.save(os.path.join(out, name + ".out.npy"), o)
    np.save(os.path.join(out, name + ".out_exact.npy"), ex)
    base = pixel_mapper(src_crs, src_tr, dst_crs, dst_tr)
    scale = kernel_scale(base, shape, W, H, 0 if m == "nearest" else 1)
    init = 0.0 if nodata is None else float(nd_value(nodata))
    ref_a = gdal_like(src, *src_coords(base, shape, False), m, nodata, scale, init)
    ref_e = gdal_like(src, *src_coords(base, shape, True), m, nodata, scale, init)
    near = m == "nearest"
    checks[name] = {"numpy_rule_vs_out": compare(ref_a, o, near, nodata),
                    "numpy_rule_vs_out_exact": compare(ref_e, ex, near, nodata),
                    "vrt_tolerance_0.125_equals_out": bool(np.array_equal(
                        run_vrt(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, 0.125), o, equal_nan=True))}
    warp.append({
        "name": name, "src": name + ".src.npy", "dtype": src.dtype.name, "bands": src.shape[0],
        "src_crs": src_crs, "src_transform": list(src_tr)[:6], "dst_crs": dst_crs,
        "dst_transform": list(dst_tr)[:6], "dst_shape": list(shape), "resampling": m,
        "nodata": nodata, "out": name + ".out.npy", "out_exact": name + ".out_exact.npy",
        "init_dest_nodata": True,
        "options": {"call": "rasterio.warp.reproject(source, destination, src_transform, src_crs, dst_transform, "
                            "dst_crs, resampling, src_nodata=nodata, dst_nodata=nodata, num_threads=1, "
                            "init_dest_nodata=True)", "warp_mem_limit": "0 (GDAL default 64 MB: one chunk)",
                    "INIT_DEST": "0" if nodata is None else "NO_DATA", "UNIFIED_SRC_NODATA": "YES",
                    "transformer": "GDALApproxTransform around GenImgProjTransform, max error 0.125 source pixel",
                    "out_exact": "rasterio.vrt.WarpedVRT(tolerance=1e-9) over an in-memory GTiff of the source"},
        "kernel": {"gdal_scale_xy": scale,
                   "bilinear_path": None if near else ("2x2" if min(scale) >= 0.95 else "scaled tent"),
                   "radius_xy": None if near else [math.ceil(1 / s) if s < 0.95 else 1 for s in scale]},
        "approx_vs_exact": compare(o, ex, near, nodata),
    })
dump("warp.json", warp)

# ---------------------------------------------------------------- 3. tiny-array rule experiments
T4 = np.array([[1, 2, 4, 8], [16, 32, 64, 128], [256, 512, 1024, 2048], [4096, 8192, 16384, 32768]], "f4")
TTR = Affine(1, 0, 500000, 0, -1, 5600004)  # 1 m pixels, 4x4, identity CRS (not the identity matrix, see rasterio #674)

def probe(src, sx, sy, m, nodata=None):
    """Warp to a 1x1 destination whose centre falls on source pixel coordinate (sx, sy); sentinel = not written."""
    s = src if src.ndim == 3 else src[None]
    sentinel = -777 if s.dtype.kind == "f" else 999
    dst = np.full((s.shape[0], 1, 1), sentinel, dtype=s.dtype)
    reproject(s, dst, src_transform=TTR, src_crs="EPSG:32633", dst_transform=TTR * Affine.translation(sx - 0.5, sy - 0.5),
              dst_crs="EPSG:32633", resampling=Resampling[m], src_nodata=nodata, dst_nodata=nodata, num_threads=1,
              init_dest_nodata=False)
    return dst[:, 0, 0].tolist() if s.shape[0] > 1 else float(dst[0, 0, 0])

def bil(src, sx, sy, nodata=None, centre_check=True):  # the 2x2 rule by hand; None = GDAL writes nothing
    h, w = src.shape; x0, y0 = math.floor(sx - 0.5), math.floor(sy - 0.5)
    if centre_check and not (0 <= sx and 0 <= sy and sx + EPS <= w and sy + EPS <= h
                             and src[min(int(sy + EPS), h - 1), min(int(sx + EPS), w - 1)] != nodata):
        return None
    acc = ws = 0.0
    for oy, wy in ((0, 1.5 - (sy - y0)), (1, sy - y0 - 0.5)):
        for ox, wx in ((0, 1.5 - (sx - x0)), (1, sx - x0 - 0.5)):
            x, y = x0 + ox, y0 + oy
            if 0 <= x < w and 0 <= y < h and src[y, x] != nodata:
                acc += float(src[y, x]) * wx * wy; ws += wx * wy
    return acc / ws if ws >= 1e-5 else None

rules = {"versions": {"rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__,
                      "rasterio_proj": rasterio.__proj_version__, "pyproj": pyproj.__version__,
                      "pyproj_proj": pyproj.proj_version_str, "numpy": np.__version__},
         "source_4x4": T4.tolist(), "sentinel_not_written": "-777 (float), 999 (uint16)"}
rules["nearest"] = [{"sx": sx, "sy": 0.5, "gdal": probe(T4, sx, 0.5, "nearest")}
                    for sx in (0.0, 0.5, 0.999999, 1 - 1e-11, 1.0, 3.9999999999, -1e-9, 4.0)]
rules["bilinear_2x2"] = [{"sx": sx, "sy": sy, "gdal": probe(T4, sx, sy, "bilinear"), "rule": bil(T4, sx, sy)}
                         for sx, sy in ((1.5, 1.5), (2.0, 1.5), (1.75, 2.25), (1.3, 1.9), (0.25, 1.5), (0.1, 0.1),
                                        (3.7, 3.9), (2.2, 0.01), (3.99, 2.6), (-0.01, 1.5), (1.5, 4.001))]
TND = T4.copy(); TND[1, 1] = -9999
rules["bilinear_nodata_at_row1_col1"] = [
    {"sx": sx, "sy": sy, "gdal": probe(TND, sx, sy, "bilinear", -9999.0), "rule": bil(TND, sx, sy, -9999),
     "renormalised_without_centre_check": bil(TND, sx, sy, -9999, centre_check=False)}
    for sx, sy in ((2.2, 1.5), (2.2, 2.2), (1.6, 2.4), (0.9, 0.9), (1.5, 1.5), (1.9, 1.1))]
rules["nearest_nodata_at_row1_col1"] = [{"sx": sx, "sy": sy, "gdal": probe(TND, sx, sy, "nearest", -9999.0)}
                                        for sx, sy in ((1.5, 1.5), (2.5, 1.5))]
TU = np.array([[0, 1, 2, 3]] * 4, "u2")
rules["uint16_bilinear_rounding"] = [{"sx": sx, "gdal": probe(TU, sx, 1.5, "bilinear"), "exact": sx - 0.5}
                                     for sx in (1.0, 1.25, 2.0, 2.75, 3.0)]
T2 = np.stack([T4, T4 + 0.5]); T2[0, 2, 2] = -9999  # band 1 nodata, band 2 valid at row 2 col 2
rules["unified_nodata_two_bands"] = {"pixel_row2_col2": probe(T2, 2.5, 2.5, "nearest", -9999.0),
                                     "note": "band 1 is nodata there, band 2 is not"}
# downsampling: destination exactly covering a 1-D-varying source; which kernel reproduces GDAL?
def downsample(n_src, n_dst):
    rng2 = np.random.default_rng(n_src * 100 + n_dst)
    s = rng2.random((n_src, n_src)).astype("f4")[None]
    tr = Affine(1, 0, 500000, 0, -1, 5600000 + n_src); r = n_src / n_dst
    dtr = Affine(r, 0, 500000, 0, -r, 5600000 + n_src)
    o = run_reproject(s, "EPSG:32633", tr, "EPSG:32633", dtr, (n_dst, n_dst), "bilinear", None)
    base = pixel_mapper("EPSG:32633", tr, "EPSG:32633", dtr)
    sx, sy = src_coords(base, (n_dst, n_dst), True)
    sc = kernel_scale(base, (n_dst, n_dst), n_src, n_src, 1)
    res = {"src": n_src, "dst": n_dst, "ratio": n_dst / n_src, "gdal_scale_rule": sc[0]}
    for label, s_try in (("2x2", [1.0, 1.0]), ("tent_at_ratio", [n_dst / n_src] * 2), ("tent_at_rule_scale", sc)):
        res["max_abs_vs_" + label] = float(np.abs(gdal_like(s, sx, sy, "bilinear", None, s_try, 0.0) - o).max())
    return res
rules["bilinear_downsampling"] = [downsample(a, b) for a, b in ((8, 4), (8, 3), (20, 19), (20, 18), (61, 30), (24, 10))]
# transformer knobs: what reproject kwargs / WarpedVRT tolerance do
name, src, src_crs, src_tr, dst_crs, (dst_tr, shape), m, nodata = next(c for c in CASES if c[0] == "utm33_to_4326_bilinear")
base_out = run_reproject(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata)
knobs = {}
for kw in ({"ERROR_THRESHOLD": 0}, {"err_threshold": 0}, {"tolerance": 0}):
    o2 = run_reproject(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, **kw)
    knobs["reproject " + json.dumps(kw)] = "identical to default" if np.array_equal(o2, base_out) else "changed"
try:
    run_vrt(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, 0.0)
    knobs["WarpedVRT tolerance=0"] = "ran"
except Exception as e:  # rasterio 1.4.4 leaves pfnTransformer NULL when tolerance is 0
    knobs["WarpedVRT tolerance=0"] = "fails: " + type(e).__name__ + ": " + str(e)
ex = run_vrt(src, src_crs, src_tr, dst_crs, dst_tr, shape, m, nodata, 1e-9)
knobs["WarpedVRT tolerance=1e-9 vs reproject default"] = compare(ex, base_out, False, nodata)
rules["transformer_knobs"] = knobs
# GDAL's source pixel coordinates, read back by bilinear-warping float64 ramps (value = pixel centre coordinate)
ramp = np.stack([xx + 0.5, yy + 0.5])
gd = run_reproject(ramp, src_crs, src_tr, dst_crs, dst_tr, shape, "bilinear", None)
ge = run_vrt(ramp, src_crs, src_tr, dst_crs, dst_tr, shape, "bilinear", None, 1e-9)
base = pixel_mapper(src_crs, src_tr, dst_crs, dst_tr)
ax, ay = src_coords(base, shape, False); exx, exy = src_coords(base, shape, True)
inner = (exx > 1) & (exx < W - 1) & (exy > 1) & (exy < H - 1)
rules["source_coordinates_utm33_to_4326"] = {
    "reproject_vs_numpy_approx_max_px": float(max(np.abs(gd[0] - ax)[inner].max(), np.abs(gd[1] - ay)[inner].max())),
    "vrt_1e-9_vs_numpy_exact_max_px": float(max(np.abs(ge[0] - exx)[inner].max(), np.abs(ge[1] - exy)[inner].max())),
    "approx_minus_exact_max_px": float(max(np.abs(ax - exx)[inner].max(), np.abs(ay - exy)[inner].max()))}
rules["case_checks"] = checks
dump("warp_rules.json", rules)

# ---------------------------------------------------------------- summary
print(f"rasterio {rasterio.__version__} GDAL {rasterio.__gdal_version__} PROJ {rasterio.__proj_version__} | "
      f"pyproj {pyproj.__version__} PROJ {pyproj.proj_version_str} | numpy {np.__version__}")
for p in points:
    print(f"points {p['src']:>10} -> {p['dst']:<10} {len(p['xy'])} pts  shift={p['datum_shift']:<7} {p['description']}")
for c in warp:
    k = checks[c["name"]]
    print(f"warp {c['name']:<26} {c['dtype']:<7} {c['bands']}x{c['dst_shape'][0]}x{c['dst_shape'][1]:<4} "
          f"scale={[round(s, 3) for s in c['kernel']['gdal_scale_xy']]} "
          f"approx-vs-exact max={c['approx_vs_exact']['max_abs_diff']:.3g} n={c['approx_vs_exact']['n_differ']} | "
          f"rule-vs-out max={k['numpy_rule_vs_out']['max_abs_diff']:.2g} n={k['numpy_rule_vs_out']['n_differ']}"
          f"/{k['numpy_rule_vs_out']['n_nan_mismatch']} rule-vs-exact max={k['numpy_rule_vs_out_exact']['max_abs_diff']:.2g} "
          f"n={k['numpy_rule_vs_out_exact']['n_differ']}/{k['numpy_rule_vs_out_exact']['n_nan_mismatch']} "
          f"vrt==out {k['vrt_tolerance_0.125_equals_out']}")
