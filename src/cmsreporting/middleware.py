"""ASGI middleware: request body size limit and accepted content types."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cmsreporting.errors import PROBLEM_JSON, DomainError, PayloadTooLarge, UnsupportedMediaType

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

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
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

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than {self.max_bytes} bytes")
