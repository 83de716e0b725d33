"""/docs (Swagger UI) and /redoc (ReDoc) come entirely from the service: their pages, starters
and the vendored builds recorded in apidocs/vendor/README.md, under the web interface's
Content-Security-Policy. (tests/e2e/test_api_docs_browser.py opens them in a browser.)"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx
import pytest

from cmsreporting.web.docs import DOCS_DIR
from cmsreporting.web.router import CONTENT_SECURITY_POLICY

VENDOR = DOCS_DIR / "vendor"
EMPTY_TEXT_SHA256 = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"


class Page(HTMLParser):
    """The URLs a page loads, its inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "spec-url", "data-spec-url"):
            if found.get(name):
                self.urls.append(str(found[name]))
        if tag == "script" and not found.get("src"):
            self.inline.append("<script> without src")
        if tag == "style" or "style" in found or any(n.startswith("on") for n in found):
            self.inline.append(f"<{tag}> {found}")


def test_the_docs_page_and_redoc_page_have_the_web_interfaces_policy() -> None:
    """/redoc's policy is the same but for the hash of an empty <style>: ReDoc adds empty ones
    and fills them through the CSSOM."""
    from cmsreporting.web.docs import REDOC_CONTENT_SECURITY_POLICY

    assert REDOC_CONTENT_SECURITY_POLICY.replace(f" {EMPTY_TEXT_SHA256}", "") == (
        CONTENT_SECURITY_POLICY
    )
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert f"'sha256-{empty}'" == EMPTY_TEXT_SHA256


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_each_page_loads_only_files_of_the_service(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'; script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    if path == "/docs":
        assert policy == CONTENT_SECURITY_POLICY
    parsed = Page()
    parsed.feed(page.text)
    assert parsed.inline == []
    assert len(parsed.urls) >= 3
    for url in parsed.urls:
        assert not re.match(r"^([a-z]+:)?//", url), url  # relative: this origin, any prefix
        loaded = await client.get(urljoin(f"http://test{path}", url))
        assert loaded.status_code == 200, url
        if url.endswith(".js"):
            assert loaded.headers["content-type"].startswith("text/javascript"), url
            assert "content-security-policy" in loaded.headers
        if url == "openapi.json":
            assert loaded.json()["info"]["title"] == "cmsreporting"


async def test_the_swagger_ui_starter_is_a_file_that_reaches_nothing_outside(
    client: httpx.AsyncClient,
) -> None:
    starter = await client.get("/docs/assets/swagger-init.js")
    assert starter.status_code == 200
    assert "validatorUrl: null" in starter.text
    assert not re.search(r"https?://", starter.text)
    assert (await client.get("/docs/assets/nope.js")).status_code == 404


def test_the_vendored_files_are_those_the_readme_records() -> None:
    """Each vendored file has the SHA-256 recorded beside the version it comes from, and a
    licence comes with each build."""
    readme = (VENDOR / "README.md").read_text()
    recorded = {
        name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    }
    on_disk = {
        str(p.relative_to(VENDOR)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert on_disk == recorded
    assert {"swagger-ui/LICENSE", "swagger-ui/NOTICE", "redoc/LICENSE"} <= set(on_disk)
    assert "| 5.35.0 |" in readme
    assert "| 2.5.4 |" in readme
