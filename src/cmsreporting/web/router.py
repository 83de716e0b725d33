"""Serve the web interface (plain HTML, ES modules and CSS from the package) at /ui."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"

# the pages load only their own scripts and styles and talk only to this origin's API
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
async def home() -> RedirectResponse:
    """The web interface is the front page."""
    return RedirectResponse("/ui/", status_code=307)


def security_headers(response: Response) -> Response:
    """A content security policy, no MIME sniffing, no referrer; revalidated so that an upgrade
    shows at once."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


class WebFiles(StaticFiles):
    """Static files with security headers; pages are revalidated so an upgrade shows at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file, with a content security policy and no MIME sniffing."""
        return security_headers(await super().get_response(path, scope))


def mount_web(app: FastAPI) -> None:
    """Serve the web interface at /ui and redirect / to it."""
    app.include_router(router)
    app.mount("/ui", WebFiles(directory=STATIC_DIR, html=True), name="ui")
