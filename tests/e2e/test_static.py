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
