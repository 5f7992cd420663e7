"""Gyre on Dask: run Gyre's task graphs on a ``distributed`` cluster.

A Gyre task is a plain value (an operation, a block, the tasks it takes); every Dask task
calls Gyre's native library (``libGyreWorker.so``, built by ``swift build``) on the worker,
which opens the sources itself, reads only its block and writes outputs straight to their
store. Only partial states and small blocks travel through Dask.

Workers need the native library, found through ``GYRE_LIBRARY`` (its path) or the dynamic
linker's search path. This module's functions are shipped to the workers by value, so the
workers need no Python package of Gyre's.

    from distributed import Client
    import gyre_dask
    client = Client("tcp://127.0.0.1:8786")
    means = gyre_dask.compute(client, ["cube.zarr"], "sst.mean('time')")   # {name: numpy array}
    gyre_dask.compute(client, ["cube.zarr"], "sst - sst.groupby('time.month').mean()",
                      output="anomaly.zarr")                                # written by the workers
"""

import ctypes
import io
import json
import os
import sys
import uuid

__all__ = ["GyreError", "compute", "run_graph", "run_task", "check_workers", "plan", "finish", "decode"]


class GyreError(RuntimeError):
    """A Gyre task, plan or cluster check failed; the message names what and why."""


def library():
    """Gyre's native library in this process (loaded once)."""
    lib = getattr(sys, "_gyre_worker_library", None)
    if lib is not None:
        return lib
    tried = []
    path = os.environ.get("GYRE_LIBRARY")
    candidates = ([path] if path else []) + ["libGyreWorker.so"]
    for c in candidates:
        try:
            lib = ctypes.CDLL(c)
            break
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
    else:
        raise GyreError("Gyre's native library cannot be loaded here: tried " + "; ".join(tried)
                        + ". Set GYRE_LIBRARY to the path of libGyreWorker.so (swift build makes it in .build/<configuration>/)"
                        + " in the environment the Dask workers start in")
    P = ctypes.POINTER
    lib.gyre_run_task.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int32, P(ctypes.c_char_p), P(ctypes.c_int64),
                                  ctypes.c_int32, P(ctypes.c_void_p), P(ctypes.c_int64), P(ctypes.c_void_p)]
    lib.gyre_run_task.restype = ctypes.c_int32
    lib.gyre_plan.argtypes = [ctypes.c_char_p, P(ctypes.c_void_p), P(ctypes.c_void_p)]
    lib.gyre_plan.restype = ctypes.c_int32
    lib.gyre_finish.argtypes = [ctypes.c_char_p, ctypes.c_int32, P(ctypes.c_int64), P(ctypes.c_char_p), P(ctypes.c_int64),
                                P(ctypes.c_void_p)]
    lib.gyre_finish.restype = ctypes.c_int32
    lib.gyre_free.argtypes = [ctypes.c_void_p]
    lib.gyre_free.restype = None
    lib.gyre_version.argtypes = []
    lib.gyre_version.restype = ctypes.c_char_p
    sys._gyre_worker_library = lib
    return lib


def _take_string(lib, p):
    s = ctypes.string_at(p.value).decode("utf-8", "replace")
    lib.gyre_free(p)
    return s


def run_task(program, task, *inputs):
    """Runs one Gyre task (JSON texts) on the results of its input tasks; gives its result bytes."""
    lib = library()
    n = len(inputs)
    bufs = (ctypes.c_char_p * max(n, 1))(*inputs)
    lens = (ctypes.c_int64 * max(n, 1))(*[len(b) for b in inputs])
    out = ctypes.c_void_p()
    out_len = ctypes.c_int64()
    err = ctypes.c_void_p()
    rc = lib.gyre_run_task(program.encode(), task.encode(), n, bufs, lens, 1, ctypes.byref(out), ctypes.byref(out_len), ctypes.byref(err))
    if rc != 0:
        raise GyreError(_take_string(lib, err))
    data = ctypes.string_at(out.value, out_len.value)
    lib.gyre_free(out)
    return data


def _probe():
    """What a worker answers when asked whether it can run Gyre's tasks."""
    return library().gyre_version().decode()


def check_workers(client):
    """Every worker of the cluster loads Gyre's library, or a GyreError names those that cannot."""
    _register_by_value()
    workers = client.scheduler_info().get("workers", {})
    if not workers:
        raise GyreError("the Dask scheduler at %s has no workers to run Gyre's tasks" % client.scheduler.address)
    try:
        answers = client.run(_probe, on_error="return")
    except TypeError:  # distributed before on_error
        answers = client.run(_probe)
    bad = {w: a for w, a in answers.items() if isinstance(a, BaseException)}
    if bad:
        raise GyreError("Dask workers cannot run Gyre's tasks: " + "; ".join("%s: %s" % (w, a) for w, a in sorted(bad.items())))
    return answers


def _register_by_value():
    try:
        import cloudpickle
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    except (ImportError, AttributeError, ValueError):
        pass


