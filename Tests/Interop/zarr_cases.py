"""zarr-python writes (and checks) the stores Gyre's Zarr support is compared against.

  zarr_cases.py OUTDIR            zarr-python 3 writes a matrix of arrays (v2 and v3; codecs,
                                  dtypes, C/F order, separators, sharding, big-endian, partial edge
                                  chunks, missing chunks) into OUTDIR/py2.zarr and py3.zarr, with
                                  the expected values beside them; writes manifest.json
  zarr_cases.py --verify OUTDIR   zarr-python reads what Gyre wrote (gyre_manifest.json) and
                                  compares; exits 1 on any difference
"""
import json, os, sys, warnings
import numpy as np
import zarr, numcodecs
from zarr.codecs import BytesCodec, ZstdCodec, GzipCodec, BloscCodec, TransposeCodec, Crc32cCodec, ShardingCodec

warnings.simplefilter("ignore")

def save_expected(out, name, a):
    if a.dtype.kind in "OUS":
        json.dump([x.decode("latin-1") if isinstance(x, bytes) else str(x) for x in a.ravel()], open(os.path.join(out, name + ".json"), "w"))
        return name + ".json"
    np.save(os.path.join(out, name + ".npy"), a)
    return name + ".npy"

def same(got, want):
    got = np.asarray(got)
    if want.dtype.kind in "OUS" or got.dtype.kind in "OUS":
        norm = lambda x: x.decode("latin-1") if isinstance(x, bytes) else str(x)
        return [norm(x) for x in got.ravel()] == [norm(x) for x in want.ravel()]
    if got.shape != want.shape:
        return False
    return np.array_equal(got.view(np.int64) if got.dtype.kind in "Mm" else got, want.view(np.int64) if want.dtype.kind in "Mm" else want, equal_nan=want.dtype.kind == "f")

if sys.argv[1] == "--verify":
    out = sys.argv[2]
    cases = json.load(open(os.path.join(out, "gyre_manifest.json")))
    bad = []
    for c in cases:
        try:
            arr = zarr.open_array(os.path.join(out, c["store"]), path=c["path"], mode="r")
            got = arr[...]
            exp = c["expected"]
            want = np.load(os.path.join(out, exp)) if exp.endswith(".npy") else np.array(json.load(open(os.path.join(out, exp))), dtype=object)
            if not same(got, want):
                bad.append(f"{c['store']}/{c['path']}: zarr-python read different values")
        except Exception as e:
            bad.append(f"{c['store']}/{c['path']}: zarr-python failed: {e!r}")
    print("\n".join(bad))
    sys.exit(1 if bad else 0)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(5)
shape, chunks = (7, 9), (3, 4)

