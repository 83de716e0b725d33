"""ASGI middleware: the request context (id, log line, metrics), body size limit, accepted
content types, and strict JSON.

JSON bodies are read in full (they are bounded by the size limit) and checked before the
application sees them: valid UTF-8, no NaN or Infinity, no number too large for a double, and
nesting no deeper than the configured limit. A body that fails is refused with 400 and never
reaches a handler, so recursive code below never meets a hostile shape.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cmsreporting.core.strictjson import check_json
from cmsreporting.errors import (
    PROBLEM_JSON,
    BadRequest,
    DomainError,
    FieldError,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from cmsreporting.logs import request_id_var
from cmsreporting.metrics import UNMATCHED, observe_request

REQUEST_ID_HEADER = b"x-request-id"
VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
"""An `X-Request-ID` kept as given: 1 to 128 letters, digits or `. _ : / + = -`; any other
value is replaced by a new id (never echoed), and the log line says so."""

access_log = logging.getLogger("cmsreporting.access")


class RequestContext:
    """Outermost layer: gives each request an id, returns it as `X-Request-ID`, and when the
    response is done writes the request's log line and metrics (by route template)."""

    def __init__(self, app: ASGIApp, *, log_requests: bool = True, metrics: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given: bytes | None = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                given = value
                break
        if given is not None and VALID_REQUEST_ID.fullmatch(given):
            request_id = given.decode("ascii")
        else:
            request_id = uuid.uuid4().hex
        context = request_id_var.set(request_id)
        id_header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            if self.metrics:
                observe_request(scope["method"], route, status, seconds, scope["query_string"])
            if self.log_requests and access_log.isEnabledFor(logging.INFO):
                self._log(scope, route, status, seconds, request_id, given)
            request_id_var.reset(context)

    @staticmethod
    def _log(
        scope: Scope,
        route: str,
        status: int,
        seconds: float,
        request_id: str,
        given: bytes | None,
    ) -> None:
        fields = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "user_id": scope.get("state", {}).get("user_id"),
        }
        if given is not None and given != fields["request_id"].encode():
            fields["request_id_replaced"] = True
        access_log.info(
            "%s %s %s %.1fms", scope["method"], scope["path"], status, seconds * 1000, extra=fields
        )


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
ACCEPTED_TYPES = (
    "application/json",
    "text/tab-separated-values",
    "text/csv",
    # XLSForm workbooks (POST /api/v1/templates)
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # translated gettext PO files (POST /api/v1/templates/{id}/translations/{lang})
    "text/x-gettext-translation",
    "text/x-po",
)


async def _send_problem(send: Send, error: DomainError, path: str) -> None:
    body = json.dumps(error.body(path)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """Raised from receive() so that body readers stop; rendered as 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


class BodyGuard:
    """Refuses bodies over `max_bytes` (413) and bodies of unaccepted content types (415)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_json_depth: int = 64,
        streamed: re.Pattern[str] | None = None,
        streamed_max_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_depth = max_json_depth
        self.streamed = streamed
        self.streamed_max_bytes = streamed_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
            nul = BadRequest(
                "the request holds a NUL character",
                errors=[FieldError("", "NUL (%00) in the path or query")],
            )
            await _send_problem(send, nul, scope.get("path", ""))
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        path = scope.get("path", "")
        length = headers.get(b"content-length")
        if self.streamed is not None and self.streamed.fullmatch(path):
            # uploads of files of any type, read as a stream by their route (which counts the
            # bytes itself); a declared length over the limit is refused before any is read
            with contextlib.suppress(ValueError):
                if length is not None and int(length) > self.streamed_max_bytes:
                    await _send_problem(send, self._too_large(self.streamed_max_bytes), path)
                    return
            await self.app(scope, receive, send)
            return
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > self.max_bytes:
                await _send_problem(send, self._too_large(), path)
                return
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
        has_body = length not in (None, b"0") or b"chunked" in headers.get(
            b"transfer-encoding", b""
        )
        if (
            has_body
            and content_type.lower() not in ACCEPTED_TYPES
            and not (
                content_type.lower().startswith("application/") and content_type.endswith("+json")
            )
        ):
            error = UnsupportedMediaType(
                f"content type {content_type or '(none)'!r} is not accepted; send "
                + " or ".join(ACCEPTED_TYPES)
            )
            await _send_problem(send, error, path)
            return
        if has_body and (
            content_type.lower() == "application/json" or content_type.endswith("+json")
        ):
            await self._strict_json(scope, receive, send, path)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_problem(send, self._too_large(), path)

    async def _strict_json(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_problem(send, self._too_large(), path)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_json(body, max_depth=self.max_json_depth)
        except DomainError as error:
            await _send_problem(send, error, path)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, limit: int | None = None) -> PayloadTooLarge:
        limit = self.max_bytes if limit is None else limit
        return PayloadTooLarge(f"the request body is larger than {limit} bytes", max_bytes=limit)


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header accepts gzip (by name or `*`, with a q above 0)."""
    if not header:
        return False
    if "gzip" not in header and "*" not in header:
        return False
    named: bool | None = None
    star = False
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding == "*":
            star = quality > 0
        else:
            named = quality > 0
    return named if named is not None else star


class Compression(GZipMiddleware):
    """Starlette's gzip layer with Accept-Encoding read as HTTP says: gzip named (or `*`) with
    a q above 0 (Starlette's own looks for the letters "gzip" anywhere, so `gzip;q=0` got gzip).
    A response that has a Content-Encoding already (a kept encoding) passes as it is."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept: str | None = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept = value.decode("latin-1")
                break
        responder: ASGIApp
        if accepts_gzip(accept):
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        await responder(scope, receive, _unique_vary(send))


def _unique_vary(send: Send) -> Send:
    """`send` with each name of the Vary header once: Starlette's responders add
    Accept-Encoding to a Vary that may name it already (a template read names it itself)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            for index, (name, value) in enumerate(headers):
                if name.lower() == b"vary" and value.count(b",") > 0:
                    names = [v.strip() for v in value.split(b",")]
                    unique = list(dict.fromkeys(n for n in names if n))
                    if len(unique) < len(names):
                        headers = list(headers)
                        headers[index] = (name, b", ".join(unique))
                        message["headers"] = headers
                    break
        await send(message)

    return sending
