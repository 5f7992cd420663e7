"""rasterio (GDAL) writes the GeoTIFF / COG cases Gyre's native TIFF reader is compared against.

  tiff_cases.py OUTDIR           writes the fixtures, OUTDIR/cases.json (one entry a file, with
                                 the arrays rasterio reads back as .npy) and OUTDIR/bad.json
                                 (deliberately broken files a reader must refuse); prints a summary
  tiff_cases.py --check OUTDIR   reopens every case with rasterio and compares with its .npy files;
                                 exits 1 on any difference
  tiff_cases.py --dump FILE      prints the IFD chain and tags of FILE (a small struct parser)

Every file is written by the GDAL that rasterio's wheel bundles, so nothing else is needed. The data
come from fixed seeds and GDAL stamps no dates, so a run gives the same bytes every time.
"""
import json, os, struct, sys, warnings, zlib
import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import Affine, from_origin

# ---------------------------------------------------------------------------------------------
# A small TIFF / BigTIFF parser: used to record what the files really hold, to patch the bad
# files and for --dump.

TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("I", 4), 5: ("II", 8), 6: ("b", 1), 7: ("B", 1),
         8: ("h", 2), 9: ("i", 4), 10: ("ii", 8), 11: ("f", 4), 12: ("d", 8), 13: ("I", 4),
         16: ("Q", 8), 17: ("q", 8), 18: ("Q", 8)}
TAG_NAMES = {254: "NewSubfileType", 256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample",
             259: "Compression", 262: "Photometric", 273: "StripOffsets", 277: "SamplesPerPixel",
             278: "RowsPerStrip", 279: "StripByteCounts", 284: "PlanarConfiguration", 317: "Predictor",
             320: "ColorMap", 322: "TileWidth", 323: "TileLength", 324: "TileOffsets",
             325: "TileByteCounts", 338: "ExtraSamples", 339: "SampleFormat", 347: "JPEGTables",
             530: "YCbCrSubSampling", 532: "ReferenceBlackWhite", 33550: "ModelPixelScale",
             33922: "ModelTiepoint", 34264: "ModelTransformation", 34735: "GeoKeyDirectory",
             34736: "GeoDoubleParams", 34737: "GeoAsciiParams", 42112: "GDAL_METADATA",
             42113: "GDAL_NODATA"}
COMPRESSION_NAMES = {1: "none", 5: "lzw", 6: "ojpeg", 7: "jpeg", 8: "deflate", 32946: "deflate",
                     32773: "packbits", 34712: "jpeg2000", 50000: "zstd", 34887: "lerc", 50001: "webp"}


def parse_tiff(data):
    """Returns (byteorder, bigtiff, first_ifd_offset, [ifd, ...]); an ifd is
    {"offset", "next", "tags": {tag: {"type", "count", "value", "entry"}}} where "entry" is the
    file offset of the 12 (or 20) byte directory entry and "value" a tuple (or str, or None)."""
    bo = {b"II": "<", b"MM": ">"}[data[:2]]
    version = struct.unpack(bo + "H", data[2:4])[0]
    big = version == 43
    if big:
        first = struct.unpack(bo + "Q", data[8:16])[0]
        cnt_fmt, ent_size, off_fmt, inline = "Q", 20, "Q", 8
    else:
        first = struct.unpack(bo + "I", data[4:8])[0]
        cnt_fmt, ent_size, off_fmt, inline = "H", 12, "I", 4
    ifds, off, seen = [], first, set()
    while off and off not in seen and off + 8 <= len(data):
        seen.add(off)
        n = struct.unpack_from(bo + cnt_fmt, data, off)[0]
        pos, tags = off + struct.calcsize(cnt_fmt), {}
        for i in range(n):
            e = pos + i * ent_size
            tag, typ = struct.unpack_from(bo + "HH", data, e)
            count = struct.unpack_from(bo + off_fmt, data, e + 4)[0]
            fmt, size = TYPES.get(typ, ("B", 1))
            nbytes = size * count
            voff = e + 4 + struct.calcsize(off_fmt)
            if nbytes > inline:
                voff = struct.unpack_from(bo + off_fmt, data, voff)[0]
            value = None
            if typ == 2:
                value = data[voff:voff + count].rstrip(b"\0").decode("latin-1")
            elif voff + nbytes <= len(data):
                value = struct.unpack_from(bo + fmt * count, data, voff)
            tags[tag] = {"type": typ, "count": count, "value": value, "entry": e}
        nxt_at = pos + n * ent_size
        nxt = struct.unpack_from(bo + off_fmt, data, nxt_at)[0]
        ifds.append({"offset": off, "next": nxt, "tags": tags})
        off = nxt
    return ("little" if bo == "<" else "big"), big, first, ifds


