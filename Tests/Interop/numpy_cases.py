"""NumPy writes the cases Gyre's kernels are checked against.

Usage: numpy_cases.py OUTDIR. Writes OUTDIR/manifest.json and .npy files. Each case names an
operation, its input arrays, its arguments and either the expected array (same dtype and
values) or that NumPy raises.
"""
import json, os, sys, warnings
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
warnings.simplefilter("ignore")
rng = np.random.default_rng(7)
cases = []
counter = [0]

def save(a):
    counter[0] += 1
    name = f"a{counter[0]}.npy"
    np.save(os.path.join(out, name), np.asarray(a))  # keeps 0-d results 0-d
    return name

def case(op, inputs, f, **args):
    entry = {"op": op, "inputs": [save(x) for x in inputs], "args": args}
    try:
        r = f()
        entry["expected"] = save(np.asarray(r))
    except Exception as e:  # NumPy raises: Gyre must raise too
        entry["raises"] = type(e).__name__
    cases.append(entry)

dtypes = ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]
def sample(dt, n=5):
    if dt == "?":
        return rng.random(n) < 0.5
    if dt.startswith("f"):
        return (rng.standard_normal(n) * 10).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(max(info.min, -100), min(info.max, 100), n, endpoint=True).astype(dt)

# Promotion: every pair of dtypes under + and *; true division and comparisons.
for a in dtypes:
    for b in dtypes:
        x, y = sample(a), sample(b)
        case("add", [x, y], lambda: x + y)
        case("multiply", [x, y], lambda: x * y)
        if a != "?" and b != "?":
            case("divide", [x, y], lambda: x / np.where(y == 0, 1, y).astype(y.dtype))
        case("less", [x, y], lambda: x < y)

# Weak (Python) scalars under NEP 50.
for a in ["i1", "u1", "i2", "i4", "f4", "f8"]:
    x = sample(a)
    case("add_scalar_int", [x], lambda: x + 3, value=3)
    case("add_scalar_float", [x], lambda: x + 1.5, value=1.5)
    case("multiply_scalar_int", [x], lambda: x * 2, value=2)

# Integer and float division semantics, including zeros and negatives.
for dt in ["i4", "i8", "u1", "f4", "f8"]:
    x = np.array([7, -7, 7, -7, 5, 0, 9], dtype="f8").astype(dt) if dt[0] != "u" else np.array([7, 8, 9, 10, 5, 0, 3], dtype=dt)
    y = np.array([2, 2, -2, -2, 0, 3, 4], dtype="f8").astype(dt) if dt[0] != "u" else np.array([2, 3, 4, 1, 0, 3, 2], dtype=dt)
    case("floor_divide", [x, y], lambda: np.floor_divide(x, y))
    case("remainder", [x, y], lambda: np.remainder(x, y))
    case("power", [x, np.abs(y) % 4], lambda: np.power(x, np.abs(y) % 4))

# NaN-skipping reductions (xarray's skipna=True) and plain ones, over several axis sets.
def with_nans(shape, dt, rate):
    a = (rng.standard_normal(shape) * 5 + 20).astype(dt)
    a[rng.random(shape) < rate] = np.nan
    return a

axis_sets = [None, (0,), (1,), (2,), (0, 2), (0, 1, 2)]
for dt in ["f4", "f8"]:
    for rate in [0.0, 0.2]:
        a = with_nans((6, 5, 4), dt, rate)
        a[1, :, 2] = np.nan  # an all-NaN slice along axis 1
        # The NaNs make the NaN-propagating reductions over most axis sets all-NaN, which checks
        # only that Gyre gives NaN too: the same reductions on a NaN-free copy check the values.
        clean = np.where(np.isnan(a), np.arange(a.size, dtype="f8").reshape(a.shape) % 7 + 17, a).astype(dt)
        assert not np.isnan(clean).any()
        for ax in axis_sets:
            for name, f in [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("median", np.median)]:
                case(name, [clean], lambda: f(clean, axis=ax), axis=ax)
            for ddof in [0, 1]:
                case("std", [clean], lambda: np.std(clean, axis=ax, ddof=ddof), axis=ax, ddof=ddof)
            for name, f in [("nansum", np.nansum), ("nanmean", np.nanmean), ("nanmin", np.nanmin), ("nanmax", np.nanmax),
                            ("nanmedian", np.nanmedian), ("sum", np.sum), ("mean", np.mean), ("max", np.max),
                            ("median", np.median)]:
                case(name, [a], lambda: f(a, axis=ax), axis=ax)
            for ddof in [0, 1]:
                case("nanvar", [a], lambda: np.nanvar(a, axis=ax, ddof=ddof), axis=ax, ddof=ddof)
                case("nanstd", [a], lambda: np.nanstd(a, axis=ax, ddof=ddof), axis=ax, ddof=ddof)
                case("std", [a], lambda: np.std(a, axis=ax, ddof=ddof), axis=ax, ddof=ddof)
            for q in [0.0, 0.1, 0.5, 0.9, 1.0]:
                case("nanquantile", [a], lambda: np.nanquantile(a, q, axis=ax), axis=ax, q=q)
        case("nanargmin", [a], lambda: np.nanargmin(a, axis=2), axis=2)
        case("nanargmax", [a], lambda: np.nanargmax(a, axis=0), axis=0)
        case("nancumsum", [a], lambda: np.nancumsum(a, axis=1), axis=1)
        case("cumsum", [a], lambda: np.cumsum(a, axis=1), axis=1)

