"""pystac-client against a running Gyre STAC API: every search, paged through with small pages,
must return exactly the items a brute-force filter over the same items (an NDJSON file) selects,
in the API's default order (datetime descending, then collection, then id), with no duplicates.

usage: stac_client_check.py ROOT_URL ITEMS.ndjson
"""
import json
import sys
from datetime import datetime, timezone

from pystac_client import Client
from shapely.geometry import box, shape

root, path = sys.argv[1], sys.argv[2]
items = [json.loads(line) for line in open(path) if line.strip()]


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)


def order(selected):
    return [i["id"] for i in sorted(selected, key=lambda i: (-ts(i["properties"]["datetime"]).timestamp(), i["collection"], i["id"]))]


def in_bbox(i, b):
    return shape(i["geometry"]).intersects(box(*b))


def in_time(i, start, end):
    t = ts(i["properties"]["datetime"])
    return (start is None or t >= ts(start)) and (end is None or t <= ts(end))


aoi = {"type": "Polygon", "coordinates": [[[-20, -10], [40, -10], [55, 30], [10, 60], [-20, -10]]]}
cases = [
    ("bbox + datetime + eo:cloud_cover < 25 (filter)",
     dict(bbox=[-10, 35, 30, 60], datetime="2016-01-01T00:00:00Z/2020-12-31T23:59:59Z", filter="eo:cloud_cover < 25", filter_lang="cql2-text"),
     lambda i: in_bbox(i, [-10, 35, 30, 60]) and in_time(i, "2016-01-01T00:00:00Z", "2020-12-31T23:59:59Z") and i["properties"]["eo:cloud_cover"] < 25),
    ("bbox + datetime + eo:cloud_cover < 25 (query)",
     dict(bbox=[-10, 35, 30, 60], datetime="2016-01-01T00:00:00Z/2020-12-31T23:59:59Z", query={"eo:cloud_cover": {"lt": 25}}),
     lambda i: in_bbox(i, [-10, 35, 30, 60]) and in_time(i, "2016-01-01T00:00:00Z", "2020-12-31T23:59:59Z") and i["properties"]["eo:cloud_cover"] < 25),
    ("intersects a polygon, one collection",
     dict(intersects=aoi, collections=["sentinel-2-l2a"]),
     lambda i: shape(i["geometry"]).intersects(shape(aoi)) and i["collection"] == "sentinel-2-l2a"),
    ("open-ended datetime, cql2-json on two properties",
     dict(datetime="2023-06-01T00:00:00Z/..", filter={"op": "and", "args": [
         {"op": "=", "args": [{"property": "platform"}, "landsat-8"]},
         {"op": ">=", "args": [{"property": "view:sun_elevation"}, 30]}]}, filter_lang="cql2-json"),
     lambda i: in_time(i, "2023-06-01T00:00:00Z", None) and i["properties"]["platform"] == "landsat-8" and i["properties"]["view:sun_elevation"] >= 30),
    ("across the antimeridian",
     dict(bbox=[170, -60, -170, 76]),
     lambda i: in_bbox(i, [170, -60, 180, 76]) or in_bbox(i, [-180, -60, -170, 76])),
]

client = Client.open(root)
failures = 0
for name, params, keep in cases:
    expected = order([i for i in items if keep(i)])
    got = [i.id for i in client.search(limit=7, **params).items()]
    ok = got == expected
    print(f"{'ok ' if ok else 'FAIL'} {name}: {len(got)} items (brute force: {len(expected)})")
    if not ok:
        failures += 1
        print("  only in the API:", sorted(set(got) - set(expected))[:10])
        print("  only in brute force:", sorted(set(expected) - set(got))[:10])
        print("  duplicates:", len(got) - len(set(got)))
    if not expected:
        failures += 1
        print("  the case selects nothing, so it tests nothing")

# Collections and one item through pystac-client's object model.
cols = {c.id for c in client.get_collections()}
if cols != {"sentinel-2-l2a", "landsat-c2-l2"}:
    failures += 1
    print("FAIL collections:", cols)
first = items[0]
item = client.get_collection(first["collection"]).get_item(first["id"])
if item is None or item.properties["eo:cloud_cover"] != first["properties"]["eo:cloud_cover"]:
    failures += 1
    print("FAIL get_item", first["id"])
print(f"pystac-client: {len(cases)} searches, {failures} failures")
sys.exit(1 if failures else 0)