def tag1(ifd, tag, default=None):
    t = ifd["tags"].get(tag)
    return t["value"][0] if t and t["value"] else default


def dump(path):
    data = open(path, "rb").read()
    bo, big, first, ifds = parse_tiff(data)
    print(f"{path}: {len(data)} bytes, {'BigTIFF' if big else 'classic TIFF'}, {bo} endian, first IFD at {first}")
    ghost = data[16 if big else 8:][:400]
    if b"GDAL_STRUCTURAL_METADATA_SIZE" in ghost:
        size = int(ghost.split(b"GDAL_STRUCTURAL_METADATA_SIZE=")[1][:6])
        start = ghost.index(b"GDAL_STRUCTURAL_METADATA_SIZE")
        print("  ghost header:", ghost[start:start + 43 + size].decode("latin-1").replace("\n", " | "))
    for i, ifd in enumerate(ifds):
        print(f"  IFD {i} at {ifd['offset']} (next {ifd['next']}):")
        for tag in sorted(ifd["tags"]):
            t = ifd["tags"][tag]
            v = t["value"]
            if v is None:
                v = f"<{t['count']} values past the end of the file>"
            elif isinstance(v, tuple) and len(v) > 12:
                v = str(v[:12])[:-1] + ", ...)"
            elif isinstance(v, str) and len(v) > 600:
                v = v[:600] + "..."
            print(f"    {tag:5d} {TAG_NAMES.get(tag, '?'):22s} type {t['type']:2d} count {t['count']:4d}: {v}")


# ---------------------------------------------------------------------------------------------
# Deterministic data with spatial structure (so the compressors and predictors have work to do).

def field(seed, dtype, bands, h, w):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = []
    for b in range(bands):
        t = (np.sin(x / (25 + 6 * b) + b) * np.cos(y / (31 + 5 * b)) + 0.8 * x / w + 0.6 * y / h
             + 0.002 * rng.standard_normal((h, w)))
        out.append((t - t.min()) / (t.max() - t.min()))  # 0..1
    t = np.stack(out)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (t * 1200.0 - 400.0 + (1e-7 * rng.standard_normal(t.shape) if dt.itemsize == 8 else 0)).astype(dt)
    # Full range for 8 bits; wide enough elsewhere to test signs and (for uint32) values >= 2**31.
    lo, hi = {"u1": (0, 255), "i1": (-128, 127), "u2": (0, 30000), "i2": (-12000, 12000),
              "u4": (0, 3_000_000_000), "i4": (-1_000_000_000, 1_000_000_000)}[dt.str[1:]]
    return np.round(lo + t * (hi - lo)).astype(dt)


UTM = ("EPSG:32633", from_origin(500000.0, 5000000.0, 10.0, 10.0))

