"""Checks COGs Gyre wrote: GDAL's COG rules (rio-cogeo's cog_validate, a port of GDAL's
validate_cloud_optimized_geotiff.py) and the values rasterio reads back.

  cog_check.py MANIFEST   MANIFEST lists {"file", "values" (.npy of the (band, y, x) array
                          written), "epsg", "transform", "nodata", "overviews"} per COG; prints
                          one line per problem, nothing when all is well.
"""
import json, math, os, sys
import numpy as np
import rasterio
from rio_cogeo.cogeo import cog_validate

cases = json.load(open(sys.argv[1]))
base = os.path.dirname(os.path.abspath(sys.argv[1]))
problems = []
for c in cases:
    path = os.path.join(base, c["file"])
    valid, errors, warnings = cog_validate(path, strict=False)
    if not valid:
        problems.append(f"{c['file']}: not a valid COG: {errors}")
    with rasterio.open(path) as src:
        want = np.load(os.path.join(base, c["values"]))
        got = src.read()
        if got.shape != want.shape or got.dtype != want.dtype:
            problems.append(f"{c['file']}: rasterio reads {got.shape} {got.dtype}, Gyre wrote {want.shape} {want.dtype}")
        elif not np.array_equal(got, want, equal_nan=want.dtype.kind == "f"):
            problems.append(f"{c['file']}: values differ in {(got != want).sum()} pixels")
        if c.get("epsg") is not None and (src.crs is None or src.crs.to_epsg() != c["epsg"]):
            problems.append(f"{c['file']}: CRS {src.crs}, expected EPSG:{c['epsg']}")
        if c.get("transform") and not np.allclose(tuple(src.transform)[:6], c["transform"], rtol=0, atol=1e-9):
            problems.append(f"{c['file']}: transform {tuple(src.transform)[:6]}, expected {c['transform']}")
        nd = c.get("nodata")
        if nd is not None and not (src.nodata == nd or (nd == "nan" and src.nodata is not None and math.isnan(src.nodata))):
            problems.append(f"{c['file']}: nodata {src.nodata}, expected {nd}")
        ovr = src.overviews(1)
        if len(ovr) != c.get("overviews", len(ovr)):
            problems.append(f"{c['file']}: {len(ovr)} overview levels, expected {c['overviews']}")
        # Each overview level reads (GDAL walks the chain).
        for i in range(len(ovr)):
            with rasterio.open(path, overview_level=i) as o:
                o.read()
for p in problems:
    print(p)
