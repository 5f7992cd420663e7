"""Validates CoverageJSON documents (OGC 21-069r2), offline.

usage: covjson_validate.py FILE [FILE ...]     ('-' reads one document from stdin)

Prints `ok FILE` for each valid document, otherwise one line `FILE: /json/pointer: message`
per problem. Exit status 1 when any document fails, 2 on a usage error.

Why not the published JSON Schema: no PyPI or Debian package ships the CoverageJSON schema
(standard/schema/coveragejson.json of the OGC repository), and this project neither fetches it
at test time nor copies it in. The checks are therefore made of two layers:

1. covjson-pydantic (KNMI's Pydantic models for CoverageJSON; pin the version in setup).
   The whole document is validated with its models -- Coverage, CoverageCollection, Domain,
   NdArrayFloat/NdArrayInt/NdArrayStr (picked by "dataType"), TiledNdArray -- in Pydantic's
   JSON mode. What it enforces:
   - domainType is one of Grid, VerticalProfile, PointSeries, Point, MultiPointSeries,
     MultiPoint, Trajectory, PolygonSeries, Polygon, and the axes fit that type: required
     axes present, no axes the type does not allow, single-valued axes where the type needs
     them (e.g. PointSeries x/y/z, VerticalProfile x/y/t, Point x/y/z/t);
   - only axes x, y, z, t, composite; an axis has "values" or start/stop/num (num > 0, and
     start == stop when num == 1); "bounds" is twice as long as "values"; t values are
     ISO 8601 date-times with a time zone;
   - NdArray: dataType float/integer/string matches the non-null values (null = missing),
     booleans rejected, integer rejects 1.5; axisNames and shape required for > 1 value, of
     equal length, and the product of shape equals the number of values;
   - parameters: "observedProperty" with "label"; unit has label or symbol; no unit with
     categories; ParameterGroup has members and label or observedProperty; reference systems
     are GeographicCRS/ProjectedCRS/VerticalCRS/TemporalRS/IdentifierRS, TemporalRS has a
     calendar, IdentifierRS a targetConcept; "type" values, where present, are the right ones.

2. Rules of the specification that covjson-pydantic 0.8.0 leaves out, checked here on the
   raw JSON (each one is a MUST of OGC 21-069r2 or a constraint of its JSON Schema):
   - strict JSON: no NaN/Infinity literals, no duplicate member names, a top-level object;
   - "type" is present (covjson-pydantic fills it in when missing) on the top-level object,
     every domain, parameter, parameter group and NdArray/TiledNdArray range;
   - axis "values" non-empty and without repeats; x, y, z values numbers and t values
     strings; primitive x, y, z, t axes monotonic; a coordinate identifier defined once;
     tuple values as long as "coordinates";
   - "referencing" on every domain unless its collection has one; every referenced
     coordinate exists; x, y, z referenced by a spatial CRS and t by a TemporalRS;
   - "parameters" on a coverage unless its collection has them; every range key names a
     parameter in scope; "domainType" of a coverage or collection equals the domain's, and
     a collection's domainType is applied to (and checked against) each coverage's domain;
   - ranges against the domain: axisNames unique and naming domain axes, every axis with
     more than one value named, each shape entry equal to that axis's length; TiledNdArray
     tileShape as long as shape, each entry null or <= shape, urlTemplate has {axis} for
     every tiled axis;
   - with categoryEncoding, every non-null range value is one of the encoded values.

Not checked: custom (extension) domain types and axis names -- covjson-pydantic rejects
them; date-only t values -- rejected too; linked domain/range URLs are not followed.
"""
import json
import sys
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from covjson_pydantic.coverage import Coverage, CoverageCollection, NdArrayTypes
from covjson_pydantic.domain import Domain
from covjson_pydantic.ndarray import TiledNdArray

MODELS = {
    "Coverage": Coverage,
    "CoverageCollection": CoverageCollection,
    "Domain": Domain,
    "NdArray": TypeAdapter(NdArrayTypes),
    "TiledNdArray": TiledNdArray,
}
SPATIAL_RS = {"GeographicCRS", "ProjectedCRS", "VerticalCRS"}


class Invalid(Exception):
    pass


def _no_constant(name):
    raise Invalid(f"{name} is not JSON")


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Invalid(f"duplicate member {key!r}")
        obj[key] = value
    return obj


def pointer(parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts) if parts else "/"


# ---------------------------------------------------------------- layer 1: covjson-pydantic