# One dict a file. Keys: dtype, shape (bands, h, w); GTiff creation options as rasterio names them
# (compress, predictor, tiled, blockxsize, blockysize, interleave, bigtiff, endianness, photometric);
# crs/transform (default UTM 33N, 10 m); nodata; scales/offsets; point; overviews (gdaladdo-style
# factors); cog (COG driver options, which replace the GTiff ones); lossy.
T32 = dict(tiled=True, blockxsize=32, blockysize=32)
T64 = dict(tiled=True, blockxsize=64, blockysize=64)
CASES = {
    # codecs, tiled, pixel interleave
    "none_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="none", **T32),
    "deflate_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="deflate", **T32),
    "lzw_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="lzw", **T32),
    "zstd_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="zstd", **T64),
    "packbits_u8": dict(dtype="uint8", shape=(3, 100, 130), compress="packbits", **T32),
    "jpeg_u8_rgb": dict(dtype="uint8", shape=(3, 100, 130), compress="jpeg", lossy=True, **T64),
    "jpeg_u8_ycbcr": dict(dtype="uint8", shape=(3, 100, 130), compress="jpeg", photometric="ycbcr", lossy=True, **T64),
    # horizontal differencing
    "pred2_deflate_u8": dict(dtype="uint8", shape=(3, 100, 130), compress="deflate", predictor=2, **T32),
    "pred2_lzw_u8": dict(dtype="uint8", shape=(3, 100, 130), compress="lzw", predictor=2, **T32),
    "pred2_deflate_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="deflate", predictor=2, **T32),
    "pred2_lzw_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="lzw", predictor=2, **T32),
    "pred2_deflate_i16": dict(dtype="int16", shape=(3, 100, 130), compress="deflate", predictor=2, **T32),
    "pred2_lzw_i16": dict(dtype="int16", shape=(3, 100, 130), compress="lzw", predictor=2, **T32),
    "pred2_deflate_i32": dict(dtype="int32", shape=(2, 100, 130), compress="deflate", predictor=2, **T32),
    "pred2_lzw_i32": dict(dtype="int32", shape=(2, 100, 130), compress="lzw", predictor=2, **T32),
    "pred2_zstd_u32": dict(dtype="uint32", shape=(2, 100, 130), compress="zstd", predictor=2, **T64),
    "pred2_deflate_i8": dict(dtype="int8", shape=(1, 100, 130), compress="deflate", predictor=2, **T32),
    # floating-point predictor
    "pred3_deflate_f32": dict(dtype="float32", shape=(2, 100, 130), compress="deflate", predictor=3, **T32),
    "pred3_lzw_f32": dict(dtype="float32", shape=(2, 100, 130), compress="lzw", predictor=3, **T32),
    "pred3_zstd_f32": dict(dtype="float32", shape=(2, 100, 130), compress="zstd", predictor=3, **T64),
    "pred3_deflate_f64": dict(dtype="float64", shape=(2, 100, 130), compress="deflate", predictor=3, **T32),
    "pred3_lzw_f64": dict(dtype="float64", shape=(2, 100, 130), compress="lzw", predictor=3, **T32),
    "pred3_zstd_f64": dict(dtype="float64", shape=(2, 100, 130), compress="zstd", predictor=3, **T64),
    # strips (7 and 13 rows a strip: neither divides 100) and band interleave
    "strip_deflate_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="deflate", tiled=False, blockysize=7),
    "strip_band_lzw_i16": dict(dtype="int16", shape=(3, 100, 130), compress="lzw", predictor=2, tiled=False, blockysize=13, interleave="band"),
    "strip_none_f32": dict(dtype="float32", shape=(1, 100, 130), compress="none", tiled=False, blockysize=13),
    "band_deflate_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="deflate", interleave="band", **T32),
    "band_zstd_f32": dict(dtype="float32", shape=(3, 100, 130), compress="zstd", predictor=3, interleave="band", **T64),
    "band_none_u8": dict(dtype="uint8", shape=(3, 100, 130), compress="none", interleave="band", **T32),
    # BigTIFF and big-endian byte order
    "bigtiff_deflate_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="deflate", bigtiff="yes", **T32),
    "bigtiff_strip_f64": dict(dtype="float64", shape=(1, 100, 130), compress="lzw", tiled=False, blockysize=7, bigtiff="yes"),
    "be_pred2_deflate_u16": dict(dtype="uint16", shape=(3, 100, 130), compress="deflate", predictor=2, endianness="big", **T32),
    "be_pred3_lzw_f32": dict(dtype="float32", shape=(2, 100, 130), compress="lzw", predictor=3, interleave="band", endianness="big", **T32),
    "be_strip_none_i32": dict(dtype="int32", shape=(2, 100, 130), compress="none", tiled=False, blockysize=13, endianness="big"),
    "be_bigtiff_zstd_f64": dict(dtype="float64", shape=(1, 100, 130), compress="zstd", predictor=3, bigtiff="yes", endianness="big", **T64),
    # nodata
    "nodata_m9999_f32": dict(dtype="float32", shape=(1, 100, 130), compress="deflate", nodata=-9999.0, **T32),
    "nodata_nan_f32": dict(dtype="float32", shape=(1, 100, 130), compress="lzw", predictor=3, nodata=float("nan"), **T32),
    "nodata_i16": dict(dtype="int16", shape=(1, 100, 130), compress="deflate", predictor=2, nodata=-32768, **T32),
    # scale / offset (GDAL_METADATA XML)
    "scale_offset_i16": dict(dtype="int16", shape=(3, 100, 130), compress="deflate", scales=[0.01, 0.5, 2.0], offsets=[-100.0, 0.0, 273.15], **T32),
    # georeferencing
    "crs_4326": dict(dtype="uint16", shape=(1, 100, 130), compress="deflate", crs="EPSG:4326", transform=from_origin(10.0, 50.0, 0.01, 0.01), **T32),
    "crs_3857": dict(dtype="uint16", shape=(1, 100, 130), compress="deflate", crs="EPSG:3857", transform=from_origin(1113194.91, 6446275.84, 30.0, 30.0), **T32),
    "pixel_is_point": dict(dtype="uint16", shape=(1, 100, 130), compress="deflate", point=True, **T32),
    "rotated": dict(dtype="uint16", shape=(1, 100, 130), compress="deflate", transform=Affine(8.0, 3.0, 500000.0, 2.0, -9.0, 5000000.0), **T32),
    "no_georef": dict(dtype="uint8", shape=(1, 100, 130), compress="deflate", crs=None, transform=None, **T32),
    # overviews: COGs (IFDs first, overviews ordered smallest-last, ghost header) and gdaladdo-style
    "cog_deflate_u16": dict(dtype="uint16", shape=(1, 700, 900), cog=dict(compress="deflate", blocksize=64, overviews="auto", resampling="average")),
    "cog_zstd_pred2_i16": dict(dtype="int16", shape=(2, 520, 610), cog=dict(compress="zstd", predictor=2, blocksize=128, overviews="auto", resampling="average")),
    "ovr_internal_u16": dict(dtype="uint16", shape=(3, 260, 330), compress="deflate", predictor=2, overviews=[2, 4, 8], **T64),
}

