"""What `gyre eval --scheduler` runs: submits a Gyre task graph to a Dask scheduler and
reports on stdout, one line each: `gyre: tasks N`, `gyre: done K` as tasks finish,
`gyre: finished` or `gyre: error MESSAGE`. Result bytes go to files in --results."""

import argparse
import json
import os
import sys

import gyre_dask


def say(line):
    sys.stdout.write("gyre: " + line.replace("\n", " ") + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scheduler", required=True)
    ap.add_argument("--graph", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()
    try:
        from distributed import Client
    except ImportError as e:
        say("error this Python (%s) has no Dask distributed (%s); install it (pip install distributed) or set GYRE_PYTHON" % (sys.executable, e))
        return 2
    with open(a.graph) as f:
        graph = json.load(f)
    try:
        client = Client(a.scheduler, timeout=a.timeout)
    except Exception as e:
        say("error cannot reach the Dask scheduler at %s: %s" % (a.scheduler, e))
        return 2
    try:
        say("tasks %d" % len(graph["tasks"]))
        results = gyre_dask.run_graph(client, graph, on_progress=lambda done, total: say("done %d" % done))
        for tid, data in results.items():
            with open(os.path.join(a.results, "%d.bin" % tid), "wb") as f:
                f.write(data)
        say("finished")
        return 0
    except gyre_dask.GyreError as e:
        say("error %s" % e)
        return 1
    except Exception as e:
        say("error %s: %s" % (type(e).__name__, e))
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
