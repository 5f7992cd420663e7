"""Writes the points, datashader's aggregates and shaded images, and the colormap tables of
colorcet and matplotlib, for GyreRender's interop test to compare with.

    python render_cases.py OUT_DIR
    python render_cases.py --decode-png IN.png OUT.npy   (PIL's pixels of a PNG)
    python render_cases.py --read-plot PLOT.png PLOT.svg  (what PIL and an XML parser read of
                                                           gyre plot's files, as JSON)
"""
import json
import pathlib
import sys

import colorcet as cc
import datashader as ds
import datashader.transfer_functions as tf
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex


def points(n=60_000, seed=7):
    rng = np.random.default_rng(seed)
    k = n // 3
    x = np.concatenate([rng.normal(0, 1, k), rng.normal(3, 0.5, k), rng.uniform(-4, 6, n - 2 * k)])
    y = np.concatenate([rng.normal(0, 1, k), rng.normal(-1, 0.3, k), rng.uniform(-3, 3, n - 2 * k)])
    v = rng.normal(10, 4, n)
    v[rng.random(n) < 0.05] = np.nan
    cat = rng.integers(0, 4, n).astype(np.int32)
    # Points on the canvas edges, outside it and NaN coordinates.
    edges_x = np.array([-4.0, 6.0, 6.0, -4.0, 1.0, np.nan, 7.0, -5.0, 0.5])
    edges_y = np.array([-3.0, 3.0, -3.0, 3.0, 3.0, 0.0, 0.0, 0.0, np.nan])
    x = np.concatenate([x, edges_x])
    y = np.concatenate([y, edges_y])
    v = np.concatenate([v, np.linspace(1, 9, len(edges_x))])
    cat = np.concatenate([cat, np.arange(len(edges_x), dtype=np.int32) % 4])
    return x, y, v, cat