def _branch_wanted(segment, raw):
    """Whether a Pydantic union branch label fits the raw JSON value, to drop noise errors."""
    if "NdArray" in segment and "tagged-union" in segment:
        return isinstance(raw, dict) and raw.get("type") != "TiledNdArray"
    if segment == "TiledNdArray":
        return isinstance(raw, dict) and raw.get("type") == "TiledNdArray"
    if "wrap_val" in segment or segment == "url":
        return isinstance(raw, str)
    if "CompactAxis" in segment:
        return isinstance(raw, dict) and "values" not in raw
    if "ValuesAxis[" in segment and isinstance(raw, dict):
        if "values" not in raw:
            return False
        first = next((v for v in raw.get("values") or [] if v is not None), None)
        if "ValuesAxis[float]" in segment:
            return isinstance(first, (int, float)) and not isinstance(first, bool)
        if "ValuesAxis[str]" in segment:
            return not (isinstance(first, (int, float)) and not isinstance(first, bool))
    return True


def pydantic_problems(model, raw, at):
    try:
        if isinstance(model, TypeAdapter):
            model.validate_json(json.dumps(raw))
        else:
            model.model_validate_json(json.dumps(raw))
        return []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    out = []
    for err in errors:
        node, path, keep, skip_next = raw, list(at), True, False
        # A bare NdArray (validated through a TypeAdapter) starts its locations at the tag.
        skip_next = isinstance(model, TypeAdapter) and bool(err["loc"]) and err["loc"][0] in (
            "float", "integer", "string")
        for seg in err["loc"]:
            if skip_next:  # the discriminator value after a tagged union
                skip_next = False
                continue
            if isinstance(seg, str) and ("[" in seg or seg in ("TiledNdArray", "url")) and not (
                    isinstance(node, dict) and seg in node):
                if not _branch_wanted(seg, node):
                    keep = False
                    break
                skip_next = seg.startswith("tagged-union")
                continue
            path.append(seg)
            if isinstance(node, dict):
                node = node.get(seg)
            elif isinstance(node, list) and isinstance(seg, int) and seg < len(node):
                node = node[seg]
            else:
                node = None
        if keep:
            out.append((path, err["msg"].removeprefix("Value error, ")))
    if errors and not out:  # pruning was too eager: show everything
        out = [(list(at) + [s for s in e["loc"]], e["msg"]) for e in errors]
    return list(set((tuple(p), m) for p, m in out))


# ---------------------------------------------------------------- layer 2: rules checked here