OPTION_KEYS = ("compress", "predictor", "tiled", "blockxsize", "blockysize", "interleave", "bigtiff", "endianness", "photometric")


def write_case(path, c, seed):
    bands, h, w = c["shape"]
    arr = field(seed, c["dtype"], bands, h, w)
    nodata = c.get("nodata")
    if nodata is not None:  # a blob and every 11th pixel of row 5 become nodata
        arr[:, 30:42, 50:70] = nodata
        arr[:, 5, ::11] = nodata
    crs, transform = c.get("crs", UTM[0]), c.get("transform", UTM[1])
    profile = dict(driver="GTiff", width=w, height=h, count=bands, dtype=c["dtype"], nodata=nodata)
    if crs is not None:
        profile["crs"] = crs
    if transform is not None:
        profile["transform"] = transform
    opts = {k: c[k] for k in OPTION_KEYS if k in c}

    def fill(dst):
        dst.write(arr)
        if "scales" in c:
            dst.scales, dst.offsets = c["scales"], c["offsets"]
        if c.get("point"):
            dst.update_tags(AREA_OR_POINT="Point")

    if "cog" in c:  # the COG driver only copies: write in memory, copy out
        with MemoryFile() as mem:
            with mem.open(**profile, tiled=True, blockxsize=256, blockysize=256) as tmp:
                fill(tmp)
            with mem.open() as tmp:
                rasterio.shutil.copy(tmp, path, driver="COG", **c["cog"])
    else:
        with rasterio.open(path, "w", **profile, **opts) as dst:
            fill(dst)
        if "overviews" in c:  # what gdaladdo -r average FILE 2 4 8 does: internal overviews
            with rasterio.open(path, "r+") as dst:
                dst.build_overviews(c["overviews"], Resampling.average)
    return arr


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"), copy=False)))


