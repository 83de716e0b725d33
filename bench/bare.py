"""The bare ASGI baseline of the HTTP benchmarks: a minimal Starlette app that serves fixed bytes.

    CMSR_BARE_BODIES=DIR .venv/bin/uvicorn bench.bare:app --workers 2 [--no-access-log]

bench/saturation starts it next to the service, on the same uvicorn settings (workers, event loop
and HTTP parser, access logging on or off as the service has it) and drives both with the same
wrk runs, so that each GET of the service is reported as a share of what the bare stack serves
on the same machine in the same minutes. It does the least any server must do for these bytes:

* ``GET /health`` and ``GET /health/live``: a constant JSON body;
* ``GET /body/{name}``: the bytes of the file ``DIR/{name}`` (read once, at startup: what the
  service answered for that path), and ``DIR/{name}.gz`` instead, with ``Content-Encoding:
  gzip``, when the request accepts gzip and that file exists (the service's compressed answer).

Nothing is checked, localized, looked up or logged by the application itself: uvicorn writes
one access line per request unless ``--no-access-log`` is given.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HEALTH = b'{"status":"ok","database":"ok","revision":"0000000000ab","version":"0.1.0"}'
LIVE = b'{"status":"ok","version":"0.1.0"}'


def _bodies(folder: str | None) -> dict[str, bytes]:
    if not folder:
        return {}
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


BODIES = _bodies(os.environ.get("CMSR_BARE_BODIES"))


async def health(request: Request) -> Response:
    """A constant, as a health route that reads nothing."""
    return Response(HEALTH, media_type="application/json")


async def live(request: Request) -> Response:
    """A constant."""
    return Response(LIVE, media_type="application/json")


async def body(request: Request) -> Response:
    """The bytes kept for this name (gzip-encoded ones when accepted and kept)."""
    name = request.path_params["name"]
    plain = BODIES.get(name)
    if plain is None:
        return Response(status_code=404)
    packed = BODIES.get(name + ".gz")
    if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            packed,
            media_type="application/json",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(plain, media_type="application/json", headers={"Vary": "Accept-Encoding"})


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/health/live", live),
        Route("/body/{name}", body),
    ]
)