def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Checker:
    def __init__(self):
        self.problems = []

    def bad(self, path, msg):
        self.problems.append((tuple(path), msg))

    def need_type(self, obj, expected, path):
        if isinstance(obj, dict) and "type" not in obj:
            self.bad(path, f"missing member 'type' (must be {expected})")

    # -- domain
    def axis_length(self, axis):
        if not isinstance(axis, dict):
            return None
        if isinstance(axis.get("values"), list):
            return len(axis["values"])
        if isinstance(axis.get("num"), int):
            return axis["num"]
        return None

    def domain(self, dom, path, outer_referencing=None, outer_domain_type=None):
        if not isinstance(dom, dict):
            return
        self.need_type(dom, "'Domain'", path)
        axes = dom.get("axes") if isinstance(dom.get("axes"), dict) else {}
        if outer_domain_type is not None and dom.get("domainType") not in (None, outer_domain_type):
            self.bad(path + ["domainType"],
                     f"{dom.get('domainType')!r} differs from the collection's {outer_domain_type!r}")
        coords = {}
        for name, axis in axes.items():
            apath = path + ["axes", name]
            if not isinstance(axis, dict):
                continue
            values = axis.get("values")
            ids = axis.get("coordinates") if isinstance(axis.get("coordinates"), list) else [name]
            for cid in ids:
                if cid in coords:
                    self.bad(apath + ["coordinates"], f"coordinate {cid!r} is also defined by axis {coords[cid]!r}")
                coords[cid] = name
            if not isinstance(values, list):
                continue
            if not values:
                self.bad(apath + ["values"], "axis values must not be empty")
                continue
            keys = [json.dumps(v, sort_keys=True) for v in values]
            if len(set(keys)) != len(keys):
                self.bad(apath + ["values"], "axis values must be unique")
            if "dataType" not in axis:
                if name in ("x", "y", "z"):
                    wrong = [i for i, v in enumerate(values) if not is_num(v)]
                    if wrong:
                        self.bad(apath + ["values", wrong[0]], f"{name} values must be numbers")
                    else:
                        self.monotonic(values, apath)
                if name == "t":
                    wrong = [i for i, v in enumerate(values) if not isinstance(v, str)]
                    if wrong:
                        self.bad(apath + ["values", wrong[0]], "t values must be strings")
                    else:
                        self.monotonic(self.times(values), apath)
            elif axis.get("dataType") == "tuple" and isinstance(axis.get("coordinates"), list):
                n = len(axis["coordinates"])
                for i, v in enumerate(values):
                    if not isinstance(v, list) or len(v) != n:
                        self.bad(apath + ["values", i], f"tuple must have {n} items, like 'coordinates'")
                        break
        referencing = dom.get("referencing")
        if referencing is None:
            referencing = outer_referencing
            if referencing is None:
                self.bad(path, "missing member 'referencing' (required unless the collection has one)")
                return coords
        if isinstance(referencing, list):
            systems = {}
            for i, conn in enumerate(referencing):
                if not isinstance(conn, dict) or not isinstance(conn.get("coordinates"), list):
                    continue
                rs_type = conn.get("system", {}).get("type") if isinstance(conn.get("system"), dict) else None
                for cid in conn["coordinates"]:
                    systems[cid] = rs_type
                    if cid not in coords and dom.get("referencing") is not None:
                        self.bad(path + ["referencing", i, "coordinates"], f"no axis defines coordinate {cid!r}")
            for cid in coords:
                if cid not in systems:
                    self.bad(path + ["referencing"], f"coordinate {cid!r} is not referenced")
                elif cid in ("x", "y", "z") and systems[cid] not in SPATIAL_RS:
                    self.bad(path + ["referencing"], f"coordinate {cid!r} must be referenced by a spatial CRS")
                elif cid == "t" and systems[cid] != "TemporalRS":
                    self.bad(path + ["referencing"], "coordinate 't' must be referenced by a TemporalRS")
        return coords

    @staticmethod
    def times(values):
        out = []
        for v in values:
            try:
                out.append(datetime.fromisoformat(v))
            except ValueError:
                return []  # malformed: reported by covjson-pydantic
        return out

    def monotonic(self, values, apath):
        try:
            pairs = list(zip(values, values[1:]))
            if not (all(a < b for a, b in pairs) or all(a > b for a, b in pairs)):
                self.bad(apath + ["values"], "axis values must be ordered monotonically")
        except TypeError:
            pass  # mixed naive/aware times: reported by covjson-pydantic

    # -- ranges
    def range_(self, rng, path, axes, parameter):
        if isinstance(rng, str) or not isinstance(rng, dict):
            return
        kind = rng.get("type")
        self.need_type(rng, "'NdArray' or 'TiledNdArray'", path)
        names = rng.get("axisNames") if isinstance(rng.get("axisNames"), list) else []
        shape = rng.get("shape") if isinstance(rng.get("shape"), list) else []
        if len(set(names)) != len(names):
            self.bad(path + ["axisNames"], "axisNames must be unique")
        if axes is not None:
            for i, name in enumerate(names):
                if name not in axes:
                    self.bad(path + ["axisNames", i], f"{name!r} is not an axis of the domain")
                elif i < len(shape) and self.axis_length(axes[name]) not in (None, shape[i]):
                    self.bad(path + ["shape", i],
                             f"{shape[i]} differs from the length {self.axis_length(axes[name])} of axis {name!r}")
            for name, axis in axes.items():
                n = self.axis_length(axis)
                if n is not None and n > 1 and name not in names:
                    self.bad(path + ["axisNames"], f"axis {name!r} has {n} values but is not in axisNames")
        if kind == "TiledNdArray":
            for t, ts in enumerate(rng.get("tileSets") or []):
                if not isinstance(ts, dict) or not isinstance(ts.get("tileShape"), list):
                    continue
                tile = ts["tileShape"]
                if len(tile) != len(shape):
                    self.bad(path + ["tileSets", t, "tileShape"], "tileShape must be as long as shape")
                    continue
                for i, size in enumerate(tile):
                    if size is not None and is_num(shape[i]) and size > shape[i]:
                        self.bad(path + ["tileSets", t, "tileShape", i], "tile size exceeds shape")
                    if size is not None and i < len(names) and "{" + str(names[i]) + "}" not in str(
                            ts.get("urlTemplate", "")):
                        self.bad(path + ["tileSets", t, "urlTemplate"], f"no variable {{{names[i]}}}")
        encoding = parameter.get("categoryEncoding") if isinstance(parameter, dict) else None
        if isinstance(encoding, dict) and isinstance(rng.get("values"), list):
            allowed = set()
            for code in encoding.values():
                allowed.update(code if isinstance(code, list) else [code])
            for i, v in enumerate(rng["values"]):
                if v is not None and v not in allowed:
                    self.bad(path + ["values", i], f"{v!r} is not a value of the parameter's categoryEncoding")
                    break

    # -- parameters
    def parameters(self, params, groups, path):
        if isinstance(params, dict):
            for key, p in params.items():
                self.need_type(p, "'Parameter'", path + ["parameters", key])
        if isinstance(groups, list):
            for i, g in enumerate(groups):
                self.need_type(g, "'ParameterGroup'", path + ["parameterGroups", i])

    # -- coverage
    def coverage(self, cov, path, collection=None):
        if not isinstance(cov, dict):
            return
        self.need_type(cov, "'Coverage'", path)
        coll = collection or {}
        outer_type = coll.get("domainType")
        self.parameters(cov.get("parameters"), cov.get("parameterGroups"), path)
        params = cov.get("parameters")
        if params is None:
            params = coll.get("parameters")
            if params is None:
                self.bad(path, "missing member 'parameters' (required unless the collection has them)")
        dom = cov.get("domain")
        axes = None
        if isinstance(dom, dict):
            dtype = cov.get("domainType")
            if dtype is not None and dom.get("domainType") not in (None, dtype):
                self.bad(path + ["domainType"], f"{dtype!r} differs from the domain's {dom.get('domainType')!r}")
            if outer_type is not None and dtype not in (None, outer_type):
                self.bad(path + ["domainType"], f"{dtype!r} differs from the collection's {outer_type!r}")
            self.domain(dom, path + ["domain"], coll.get("referencing"), outer_type)
            axes = dom.get("axes") if isinstance(dom.get("axes"), dict) else None
            if outer_type is not None and "domainType" not in dom:
                # covjson-pydantic checks the axes only against the domain's own domainType.
                inherited = dict(dom, domainType=outer_type)
                inherited.setdefault("type", "Domain")
                for p, m in pydantic_problems(Domain, inherited, path + ["domain"]):
                    self.bad(p, m + f" (domainType {outer_type!r} from the collection)")
        ranges = cov.get("ranges")
        if isinstance(ranges, dict):
            for key, rng in ranges.items():
                parameter = params.get(key) if isinstance(params, dict) else None
                if isinstance(params, dict) and key not in params:
                    self.bad(path + ["ranges", key], f"no parameter {key!r} in scope")
                self.range_(rng, path + ["ranges", key], axes, parameter)

    def document(self, doc):
        kind = doc.get("type")
        if kind == "Coverage":
            self.coverage(doc, [])
        elif kind == "CoverageCollection":
            self.parameters(doc.get("parameters"), doc.get("parameterGroups"), [])
            for i, cov in enumerate(doc.get("coverages") or []):
                self.coverage(cov, ["coverages", i], doc)
        elif kind == "Domain":
            self.domain(doc, [])
        elif kind in ("NdArray", "TiledNdArray"):
            self.range_(doc, [], None, None)


