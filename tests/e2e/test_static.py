"""The web interface's files are served by the app from the package, with no browser needed."""

from __future__ import annotations

import re

import httpx

from cmsreporting.web.router import STATIC_DIR


async def test_front_page_leads_to_the_web_interface(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"
    page = await client.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="app.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_every_module_and_stylesheet_is_served(client: httpx.AsyncClient) -> None:
    """Each ES module the pages import exists and is served as JavaScript (nothing from a CDN)."""
    wanted = {"app.js", "styles.css"}
    seen: set[str] = set()
    while wanted - seen:
        name = sorted(wanted - seen)[0]
        seen.add(name)
        response = await client.get(f"/ui/{name}")
        assert response.status_code == 200, name
        kinds = (
            ("text/css",)
            if name.endswith(".css")
            else ("text/javascript", "application/javascript")
        )
        assert response.headers["content-type"].startswith(kinds), name
        assert "http://" not in response.text
        assert "https://" not in response.text
        wanted |= set(re.findall(r'from "\./([a-z0-9]+\.js)"', response.text))
    on_disk = {p.name for p in STATIC_DIR.iterdir() if p.suffix in {".js", ".css"}}
    assert seen == on_disk


async def test_a_missing_file_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_stylesheet_closes_every_block() -> None:
    """Every block of the stylesheet is closed where it should be: a `@media print` block left
    open would make every rule after it apply to printing only."""
    css = re.sub(r"/\*.*?\*/", "", (STATIC_DIR / "styles.css").read_text(), flags=re.S)
    depth = 0
    top_level: list[str] = []
    selector = ""
    for char in css:
        if char == "{":
            if depth == 0:
                top_level.append(selector.strip())
            depth += 1
            selector = ""
        elif char == "}":
            depth -= 1
            assert depth >= 0, "a block is closed twice"
            selector = ""
        elif char == ";" and depth == 0:
            selector = ""
        else:
            selector += char
    assert depth == 0, f"{depth} block(s) left open"
    # the screen rules of each page are at the top level, not inside an at-rule
    for wanted in (".signin", ".sec-presence", "#lang-note", 'html[dir="rtl"]'):
        assert any(s.startswith(wanted) for s in top_level), wanted