def values(dt):
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    if dt.kind == "f":
        a = (rng.standard_normal(n) * 100).astype(dt); a[::11] = np.nan
    elif dt.kind in "iu":
        info = np.iinfo(dt); a = rng.integers(max(info.min, -10**6), min(info.max, 10**6), n, endpoint=True).astype(dt)
    elif dt.kind == "b":
        a = rng.random(n) < 0.5
    elif dt.kind == "M":
        a = (np.datetime64("2001-01-01", "ns") + rng.integers(0, 10**15, n).astype("m8[ns]")).astype(dt)
    elif dt.kind == "U":
        a = np.array([f"s{i}é"[: dt.itemsize // 4] for i in range(n)], dtype=dt)
    elif dt.kind == "S":
        a = np.array([f"b{i}".encode()[: dt.itemsize] for i in range(n)], dtype=dt)
    else:
        a = np.array([f"text {i} ✓" * (i % 3) for i in range(n)], dtype=object)
    return a.reshape(shape)

cases = []
def add(store_name, name, a, fmt, missing=False, **kw):
    path = os.path.join(out, store_name)
    z = zarr.create_array(store=path, name=name, shape=a.shape, dtype=a.dtype if a.dtype.kind != "O" else str, zarr_format=fmt, **kw)
    if missing:
        z[:3, :4] = a[:3, :4]       # only one chunk written: the rest reads as the fill value
        a = z[...]
    else:
        z[...] = a
    cases.append({"store": store_name, "path": name, "expected": save_expected(out, f"{store_name}-{name}", np.asarray(a)), "format": fmt})

# Zarr v2.
v2 = [("<i1", {}), ("<i2", {}), ("<i4", {}), ("<i8", {}), ("|u1", {}), ("<u2", {}), ("<u4", {}), ("<u8", {}), ("<f4", {}), ("<f8", {}),
      ("|b1", {}), ("<M8[ns]", {}), ("<U6", {}), ("|S5", {}), ("O", {}), (">f8", {}), (">i4", {})]
compressors = {"none": None, "zstd": numcodecs.Zstd(level=3), "blosc-lz4": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
               "blosc-zstd-bit": numcodecs.Blosc("zstd", 3, numcodecs.Blosc.BITSHUFFLE), "blosc-blosclz": numcodecs.Blosc("blosclz", 5, 0),
               "blosc-lz4hc": numcodecs.Blosc("lz4hc", 5, 1), "blosc-zlib": numcodecs.Blosc("zlib", 5, 1),
               "zlib": numcodecs.Zlib(1), "gzip": numcodecs.GZip(5), "lz4": numcodecs.LZ4()}
i = 0
for dt, _ in v2:
    for cname, comp in compressors.items():
        i += 1
        add("py2.zarr", f"a{i}", values(dt), 2, chunks=chunks, compressors=comp, order="F" if i % 3 == 0 else "C",
            chunk_key_encoding={"name": "v2", "separator": "/" if i % 2 else "."})
for dt in ["<i4", "<f8"]:
    i += 1
    add("py2.zarr", f"a{i}", values(dt), 2, chunks=chunks, filters=[numcodecs.Shuffle(elementsize=np.dtype(dt).itemsize)], compressors=numcodecs.Zlib(1))
    i += 1
    add("py2.zarr", f"a{i}", values(dt), 2, chunks=chunks, missing=True, fill_value=7 if dt == "<i4" else np.nan)
i += 1
add("py2.zarr", f"a{i}", values("<i4"), 2, chunks=chunks, filters=[numcodecs.Delta(dtype="<i4")], compressors=numcodecs.Zstd(1))
zarr.consolidate_metadata(os.path.join(out, "py2.zarr"))

# Zarr v3.
v3dtypes = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "bool", "<M8[ns]", "<U6", "O"]
v3codecs = {
    "bytes": dict(compressors=None),
    "zstd": dict(compressors=ZstdCodec(level=3)),
    "zstd-checksum": dict(compressors=ZstdCodec(level=1, checksum=True)),
    "gzip": dict(compressors=GzipCodec(level=5)),
    "blosc": dict(compressors=BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")),
    "crc32c": dict(compressors=[ZstdCodec(level=1), Crc32cCodec()]),
    "sharded": dict(shards=(6, 8), compressors=ZstdCodec(level=1)),
    "big-endian": dict(serializer=BytesCodec(endian="big"), compressors=None),
    "transpose": dict(filters=[TransposeCodec(order=(1, 0))], compressors=ZstdCodec(level=1)),
}
for dt in v3dtypes:
    for cname, kw in v3codecs.items():
        if np.dtype(dt if dt != "O" else object).kind in "OU" and cname in ("big-endian",):
            continue
        if np.dtype(dt if dt != "O" else object).kind == "O" and cname in ("transpose",):
            continue
        i += 1
        add("py3.zarr", f"a{i}", values(dt), 3, chunks=chunks, **kw)
i += 1
add("py3.zarr", f"a{i}", values("float32"), 3, chunks=chunks, missing=True, fill_value=np.nan, compressors=ZstdCodec(level=1))
i += 1
add("py3.zarr", f"a{i}", values("int16"), 3, chunks=chunks, missing=True, shards=(6, 8), fill_value=-3)
i += 1
add("py3.zarr", f"a{i}", values("float64"), 3, chunks=chunks, chunk_key_encoding={"name": "v2", "separator": "."})
i += 1
z = zarr.create_array(store=os.path.join(out, "py3.zarr"), name=f"a{i}", shape=shape, chunks=(2, 3), dtype="float32", zarr_format=3,
                      serializer=ShardingCodec(chunk_shape=(2, 3), codecs=[BytesCodec(), ZstdCodec(level=1)], index_location="start"), fill_value=0)
a = values("float32"); z[...] = a
cases.append({"store": "py3.zarr", "path": f"a{i}", "expected": save_expected(out, f"py3.zarr-a{i}", a), "format": 3})
zarr.consolidate_metadata(os.path.join(out, "py3.zarr"))
# Time types in several units, with no fill value (v2 writes null) and with one set; partly
# written arrays read their fill value. gyre convert copies these both ways (ZarrInteropTests).
def times(dt):
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    unit = np.datetime_data(dt)[0]
    ticks = rng.integers(-10**6, 10**9, n)
    a = (np.datetime64("2001-01-01", unit) + ticks.astype(f"m8[{unit}]")) if dt.kind == "M" else ticks.astype(dt)
    a = a.astype(dt)
    a[::13] = np.array("NaT", dtype=dt)
    return a.reshape(shape)
for fmt, store in [(2, "pytime2.zarr"), (3, "pytime3.zarr")]:
    for dt in ["<M8[s]", "<M8[ms]", "<M8[us]", "<M8[ns]", "<M8[D]", "<m8[s]", "<m8[ms]", "<m8[us]", "<m8[ns]"]:
        a = times(dt)
        i += 1
        add(store, f"a{i}", a, fmt, chunks=chunks, fill_value=None, compressors=numcodecs.Zstd(level=1) if fmt == 2 else ZstdCodec(level=1))
        i += 1
        unit = np.datetime_data(np.dtype(dt))[0]
        fill = np.datetime64("2000-01-02", unit) if dt[1] == "M" else np.timedelta64(7, unit)
        add(store, f"a{i}", a, fmt, chunks=chunks, missing=True, fill_value=fill)
    zarr.consolidate_metadata(os.path.join(out, store))
json.dump(cases, open(os.path.join(out, "manifest.json"), "w"))
print(len(cases))
