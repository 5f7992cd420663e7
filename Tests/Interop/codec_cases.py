"""numcodecs writes (and checks) the cases Gyre's codecs are compared against.

  codec_cases.py OUTDIR            numcodecs encodes a matrix of codecs × dtypes; writes
                                   manifest.json, inputs (.npy) and encodings (.bin)
  codec_cases.py --verify OUTDIR   numcodecs decodes what Gyre wrote (gyre_manifest.json) and
                                   compares with the inputs; exits 1 on any difference
"""
import json, os, sys
import numpy as np
import numcodecs
from numcodecs import Blosc, Zstd, Zlib, GZip, LZ4, Shuffle, Delta, VLenUTF8

def codec_from(cfg):
    return numcodecs.get_codec(dict(cfg))

if sys.argv[1] == "--verify":
    out = sys.argv[2]
    cases = json.load(open(os.path.join(out, "gyre_manifest.json")))
    bad = []
    for c in cases:
        codec = codec_from(c["config"])
        raw = open(os.path.join(out, c["encoded"]), "rb").read()
        want = np.load(os.path.join(out, c["input"]), allow_pickle=True)
        try:
            got = codec.decode(raw)
            if want.dtype.kind == "O" or c["config"]["id"] == "vlen-utf8":
                ok = list(np.asarray(got).ravel()) == list(want.ravel())
            else:
                if c["config"]["id"] == "delta":
                    got = np.asarray(got).view(want.dtype) if np.asarray(got).dtype != want.dtype else np.asarray(got)
                else:
                    got = np.frombuffer(bytes(got), dtype=want.dtype)
                ok = np.array_equal(np.asarray(got).ravel(), want.ravel(), equal_nan=True)
        except Exception as e:
            ok = False
            got = repr(e)
        if not ok:
            bad.append(f"{c['encoded']} {c['config']}: numcodecs decoded something else ({str(got)[:80]})")
    print("\n".join(bad))
    sys.exit(1 if bad else 0)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)
def data(dt):
    if dt.kind == "f":
        a = (rng.standard_normal(1000) * 10).astype(dt)
        a[::17] = np.nan
        return a
    info = np.iinfo(dt)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), 1000, endpoint=True).astype(dt)

configs = [{"id": "zstd", "level": 1}, {"id": "zstd", "level": 9, "checksum": True}, {"id": "zlib", "level": 1},
           {"id": "zlib", "level": 9}, {"id": "gzip", "level": 5}, {"id": "lz4", "acceleration": 1}, {"id": "lz4", "acceleration": 10}]
for cname in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]:
    for shuffle in [0, 1, 2]:
        configs.append({"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle, "blocksize": 0})
cases = []
n = 0
for dt in ["<f4", "<f8", "<i2", "|u1", "<i8"]:
    dtype = np.dtype(dt)
    a = data(dtype)
    allc = configs + [{"id": "shuffle", "elementsize": dtype.itemsize}]
    if dtype.kind in "iu":
        allc.append({"id": "delta", "dtype": dt, "astype": dt})
    for cfg in allc:
        n += 1
        codec = codec_from(cfg)
        enc = codec.encode(a)
        np.save(os.path.join(out, f"in{n}.npy"), a)
        open(os.path.join(out, f"enc{n}.bin"), "wb").write(bytes(enc) if not isinstance(enc, np.ndarray) else enc.tobytes())
        cases.append({"config": cfg, "dtype": dt, "shape": list(a.shape), "input": f"in{n}.npy", "encoded": f"enc{n}.bin"})
# Strings.
s = np.array(["", "a", "héllo", "wörld" * 20, "∑"] * 40, dtype=object)
enc = VLenUTF8().encode(s)
open(os.path.join(out, "vlen.bin"), "wb").write(bytes(enc))
json.dump([str(x) for x in s], open(os.path.join(out, "vlen.json"), "w"))
json.dump(cases, open(os.path.join(out, "manifest.json"), "w"))
