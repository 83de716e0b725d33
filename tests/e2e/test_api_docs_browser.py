"""The API documentation in headless Chromium with the network cut off: every request that is
not to the service (127.0.0.1) is aborted and recorded. /docs (Swagger UI) lists the operations
by tag in the order of the OpenAPI document, takes a token through "Authorize" and runs calls
through "Try it out"; /redoc (ReDoc) renders the same operations. Nothing is fetched from
elsewhere and the pages' Content-Security-Policy refuses nothing they need.

Its own `serve --demo` server (the fixtures of tests/e2e/test_browser.py, module-scoped)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e import test_browser as e2e

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Route

server = e2e.server
browser = e2e.browser

# every violation of the pages' policy, as the page's own event reports it
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push({directive: event.effectiveDirective, blocked: event.blockedURI});
});
"""


@dataclass
class Offline:
    """A page whose every request outside 127.0.0.1 is aborted, and the requests aborted."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def violations(self) -> list[dict[str, str]]:
        found: list[dict[str, str]] = self.page.evaluate("window.__violations")
        return found


@pytest.fixture
def offline(browser: Browser | None) -> Iterator[Offline | None]:
    """A fresh context in which only the service answers."""
    if browser is None:
        yield None
        return
    from playwright.sync_api import expect

    expect.set_options(timeout=e2e.TIMEOUT_MS)
    width, height = e2e.LAPTOP
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    context.set_default_timeout(e2e.TIMEOUT_MS)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    cut = Offline(page)

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            cut.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_service)
    page.on("pageerror", lambda error: cut.errors.append(str(error)))
    yield cut
    context.close()


def need(offline: Offline | None) -> Offline:
    if offline is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {e2e._why_no_browser()}")
    return offline


def document_tags(server: e2e.Server) -> list[str]:
    """The tags of the OpenAPI document, in its order."""
    document: dict[str, Any] = httpx.get(f"{server.base}/openapi.json", timeout=10).json()
    return [tag["name"] for tag in document["tags"]]


def operation(page: Page, method: str, path: str) -> Locator:
    """Swagger UI's block of one operation."""
    return (
        page.locator(".opblock")
        .filter(has=page.locator(f'.opblock-summary-path[data-path="{path}"]'))
        .filter(has=page.locator(".opblock-summary-method", has_text=re.compile(f"^{method}$")))
    )


def try_it_out(page: Page, method: str, path: str) -> Locator:
    """Open an operation, run it with "Try it out" and "Execute"; its live response."""
    from playwright.sync_api import expect

    block = operation(page, method, path)
    block.locator(".opblock-summary-control").click()
    block.get_by_role("button", name="Try it out").click()
    block.get_by_role("button", name="Execute").click()
    live = block.locator(".live-responses-table")
    expect(live).to_be_visible()
    return live


def test_swagger_ui_works_with_the_network_cut_off(
    offline: Offline | None, server: e2e.Server
) -> None:
    cut = need(offline)
    page = cut.page
    from playwright.sync_api import expect

    response = page.goto(f"{server.base}/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator(".info .title")).to_contain_text("cmsreporting")

    # the operations, grouped by tag in the document's order, each with its summary
    tags = document_tags(server)
    assert tags[:2] == ["account", "reference data"], tags
    expect(page.locator(".opblock-tag-section > .opblock-tag")).to_have_count(len(tags))
    shown = page.locator(".opblock-tag-section > .opblock-tag").evaluate_all(
        "(headers) => headers.map((h) => h.dataset.tag)"
    )
    assert shown == tags
    conventions = operation(page, "GET", "/api/v1/conventions")
    expect(conventions.locator(".opblock-summary-description")).to_have_text("List the conventions")
    e2e.shot(page, "api-docs-01-swagger-ui")

    # Authorize takes a token and says how to get one
    page.locator(".auth-wrapper").get_by_role("button", name="Authorize").click()
    modal = page.locator(".modal-ux")
    expect(modal).to_contain_text("My account")
    modal.locator("#auth-bearer-value").fill(server.tokens["demo-ken-focal-point"])
    modal.get_by_role("button", name="Apply credentials").first.click()
    expect(modal.get_by_role("button", name="Remove authorization").first).to_be_visible()
    modal.get_by_role("button", name="Close").first.click()
    expect(modal).to_be_hidden()

    # two calls through "Try it out": the reference data, then the caller as the token says
    live = try_it_out(page, "GET", "/api/v1/conventions")
    expect(live.locator("tr.response .response-col_status")).to_have_text("200")
    expect(live.locator("tr.response .response-col_description")).to_contain_text('"code": "CMS"')
    live = try_it_out(page, "GET", "/api/v1/me")
    expect(live.locator("tr.response .response-col_status")).to_have_text("200")
    expect(live.locator("tr.response .response-col_description")).to_contain_text(
        '"name": "demo-ken-focal-point"'
    )
    expect(live.locator("tr.response .response-col_description")).to_contain_text(
        '"signed_in_with": "token"'
    )
    e2e.shot(page, "api-docs-02-try-it-out")

    assert cut.blocked == []
    assert cut.violations() == []
    assert cut.errors == []


def test_redoc_works_with_the_network_cut_off(offline: Offline | None, server: e2e.Server) -> None:
    cut = need(offline)
    page = cut.page
    from playwright.sync_api import expect

    response = page.goto(f"{server.base}/redoc")
    assert response is not None
    assert response.status == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    # ReDoc lays out the whole document before it shows anything: seconds on a busy machine
    expect(page.get_by_role("heading", name=re.compile(r"^cmsreporting \(0\.\d"))).to_be_visible(
        timeout=60_000
    )

    # the menu lists the tags in the document's order, and the operations with their summaries
    tags = document_tags(server)
    menu = page.get_by_role("menu").first
    for tag in tags:
        expect(menu.get_by_role("menuitem", name=tag, exact=True)).to_be_visible()
    assert [t.strip() for t in menu.get_by_role("menuitem").all_inner_texts()] == tags
    menu.get_by_role("menuitem", name="reference data", exact=True).click()
    listed = menu.get_by_role("menuitem", name=re.compile("List the conventions"))
    expect(listed).to_be_visible()
    listed.click()
    expect(page.get_by_role("heading", name="List the conventions", level=2)).to_be_in_viewport()
    e2e.shot(page, "api-docs-03-redoc")

    assert cut.blocked == []
    assert cut.errors == []
    # what the policy refuses is what ReDoc does not need: the stylesheet of its custom
    # scrollbars (the page uses the browser's own) and the Redocly logo of its menu's footer
    for violation in cut.violations():
        assert violation in (
            {"directive": "style-src-elem", "blocked": "inline"},
            {"directive": "img-src", "blocked": "https://cdn.redoc.ly/redoc/logo-mini.svg"},
        ), violation
