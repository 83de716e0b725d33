"""Domain errors and their rendering as application/problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://cmsreporting.org/problems/"


def escape(token: str | int) -> str:
    """One reference token of a JSON pointer (RFC 6901): `~` as `~0`, `/` as `~1`."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + escape(p) for p in parts)


class FieldError(dict[str, Any]):
    """One offending field: a JSON pointer into the request and what is wrong with it."""

    def __init__(self, ptr: str, detail: str, **extra: Any) -> None:
        super().__init__(pointer=ptr, detail=detail, **extra)


class DomainError(Exception):
    """Base of the errors raised below the routers; rendered by one handler."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    keep_changes: bool = False
    """Commit what the request wrote before refusing it (a failed sign-in is remembered)."""

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


class InvalidInput(DomainError):
    """The request is well-formed but its content breaks a rule."""

    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class BadRequest(DomainError):
    """The request cannot be read."""

    status = 400
    slug = "bad-request"
    title = "Bad request"


class Unauthorized(DomainError):
    """No valid credentials."""

    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str = "a valid bearer token is required", **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(DomainError):
    """Credentials are valid but do not allow this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    """No such resource (or not visible to the caller)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class Gone(DomainError):
    """The resource existed and is no longer available (an expired download)."""

    status = 410
    slug = "gone"
    title = "Gone"


class PayloadTooLarge(DomainError):
    """The body is larger than allowed."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    """The body's content type is not accepted."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyRequests(DomainError):
    """Too many attempts; `Retry-After` says when to try again."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))}, **extra)


class ServiceUnavailable(DomainError):
    """Something this server needs for the request is missing; the request was fine."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"
