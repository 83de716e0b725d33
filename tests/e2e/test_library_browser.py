"""The document library and citations in headless Chromium: a focal point uploads documents
to Kenya's library (a file chosen and a file dropped, with a progress bar), finds them by
search and type, replaces one with a new version (both versions downloadable) and withdraws
another; cites a library document on a question of the form and finds it in the preview; and a
large upload cut midway resumes from where the server stopped and arrives whole. Its own
`serve --demo` server."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.e2e import test_browser as e2e
from tests.helpers import fill_required, minimal_template

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHUNK = 4 * 1024 * 1024  # the page's chunk (upload.js)

server = e2e.server
browser = e2e.browser
browser_page = e2e.browser_page


def pdf(text: str, padding: int = 0) -> bytes:
    """A small PDF file (its bytes say so), optionally padded to a given size with a comment."""
    body = (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + f"% {text}\n".encode()
    )
    if padding:
        body += b"%" + b"x" * max(0, padding - len(body) - 40) + b"\n"
    return body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def open_library(page: Page, server: e2e.Server) -> None:
    from playwright.sync_api import expect

    e2e.sign_in(page, server, "demo-ken-focal-point")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Document library").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Document library — Kenya")


def watch_progress(page: Page) -> None:
    """Record every text the progress line shows (window.progressSeen)."""
    page.evaluate(
        """() => {
            window.progressSeen = [];
            const el = document.getElementById('lib-progress-text');
            new MutationObserver(() => window.progressSeen.push(el.textContent))
                .observe(el, {childList: true, characterData: true, subtree: true});
        }"""
    )


def percents(page: Page) -> list[int]:
    seen: list[str] = page.evaluate("() => window.progressSeen")
    return [int(m.group(1)) for s in seen if (m := re.search(r"\((\d+)\s*%\)", s))]


def library(server: e2e.Server) -> list[dict[str, Any]]:
    with server.api("demo-ken-focal-point") as api:
        body = api.get("/parties/KEN/documents", params={"withdrawn": "true", "limit": 100}).json()
    items: list[dict[str, Any]] = body["items"]
    return items


def stored_bytes(server: e2e.Server, sha256: str) -> bytes:
    """The file the server stored under a SHA-256 (its folder backend)."""
    assert server.documents is not None
    found = [p for p in Path(server.documents).rglob(sha256) if p.is_file()]
    assert found, sha256
    return found[0].read_bytes()


def test_a_focal_point_keeps_the_partys_library(
    browser_page: Page | None, server: e2e.Server
) -> None:
    page = e2e.need(browser_page)
    from playwright.sync_api import expect

    open_library(page, server)
    expect(page.locator("#doc-count")).to_have_text("The library has no document yet.")

    # a file chosen, with its metadata: the progress bar runs to 100 %
    nbsap = pdf("NBSAP 2025-2030", padding=3_000_000)
    page.locator("#lib-file").set_input_files(
        {"name": "nbsap-2025.pdf", "mimeType": "application/pdf", "buffer": nbsap}
    )
    expect(page.locator("#lib-chosen")).to_contain_text("nbsap-2025.pdf")
    page.get_by_role("textbox", name="Title").fill("National Biodiversity Strategy and Action Plan")
    page.get_by_label("Description", exact=True).fill(
        "The NBSAP adopted in 2025, aligned with the GBF"
    )
    page.locator("#lib-doctype").select_option("policy_plan")
    page.get_by_label("Date of the document").fill("2025-03-14")
    watch_progress(page)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#lib-done")).to_have_text(
        "“National Biodiversity Strategy and Action Plan” is in the library."
    )
    expect(page.locator("#lib-progress")).to_have_attribute("value", "100")
    seen = percents(page)
    assert seen, seen
    assert seen[-1] == 100, seen
    assert seen == sorted(seen), seen
    e2e.shot(page, "library-01-uploaded")

    # a file dropped on the page
    page.locator("#lib-drop").dispatch_event(
        "drop",
        {
            "dataTransfer": page.evaluate_handle(
                """() => {
                    const dt = new DataTransfer();
                    const bytes = new TextEncoder().encode('%PDF-1.4\\n% wetlands act\\n%%EOF\\n');
                    dt.items.add(new File([bytes], 'wetlands-act.pdf', {type: 'application/pdf'}));
                    return dt;
                }"""
            )
        },
    )
    expect(page.locator("#lib-chosen")).to_contain_text("wetlands-act.pdf")
    expect(page.get_by_role("textbox", name="Title")).to_have_value("wetlands-act")
    page.get_by_role("textbox", name="Title").fill("Wetlands Conservation Act")
    page.locator("#lib-doctype").select_option("law")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#lib-done")).to_contain_text("Wetlands Conservation Act")
    docs = page.locator("#doc-list > li")
    expect(docs).to_have_count(2)
    stored = {d["title"]: d for d in library(server)}
    assert stored["National Biodiversity Strategy and Action Plan"]["type"] == "policy_plan"
    assert stored["National Biodiversity Strategy and Action Plan"]["document_date"] == "2025-03-14"
    nbsap_doc = stored["National Biodiversity Strategy and Action Plan"]
    assert nbsap_doc["current"]["sha256"] == hashlib.sha256(nbsap).hexdigest()
    assert nbsap_doc["current"]["size"] == len(nbsap)

    # search and filter by type
    page.get_by_label("Search titles and descriptions").fill("GBF")
    expect(docs).to_have_count(1)
    expect(docs.first).to_contain_text("National Biodiversity Strategy and Action Plan")
    page.get_by_label("Search titles and descriptions").fill("")
    expect(docs).to_have_count(2)
    page.locator("#lib-type").select_option("law")
    expect(docs).to_have_count(1)
    expect(docs.first).to_contain_text("Wetlands Conservation Act")
    page.locator("#lib-type").select_option("map")
    expect(page.locator("#doc-count")).to_have_text("No document matches.")
    page.locator("#lib-type").select_option("")
    expect(docs).to_have_count(2)

    # a new version: the old one stays downloadable
    page.get_by_role(
        "button", name="Replace National Biodiversity Strategy and Action Plan with a new version"
    ).click()
    expect(page.get_by_role("heading", level=2, name=re.compile("New version of"))).to_be_focused()
    revised = pdf("NBSAP 2025-2030, revised")
    page.locator("#lib-file").set_input_files(
        {"name": "nbsap-2025-rev.pdf", "mimeType": "application/pdf", "buffer": revised}
    )
    page.get_by_role("button", name="Upload the new version").click()
    expect(page.locator("#lib-done")).to_have_text(
        "“National Biodiversity Strategy and Action Plan” now has version 2."
    )
    item = docs.filter(has_text="National Biodiversity Strategy")
    expect(item).to_contain_text("version 2")
    item.locator("summary").click()
    expect(item.locator(".version-list li")).to_have_count(2)
    with page.expect_download() as first:
        item.get_by_role(
            "link", name="Download National Biodiversity Strategy and Action Plan, version 1"
        ).click()
    assert Path(first.value.path()).read_bytes() == nbsap
    with page.expect_download() as latest:
        item.get_by_role(
            "link", name="Download National Biodiversity Strategy and Action Plan", exact=True
        ).click()
    assert Path(latest.value.path()).read_bytes() == revised
    assert latest.value.suggested_filename == "nbsap-2025-rev.pdf"

    # withdrawn: no longer listed, unless asked for
    page.get_by_role("button", name="Withdraw Wetlands Conservation Act").click()
    page.get_by_role("button", name="Yes, withdraw").click()
    expect(docs).to_have_count(1)
    page.get_by_label("Show withdrawn documents").check()
    expect(docs).to_have_count(2)
    withdrawn = docs.filter(has_text="Wetlands Conservation Act")
    expect(withdrawn.locator(".badge.sev-warning")).to_have_text("Withdrawn")
    expect(withdrawn.get_by_role("button")).to_have_count(0)
    e2e.shot(page, "library-02-versions")
    assert {d["title"]: d["status"] for d in library(server)} == {
        "National Biodiversity Strategy and Action Plan": "active",
        "Wetlands Conservation Act": "withdrawn",
    }


def test_an_upload_the_server_refuses_says_why(
    browser_page: Page | None, server: e2e.Server
) -> None:
    page = e2e.need(browser_page)
    from playwright.sync_api import expect

    open_library(page, server)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#lib-upload-result")).to_contain_text("Choose a file.")
    expect(page.locator("#lib-upload-result")).to_contain_text("Give the document a title.")
    expect(page.locator("#lib-file")).to_be_focused()
    # a language the server does not know: its problem names the field, nothing is stored
    before = len(library(server))
    page.locator("#lib-file").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": pdf("plan")}
    )
    page.get_by_role("textbox", name="Title").fill("A plan")
    page.locator("#lib-doctype").select_option("report")
    page.evaluate(
        "() => document.getElementById('lib-lang').append(new Option('xx', 'xx', true, true))"
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#lib-upload-result")).to_contain_text("The file was not stored.")
    expect(page.locator("#lib-upload-result")).to_contain_text("language")
    assert len(library(server)) == before


def test_a_large_upload_cut_midway_resumes_where_the_server_stopped(
    browser_page: Page | None, server: e2e.Server, tmp_path: Path
) -> None:
    page = e2e.need(browser_page)
    from playwright.sync_api import Route, expect

    # 30 MB of a PDF: sent in chunks of 4 MiB
    big = tmp_path / "monitoring-2026.pdf"
    head = b"%PDF-1.7\n% waterbird monitoring, 2026\n"
    tail = b"\ntrailer << >>\n%%EOF\n"
    with big.open("wb") as out:
        out.write(head)
        out.write(os.urandom(30_000_000 - len(head) - len(tail)))
        out.write(tail)
    content = big.read_bytes()
    digest = hashlib.sha256(content).hexdigest()

    open_library(page, server)
    expect(page.get_by_role("main")).to_contain_text("the upload resumes where it stopped")
    offsets: list[int] = []  # Upload-Offset of every PATCH the page sends
    uploads: list[str] = []
    cut = {"done": False}

    def patches(route: Route) -> None:
        request = route.request
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            offsets.append(offset)
            uploads.append(request.url)
            if offset >= 2 * CHUNK and not cut["done"]:
                cut["done"] = True  # the connection drops during the third chunk
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/uploads/*", patches)
    page.locator("#lib-file").set_input_files(str(big))
    page.get_by_role("textbox", name="Title").fill("Waterbird monitoring 2026")
    page.locator("#lib-doctype").select_option("data")
    page.get_by_role("button", name="Upload", exact=True).click()

    resume = page.get_by_role("button", name="Resume the upload")
    expect(resume).to_be_visible()
    # no second upload of the same file meanwhile: resume it, or stop it
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_hidden()
    expect(page.get_by_role("button", name="Stop the upload")).to_be_visible()
    expect(page.locator("#lib-interrupted")).to_contain_text("interrupted after 8.4 MB of 30 MB")
    assert offsets == [0, CHUNK, 2 * CHUNK], offsets
    # the server holds the first two chunks, and no document yet
    upload_path = "/" + uploads[0].split("/api/v1/", 1)[1]
    with server.api("demo-ken-focal-point") as api:
        held = api.get(upload_path).json()
    assert held["offset"] == 2 * CHUNK
    assert held["length"] == len(content)
    assert held["document"] is None
    e2e.shot(page, "library-03-interrupted")

    # resumed: the page asks where the server stands, and sends only the rest
    resume.click()
    expect(page.locator("#lib-done")).to_have_text("“Waterbird monitoring 2026” is in the library.")
    n = -(-len(content) // CHUNK)
    assert offsets == [0, CHUNK, 2 * CHUNK, *[i * CHUNK for i in range(2, n)]], offsets
    expect(page.locator("#lib-progress")).to_have_attribute("value", "100")
    stored = next(d for d in library(server) if d["title"] == "Waterbird monitoring 2026")
    assert stored["current"]["size"] == len(content)
    assert stored["current"]["sha256"] == digest
    assert hashlib.sha256(stored_bytes(server, digest)).hexdigest() == digest
    with server.api("demo-ken-focal-point") as api:
        assert api.get(upload_path).json()["document"] == stored["id"]


def cited(server: e2e.Server, workspace: int, slot: str, wanted: list[int]) -> list[int]:
    """The documents a stored answer cites, once they are `wanted` (fails after 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        found: list[int] = e2e.answers(server, workspace).get(slot, {}).get("documents", [])
        if found == wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


async def _fill_required(server: e2e.Server, workspace: int, cycle: str) -> None:
    token = server.tokens["demo-ken-focal-point"]
    async with httpx.AsyncClient(base_url=server.base, timeout=20) as client:
        await fill_required(client, {"Authorization": f"Bearer {token}"}, workspace, cycle)


def test_a_document_cited_in_the_form_travels_to_the_preview_and_the_submission(
    browser: Browser | None, browser_page: Page | None, server: e2e.Server
) -> None:
    page = e2e.need(browser_page)
    assert browser is not None
    from playwright.sync_api import expect

    content = pdf("Kenya national wetlands policy")
    with server.api("demo-ken-focal-point") as api:
        made = api.post(
            "/parties/KEN/documents",
            params={
                "title": "National Wetlands Policy",
                "language": "en",
                "type": "policy_plan",
                "file_name": "wetlands-policy.pdf",
            },
            content=content,
            headers={"Content-Type": "application/pdf"},
        )
    assert made.status_code == 201, made.text
    document = made.json()["id"]
    workspace = e2e.new_workspace(server, "KEN")

    e2e.sign_in(page, server, "demo-ken-focal-point")
    page.goto(f"{server.base}/ui/#/w/{workspace}")
    field = page.locator(f'.field-wrap[data-slot="{e2e.TEXT_SLOT}"]')
    field.get_by_role("textbox").first.fill("The Kenya Wildlife Service and the wetlands unit")

    # "Cite a document": a search of the Party's library
    field.get_by_role("button", name="Cite a document").click()
    search = field.get_by_role("searchbox", name="Search the document library")
    expect(search).to_be_focused()
    search.fill("wetlands policy")
    field.get_by_role("button", name="Cite National Wetlands Policy").click()
    expect(field.locator(".cited li")).to_have_count(1)
    expect(field.locator(".cited li")).to_contain_text("National Wetlands Policy")
    # a cited document is not offered again
    expect(field.get_by_role("button", name="Cite National Wetlands Policy")).to_have_count(0)
    e2e.wait_saved(page)
    assert cited(server, workspace, e2e.TEXT_SLOT, [document]) == [document]
    e2e.shot(page, "library-04-cited")

    # removed, then cited again: each is saved
    field.get_by_role("button", name="Remove National Wetlands Policy").click()
    expect(field.locator(".cited li")).to_have_count(0)
    e2e.wait_saved(page)
    assert cited(server, workspace, e2e.TEXT_SLOT, []) == []
    search.fill("")
    search.fill("wetlands")
    field.get_by_role("button", name="Cite National Wetlands Policy").click()
    e2e.wait_saved(page)
    assert cited(server, workspace, e2e.TEXT_SLOT, [document]) == [document]
    stored = e2e.answers(server, workspace)[e2e.TEXT_SLOT]
    assert stored["value"] == "The Kenya Wildlife Service and the wetlands unit"
    # a reload shows the citation from the server
    page.reload()
    expect(field.locator(".cited li")).to_contain_text("National Wetlands Policy")

    # the preview lists it, with its download
    page.get_by_role("link", name="Preview CMS COP15").click()
    docs = page.locator(".cited-docs")
    expect(docs.get_by_role("heading")).to_have_text("Documents cited")
    row = docs.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("National Wetlands Policy")
    expect(row).to_contain_text("wetlands-policy.pdf")
    with page.expect_download() as got:
        row.get_by_role("link", name="Download National Wetlands Policy").click()
    assert Path(got.value.path()).read_bytes() == content
    e2e.shot(page, "library-05-preview")

    # submitted; the CMS secretariat finds it, and the package, on the submission
    # (in a thread of its own: Playwright's event loop runs in this one)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _fill_required(server, workspace, "CMS:COP15")).result()
    with server.api("demo-ken-focal-point") as api:
        sent = api.post(
            f"/workspaces/{workspace}/submit",
            json={"cycles": ["CMS:COP15"]},
            headers={"Idempotency-Key": f"cite-{workspace}"},
        )
    assert sent.status_code == 201, sent.text
    submission = sent.json()["submissions"][0]["id"]
    secretariat = e2e.new_context_page(browser, "en-GB")
    try:
        e2e.sign_in(secretariat, server, "demo-cms-secretariat")
        secretariat.goto(f"{server.base}/ui/#/s/{submission}")
        row = secretariat.locator(".cited-docs tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("National Wetlands Policy")
        with secretariat.expect_download() as got:
            row.get_by_role("link", name="Download National Wetlands Policy").click()
        assert Path(got.value.path()).read_bytes() == content
        with secretariat.expect_download() as pack:
            secretariat.get_by_role("button", name=re.compile("Download the package of")).click()
        archive = zipfile.ZipFile(io.BytesIO(Path(pack.value.path()).read_bytes()))
        assert content in [archive.read(name) for name in archive.namelist()]
        e2e.shot(secretariat, "library-06-submission")
    finally:
        secretariat.context.close()


def test_without_resumable_uploads_a_file_goes_in_one_request(
    browser_page: Page | None, server: e2e.Server
) -> None:
    """A server that does not offer tus (its OPTIONS refused here): the page sends the file in
    one POST, with its metadata in the query and the progress of that request."""
    page = e2e.need(browser_page)
    from playwright.sync_api import Route, expect

    def no_tus(route: Route) -> None:
        if route.request.method == "OPTIONS":
            route.fulfill(status=404)
        else:
            route.continue_()

    page.route("**/api/v1/uploads", no_tus)
    sent: list[str] = []
    page.on(
        "request", lambda r: sent.append(f"{r.method} {r.url}") if "/api/v1/" in r.url else None
    )
    open_library(page, server)
    expect(page.get_by_role("main")).not_to_contain_text("the upload resumes where it stopped")
    content = pdf("Species action plan for the grey crowned crane", padding=2_000_000)
    page.locator("#lib-file").set_input_files(
        {"name": "crane-plan.pdf", "mimeType": "application/pdf", "buffer": content}
    )
    page.get_by_role("textbox", name="Title").fill("Grey crowned crane action plan")
    page.locator("#lib-doctype").select_option("policy_plan")
    watch_progress(page)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#lib-done")).to_have_text(
        "“Grey crowned crane action plan” is in the library."
    )
    assert percents(page)[-1] == 100
    posts = [s for s in sent if s.startswith("POST ")]
    assert len(posts) == 1, posts
    assert "/api/v1/parties/KEN/documents?" in posts[0]
    assert "file_name=crane-plan.pdf" in posts[0]
    assert not [s for s in sent if s.startswith("PATCH ")]
    stored = next(d for d in library(server) if d["title"] == "Grey crowned crane action plan")
    assert stored["current"]["sha256"] == hashlib.sha256(content).hexdigest()


def test_a_documents_question_is_filled_from_the_library(
    browser_page: Page | None, server: e2e.Server
) -> None:
    """A question of type `documents` (its value the ids of the documents attached) is filled
    with the library's picker; the preview counts and lists them."""
    page = e2e.need(browser_page)
    from playwright.sync_api import expect

    template = minimal_template("CMS", "DOC26", "1.0.0")
    template["sections"][0]["questions"].append(
        {"id": "I.3", "type": "documents", "text": {"en": "Attach your NBSAP"}, "required": True}
    )
    with server.api("demo-admin") as api:
        made = api.post(
            "/cycles",
            json={
                "convention": "CMS",
                "code": "DOC26",
                "title": "CMS documents cycle",
                "opens_on": "2026-01-01",
                "due_on": "2026-12-31",
            },
        )
        assert made.status_code == 201, made.text
        imported = api.post("/templates", json=template)
        assert imported.status_code == 201, imported.text
        published = api.post(f"/templates/{imported.json()['id']}/publish")
        assert published.status_code == 200, published.text
        member = api.put("/parties/KEN/memberships/CMS", json={"demo": True})
        assert member.status_code in (200, 201), member.text
        opened = api.post("/workspaces", json={"party": "KEN", "cycles": ["CMS:DOC26"]})
        assert opened.status_code == 201, opened.text
    workspace = opened.json()["id"]
    content = pdf("NBSAP of Kenya, as adopted")
    with server.api("demo-ken-focal-point") as api:
        uploaded = api.post(
            "/parties/KEN/documents",
            params={"title": "Kenya NBSAP as adopted", "language": "en", "type": "policy_plan"},
            content=content,
            headers={"Content-Type": "application/pdf"},
        )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["id"]

    e2e.sign_in(page, server, "demo-ken-focal-point")
    page.goto(f"{server.base}/ui/#/w/{workspace}")
    slot = "CMS:DOC26:I.3"
    field = page.locator(f'.field-wrap[data-slot="{slot}"]')
    expect(field.get_by_role("group", name=re.compile("Attach your NBSAP"))).to_be_visible()
    # the question itself is the picker: no separate "Cite a document" on it
    expect(field.get_by_role("button", name="Cite a document")).to_have_count(0)
    field.get_by_role("button", name="Add a document").click()
    field.get_by_role("searchbox", name="Search the document library").fill("NBSAP adopted")
    field.get_by_role("button", name="Cite Kenya NBSAP as adopted").click()
    expect(field.locator(".cited li")).to_contain_text("Kenya NBSAP as adopted")
    e2e.wait_saved(page)
    assert e2e.stored_when(server, workspace, slot, [document])["value"] == [document]

    page.get_by_role("link", name="Preview CMS DOC26").click()
    expect(page.locator(".report-table")).to_contain_text(
        "1 document (listed under Documents cited)"
    )
    row = page.locator(".cited-docs tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Kenya NBSAP as adopted")
    expect(row.locator("td").last).to_have_text("I.3")

    # removed: the question is unanswered again
    page.get_by_role("link", name="Form", exact=True).click()
    field.get_by_role("button", name="Remove Kenya NBSAP as adopted").click()
    expect(field.locator(".cited li")).to_have_count(0)
    e2e.wait_saved(page)
    assert e2e.stored_when(server, workspace, slot, None)["value"] is None