def describe(path, name, c):
    """The case's manifest entry, from what rasterio and the file itself say."""
    data = open(path, "rb").read()
    byteorder, big, _, ifds = parse_tiff(data)
    ifd0 = ifds[0]
    code = tag1(ifd0, 259, 1)
    tiled = 322 in ifd0["tags"]
    with rasterio.open(path) as src:
        nod = src.nodata
        entry = {
            "file": os.path.basename(path),
            "dtype": src.dtypes[0],
            "shape": [src.count, src.height, src.width],
            "values": name + ".npy",
            "transform": list(src.transform)[:6],
            "epsg": src.crs.to_epsg() if src.crs else None,
            "nodata": None if nod is None else ("nan" if np.isnan(nod) else (int(nod) if float(nod).is_integer() else nod)),
            "scale": list(src.scales),
            "offset": list(src.offsets),
            "compression": COMPRESSION_NAMES.get(code, str(code)),
            "compression_code": code,
            "predictor": tag1(ifd0, 317, 1),
            "tiled": tiled,
            "block": [tag1(ifd0, 323), tag1(ifd0, 322)] if tiled else [tag1(ifd0, 278, src.height), src.width],
            "planar": "band" if tag1(ifd0, 284, 1) == 2 else "pixel",
            "photometric": tag1(ifd0, 262),
            "bigtiff": big,
            "byteorder": byteorder,
            "area_or_point": src.tags().get("AREA_OR_POINT"),
            "overview_factors": src.overviews(1),
            "overviews": [],
            "overview_values": [],
            "ifd_count": len(ifds),
            "is_cog": src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG",
            "lossy": bool(c.get("lossy", False)),
            "size": len(data),
        }
        values = src.read()
    save_npy(os.path.join(os.path.dirname(path), entry["values"]), values)
    for i in range(len(entry["overview_factors"])):
        with rasterio.open(path, overview_level=i) as ov:
            ovals = ov.read()
        entry["overviews"].append([ov.height, ov.width])
        entry["overview_values"].append(f"{name}.ovr{i}.npy")
        save_npy(os.path.join(os.path.dirname(path), entry["overview_values"][-1]), ovals)
    return entry, values


def gdal_reaction(path):
    """What rasterio says about a bad file: where it fails, and its message."""
    try:
        with rasterio.open(path) as src:
            try:
                src.read()
            except Exception as e:
                cause = e.__cause__ or e  # rasterio wraps GDAL's message
                return "read fails: " + str(cause).splitlines()[0][:200]
            return "opens and reads (unexpected)"
    except Exception as e:
        return "open fails: " + str(e).splitlines()[0][:200]


def write_bad(out):
    base = dict(driver="GTiff", width=130, height=100, count=3, dtype="uint16", crs=UTM[0], transform=UTM[1])
    arr = field(99, "uint16", 3, 100, 130)
    bad = []

    # 1. truncated: a COG layout keeps the IFD (and the tile index) at the front, so what is cut
    #    is tile data, not the directory.
    with MemoryFile() as mem:
        with mem.open(**base, tiled=True, blockxsize=32, blockysize=32) as tmp:
            tmp.write(arr)
        with mem.open() as tmp:
            rasterio.shutil.copy(tmp, os.path.join(out, "_full.tif"), driver="COG", compress="deflate", blocksize=32, overviews="none")
    full = open(os.path.join(out, "_full.tif"), "rb").read()
    os.remove(os.path.join(out, "_full.tif"))
    cut = full[:int(len(full) * 0.6)]
    _, _, _, ifds = parse_tiff(cut)
    open(os.path.join(out, "bad_truncated.tif"), "wb").write(cut)
    bad.append({"file": "bad_truncated.tif", "why": f"a valid tiled DEFLATE COG ({len(full)} bytes) cut to 60% ({len(cut)} bytes): "
                f"the IFD at {ifds[0]['offset']} is intact but tiles point past the end"})

    # 2. and 3. patch a plain little-endian classic tiled DEFLATE file.
    with MemoryFile() as mem:
        with mem.open(**base, tiled=True, blockxsize=32, blockysize=32, compress="deflate") as dst:
            dst.write(arr)
        plain = bytes(mem.getbuffer())
    assert plain[:4] == b"II*\0"
    b2 = bytearray(plain)
    struct.pack_into("<I", b2, 4, len(plain) + 4096)
    open(os.path.join(out, "bad_ifd_offset.tif"), "wb").write(b2)
    bad.append({"file": "bad_ifd_offset.tif", "why": f"first IFD offset (header bytes 4..8) set to {len(plain) + 4096}, past the end of the {len(plain)}-byte file"})

    _, _, _, ifds = parse_tiff(plain)
    comp = ifds[0]["tags"][259]
    assert comp["type"] == 3 and comp["count"] == 1 and comp["value"] == (8,), comp
    b3 = bytearray(plain)
    struct.pack_into("<H", b3, comp["entry"] + 8, 34712)  # SHORT value sits inline at entry+8
    assert tag1(parse_tiff(bytes(b3))[3][0], 259) == 34712
    open(os.path.join(out, "bad_compression.tif"), "wb").write(b3)
    bad.append({"file": "bad_compression.tif", "why": "Compression tag (259) patched from 8 (DEFLATE) to 34712 (JPEG2000), which a TIFF reader need not support"})

    for b in bad:
        b["gdal"] = gdal_reaction(os.path.join(out, b["file"]))
    return bad