def main(out):
    out = pathlib.Path(out)
    x, y, v, cat = points()
    for name, a in (("x", x), ("y", y), ("v", v), ("cat", cat)):
        np.save(out / f"{name}.npy", a)
    names = ["alpha", "beta", "gamma", "delta"]
    df = pd.DataFrame({"x": x, "y": y, "v": v, "cat": pd.Categorical.from_codes(cat, categories=names)})
    canvases = {
        "fixed": dict(plot_width=300, plot_height=200, x_range=(-4.0, 6.0), y_range=(-3.0, 3.0)),
        "odd": dict(plot_width=97, plot_height=61, x_range=(-1.3, 2.9), y_range=(-1.7, 0.8)),
        "bounds": dict(plot_width=128, plot_height=96),
    }
    aggs = {
        "count": ds.count(), "count_v": ds.count("v"), "any": ds.any(), "sum": ds.sum("v"), "mean": ds.mean("v"),
        "min": ds.min("v"), "max": ds.max("v"), "std": ds.std("v"), "var": ds.var("v"), "first": ds.first("v"),
        "last": ds.last("v"), "count_cat": ds.count_cat("cat"),
    }
    cases = []
    for cname, cargs in canvases.items():
        cvs = ds.Canvas(**cargs)
        for aname, red in aggs.items():
            agg = cvs.points(df, "x", "y", agg=red)
            f = f"agg-{cname}-{aname}.npy"
            np.save(out / f, np.ascontiguousarray(agg.data))
            xr = agg.attrs["x_range"]
            yr = agg.attrs["y_range"]
            cases.append(dict(kind="agg", canvas=cname, width=cargs["plot_width"], height=cargs["plot_height"],
                              fixed="x_range" in cargs, x_range=list(map(float, xr)), y_range=list(map(float, yr)),
                              reduction=aname, file=f,
                              x_centers=agg.coords["x"].values.tolist(), y_centers=agg.coords["y"].values.tolist()))
            if aname in ("count", "mean", "sum", "any", "max"):
                shades = [("eq_hist", None, None), ("linear", None, None), ("log", None, None), ("cbrt", None, None)]
                if aname in ("count", "mean"):
                    shades += [("linear", None, [2.0, 30.0] if aname == "count" else [5.0, 15.0]),
                               ("log", None, [1.0, 50.0] if aname == "count" else [8.0, 12.0])]
                for how, _, span in shades:
                    for cmap_name in ("default", "fire", "viridis"):
                        if cmap_name == "default":
                            cmap = ["lightblue", "darkblue"]
                        elif cmap_name == "viridis":
                            cm = matplotlib.colormaps["viridis"]
                            cmap = [to_hex(cm(i)) for i in range(cm.N)]
                        else:
                            cmap = cc.fire
                        img = tf.shade(agg, cmap=cmap, how=how, span=span)
                        f = f"img-{cname}-{aname}-{how}-{cmap_name}-{'span' if span else 'auto'}.npy"
                        rgba = np.ascontiguousarray(img.data).view(np.uint8).reshape(img.shape + (4,))
                        np.save(out / f, rgba)
                        cases.append(dict(kind="shade", canvas=cname, reduction=aname, how=how, cmap=cmap_name,
                                          span=span, file=f))
            if aname == "count_cat":
                for how in ("eq_hist", "linear", "log", "cbrt"):
                    img = tf.shade(agg, how=how)
                    f = f"img-{cname}-{aname}-{how}.npy"
                    np.save(out / f, np.ascontiguousarray(img.data).view(np.uint8).reshape(img.shape + (4,)))
                    cases.append(dict(kind="shade", canvas=cname, reduction=aname, how=how, cmap="sets1to3", span=None, file=f))
    # Spreading: a sparse and a dense count image, spread by 1 and 2 px and dynamically.
    for label, frame in (("sparse", df.head(400)), ("dense", df)):
        cargs = canvases["fixed"]
        agg = ds.Canvas(**cargs).points(frame, "x", "y", agg=ds.count())
        img = tf.shade(agg, cmap=cc.fire, how="eq_hist")
        for op, result in (("spread1", tf.spread(img, px=1)), ("spread2", tf.spread(img, px=2)),
                           ("dynspread", tf.dynspread(img, threshold=0.5, max_px=3))):
            f = f"spread-{label}-{op}.npy"
            np.save(out / f, np.ascontiguousarray(result.data).view(np.uint8).reshape(result.shape + (4,)))
            cases.append(dict(kind="spread", canvas="fixed", reduction="count", how="eq_hist", cmap="fire",
                              span=None, file=f, points=len(frame), op=op))
    # Grids regridded onto canvases (datashader's quadmesh): coarser (nearest), finer
    # (reduced), mixed and uneven (rectilinear), ascending and descending coordinates.
    rng = np.random.default_rng(5)
    lat_merc = np.degrees(np.arctan(np.sinh(np.linspace(-2.5, 2.5, 90))))
    grids = {
        "coarse": (np.linspace(-179.5, 179.5, 72), np.linspace(87.5, -87.5, 36), (300, 200, (-60.0, 100.0), (-50.0, 40.0))),
        "fine": (np.linspace(0.05, 59.95, 600), np.linspace(-19.95, 19.95, 400), (97, 61, (3.0, 57.0), (-18.0, 15.0))),
        "mixed": (np.linspace(-10, 10, 800), np.linspace(5, -5, 50), (120, 90, (-8.0, 8.0), (-4.0, 4.0))),
        "uneven": (np.linspace(-180, 180, 144, endpoint=False) + 1.25, lat_merc, (256, 256, (-180.0, 180.0), (-80.0, 80.0))),
    }
    for gname, (gx, gy, (w, h, xr, yr)) in grids.items():
        vals = rng.normal(0, 1, (len(gy), len(gx))) + np.cos(np.deg2rad(gy))[:, None] * 3
        vals[rng.random(vals.shape) < 0.1] = np.nan
        np.save(out / f"grid-{gname}-x.npy", gx)
        np.save(out / f"grid-{gname}-y.npy", gy)
        np.save(out / f"grid-{gname}-v.npy", vals)
        import xarray as xr_
        da = xr_.DataArray(vals, dims=("y", "x"), coords={"x": gx, "y": gy}, name="v")
        cvs = ds.Canvas(plot_width=w, plot_height=h, x_range=xr, y_range=yr)
        for rname in ("mean", "max", "min", "sum", "first", "last"):
            agg = cvs.quadmesh(da, x="x", y="y", agg=getattr(ds, rname)("v"))
            f = f"quad-{gname}-{rname}.npy"
            np.save(out / f, np.ascontiguousarray(agg.data).astype(np.float64))
            cases.append(dict(kind="quadmesh", canvas=gname, width=w, height=h, x_range=list(xr), y_range=list(yr),
                              reduction=rname, file=f))
    # Lines: a random walk broken by NaNs, leaving the canvas and coming back (clipped), on a
    # fixed canvas that cuts through it and on the data's own bounds.
    rng = np.random.default_rng(9)
    n = 3000
    lx = np.cumsum(rng.normal(0, 0.05, n))
    ly = np.cumsum(rng.normal(0, 0.05, n))
    lv = rng.normal(10, 3, n)
    lx[rng.random(n) < 0.01] = np.nan
    ly[500] = np.nan
    lx[1000:1003] = [lx[999] + 40.0, lx[999] + 41.0, lx[999]]
    for name, a in (("x", lx), ("y", ly), ("v", lv)):
        np.save(out / f"line-{name}.npy", a)
    ldf = pd.DataFrame({"x": lx, "y": ly, "v": lv})
    line_canvases = {
        "fixed": dict(plot_width=300, plot_height=200, x_range=(float(np.nanpercentile(lx, 15)), float(np.nanpercentile(lx, 85))),
                      y_range=(float(np.nanpercentile(ly, 10)), float(np.nanpercentile(ly, 90)))),
        "bounds": dict(plot_width=150, plot_height=100),
    }
    for cname, cargs in line_canvases.items():
        cvs = ds.Canvas(**cargs)
        for aname, red in (("count", ds.count()), ("any", ds.any()), ("sum", ds.sum("v")), ("min", ds.min("v")),
                           ("max", ds.max("v")), ("mean", ds.mean("v"))):
            agg = cvs.line(ldf, "x", "y", agg=red)
            f = f"line-{cname}-{aname}.npy"
            np.save(out / f, np.ascontiguousarray(agg.data).astype(np.float64))
            cases.append(dict(kind="line", canvas=cname, width=cargs["plot_width"], height=cargs["plot_height"],
                              x_range=list(map(float, agg.attrs["x_range"])), y_range=list(map(float, agg.attrs["y_range"])),
                              reduction=aname, file=f))
    tables = {name: list(getattr(cc, name)) for name in ("fire", "bmy", "kbc", "bgy", "gray", "coolwarm", "rainbow4", "bmw", "kbgyw", "bgyw", "dimgray", "blues", "cwr", "bkr", "bky", "bjy", "gwv", "rainbow", "isolum", "kb", "kg", "kr", "colorwheel")}
    for name in ("viridis", "magma", "inferno", "plasma", "cividis"):
        cm = matplotlib.colormaps[name]
        tables[name] = [to_hex(cm(i)) for i in range(cm.N)]
    (out / "cases.json").write_text(json.dumps(dict(cases=cases, categories=names, colormaps=tables,
                                                  glasbey=list(cc.glasbey), sets1to3=list(ds.colors.Sets1to3))))


def decode_png(path, out):
    """PIL's reading of a PNG Gyre wrote, as an (height, width, 4) uint8 array, top row first."""
    from PIL import Image
    with Image.open(path) as im:
        assert im.mode == "RGBA", im.mode
        np.save(out, np.asarray(im))


def read_plot(png, svg):
    import base64
    import io
    import xml.etree.ElementTree as ET
    from PIL import Image
    with Image.open(png) as im:
        colours = len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0))
        size = im.size
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(svg).getroot()
    texts = [t.text for t in root.iter(ns + "text")]
    images = []
    for el in root.iter(ns + "image"):
        href = el.get("href")
        assert href.startswith("data:image/png;base64,"), href[:40]
        with Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))) as im:
            images.append(list(im.size))
    print(json.dumps({"png_size": list(size), "png_colours": colours, "svg_tag": root.tag,
                      "svg_size": [root.get("width"), root.get("height")], "texts": texts, "images": images}))


if __name__ == "__main__":
    if sys.argv[1] == "--decode-png":
        decode_png(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--read-plot":
        read_plot(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1])
