"""NumPy and xarray print arrays; Gyre must print them the same way.

  repr_cases.py OUTDIR   writes arrays as .npy with NumPy's repr of each, and xarray's DataArray
                         repr of each (its data lines), into OUTDIR/manifest.json
"""
import json, os, sys
import numpy as np
import xarray as xr

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)
arrays = {
    "f4-365": (14 + rng.standard_normal(365) * 0.1).astype("f4"),
    "f8-150": np.arange(150.0),
    "f8-1001": np.linspace(-3, 3, 1001),
    "i8-10x25": np.arange(250).reshape(10, 25),
    "i4-40x40": np.arange(1600, dtype="i4").reshape(40, 40),
    "f4-3d": (rng.standard_normal((12, 15, 20)) * 100).astype("f4"),
    "f8-nan": np.where(np.arange(60) % 7 == 0, np.nan, np.arange(60) / 3.0),
    "u1-300": (np.arange(300) % 256).astype("u1"),
    "b1-90": np.arange(90) % 3 == 0,
    "f8-big": np.geomspace(1e-6, 1e9, 40),
    "i2-4x3x2": np.arange(24, dtype="i2").reshape(4, 3, 2),
    "f8-scalarlike": np.array([2.5]),
    "M8-20": np.datetime64("2001-01-01", "ns") + np.arange(20).astype("m8[D]").astype("m8[ns]"),
}
cases = []
for name, a in arrays.items():
    np.save(os.path.join(out, name + ".npy"), a)
    dims = [f"d{k}" for k in range(a.ndim)]
    lines = repr(xr.DataArray(a, dims=dims)).splitlines()
    data = []
    for line in lines[1:]:
        if line.startswith("Coordinates:") or line.startswith("Dimensions without coordinates:") or line.startswith("Attributes:"):
            break
        data.append(line)
    cases.append({"name": name, "file": name + ".npy", "numpy": repr(a), "xarray": "\n".join(data)})
json.dump(cases, open(os.path.join(out, "manifest.json"), "w"))