for dt in ["i1", "u2", "i4", "i8"]:
    a = sample(dt, 24).reshape(2, 3, 4)
    for ax in axis_sets:
        case("sum", [a], lambda: np.sum(a, axis=ax), axis=ax)
        case("mean", [a], lambda: np.mean(a, axis=ax), axis=ax)
        case("median", [a], lambda: np.median(a, axis=ax), axis=ax)
        case("std", [a], lambda: np.std(a, axis=ax, ddof=1), axis=ax, ddof=1)
        case("prod", [a % 3], lambda: np.prod(a % 3, axis=ax), axis=ax)
    case("nanquantile", [a], lambda: np.quantile(a, 0.3, axis=1), axis=(1,), q=0.3)
    case("cumsum", [a], lambda: np.cumsum(a, axis=2), axis=2)
    case("diff", [a], lambda: np.diff(a, axis=1), axis=1)

# Empty arrays.
e = np.zeros((0, 3), dtype="f8")
case("nansum", [e], lambda: np.nansum(e, axis=0), axis=(0,))
case("nanmean", [e], lambda: np.nanmean(e, axis=0), axis=(0,))
case("nanmin", [e], lambda: np.nanmin(e, axis=0), axis=(0,))
allnan = np.full((3, 2), np.nan)
case("nanmean", [allnan], lambda: np.nanmean(allnan, axis=0), axis=(0,))
case("nanmedian", [allnan], lambda: np.nanmedian(allnan, axis=0), axis=(0,))
case("nanargmin", [allnan], lambda: np.nanargmin(allnan, axis=0), axis=0)

# Sorting and friends.
s = with_nans((4, 7), "f8", 0.2)
case("sort", [s], lambda: np.sort(s, axis=1), axis=1)
case("argsort", [s], lambda: np.argsort(s, axis=0, kind="stable"), axis=0)
case("unique", [s], lambda: np.unique(s))
srt = np.array([1.0, 2.0, 2.0, 3.5, 9.0])
v = np.array([2.0, 0.0, 10.0, 3.5])
case("searchsorted_left", [srt, v], lambda: np.searchsorted(srt, v, side="left"))
case("searchsorted_right", [srt, v], lambda: np.searchsorted(srt, v, side="right"))

# Datetime arithmetic.
t = np.array(["2001-01-01T00", "2001-03-01T12", "NaT", "1969-12-31T23"], dtype="M8[h]")
t2 = np.array(["2000-02-29", "2001-01-01", "2001-01-01", "1970-01-01"], dtype="M8[D]")
d = np.array([1, -30, 5, 0], dtype="m8[m]")
case("subtract", [t, t2], lambda: t - t2)
case("add", [t, d], lambda: t + d)
case("less", [t, t2], lambda: t < t2)
case("astype_M8[D]", [t], lambda: t.astype("M8[D]"))
case("astype_M8[s]", [t2], lambda: t2.astype("M8[s]"))
case("max", [t], lambda: np.max(t), axis=None)  # NaT propagates
tv = t[[0, 1, 3]]
case("max", [tv], lambda: np.max(tv), axis=None)

with open(os.path.join(out, "manifest.json"), "w") as fh:
    json.dump(cases, fh)
print(len(cases))
