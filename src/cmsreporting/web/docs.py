"""The API documentation, Swagger UI at /docs and ReDoc at /redoc, served entirely from the
package: their pages, starters and the vendored builds (apidocs/vendor/README.md) load nothing
from elsewhere, under the web interface's Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse

from cmsreporting.web.router import CONTENT_SECURITY_POLICY, WebFiles, security_headers

DOCS_DIR = Path(__file__).resolve().parent / "apidocs"

# ReDoc styles itself through styled-components, which adds empty <style> elements and fills
# them through the CSSOM (insertRule): the web interface's policy plus the hash of the empty
# text lets exactly those empty elements in; a <style> with any text is still refused
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
REDOC_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self';", f"style-src 'self' {EMPTY_STYLE};"
)

router = APIRouter(include_in_schema=False)


def _page(name: str, policy: str = CONTENT_SECURITY_POLICY) -> FileResponse:
    response = FileResponse(DOCS_DIR / name, media_type="text/html; charset=utf-8")
    security_headers(response)
    response.headers["Content-Security-Policy"] = policy
    return response


@router.api_route("/docs", methods=["GET", "HEAD"])
async def swagger_ui() -> FileResponse:
    """Swagger UI: every operation, with "Try it out" and "Authorize" for a token."""
    return _page("docs.html")


@router.api_route("/redoc", methods=["GET", "HEAD"])
async def redoc() -> FileResponse:
    """ReDoc: the same document as a three-column reference."""
    return _page("redoc.html", REDOC_CONTENT_SECURITY_POLICY)


def mount_api_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and their files at /docs/assets (the app is built without FastAPI's
    own pages, which load their scripts from a CDN)."""
    app.include_router(router)
    app.mount("/docs/assets", WebFiles(directory=DOCS_DIR), name="api-docs")
