#!/usr/bin/env bash
# STAC API benchmark: Gyre (`gyre serve` on SQLite and on PostgreSQL) beside stac-fastapi-pgstac (PostgreSQL + PostGIS +
# pgstac), on the same generated Sentinel-2-like items. Installs what the peer needs (PostgreSQL,
# PostGIS, wrk from Debian; stac-fastapi-pgstac, pypgstac and uvicorn from PyPI into .venv-stac),
# starts the local PostgreSQL cluster, then runs Benchmarks/stac.py.
#   Benchmarks/stac.sh [--items N]      (default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" != "0" ] && SUDO="sudo"
need=()
for p in postgresql postgresql-15-postgis-3 wrk; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if [ ! -x .venv-stac/bin/uvicorn ]; then
  python3 -m venv .venv-stac
  .venv-stac/bin/pip install -q "stac-fastapi-pgstac>=5" "pypgstac[psycopg]" uvicorn requests
fi
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
[ -n "$cluster" ] || { echo "no PostgreSQL cluster (pg_lsclusters is empty)"; exit 1; }
pg_ctlcluster $cluster start 2>/dev/null || true
as_pg() { if [ "$(id -u)" = "0" ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'gyrebench'\"" | grep -q 1 \
  || as_pg "psql -qc \"CREATE ROLE gyrebench LOGIN SUPERUSER PASSWORD 'gyrebench'\""
bash Benchmarks/release-build gyre
exec .venv-stac/bin/python Benchmarks/stac.py --gyre "$(swift build -c release --show-bin-path)/gyre" \
  --dsn postgresql://gyrebench:gyrebench@127.0.0.1:5432/stacbench --pypgstac .venv-stac/bin/pypgstac \
  --uvicorn .venv-stac/bin/uvicorn "$@"