def generate(out):
    os.makedirs(out, exist_ok=True)
    cases = []
    for name, c in CASES.items():
        path = os.path.join(out, name + ".tif")
        arr = write_case(path, c, seed=zlib.crc32(name.encode()))
        entry, values = describe(path, name, c)
        if not entry["lossy"]:  # lossless: what was written must come back exactly
            assert values.dtype == arr.dtype and np.array_equal(values, arr, equal_nan=True), name
        cases.append(entry)
    json.dump(cases, open(os.path.join(out, "cases.json"), "w"), indent=1)
    bad = write_bad(out)
    json.dump(bad, open(os.path.join(out, "bad.json"), "w"), indent=1)

    print(f"{'file':28s} {'dtype':8s} {'shape':15s} {'comp':9s} pr tiled planar big  order  ovr  size")
    for e in cases:
        print(f"{e['file']:28s} {e['dtype']:8s} {str(e['shape']):15s} {e['compression']:9s} {e['predictor']:2d} "
              f"{str(e['tiled']):5s} {e['planar']:6s} {str(e['bigtiff'])[0]:4s} {e['byteorder']:6s} "
              f"{len(e['overviews'])}{'c' if e['is_cog'] else ' '}  {e['size']}")
    for b in bad:
        print(f"{b['file']:28s} {b['gdal']}")


def check(out):
    """Reopens every case and compares with its .npy files."""
    problems = []
    for e in json.load(open(os.path.join(out, "cases.json"))):
        path = os.path.join(out, e["file"])
        with rasterio.open(path) as src:
            if src.dtypes[0] != e["dtype"] or [src.count, src.height, src.width] != e["shape"]:
                problems.append(f"{e['file']}: dtype/shape")
            want = np.load(os.path.join(out, e["values"]))
            if want.dtype.byteorder == ">" or not np.array_equal(src.read(), want, equal_nan=True):
                problems.append(f"{e['file']}: values differ from {e['values']}")
            if list(src.transform)[:6] != e["transform"]:
                problems.append(f"{e['file']}: transform")
        for i, (shape, f) in enumerate(zip(e["overviews"], e["overview_values"])):
            with rasterio.open(path, overview_level=i) as ov:
                got, want = ov.read(), np.load(os.path.join(out, f))
            if list(got.shape[1:]) != shape or not np.array_equal(got, want, equal_nan=True):
                problems.append(f"{e['file']}: overview {i} differs from {f}")
    for b in json.load(open(os.path.join(out, "bad.json"))):
        if gdal_reaction(os.path.join(out, b["file"])).startswith("opens"):
            problems.append(f"{b['file']}: GDAL reads it")
    print("\n".join(problems) if problems else "all cases match")
    return not problems


if __name__ == "__main__":
    warnings.simplefilter("ignore", NotGeoreferencedWarning)  # no_georef.tif has none on purpose
    if sys.argv[1] == "--check":
        sys.exit(0 if check(sys.argv[2]) else 1)
    elif sys.argv[1] == "--dump":
        for p in sys.argv[2:]:
            dump(p)
    else:
        generate(sys.argv[1])