# ---------------------------------------------------------------- driver

def validate_text(text):
    """Returns a sorted list of (json-pointer, message); empty when the document is valid."""
    try:
        doc = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except (Invalid, ValueError) as exc:
        return [("/", f"not valid JSON: {exc}")]
    if not isinstance(doc, dict):
        return [("/", "a CoverageJSON document must be a JSON object")]
    kind = doc.get("type")
    if kind not in MODELS:
        return [("/type", f"'type' must be one of {', '.join(MODELS)}, not {kind!r}")]
    found = pydantic_problems(MODELS[kind], doc, [])
    checker = Checker()
    checker.document(doc)
    found = sorted(set(found) | set(checker.problems), key=lambda pm: (_sort_key(pm[0]), pm[1]))
    return _collapse([(p, m) for p, m in found])


def _sort_key(path):
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path]


def _collapse(found, keep=3):
    """Keeps the first few of a run of equal messages on sibling array items."""
    out, runs = [], {}
    for path, msg in found:
        if path and isinstance(path[-1], int):
            key = (path[:-1], msg)
            runs[key] = runs.get(key, 0) + 1
            if runs[key] > keep:
                continue
        out.append([pointer(path), msg])
    for (parent, msg), n in runs.items():
        if n > keep:
            out.append([pointer(parent), f"{msg} ({n - keep} more items like this)"])
    return [tuple(x) for x in out]


def main(argv):
    if not argv:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    failed = False
    for name in argv:
        try:
            if name == "-":
                text = sys.stdin.read()
            else:
                with open(name, encoding="utf-8") as f:
                    text = f.read()
        except OSError as exc:
            print(f"{name}: /: cannot read: {exc}")
            failed = True
            continue
        problems = validate_text(text)
        if problems:
            failed = True
            for where, msg in problems:
                print(f"{name}: {where}: {msg}")
        else:
            print(f"ok {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
