"""netCDF4-python writes netCDF-4 files whose HDF5 structures stress Gyre's own metadata reader.

  netcdf_native_cases.py OUTDIR

Dense link and attribute storage (fractal heaps, version-2 B-trees deep enough for internal
nodes), every attribute type, NC_STRING and char data, nested groups using their ancestors'
dimensions, dimensions without coordinate variables, an unlimited dimension longer than some
of its variables, big-endian data, compressed and multi-chunk coordinates, and a variable named
after a dimension it does not index. Then, when h5repack is installed, copies rewritten with
other HDF5 format versions (superblock 0 with symbol tables and version-1 object headers;
version-4 layouts with newer chunk indexes).
"""
import os, shutil, subprocess, sys
import numpy as np, netCDF4

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

def many_attributes(obj, n, seed):
    rng = np.random.default_rng(seed)
    for i in range(n):
        kind = i % 6
        if kind == 0: obj.setncattr(f"text_{i:03d}", f"value {i} " * (1 + i % 7))
        elif kind == 1: obj.setncattr(f"f64_{i:03d}", rng.standard_normal(1 + i % 4))
        elif kind == 2: obj.setncattr(f"i16_{i:03d}", np.arange(i % 5 + 1, dtype="i2") - 2)
        elif kind == 3: obj.setncattr_string(f"str_{i:03d}", [f"s{i}", "ünïcode", ""][: 1 + i % 3])
        elif kind == 4: obj.setncattr(f"u64_{i:03d}", np.uint64(2**63 + i))
        else: obj.setncattr(f"f32_{i:03d}", np.float32(i) / 7)

with netCDF4.Dataset(os.path.join(out, "dense.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("time", None); nc.createDimension("y", 4); nc.createDimension("x", 5)
    nc.createDimension("nv", 2)  # no coordinate variable
    t = nc.createVariable("time", "f8", ("time",), zlib=True, shuffle=True, chunksizes=(3,))
    t.units = "hours since 2000-01-01"; t[:] = np.arange(10) * 6.0
    many_attributes(nc, 45, 1)
    for i in range(40):
        v = nc.createVariable(f"v{i:02d}", ["f4", "i2", "u1", "i8", "f8"][i % 5], ("time", "y", "x") if i % 3 else ("y", "x"))
        v.long_name = f"variable {i}"
        if i == 7: many_attributes(v, 120, 7)
    b = nc.createVariable("bounds", "f8", ("time", "nv")); b[:4] = 1.0  # shorter than time
    nc.createDimension("step", 300)  # 300 one-value chunks: a B-tree with internal nodes
    st = nc.createVariable("step", "i4", ("step",), chunksizes=(1,)); st[:] = np.arange(300) * 3
    be = nc.createVariable("big", ">i4", ("y",), endian="big"); be[:] = np.arange(4) * 1000; be.setncattr("be_attr", np.array([1, 2], dtype=">i4"))
    c = nc.createVariable("label", "S1", ("y", "nv")); c[:] = netCDF4.stringtochar(np.array(["ab", "cd", "ef", "gh"], dtype="S2"))
    s = nc.createVariable("names", str, ("y",)); s[:] = np.array(["a", "bb", "ççç", ""], dtype=object)
    for dt in ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]:
        nc.setncattr("t_" + dt, np.array([1, 2, 3], dtype=dt))
    nc.setncattr("empty_text", "")
    g = nc.createGroup("model"); g.createDimension("level", 3)
    lv = g.createVariable("level", "i4", ("level",)); lv[:] = [1000, 850, 500]
    h = g.createVariable("height", "f4", ("time", "level", "y")); h.units = "m"
    gg = g.createGroup("deeper"); gg.createDimension("x", 2)  # shadows the root's x
    xx = gg.createVariable("x", "f4", ("x",)); xx[:] = [0.5, 1.5]
    gg.createVariable("w", "f4", ("level", "x")).comment = "uses level from its parent, its own x"

with netCDF4.Dataset(os.path.join(out, "noncoord.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("x", 3); nc.createDimension("y", 2)
    v = nc.createVariable("x", "f4", ("y", "x")); v[:] = 1  # named after a dimension it does not index first

with netCDF4.Dataset(os.path.join(out, "contiguous.nc"), "w", format="NETCDF4_CLASSIC") as nc:
    nc.createDimension("lat", 6)
    la = nc.createVariable("lat", "f4", ("lat",), contiguous=True); la[:] = np.linspace(-75, 75, 6)
    nc.title = "classic model"

# What h5repack rewrites (HDF5 1.10's h5repack leaves dense.nc unreadable to netcdf-c).
with netCDF4.Dataset(os.path.join(out, "repack.nc"), "w", format="NETCDF4") as nc:
    nc.createDimension("time", None); nc.createDimension("y", 4); nc.createDimension("nv", 2)
    t = nc.createVariable("time", "f8", ("time",), zlib=True, shuffle=True, chunksizes=(3,))
    t.units = "hours since 2000-01-01"; t[:] = np.arange(10) * 6.0
    for i in range(12):
        v = nc.createVariable(f"v{i:02d}", "f4", ("time", "y")); v.long_name = f"variable {i}"
    many_attributes(nc.variables["v03"], 30, 3)
    b = nc.createVariable("bounds", "f8", ("time", "nv")); b[:4] = 1.0
    nc.setncattr_string("strings", ["a", "bb"])
    g = nc.createGroup("model"); g.createDimension("level", 3)
    lv = g.createVariable("level", "i4", ("level",)); lv[:] = [1000, 850, 500]
    g.createVariable("height", "f4", ("time", "level", "y")).units = "m"

h5repack = shutil.which("h5repack")
if h5repack:
    for src in ["repack.nc", "contiguous.nc"]:
        for low, high, tag in [("0", "2", "earliest"), ("2", "2", "v110")]:
            dst = os.path.join(out, f"{src[:-3]}-{tag}.nc")
            subprocess.run([h5repack, f"--low={low}", f"--high={high}", os.path.join(out, src), dst], check=True, stdout=subprocess.DEVNULL)
