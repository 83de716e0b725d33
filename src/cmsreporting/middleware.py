"""ASGI middleware: body size limit, accepted content types, and strict JSON.

JSON bodies are read in full (they are bounded by the size limit) and checked before the
application sees them: valid UTF-8, no NaN or Infinity, no number too large for a double, and
nesting no deeper than the configured limit. A body that fails is refused with 400 and never
reaches a handler, so recursive code below never meets a hostile shape.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class _NotFinite:
    """Stands in for NaN, Infinity or an overflowing number while a body is checked."""

    def __init__(self, text: str) -> None:
        self.text = text


def _finite_float(text: str) -> float | _NotFinite:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


def text_problem(text: str) -> str | None:
    """Why a JSON string cannot be stored as text: a NUL character or a lone surrogate."""
    if "\x00" in text:
        return "text holds a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text holds a lone surrogate escape, which is not a character"
    return None


def _problems(document: Any, limit: int) -> list[FieldError]:
    """Non-finite numbers and too-deep nesting, each at its JSON pointer."""
    errors: list[FieldError] = []
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack and len(errors) < 20:
        node, ptr, level = stack.pop()
        if isinstance(node, _NotFinite):
            errors.append(FieldError(ptr, f"{node.text[:40]} is not a finite JSON number"))
        elif isinstance(node, int) and not isinstance(node, bool) and node.bit_length() > 1023:
            errors.append(FieldError(ptr, "the number is larger than any JSON number can be"))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                errors.append(FieldError(ptr, problem))
        elif isinstance(node, dict | list):
            if level > limit:
                errors.append(FieldError(ptr, f"nested deeper than {limit} levels"))
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                if isinstance(key, str) and text_problem(key):
                    errors.append(
                        FieldError(f"{ptr}/{escaped}", f"member name: {text_problem(key)}")
                    )
                    continue
                stack.append((child, f"{ptr}/{escaped}", level + 1))
    return sorted(errors, key=lambda e: str(e["pointer"]))


def check_json(body: bytes, *, max_depth: int) -> None:
    """Refuse a JSON body that is not strict, finite and shallow enough (BadRequest)."""
    try:
        document = json.loads(
            body.decode("utf-8"), parse_constant=_NotFinite, parse_float=_finite_float
        )
    except UnicodeDecodeError as exc:
        raise BadRequest(
            "the body is not UTF-8", errors=[FieldError("", f"invalid byte at {exc.start}")]
        ) from None
    except RecursionError:
        raise BadRequest(
            "the body nests too deeply", errors=[FieldError("", f"deeper than {max_depth}")]
        ) from None
    except ValueError as exc:
        raise BadRequest(
            "the body is not valid JSON", errors=[FieldError("", str(exc)[:200])]
        ) from None
    errors = _problems(document, max_depth)
    if errors:
        raise BadRequest(
            "the body holds numbers or text that cannot be stored, or nests too deeply",
            errors=errors,
        )


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
