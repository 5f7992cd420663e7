"""STAC API benchmark: `gyre serve` (SQLite and PostgreSQL) beside stac-fastapi-pgstac (pgstac), on
the same generated items. Prints ingest times, then for each search the throughput and p50/p99
latency at 16 concurrent clients (wrk), the ratio Gyre/peer, and whether the servers return the
same first pages. Each search shape runs as one fixed request and as 64 requests drawn from a
seeded generator (boxes, dates, values), which wrk replays in turn; the last line says whether
every search met issue 22's goal (5x the peer, p99 under 20 ms). Run through
Benchmarks/stac.sh, which installs the peer.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import psycopg
import requests

ap = argparse.ArgumentParser()
ap.add_argument("--gyre", required=True)
ap.add_argument("--dsn", required=True)
ap.add_argument("--pypgstac", required=True)
ap.add_argument("--uvicorn", required=True)
ap.add_argument("--items", type=int, default=1_000_000)
ap.add_argument("--dir", default="bench-data/stac")
ap.add_argument("--duration", type=int, default=15)
ap.add_argument("--connections", type=int, default=16)
ap.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load before each measurement, for every server alike")
ap.add_argument("--skip-ingest", action="store_true", help="reuse the catalogs the last run loaded")
ap.add_argument("--ingest-only", action="store_true", help="measure the ingests and stop")
ap.add_argument("--match", default="", help="only the search shapes whose names hold this text (a random variant goes with its shape)")
ap.add_argument("--only", default="gyre-sq,gyre-pg,pgstac", help="which servers to measure (comma-separated labels)")
args = ap.parse_args()

d = args.dir
items_file = os.path.join(d, "items.ndjson")
marker = os.path.join(d, "count")


def timed(cmd, env=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])}... failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


# The data, generated once per size.
if not (os.path.exists(marker) and open(marker).read().strip() == str(args.items)):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.dirname(d) or ".", exist_ok=True)
    t = timed([args.gyre, "stac", "sample", d, "--items", str(args.items), "--seed", "1"])
    open(marker, "w").write(str(args.items))
    print(f"generated {args.items:,} items in {t:.1f} s")
collections = [os.path.join(d, f) for f in ("sentinel-2-l2a.json", "landsat-c2-l2.json")]
with open(os.path.join(d, "collections.ndjson"), "w") as f:
    for c in collections:
        f.write(open(c).read().strip() + "\n")

admin = args.dsn.rsplit("/", 1)[0] + "/postgres"
dbname = args.dsn.rsplit("/", 1)[1]
gyre_dsn = args.dsn.rsplit("/", 1)[0] + "/gyrebench"
db = os.path.join(d, "gyre.db")
if not args.skip_ingest:
    print(f"== ingest {args.items:,} items ==")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    t_gyre = timed([args.gyre, "stac", "ingest", *collections, items_file, "--catalog", db])

    with psycopg.connect(admin, autocommit=True) as c:
        for name in (dbname, "gyrebench"):
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {name}")
    t_gyre_pg = timed([args.gyre, "stac", "ingest", *collections, items_file, "--postgres", gyre_dsn])
    timed([args.pypgstac, "migrate", "--dsn", args.dsn])
    t_peer = timed([args.pypgstac, "load", "collections", os.path.join(d, "collections.ndjson"), "--dsn", args.dsn, "--method", "upsert"])
    t_peer += timed([args.pypgstac, "load", "items", items_file, "--dsn", args.dsn, "--method", "insert"])
    print(f"  gyre stac ingest (SQLite):      {t_gyre:8.1f} s   pgstac/Gyre {t_peer / t_gyre:.1f}x")
    print(f"  gyre stac ingest (PostgreSQL):  {t_gyre_pg:8.1f} s   pgstac/Gyre {t_peer / t_gyre_pg:.1f}x")
    print(f"  pypgstac load (pgstac):         {t_peer:8.1f} s")
if args.ingest_only:
    sys.exit(0)

# The servers.
u = urllib.parse.urlparse(args.dsn)
peer_env = dict(os.environ, PGUSER=u.username, PGPASSWORD=u.password, PGHOST=u.hostname, PGPORT=str(u.port or 5432),
                PGDATABASE=dbname, POSTGRES_USER=u.username, POSTGRES_PASS=u.password, POSTGRES_HOST_READER=u.hostname,
                POSTGRES_HOST_WRITER=u.hostname, POSTGRES_PORT=str(u.port or 5432), POSTGRES_DBNAME=dbname, WEB_CONCURRENCY="2")
gyre_url, peer_url, gyre_pg_url = "http://127.0.0.1:18090", "http://127.0.0.1:18091", "http://127.0.0.1:18092"
only = args.only.split(",")
bases = [(label, base) for label, base in (("gyre-sq", gyre_url), ("gyre-pg", gyre_pg_url), ("pgstac", peer_url)) if label in only]
commands = {
    "gyre-sq": ([args.gyre, "serve", "--catalog", db, "--port", "18090"], None),
    "gyre-pg": ([args.gyre, "serve", "--postgres", gyre_dsn, "--port", "18092"], None),
    "pgstac": ([args.uvicorn, "--factory", "stac_fastapi.pgstac.app:create_app", "--host", "127.0.0.1", "--port", "18091", "--workers", "2",
                "--log-level", "warning"], peer_env),
}
# Each server's log (Gyre notes every search that only a scan answers) goes to a file.
logs = {label: os.path.join(d, f"{label}.log") for label, _ in bases}
servers = [subprocess.Popen(commands[label][0], env=commands[label][1], stdout=subprocess.DEVNULL, stderr=open(logs[label], "w"))
           for label, _ in bases]
try:
    for _, url in bases:
        for _ in range(120):
            try:
                if requests.get(url + "/", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            sys.exit(f"{url} did not come up")

    def q(params):
        return "/search?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)

    # Each search shape as one fixed request, then a variant of 64 requests whose boxes, dates
    # and values come from a seeded generator (the same on every server and every run), replayed
    # in turn by wrk. A request is (method, path, JSON body or None).
    rng = random.Random(22)
    years = (2016, 2024)

    def dates(span_years):
        y = rng.randint(years[0], years[1] - span_years + 1)
        return f"{y}-01-01T00:00:00Z/{y + span_years - 1}-12-31T23:59:59Z"

    def bbox_search(w, s, e, n, datetime):
        return ("GET", q({"collections": "sentinel-2-l2a", "bbox": f"{w},{s},{e},{n}", "datetime": datetime,
                          "filter": "eo:cloud_cover < 25", "filter-lang": "cql2-text", "limit": "10"}), None)

    def cql_search(platform, low, elevation):
        return ("GET", q({"filter": f"platform = '{platform}' AND eo:cloud_cover BETWEEN {low} AND {low + 10} AND \"view:sun_elevation\" > {elevation}",
                          "filter-lang": "cql2-text", "limit": "10"}), None)

    def polygon_search(w, s, size):
        ring = [[w, s], [w + size, s], [w + size, s + size], [w, s + size], [w, s]]
        body = {"filter-lang": "cql2-json", "limit": 10, "filter": {"op": "and", "args": [
            {"op": "<", "args": [{"property": "eo:cloud_cover"}, 10]},
            {"op": "=", "args": [{"property": "platform"}, "sentinel-2b"]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [ring]}]}]}}
        return ("POST", "/search", json.dumps(body))

    def many(make, n=64):
        return [make() for _ in range(n)]

    fixed_dates = "2018-01-01T00:00:00Z/2020-12-31T23:59:59Z"
    cases = [
        ("bbox + datetime + eo:cloud_cover < 25", [bbox_search(5, 45, 15, 55, fixed_dates)]),
        ("  random 10-degree boxes, 3-year dates", many(lambda: (lambda w, s: bbox_search(w, s, w + 10, s + 10, dates(3)))(
            rng.randint(-180, 170), rng.randint(-56, 64)))),
        ("90x110 degree bbox + datetime + cloud < 25", [bbox_search(-30, -40, 60, 70, fixed_dates)]),
        ("  random 90x110-degree boxes, 3-year dates", many(lambda: (lambda w, s: bbox_search(w, s, w + 90, s + 110, dates(3)))(
            rng.randint(-180, 90), rng.randint(-60, -20)))),
        ("CQL2 filter (3 properties)", [cql_search("sentinel-2a", 10, 40)]),
        ("  random platforms and ranges", many(lambda: cql_search(rng.choice(["sentinel-2a", "sentinel-2b"]), rng.randint(0, 80), rng.randint(20, 60)))),
        ("cql2-json and(cloud, platform, s_intersects)", [polygon_search(5, 45, 3)]),
        ("  random boxes of 2 to 5 degrees", many(lambda: polygon_search(rng.randint(-180, 175), rng.randint(-56, 69), rng.randint(2, 5)))),
    ]

    def matching(shapes):
        kept, keep = [], False
        for name, reqs in shapes:
            if not name.startswith("  "):
                keep = args.match.lower() in name.lower()
            if keep:
                kept.append((name, reqs))
        return kept

    def page(base, path, pages):
        url = base + path
        for n in range(pages - 1):
            body = requests.get(url, timeout=60).json()
            nxt = [l for l in body.get("links", []) if l.get("rel") == "next"]
            if not nxt:
                sys.exit(f"{base}: no next link on page {n + 1} of {path}")
            url = nxt[0]["href"]
        if not url.startswith(base):
            sys.exit(f"{base}: a next link points elsewhere: {url}")
        return url[len(base):]

    deep = [("GET", q({"collections": "sentinel-2-l2a", "limit": "10"}), None)]
    deep_random = [(("GET", q({"collections": "sentinel-2-l2a", "bbox": f"{w},{s},{w + 40},{s + 40}", "limit": "10"}), None), pages)
                   for w, s, pages in [(rng.randint(-180, 140), rng.randint(-56, 34), rng.randint(20, 50)) for _ in range(8)]]
    paged = [("page 50 (limit 10, next links)", lambda base: [(m, page(base, p, 50), b) for m, p, b in deep]),
             ("  pages 20 to 50 of random 40-degree boxes", lambda base: [(m, page(base, p, n), b) for (m, p, b), n in deep_random])]

    def settle():
        # A server that cannot keep up leaves queries running in PostgreSQL after wrk has hung
        # up (pgstac's ~1 req/s filter search leaves 16, for minutes); they would be measured as
        # the next server's slowness. Wait until no query of any database is running.
        start = time.time()
        with psycopg.connect(args.dsn, autocommit=True) as c:
            while c.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()").fetchone()[0] > 0:
                if time.time() - start > 900:
                    sys.exit("PostgreSQL still busy after 15 minutes")
                time.sleep(0.5)
        if time.time() - start > 1:
            print(f"  (waited {time.time() - start:.0f} s for PostgreSQL to finish the queries the last server left running)")
        # Then for the machine to go quiet: a server may still be answering requests wrk has
        # given up on (the peer's workers, after its slow searches) and would take the cores
        # from the next measurement. Quiet: under 15% of the CPU busy over half a second.
        def busy():
            def ticks():
                v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
                return sum(v), v[3] + v[4]
            t0, i0 = ticks()
            time.sleep(0.5)
            t1, i1 = ticks()
            return 1 - (i1 - i0) / max(1, t1 - t0)
        start = time.time()
        while busy() > 0.15:
            if time.time() - start > 300:
                sys.exit("the machine stayed busy for 5 minutes")
        if time.time() - start > 2:
            print(f"  (waited {time.time() - start:.0f} s for the machine to go quiet)")

    def lua(reqs):
        # wrk replays the requests in turn on each connection's thread.
        def lit(v):
            return "nil" if v is None else "[==[" + v + "]==]"
        specs = ",\n".join("  {" + lit(m) + ", " + lit(p) + ", " + lit(b) + "}" for m, p, b in reqs)
        f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        # Formatted in init, once wrk has put the Host header in wrk.headers: a request
        # formatted with a table of its own headers carries no Host, which HTTP/1.1 servers
        # such as uvicorn refuse (400).
        f.write("local specs = {\n" + specs + "\n}\nlocal reqs = {}\n"
                "init = function(args)\n  for i, s in ipairs(specs) do\n"
                "    local h = {}\n    for k, v in pairs(wrk.headers) do h[k] = v end\n"
                "    if s[3] then h[\"Content-Type\"] = \"application/json\" end\n"
                "    reqs[i] = wrk.format(s[1], s[2], h, s[3])\n  end\nend\nlocal n = 0\n"
                "request = function()\n  n = n % #reqs + 1\n  return reqs[n]\nend\n")
        f.close()
        return f.name

    def wrk(base, reqs):
        script = lua(reqs)
        try:
            settle()
            if args.warmup > 0:
                # Connections opened, statements prepared, caches filled, unmeasured.
                subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.warmup}s", "-s", script, base], capture_output=True)
                settle()
            r = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", script, base],
                               capture_output=True, text=True)
        finally:
            os.remove(script)
        out = r.stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

        def ms(p):
            m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
            if not m:
                return float("inf")
            v = float(m.group(1))
            return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return rps, ms(50), ms(99), int(bad.group(1)) if bad else 0

    def ids(base, req):
        m, p, b = req
        r = requests.post(base + p, data=b, headers={"Content-Type": "application/json"}, timeout=120) if m == "POST" else requests.get(base + p, timeout=120)
        if not r.ok:
            sys.exit(f"{base}: {m} {p} answered {r.status_code}: {r.text[:300]}")
        return [f["id"] for f in r.json()["features"]]

    print(f"== searches: {args.connections} concurrent clients, {args.duration} s each after {args.warmup} s unmeasured (wrk) ==")
    print(f"  {'case':46} {'server':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    missed = []
    for name, reqs in matching(cases) + matching(paged):
        same = None
        results = {}
        for label, base in bases:
            r = reqs(base) if callable(reqs) else reqs
            results[label] = wrk(base, r)
            rps, p50, p99, bad = results[label]
            print(f"  {name:46} {label:8} {rps:8.0f} {p50:8.2f} {p99:8.2f}" + (f"  ({bad} errors)" if bad else ""), flush=True)
        if not callable(reqs) and len(bases) > 1:
            # The first pages of up to 8 of the requests, on every server.
            same = all(len({tuple(ids(b, req)) for _, b in bases}) == 1 for req in reqs[:8])
        p = results.get("pgstac")
        for label in ("gyre-sq", "gyre-pg"):
            if p and label in results:
                g = results[label]
                ratio = g[0] / p[0] if p[0] > 0 else float("inf")
                print(f"  {'':46} {label + '/pg':8} {ratio:7.1f}x  (p99 {g[2]:.1f} ms vs {p[2]:.1f} ms)")
                if ratio < 5 or g[2] >= 20 or g[3] or p[3]:
                    errors = (f", {g[3]} errors" if g[3] else "") + (f", the peer's {p[3]} errors" if p[3] else "")
                    missed.append(f"{name.strip()} on {label}: {ratio:.1f}x, p99 {g[2]:.1f} ms{errors}")
        if same is not None:
            print(f"  {'':46} first pages {'identical on all ' + str(len(bases)) if same else 'DIFFER'}")
    for label in ("gyre-sq", "gyre-pg"):
        if label in logs:
            scans = sum(1 for line in open(logs[label]) if "answered by a scan" in line)
            print(f"  {label}: {scans} searches answered by a scan, as its log ({logs[label]}) says")
    if "pgstac" in only:
        print("goal (at least 5x the peer, p99 under 20 ms): " + ("met by every search" if not missed else "missed by " + "; ".join(missed)))
finally:
    for s in servers:
        s.terminate()
    for s in servers:
        s.wait(timeout=30)
