"""ASGI middleware: body size limit, accepted content types, and strict JSON.

JSON bodies are read in full (they are bounded by the size limit) and checked before the
application sees them: valid UTF-8, no NaN or Infinity, no number too large for a double, and
nesting no deeper than the configured limit. A body that fails is refused with 400 and never
reaches a handler, so recursive code below never meets a hostile shape.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
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

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
ACCEPTED_TYPES = ("application/json", "text/tab-separated-values", "text/csv")


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

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_json_depth: int = 64) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_depth = max_json_depth

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

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than {self.max_bytes} bytes")
