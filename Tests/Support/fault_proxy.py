"""A fault-injecting HTTP proxy for Gyre's network-store tests (written for the tests).

    fault_proxy.py PORT UPSTREAM RATE SEED

Forwards every request to UPSTREAM (http://127.0.0.1:N) and answers with the upstream's
response, except that a seeded share RATE (0..1) of requests gets a fault instead, drawn evenly
from: a 500 or a 503 before the request reaches the upstream, a connection reset before any
answer, a 503 after the upstream has done the request (a write that happened but whose answer
was lost), a body cut short of its Content-Length, and a slow answer (0.3 s before the body).
Paths holding "always-fail" always get a 503. The first line on stdout is "ready"; then one
line per fault injected: "fault KIND METHOD PATH".
"""
import asyncio
import random
import sys

from aiohttp import ClientSession, ClientTimeout, web

port, upstream, rate, seed = int(sys.argv[1]), sys.argv[2].rstrip("/"), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
faults = ["500", "503", "reset", "503-after", "truncate", "slow"]
hop = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


async def handle(request: web.Request):
    fault = rng.choice(faults) if rng.random() < rate else None
    if "always-fail" in request.path:
        fault = "503"
    if fault:
        print(f"fault {fault} {request.method} {request.path}", flush=True)
    if fault in ("500", "503"):
        await request.read()
        return web.Response(status=int(fault), text="injected fault")
    if fault == "reset":
        await request.read()
        request.transport.abort()
        raise asyncio.CancelledError()
    body = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in hop}
    session: ClientSession = request.app["session"]
    async with session.request(request.method, upstream + request.path_qs, headers=headers, data=body,
                               allow_redirects=False, auto_decompress=False) as r:
        data = await r.read()
        out_headers = {k: v for k, v in r.headers.items() if k.lower() not in hop}
        status = r.status
    if fault == "503-after":
        return web.Response(status=503, text="injected fault after the upstream answered")
    if fault == "slow":
        await asyncio.sleep(0.3)
    if fault == "truncate" and len(data) > 1 and request.method != "HEAD":
        resp = web.StreamResponse(status=status, headers=out_headers)
        resp.content_length = len(data)
        await resp.prepare(request)
        await resp.write(data[: len(data) // 2])
        request.transport.abort()
        return resp
    if request.method == "HEAD":
        resp = web.Response(status=status, headers=out_headers)
        return resp
    return web.Response(status=status, body=data, headers=out_headers)


async def main():
    app = web.Application(client_max_size=1 << 30)
    app["session"] = ClientSession(timeout=ClientTimeout(total=120))
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