def run_graph(client, graph, on_progress=None):
    """Submits a Gyre task graph (a dict, as Gyre writes it) to the client's cluster as one Dask
    graph; returns {task id: result bytes} for the graph's result tasks. `on_progress(done,
    total)` is called as tasks finish. A failing task cancels the rest and raises GyreError
    naming the task and its block."""
    from distributed import as_completed
    _register_by_value()
    check_workers(client)
    tasks = graph["tasks"]
    token = uuid.uuid4().hex[:12]
    program = json.dumps(graph["program"], sort_keys=True)

    def key(i):
        # Keys named by operation, so Dask learns each kind's duration apart.
        return "gyre-%s-%s-%d" % (tasks[i]["op"], token, i)

    # A function of this call, which plain pickle cannot take: Dask then pickles the graph with
    # cloudpickle, and this module by value, so neither the scheduler nor the workers need it.
    # The program (a few hundred bytes) goes in every task: a task that took it from a key
    # would be placed where that key is, all on one worker.
    def gyre_task(program, task, *inputs):
        return run_task(program, task, *inputs)

    dsk = {}
    for t in tasks:
        dsk[key(t["id"])] = (gyre_task, program, json.dumps(t, sort_keys=True)) + tuple(key(i) for i in t["inputs"])
    keys = [key(t["id"]) for t in tasks]
    futures = client.get(dsk, keys, sync=False)
    by_key = {f.key: i for i, f in enumerate(futures)}
    keep = set(graph.get("results", []))
    total = len(futures)
    done = 0
    results = {}
    pending = as_completed(futures)
    futures = None
    try:
        for fut in pending:
            tid = tasks[by_key[fut.key]]["id"]
            if fut.status == "error":
                exc = fut.exception()
                raise GyreError("task %d failed on the cluster: %s" % (tid, exc))
            if fut.status == "cancelled":
                raise GyreError("task %d was cancelled on the cluster" % tid)
            done += 1
            if on_progress:
                on_progress(done, total)
            if tid in keep:
                results[tid] = fut.result()
            fut.release()
    except BaseException:
        client.cancel(list(pending.futures)) if hasattr(pending, "futures") else None
        raise
    return results


def plan(sources, expression, output=None, concat_dim=None, storage_options=None, overwrite=False, task_bytes=None):
    """Gyre's task graph for an expression over sources (a dict); with an output, the target's
    arrays are created (and the store emptied first with overwrite)."""
    lib = library()
    program = {"sources": list(sources), "expression": expression}
    if output is not None:
        program["output"] = output
    if concat_dim is not None:
        program["concat_dim"] = concat_dim
    if storage_options:
        program["storage_options"] = {k: str(v) for k, v in storage_options.items()}
    if task_bytes is not None:
        program["task_bytes"] = int(task_bytes)
    request = json.dumps({"program": program, "overwrite": bool(overwrite)})
    out = ctypes.c_void_p()
    err = ctypes.c_void_p()
    if lib.gyre_plan(request.encode(), ctypes.byref(out), ctypes.byref(err)) != 0:
        raise GyreError(_take_string(lib, err))
    return json.loads(_take_string(lib, out))


def finish(graph, results):
    """Completes a written output (its group and consolidated metadata)."""
    lib = library()
    ids = sorted(results)
    n = len(ids)
    arr_ids = (ctypes.c_int64 * max(n, 1))(*ids)
    bufs = (ctypes.c_char_p * max(n, 1))(*[results[i] for i in ids])
    lens = (ctypes.c_int64 * max(n, 1))(*[len(results[i]) for i in ids])
    err = ctypes.c_void_p()
    if lib.gyre_finish(json.dumps(graph).encode(), n, arr_ids, bufs, lens, ctypes.byref(err)) != 0:
        raise GyreError(_take_string(lib, err))


def decode(payload):
    """A Gyre result block: (box as a tuple of slices, numpy array)."""
    import numpy as np
    magic = b"GYRETASK1\n"
    if not payload.startswith(magic):
        raise GyreError("not a Gyre task result")
    nl = payload.index(b"\n", len(magic))
    header = json.loads(payload[len(magic):nl])
    if header.get("kind") != "values":
        raise GyreError("a Gyre task result of kind %s holds no values" % header.get("kind"))
    array = np.load(io.BytesIO(payload[nl + 1:]), allow_pickle=False)
    return tuple(slice(a, b) for a, b in header["box"]), array


def compute(client, sources, expression, output=None, concat_dim=None, storage_options=None, overwrite=False,
            on_progress=None, task_bytes=None):
    """Evaluates a Gyre expression over the sources on the client's Dask cluster. Without an
    output, returns {variable name: numpy array}; with one, the workers write the result there
    (a Zarr store's path or s3:// URL) and the output is returned."""
    import numpy as np
    graph = plan(sources, expression, output=output, concat_dim=concat_dim, storage_options=storage_options,
                 overwrite=overwrite, task_bytes=task_bytes)
    results = run_graph(client, graph, on_progress=on_progress)
    if output is not None:
        finish(graph, results)
        return output
    out = {}
    tasks = graph["tasks"]
    for tid in graph["results"]:
        name = tasks[tid]["variable"]
        box, block = decode(results[tid])
        if name not in out:
            out[name] = np.empty(graph["shapes"][name], dtype=block.dtype)
        out[name][box] = block
    return out
