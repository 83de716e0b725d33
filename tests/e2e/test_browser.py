"""The web interface in headless Chromium, against the real server started as the README says.

A focal point signs in, opens a workspace for CMS:COP15 and AEWA:MOP9, answers the shared
question once and finds it in both previews, settles two conflicting edits, keeps typing through
a network failure and a reload, switches language, submits both reports and downloads an
export; the CMS secretariat then follows the cycle and returns the report with a comment.

Debian's chromium is driven by Playwright's Python package. Without /usr/bin/chromium (or
without playwright) the tests are skipped, unless CMSREPORTING_REQUIRE_BROWSER=1 (set by .ci/run),
which makes them fail. Screenshots of the main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LAPTOP = (1366, 768)  # width and height of a laptop screen
TIMEOUT_MS = 15_000

SHARED_SLOT = "concept:coordination.national_committee"
TEXT_SLOT = "concept:governance.institutions"
OFFLINE_SLOT = "concept:governance.interagency_cooperation"


def _why_no_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install Debian's chromium: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _pg_admin(url: str, sql: str) -> None:
    engine = create_async_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Server:
    """The running service and the demo users' tokens and passwords."""

    base: str
    tokens: dict[str, str]
    passwords: dict[str, str] = field(default_factory=dict)
    mail: Path | None = None  # where the server writes its e-mail (.eml files)
    documents: Path | None = None  # where the server keeps documents' files

    def api(self, user: str) -> httpx.Client:
        """An API client signed in as a demo user."""
        return httpx.Client(
            base_url=f"{self.base}/api/v1",
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=10,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`cmsreporting serve --demo` on a fresh database (SQLite, or PostgreSQL when the suite
    runs there), with the demo tokens it prints."""
    if _why_no_browser():
        yield Server(base="", tokens={})
        return
    folder = tmp_path_factory.mktemp("e2e")
    pg_base = os.environ.get("CMSREPORTING_TEST_DATABASE_URL", "")
    database = None
    if pg_base.startswith("postgresql"):
        database = f"cmsr_e2e_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(pg_base, f'CREATE DATABASE "{database}"'))
        url = make_url(pg_base).set(database=database).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{folder / 'e2e.db'}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "CMSREPORTING_DATABASE_URL": url,
        "COLUMNS": "200",
        # e-mail goes to a folder of the test (the --demo default), its links to this server
        "CMSREPORTING_MAIL_FOLDER": str(folder / "mail"),
        "CMSREPORTING_MAIL_SEND_INTERVAL_SECONDS": "0.5",
        "CMSREPORTING_PUBLIC_URL": base,
        # documents' files in a folder of the test, not in the working directory
        "CMSREPORTING_DOCUMENT_STORAGE": str(folder / "documents"),
    }
    env.pop("CMSREPORTING_TEST_DATABASE_URL", None)
    log = folder / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "cmsreporting.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        printed = re.findall(
            r"(demo-[a-z-]+)\s*│\s*(cmsr_[A-Za-z0-9_-]+)\s*│\s*([A-Za-z0-9_-]+)", log.read_text()
        )
        tokens = {user: token for user, token, _ in printed}
        assert "demo-ken-focal-point" in tokens, log.read_text()
        yield Server(
            base=base,
            tokens=tokens,
            passwords={user: pw for user, _, pw in printed},
            mail=folder / "mail",
            documents=folder / "documents",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if database:
            asyncio.run(_pg_admin(pg_base, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _required() -> bool:
    return os.environ.get("CMSREPORTING_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser | None]:
    """Headless Debian chromium; without it the tests skip, or fail (in the test itself) under
    CMSREPORTING_REQUIRE_BROWSER=1."""
    reason = _why_no_browser()
    if reason:
        if not _required():
            pytest.skip(reason)
        yield None
        return
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser_page(browser: Browser | None) -> Iterator[Page | None]:
    """A fresh browser context (its own storage) on a laptop-sized screen."""
    if browser is None:
        yield None
        return
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    width, height = LAPTOP
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="en-GB", accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


def need(page: Page | None) -> Page:
    """The page, or the failure that says the required browser is missing."""
    if page is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    return page


def shot(page: Page, name: str) -> None:
    """Save a screenshot of what the user sees."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def item(page: Page, slot: str) -> Any:
    """The form item holding the answer of a slot."""
    return page.locator(f'.q:has(> .field-wrap[data-slot="{slot}"])')


def sign_in(page: Page, server: Server, user: str) -> None:
    """Sign in with the keyboard only."""
    page.goto(f"{server.base}/")
    token = page.get_by_label("Access token")
    token.focus()
    page.keyboard.type(server.tokens[user])
    page.keyboard.press("Enter")
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {user}")


def wait_saved(page: Page) -> None:
    """Wait until the save indicator says everything is stored."""
    from playwright.sync_api import expect

    expect(page.locator("#save-status")).to_have_text("All changes saved")


def stored_when(server: Server, workspace: int, slot: str, value: Any) -> dict[str, Any]:
    """The stored answer of a slot once it holds `value` (the save indicator can say "saved"
    a moment before the resolution's own save has started); fails after 15 s."""
    deadline = time.monotonic() + 15
    while True:
        answer = answers(server, workspace).get(slot, {"value": None})
        if answer["value"] == value or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A table's rows without their stable ids (`@id`), after checking each has its own."""
    ids = [row["@id"] for row in rows]
    assert len(set(ids)) == len(ids), ids
    assert all(isinstance(i, str) and i for i in ids), ids
    return [{k: v for k, v in row.items() if k != "@id"} for row in rows]


def answers(server: Server, workspace: int) -> dict[str, dict[str, Any]]:
    """The stored answers of a workspace, by slot."""
    with server.api("demo-admin") as api:
        body = api.get(f"/workspaces/{workspace}/answers").json()
    return {a["slot"]: a for a in body["answers"]}


def write(server: Server, workspace: int, user: str, slot: str, value: Any, base: int) -> None:
    """Another person's write, straight through the API."""
    with server.api(user) as api:
        response = api.patch(
            f"/workspaces/{workspace}/answers",
            json={"answers": [{"slot": slot, "value": value, "base_revision": base}]},
        )
    assert response.status_code == 200, response.text


def test_focal_point_then_secretariat_journey(browser_page: Page | None, server: Server) -> None:
    page = need(browser_page)
    from playwright.sync_api import expect

    # --- sign in (the front page leads to the web interface) ----------------------------------
    page.goto(f"{server.base}/")
    expect(page).to_have_url(re.compile(r"/ui/#/signin$"))
    expect(page.get_by_label("User name or e-mail address")).to_be_focused()
    shot(page, "01-sign-in")
    sign_in(page, server, "demo-ken-focal-point")
    shot(page, "02-home-focal-point")

    # --- a workspace for two conventions' reports ---------------------------------------------
    page.get_by_role("link", name="New workspace").click()
    page.get_by_role("checkbox", name=re.compile("CMS COP15")).check()
    page.get_by_role("checkbox", name=re.compile("AEWA MOP9")).check()
    shot(page, "03-new-workspace")
    page.get_by_role("button", name="Create workspace").click()
    expect(page).to_have_url(re.compile(r"#/w/\d+$"))
    workspace = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_have_text("Kenya — CMS COP15 + AEWA MOP9")

    # every control has a label tied to it
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('main input, main select, main textarea')]
              .filter((el) => !el.labels.length && !el.getAttribute('aria-label'))
              .map((el) => el.id || el.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []

    # --- the shared question, answered once, feeds CMS I(a).3 and AEWA A.4 --------------------
    shared = item(page, SHARED_SLOT)
    expect(shared.locator(".chip")).to_have_text(
        [re.compile(r"CMS COP15 · I\(a\)\.3"), re.compile(r"AEWA MOP9 · A\.4")]
    )
    shared.get_by_role("group").get_by_label("Yes", exact=True).check()
    expect(shared.locator(".chip").first).to_contain_text("→ Yes")
    # conditions apply as the user answers: A.3 is asked when A.2 is yes or partially
    follow_up = item(page, "AEWA:MOP9:A.3")
    expect(follow_up).to_be_hidden()
    item(page, "AEWA:MOP9:A.2").get_by_label("Partially").check()
    expect(follow_up).to_be_visible()
    wait_saved(page)
    stored = answers(server, workspace)
    assert stored[SHARED_SLOT]["value"] is True
    assert stored["AEWA:MOP9:A.2"]["value"] == "partially"
    shared.scroll_into_view_if_needed()
    shot(page, "04-form-shared-question")

    # --- both previews carry the shared answer, with its provenance ---------------------------
    page.get_by_role("link", name="Preview CMS COP15").click()
    row = page.locator("tr", has=page.get_by_role("link", name="Go to question I(a).3"))
    expect(row).to_contain_text("Yes")
    expect(row).to_contain_text("Shared answer")
    expect(page.get_by_text("Ready to submit")).to_be_visible()
    shot(page, "05-preview-cms")
    page.get_by_role("link", name="Preview AEWA MOP9").click()
    row = page.locator("tr", has=page.get_by_role("link", name="Go to question A.4"))
    expect(row).to_contain_text("Yes")
    expect(row).to_contain_text("Shared answer")
    issues = page.locator(".issues")
    expect(issues).to_contain_text("A.1")
    shot(page, "06-preview-aewa-issues")
    # an issue leads to its question, with the cursor in it
    issues.get_by_role("link", name=re.compile(r"^A\.1 ")).click()
    answer_a1 = item(page, "AEWA:MOP9:A.1").get_by_role("textbox")
    expect(answer_a1).to_be_focused()
    page.keyboard.type("Kenya Wildlife Service, Nairobi")
    wait_saved(page)

    # --- a conflict: someone else saves the same answer meanwhile ---------------------------
    box = item(page, TEXT_SLOT).get_by_role("textbox").first
    box.fill("Ministry of Environment")
    wait_saved(page)
    revision = answers(server, workspace)[TEXT_SLOT]["revision"]
    write(
        server, workspace, "demo-admin", TEXT_SLOT, "Ministry of Environment and Forestry", revision
    )
    box.press("End")
    box.type("; Kenya Wildlife Service")
    conflict = item(page, TEXT_SLOT).locator(".conflict")
    expect(conflict).to_contain_text("demo-admin saved a different answer")
    expect(conflict.locator(".theirs")).to_have_text("Ministry of Environment and Forestry")
    expect(conflict.locator(".mine")).to_have_text(
        "Ministry of Environment; Kenya Wildlife Service"
    )
    expect(page.locator("#save-status")).to_have_text("1 conflict to resolve")
    conflict.scroll_into_view_if_needed()
    shot(page, "07-conflict")
    conflict.get_by_role("button", name="Keep mine").click()
    wait_saved(page)
    kept = stored_when(
        server, workspace, TEXT_SLOT, "Ministry of Environment; Kenya Wildlife Service"
    )
    assert kept["value"] == "Ministry of Environment; Kenya Wildlife Service"
    assert kept["revision"] == revision + 2
    # and once more, taking theirs this time
    write(
        server, workspace, "demo-admin", TEXT_SLOT, "Ministry of Tourism and Wildlife", revision + 2
    )
    box.type(" (KWS)")
    conflict.get_by_role("button", name="Take theirs").click()
    expect(box).to_have_value("Ministry of Tourism and Wildlife")
    wait_saved(page)
    taken = stored_when(server, workspace, TEXT_SLOT, "Ministry of Tourism and Wildlife")
    assert taken["value"] == "Ministry of Tourism and Wildlife"

    # --- a table: rows added with the keyboard, an incomplete row waits, a row removed -------
    legal = item(page, "AEWA:MOP9:B.5")
    legal.get_by_role("button", name="Add row").click()
    expect(legal.get_by_label("Title of the legal instrument — row 1")).to_be_focused()
    page.keyboard.type("Wildlife Conservation and Management Act")
    page.keyboard.press("Tab")
    expect(legal.get_by_label("Year of adoption or last amendment — row 1")).to_be_focused()
    page.keyboard.type("2013")
    legal.get_by_role("button", name="Add row").click()
    expect(legal.locator(".q-msg")).to_contain_text(
        "row 2: fill in “Title of the legal instrument”"
    )
    expect(page.locator("#save-status")).to_have_text("1 answer not saved yet")
    legal.scroll_into_view_if_needed()
    shot(page, "08-table-row-waiting")
    legal.get_by_role("button", name="Remove row 2").click()
    wait_saved(page)
    assert without_ids(answers(server, workspace)["AEWA:MOP9:B.5"]["value"]) == [
        {"instrument": "Wildlife Conservation and Management Act", "year": 2013}
    ]

    # --- nothing typed is lost through a network failure and a reload ------------------------
    def drop_writes(route: Any) -> None:
        if route.request.method == "PATCH":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    pattern = re.compile(r"/api/v1/workspaces/\d+/answers$")
    page.route(pattern, drop_writes)
    offline_box = item(page, OFFLINE_SLOT).get_by_role("textbox").first
    offline_box.fill("Through the national biodiversity committee")
    expect(page.locator("#save-status")).to_contain_text("Offline: 1 change kept on this device")
    shot(page, "09-offline")
    page.reload()
    offline_box = item(page, OFFLINE_SLOT).get_by_role("textbox").first
    expect(offline_box).to_have_value("Through the national biodiversity committee")
    expect(page.locator("#save-status")).to_contain_text("1 change kept on this device")
    assert OFFLINE_SLOT not in answers(server, workspace)
    # the next automatic try some seconds away, so that "Retry now" is what saves it
    expect(page.locator(".save-status .muted")).to_contain_text(
        re.compile(r"next try in ([3-9]|\d\d) s")
    )
    page.unroute(pattern)
    page.get_by_role("button", name="Retry now").click()
    wait_saved(page)
    assert answers(server, workspace)[OFFLINE_SLOT]["value"] == (
        "Through the national biodiversity committee"
    )

    # --- labels in French, then back in English ----------------------------------------------
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("link", name="Formulaire")).to_be_visible()
    expect(page.locator("#save-status")).to_have_text("Toutes les modifications sont enregistrées")
    # the AEWA and CMS templates carry English only: their texts stay in English, and the form
    # says so
    expect(item(page, "AEWA:MOP9:A.2").get_by_label("Partially")).to_be_checked()
    expect(page.locator(".lang-note", has_text="AEWA")).to_contain_text("Français")
    shot(page, "10-form-french")
    page.get_by_label("Langue").select_option("en")
    expect(page.get_by_role("link", name="Form", exact=True)).to_be_visible()

    # --- what still blocks AEWA is filled through the API; the submission is made here -------
    with server.api("demo-ken-focal-point") as api:
        filled = api.patch(
            f"/workspaces/{workspace}/answers",
            json={
                "answers": [
                    {"slot": "AEWA:MOP9:B.1", "value": "fully", "base_revision": 0},
                    {"slot": "AEWA:MOP9:E.1", "value": 12, "base_revision": 0},
                ]
            },
        )
        assert filled.status_code == 200, filled.text
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_role("checkbox", name=re.compile("CMS COP15")).check()
    page.get_by_role("checkbox", name=re.compile("AEWA MOP9")).check()
    page.get_by_role("button", name="Submit the selected reports").click()
    expect(page.get_by_text("You are about to submit: CMS COP15, AEWA MOP9.")).to_be_visible()
    page.get_by_role("button", name="Confirm and submit").click()
    expect(
        page.locator("main").get_by_text("Submitted: CMS COP15 v1, AEWA MOP9 v1.")
    ).to_be_visible()
    table = page.locator("table.data")
    expect(table.locator(".badge")).to_have_text(["Submitted", "Submitted"])
    shot(page, "11-submitted")
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download CMS COP15 v1 as JSON").click()
    report = json.loads(Path(downloaded.value.path()).read_text())
    assert report["party"] == "KEN"
    assert (report["cycle"], report["submission_version"]) == ("CMS:COP15", 1)
    exported = {q["id"]: q for s in report["sections"] for q in s["questions"]}
    assert exported["I(a).3"]["value"] is True
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download AEWA MOP9 v1 as XLSX").click()
    assert downloaded.value.suggested_filename.endswith(".xlsx")

    # --- the CMS secretariat follows the cycle and returns the report -------------------------
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, server, "demo-cms-secretariat")
    page.get_by_role("link", name="Status of Parties CMS COP15").click()
    kenya = page.locator("tr", has_text="Kenya")
    expect(kenya).to_contain_text("Submitted")
    shot(page, "12-cycle-status")
    kenya.get_by_role("link", name="Open Kenya").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kenya — CMS COP15, version 1")
    page.get_by_role("button", name="Return to the Party").click()
    expect(page.locator("main").get_by_text("Say why the report is returned.")).to_be_visible()
    expect(page.get_by_label("Comment to the Party")).to_be_focused()
    shot(page, "13-submission-decision")
    page.keyboard.type("Please list the agencies involved.")
    page.get_by_role("button", name="Return to the Party").click()
    expect(page.locator(".block-head .badge")).to_have_text("Returned")
    thread = page.locator(".thread")
    expect(thread).to_contain_text("Please list the agencies involved.")
    expect(thread.locator(".badge")).to_have_text("Returned")
    page.get_by_label("Add a comment").fill("The CBD liaison is also welcome.")
    page.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment")).to_have_count(2)
    shot(page, "14-submission-returned")
    with server.api("demo-cms-secretariat") as api:
        submissions = api.get("/submissions", params={"cycle": "CMS:COP15"}).json()["items"]
        assert [s["status"] for s in submissions] == ["returned"]
        comments = api.get(f"/submissions/{submissions[0]['id']}/comments").json()
        assert [c["kind"] for c in comments] == ["return", "comment"]


# --- the form never silently changes or loses a value -----------------------------------------

NUMBER_SLOT = "AEWA:MOP9:G.4"  # a decimal number (USD)
TABLE_SLOT = "AEWA:MOP9:B.5"  # legal instruments: title required, year a whole number


def new_context_page(browser: Browser, locale: str) -> Page:
    """A fresh context (its own storage) in a locale, on a laptop-sized screen."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    width, height = LAPTOP
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    return opened


EDITOR = "demo-admin"  # may open a workspace for any Party (one per Party and cycle)


def new_workspace(server: Server, party: str) -> int:
    """A fresh CMS COP15 + AEWA MOP9 workspace of a Party, through the API."""
    with server.api(EDITOR) as api:
        for convention in ("CMS", "AEWA"):
            member = api.put(f"/parties/{party}/memberships/{convention}", json={"demo": True})
            assert member.status_code in (200, 201), member.text
        response = api.post(
            "/workspaces", json={"party": party, "cycles": ["CMS:COP15", "AEWA:MOP9"]}
        )
    assert response.status_code == 201, response.text
    workspace: int = response.json()["id"]
    return workspace


def open_form(page: Page, server: Server, workspace: int) -> None:
    """Sign in and open the workspace's form."""
    from playwright.sync_api import expect

    page.goto(f"{server.base}/")
    page.locator("input#token").fill(server.tokens[EDITOR])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(EDITOR)
    page.goto(f"{server.base}/ui/#/w/{workspace}")
    expect(page.locator(f'.field-wrap[data-slot="{TABLE_SLOT}"]')).to_be_attached()


def number_input(page: Page) -> Any:
    return page.locator(f'.field-wrap[data-slot="{NUMBER_SLOT}"] input').first


def test_a_french_browser_types_a_decimal_comma(browser: Browser | None, server: Server) -> None:
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    page = new_context_page(browser, "fr-FR")
    try:
        workspace = new_workspace(server, "GHA")
        open_form(page, server, workspace)
        field = number_input(page)
        field.click()
        page.keyboard.type("412,75")
        expect(field).not_to_have_attribute("aria-invalid", "true")
        expect(page.locator("#save-status")).to_have_text(
            "Toutes les modifications sont enregistrées"
        )
        assert stored_when(server, workspace, NUMBER_SLOT, 412.75)["value"] == 412.75
        # grouping as the locale writes it is read too, and stored numbers are shown that way
        field.fill("1 234 567,5")
        assert stored_when(server, workspace, NUMBER_SLOT, 1234567.5)["value"] == 1234567.5
        page.reload()
        expect(number_input(page)).to_have_value("1\u202f234\u202f567,5")
    finally:
        page.context.close()


def test_an_english_browser_refuses_a_decimal_comma(
    browser: Browser | None, server: Server
) -> None:
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    page = new_context_page(browser, "en-GB")
    try:
        workspace = new_workspace(server, "SEN")
        open_form(page, server, workspace)
        field = number_input(page)
        field.click()
        page.keyboard.type("412,75")
        expect(field).to_have_attribute("aria-invalid", "true")
        message = page.locator(f'.field-wrap[data-slot="{NUMBER_SLOT}"] .q-msg')
        expect(message).to_contain_text("write it like 12,345.5")
        described = field.get_attribute("aria-describedby") or ""
        assert message.get_attribute("id") in described.split()
        expect(field).to_have_value("412,75")  # kept as typed, not reinterpreted
        expect(page.locator("#save-status")).to_have_text("1 answer not saved yet")
        page.wait_for_timeout(2000)  # longer than the autosave pause
        assert NUMBER_SLOT not in answers(server, workspace)
        # the refused text survives a reload, still refused and still not sent
        page.reload()
        expect(number_input(page)).to_have_value("412,75")
        expect(number_input(page)).to_have_attribute("aria-invalid", "true")
        page.wait_for_timeout(1500)
        assert NUMBER_SLOT not in answers(server, workspace)
        # other unreadable texts are refused as well
        for text in ["1.2.3", "12abc"]:
            number_input(page).fill(text)
            expect(number_input(page)).to_have_attribute("aria-invalid", "true")
        number_input(page).fill("412.75")
        expect(number_input(page)).not_to_have_attribute("aria-invalid", "true")
        assert stored_when(server, workspace, NUMBER_SLOT, 412.75)["value"] == 412.75
        # a whole-number column refuses decimals
        legal = page.locator(f'.q:has(> .field-wrap[data-slot="{TABLE_SLOT}"])')
        legal.get_by_role("button", name="Add row").click()
        page.keyboard.type("Wildlife Act")
        legal.get_by_label("Year of adoption or last amendment — row 1").fill("2013.5")
        expect(legal.locator(".q-msg")).to_contain_text("whole number")
        page.wait_for_timeout(1500)
        assert TABLE_SLOT not in answers(server, workspace)
    finally:
        page.context.close()


def test_two_tabs_keep_their_own_drafts(browser: Browser | None, server: Server) -> None:
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    first = new_context_page(browser, "en-GB")
    try:
        workspace = new_workspace(server, "NGA")
        open_form(first, server, workspace)
        second = first.context.new_page()
        open_form(second, server, workspace)
        pattern = re.compile(r"/api/v1/workspaces/\d+/answers$")

        def drop_writes(route: Any) -> None:
            if route.request.method == "PATCH":
                route.abort("internetdisconnected")
            else:
                route.continue_()

        # both tabs have unsaved drafts (their writes do not reach the server)
        first.route(pattern, drop_writes)
        second.route(pattern, drop_writes)
        item(first, TEXT_SLOT).get_by_role("textbox").first.fill("Drafted in the first tab")
        item(second, OFFLINE_SLOT).get_by_role("textbox").first.fill("Drafted in the second tab")
        expect(first.locator("#save-status")).to_contain_text("1 change kept on this device")
        expect(second.locator("#save-status")).to_contain_text("1 change kept on this device")
        # the first tab gets its connection back and saves
        first.unroute(pattern)
        wait_saved(first)  # the next retry goes through
        assert answers(server, workspace)[TEXT_SLOT]["value"] == "Drafted in the first tab"
        # the second tab's draft is still kept on the device, and survives its reload
        drafts = second.evaluate(
            """() => Object.keys(localStorage).filter((k) => k.startsWith('cmsr.drafts.'))
                  .map((k) => JSON.parse(localStorage.getItem(k)))"""
        )
        kept = [d["pending"] for d in drafts if OFFLINE_SLOT in d.get("pending", {})]
        assert kept
        assert kept[0][OFFLINE_SLOT]["value"] == "Drafted in the second tab"
        second.reload()
        box = item(second, OFFLINE_SLOT).get_by_role("textbox").first
        expect(box).to_have_value("Drafted in the second tab")
        assert OFFLINE_SLOT not in answers(server, workspace)
        second.unroute(pattern)
        wait_saved(second)
        assert answers(server, workspace)[OFFLINE_SLOT]["value"] == "Drafted in the second tab"

        # the same answer edited in both tabs: the conflict names "you, in another tab"
        item(first, SHARED_SLOT).get_by_role("group").get_by_label("Yes", exact=True).check()
        item(second, SHARED_SLOT).get_by_role("group").get_by_label("No", exact=True).check()
        conflict = item(second, SHARED_SLOT).locator(".conflict")
        expect(conflict).to_contain_text("You, in another tab, saved a different answer on")
        expect(conflict).not_to_contain_text(EDITOR)
    finally:
        first.context.close()


def test_an_incomplete_table_row_survives_a_reload(browser: Browser | None, server: Server) -> None:
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    page = new_context_page(browser, "en-GB")
    try:
        workspace = new_workspace(server, "UGA")
        open_form(page, server, workspace)
        legal = page.locator(f'.q:has(> .field-wrap[data-slot="{TABLE_SLOT}"])')
        legal.get_by_role("button", name="Add row").click()
        legal.get_by_label("Year of adoption or last amendment — row 1").fill("2013")
        expect(legal.locator(".q-msg")).to_contain_text(
            "row 1: fill in “Title of the legal instrument”"
        )
        expect(page.locator("#save-status")).to_have_text("1 answer not saved yet")
        page.reload()
        legal = page.locator(f'.q:has(> .field-wrap[data-slot="{TABLE_SLOT}"])')
        expect(legal.get_by_label("Year of adoption or last amendment — row 1")).to_have_value(
            "2013"
        )
        expect(legal.locator(".q-msg")).to_contain_text("row 1: fill in")
        assert TABLE_SLOT not in answers(server, workspace)
        legal.get_by_label("Title of the legal instrument — row 1").fill("Wildlife Act")
        wait_saved(page)
        assert without_ids(answers(server, workspace)[TABLE_SLOT]["value"]) == [
            {"instrument": "Wildlife Act", "year": 2013}
        ]
    finally:
        page.context.close()


def test_an_empty_report_is_not_called_ready(browser: Browser | None, server: Server) -> None:
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    page = new_context_page(browser, "en-GB")
    try:
        workspace = new_workspace(server, "TZA")
        with server.api(EDITOR) as api:
            preview = api.get(f"/workspaces/{workspace}/preview/CMS:COP15").json()
        # submittable (nothing required blocks it) and yet holding no value at all
        assert preview["submittable"] is True
        assert preview["values"] == {}
        open_form(page, server, workspace)
        page.goto(f"{server.base}/ui/#/w/{workspace}/preview/CMS%3ACOP15")
        expect(page.locator(".preview .badge.big")).to_have_text("Nothing answered yet")
        expect(page.get_by_text("Ready to submit")).to_have_count(0)
        page.goto(f"{server.base}/ui/#/w/{workspace}/submit")
        expect(page.get_by_text("submitting now would send an empty report").first).to_be_visible()
    finally:
        page.context.close()


def test_a_draft_downloads_as_pdf_and_prints_without_navigation(
    browser: Browser | None, server: Server
) -> None:
    """The preview offers the draft as the PDF the secretariat would file (in the interface
    language); printing the form leaves out the navigation."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    import pypdf
    from playwright.sync_api import expect

    page = new_context_page(browser, "en-GB")
    try:
        workspace = new_workspace(server, "MLI")
        with server.api(EDITOR) as api:
            saved = api.patch(
                f"/workspaces/{workspace}/answers",
                json={"answers": [{"slot": NUMBER_SLOT, "value": 412.75, "base_revision": 0}]},
            )
            assert saved.status_code == 200, saved.text
        open_form(page, server, workspace)
        page.emulate_media(media="print")
        expect(page.locator(".toc")).to_be_hidden()
        expect(page.locator(".topbar")).to_be_hidden()
        expect(page.locator(f'.field-wrap[data-slot="{NUMBER_SLOT}"]')).to_be_visible()
        page.emulate_media(media="screen")
        expect(page.locator(".toc")).to_be_visible()
        page.goto(f"{server.base}/ui/#/w/{workspace}/preview/AEWA%3AMOP9")
        with page.expect_download() as downloaded:
            page.get_by_role(
                "button", name="Download the draft report for AEWA MOP9 as PDF"
            ).click()
        assert downloaded.value.suggested_filename.startswith("MLI_AEWA_MOP9_draft_")
        assert downloaded.value.suggested_filename.endswith(".pdf")
        reader = pypdf.PdfReader(downloaded.value.path())
        text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
        assert "Draft, not submitted" in text
        assert "412.75" in text
    finally:
        page.context.close()


PHONE = (390, 844)
# the page's width beyond the screen's (tables scroll inside their own box and do not count)
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_a_phone_shows_every_page_without_sideways_scrolling(
    browser: Browser | None, server: Server
) -> None:
    """At 390 x 844 the form, its preview, the submission page and the secretariat's views fit the
    screen; the form's sections fold into one line that opens on demand."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    workspace = new_workspace(server, "BFA")
    with server.api(EDITOR) as api:
        submitted = api.post(
            f"/workspaces/{workspace}/submit",
            json={"cycles": ["CMS:COP15"]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert submitted.status_code == 201, submitted.text
        submission = submitted.json()["submissions"][0]["id"]
    expect.set_options(timeout=TIMEOUT_MS)
    width, height = PHONE
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        open_form(page, server, workspace)
        assert page.evaluate(OVERFLOW_JS) == 0
        toc = page.locator("details.toc-box")
        expect(toc.locator("nav.toc")).to_be_hidden()
        toc.locator("summary").click()
        expect(toc.locator("nav.toc")).to_be_visible()
        toc.locator("nav.toc a").nth(2).click()  # going to a section folds the list again
        expect(toc.locator("nav.toc")).to_be_hidden()
        shot(page, "phone-form")
        for path in (
            f"#/w/{workspace}/preview/AEWA%3AMOP9",
            f"#/w/{workspace}/submit",
            f"#/s/{submission}",
            "#/cycles/CMS%3ACOP15",
            "#/?section=cycles",
            "#/coverage",
            "#/coverage/CMS%3ACOP15/AEWA%3AMOP9",
            "#/workbench/CMS%3ACOP15/AEWA%3AMOP9",
            "#/account",
        ):
            page.goto(f"{server.base}/ui/{path}")
            expect(page.locator("main h1, main h2").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            assert page.evaluate(OVERFLOW_JS) == 0, path
    finally:
        context.close()


def test_a_returned_report_shows_why_in_the_form_and_versions_link_up(
    browser: Browser | None, server: Server
) -> None:
    """After a return, the form says so with the secretariat's reason and the questions it
    commented (each comment beside its question); after resubmitting, version 2's page links
    to version 1 and shows the thread of both, each comment with its version."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    workspace = new_workspace(server, "CMR")

    def submit() -> int:
        with server.api(EDITOR) as api:
            made = api.post(
                f"/workspaces/{workspace}/submit",
                json={"cycles": ["CMS:COP15"]},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert made.status_code == 201, made.text
            return int(made.json()["submissions"][0]["id"])

    v1 = submit()
    with server.api("demo-cms-secretariat") as api:
        asked = api.post(
            f"/submissions/{v1}/comments",
            json={"body": "Please name the departments involved.", "question": "I(a).1"},
        )
        assert asked.status_code == 201, asked.text
        returned = api.post(
            f"/submissions/{v1}/return", json={"comment": "Section I is incomplete."}
        )
        assert returned.status_code == 200, returned.text
    page = new_context_page(browser, "en-GB")
    try:
        open_form(page, server, workspace)
        banner = page.locator(".review-banners .alert").first
        expect(banner).to_contain_text(
            re.compile(r"CMS COP15 version 1 was returned to you on \w{3} \d{1,2}, \d{4}\.")
        )
        expect(banner).to_contain_text("Section I is incomplete.")
        banner.get_by_role("link", name="I(a).1").click()
        remark = page.locator(".q-remarks").first
        expect(remark).to_contain_text("Please name the departments involved.")
        expect(remark).to_contain_text("CMS COP15 v1")
        shot(page, "form-returned")

        v2 = submit()
        page.goto(f"{server.base}/ui/#/w/{workspace}")
        page.reload()
        expect(page.locator(".review-banners")).to_contain_text(
            "CMS COP15 version 2 was submitted on"
        )
        page.goto(f"{server.base}/ui/#/w/{workspace}/preview/CMS%3ACOP15")
        remark = page.locator(".report-table .q-remark").first
        expect(remark).to_contain_text("v1: Please name the departments involved.")
        page.goto(f"{server.base}/ui/#/s/{v2}")
        expect(page.locator(".report-table .q-remark").first).to_contain_text(
            "Please name the departments involved."
        )
        versions = page.locator("dd.versions")
        expect(versions).to_contain_text("v2 (this version)")
        thread = page.locator(".thread .comment")
        expect(thread).to_have_count(2)
        expect(thread.first).to_contain_text("v1")
        versions.get_by_role("link").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    finally:
        page.context.close()


def test_the_form_tallies_sections_and_filters_questions(
    browser: Browser | None, server: Server
) -> None:
    """Each section says how much is answered and required; the filters show only the
    required questions not yet answered, or the questions a search finds."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    workspace = new_workspace(server, "ZMB")
    page = new_context_page(browser, "en-GB")
    try:
        open_form(page, server, workspace)
        first = page.locator(".form-section").first
        expect(first.locator(".sec-progress")).to_contain_text(re.compile(r"^0 of \d+ answered"))
        questions = page.locator(".form-main .q:visible")
        everything = questions.count()
        page.get_by_label("Show").select_option("required")
        expect(page.locator(".filter-count")).to_contain_text("questions shown")
        required = questions.count()
        assert 0 < required < everything
        for i in range(required):
            item = questions.nth(i)
            assert item.get_attribute("data-required") == "true"
            assert item.get_attribute("data-answered") == "false"
        page.get_by_label("Show").select_option("all")
        expect(questions).to_have_count(everything)
        page.get_by_label("Search the questions").fill("satellite telemetry")
        expect(page.locator(".filter-count")).to_contain_text("shown")
        found = questions.count()
        assert 0 < found < everything
        for i in range(found):
            assert "satellite" in questions.nth(i).inner_text().lower()
        shot(page, "form-filtered")
    finally:
        page.context.close()


PASTE_JS = """([selector, text]) => {
  const target = document.querySelector(selector);
  const data = new DataTransfer();
  data.setData("text/plain", text);
  target.focus();
  const init = { clipboardData: data, bubbles: true, cancelable: true };
  target.dispatchEvent(new ClipboardEvent("paste", init));
}"""


def test_rows_pasted_from_a_spreadsheet_fill_a_table_cell_by_cell(
    browser: Browser | None, server: Server
) -> None:
    """Tab-separated rows pasted into a table's cell fill the table from that cell, each cell
    read as its column reads typed text (choices by label); a line with a cell that does not
    read changes nothing and says which cell."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    workspace = new_workspace(server, "MWI")
    page = new_context_page(browser, "en-GB")
    try:
        open_form(page, server, workspace)
        legal = page.locator(f'.q:has(> .field-wrap[data-slot="{TABLE_SLOT}"])')
        legal.get_by_role("button", name="Add row").click()
        first_cell = f'.field-wrap[data-slot="{TABLE_SLOT}"] tbody tr:first-child input'
        page.evaluate(
            PASTE_JS,
            [first_cell, "Wildlife Act\t2013\tTaking and hunting; habitat\r\nForest Act\t2005\r\n"],
        )
        expect(legal.locator("tbody tr")).to_have_count(2)
        wait_saved(page)
        assert without_ids(answers(server, workspace)[TABLE_SLOT]["value"]) == [
            {"instrument": "Wildlife Act", "year": 2013, "scope": ["taking", "habitat"]},
            {"instrument": "Forest Act", "year": 2005},
        ]
        page.evaluate(PASTE_JS, [first_cell, "Water Act\tsoon\nFisheries Act\t1999"])
        refused = legal.locator(".paste-msg")
        expect(refused).to_contain_text("Nothing was pasted")
        expect(refused).to_contain_text("line 1, Year of adoption or last amendment")
        expect(legal.locator("tbody tr")).to_have_count(2)
        assert answers(server, workspace)[TABLE_SLOT]["value"][0]["instrument"] == "Wildlife Act"
    finally:
        page.context.close()


def test_a_tab_shows_newer_values_saved_elsewhere(browser: Browser | None, server: Server) -> None:
    """A value saved elsewhere replaces what the tab shows at its next check (every 20 s, and
    when the tab is shown again); when the tab holds an edit of that answer, the conflict box
    asks at once, saying who saved the other value and when."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    workspace = new_workspace(server, "NAM")
    page = new_context_page(browser, "en-GB")
    check_now = "() => document.dispatchEvent(new Event('visibilitychange'))"
    try:
        open_form(page, server, workspace)
        box = item(page, TEXT_SLOT).get_by_role("textbox").first
        expect(box).to_have_value("")
        with server.api(EDITOR) as api:  # the same user, in another program
            saved = api.patch(
                f"/workspaces/{workspace}/answers",
                json={
                    "answers": [{"slot": TEXT_SLOT, "value": "Saved elsewhere", "base_revision": 0}]
                },
            )
            assert saved.status_code == 200, saved.text
        page.evaluate(check_now)
        expect(box).to_have_value("Saved elsewhere")
        expect(page.locator("#save-status")).to_contain_text("saved")

        # an edit here that cannot be sent, and a newer value saved elsewhere: asked at once
        pattern = re.compile(r"/api/v1/workspaces/\d+/answers$")
        page.route(
            pattern,
            lambda route: (
                route.abort("internetdisconnected")
                if route.request.method == "PATCH"
                else route.continue_()
            ),
        )
        box.fill("Typed here")
        with server.api(EDITOR) as api:
            again = api.patch(
                f"/workspaces/{workspace}/answers",
                json={"answers": [{"slot": TEXT_SLOT, "value": "Saved again", "base_revision": 1}]},
            )
            assert again.status_code == 200, again.text
        page.evaluate(check_now)
        conflict = item(page, TEXT_SLOT).locator(".conflict")
        expect(conflict).to_contain_text("Saved again")
        expect(conflict).to_contain_text("Typed here")
        expect(conflict).to_contain_text("You, in another tab, saved a different answer on")
    finally:
        page.context.close()


def test_password_sign_in_serves_every_tab_until_sign_out(
    browser: Browser | None, server: Server
) -> None:
    """A focal point signs in with the password `serve --demo` printed, opens a workspace, finds
    a new tab signed in too, makes and revokes a token on "my account", and signs out: the
    session is over in every tab and for its cookie."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    user = "demo-ken-focal-point"
    with server.api(user) as api:
        made = api.post("/workspaces", json={"party": "KEN", "cycles": ["CBD:NR7"]})
    assert made.status_code == 201, made.text
    workspace = made.json()["id"]
    page = new_context_page(browser, "en-GB")
    try:
        page.goto(f"{server.base}/")
        expect(page.get_by_label("User name or e-mail address")).to_be_focused()
        page.keyboard.type(user)
        page.get_by_label("Password", exact=True).fill("not my password")
        page.keyboard.press("Enter")
        expect(page.locator("#signin-error")).to_contain_text("do not match an active account")
        expect(page.get_by_label("Password", exact=True)).to_be_focused()
        page.keyboard.type(server.passwords[user])
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {user}")
        shot(page, "20-signed-in-with-password")
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["cmsr_session"]["httpOnly"] is True
        assert cookies["cmsr_session"]["sameSite"] == "Lax"
        assert cookies["cmsr_csrf"]["httpOnly"] is False
        assert page.evaluate("() => sessionStorage.getItem('cmsr.token')") is None
        # the session cookie is not readable by the page's scripts
        assert "cmsr_session" not in page.evaluate("() => document.cookie")

        page.locator(f'a[href="#/w/{workspace}"]').first.click()
        expect(page).to_have_url(re.compile(rf"#/w/{workspace}$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Kenya")

        # a new tab of the same browser is signed in, without asking
        second = page.context.new_page()
        second.goto(f"{server.base}/ui/#/w/{workspace}")
        expect(second.get_by_role("heading", level=1)).to_contain_text("Kenya")

        # my account: a token for a script, made and revoked (writes carry the CSRF token)
        page.get_by_role("link", name=re.compile("Ken focal point")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My account")
        expect(page.locator("table").first).to_contain_text("this browser")
        page.get_by_label("What it is for").fill("browser test")
        page.get_by_role("button", name="Create token").click()
        secret = page.locator("#new-token").inner_text()
        assert secret.startswith("cmsr_")
        shot(page, "21-my-account")
        script = httpx.get(
            f"{server.base}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}, timeout=10
        )
        assert script.status_code == 200
        page.get_by_role("button", name="Revoke browser test").click()
        expect(page.locator("main")).to_contain_text("browser test is revoked.")
        script = httpx.get(
            f"{server.base}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}, timeout=10
        )
        assert script.status_code == 401

        page.get_by_role("button", name="Sign out", exact=True).click()
        expect(page).to_have_url(re.compile(r"#/signin$"))
        assert "cmsr_session" not in {c["name"] for c in page.context.cookies()}
        # the ended session no longer works, even for a copy of its cookie
        stale = httpx.get(
            f"{server.base}/api/v1/me",
            headers={"Cookie": f"cmsr_session={cookies['cmsr_session']['value']}"},
            timeout=10,
        )
        assert stale.status_code == 401
        second.reload()
        expect(second).to_have_url(re.compile(r"#/signin$"))
    finally:
        page.context.close()


def test_two_tabs_adding_rows_to_one_table_keep_both(
    browser: Browser | None, server: Server
) -> None:
    """Rows carry stable ids and two edits of one table merge by them: a row added here while
    another was added elsewhere (and the rows reordered there), both kept; a row removed
    elsewhere and untouched here, removed; a row changed on both sides, shown side by side."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    workspace = new_workspace(server, "BWA")
    url = f"/workspaces/{workspace}/answers"
    with server.api(EDITOR) as api:
        base = [{"instrument": "Wildlife Act", "year": 1992}, {"instrument": "Old Act"}]
        saved = api.patch(
            url, json={"answers": [{"slot": TABLE_SLOT, "value": base, "base_revision": 0}]}
        )
        assert saved.status_code == 200, saved.text
    wildlife, old = answers(server, workspace)[TABLE_SLOT]["value"]
    assert wildlife["@id"] != old["@id"]  # the server gave each row its id
    page = new_context_page(browser, "en-GB")
    try:
        open_form(page, server, workspace)
        legal = page.locator(f'.q:has(> .field-wrap[data-slot="{TABLE_SLOT}"])')
        expect(legal.locator("tbody tr")).to_have_count(2)
        pattern = re.compile(r"/api/v1/workspaces/\d+/answers$")
        page.route(
            pattern,
            lambda route: (
                route.abort("internetdisconnected")
                if route.request.method == "PATCH"
                else route.continue_()
            ),
        )
        # here: the first row changed, a row added
        legal.get_by_label("Year of adoption or last amendment — row 1").fill("1993")
        legal.get_by_role("button", name="Add row").click()
        page.keyboard.type("Forest Act")
        # elsewhere, meanwhile: a row added first, the first row (found by its id, now second)
        # changed otherwise, the other row removed
        with server.api(EDITOR) as api:
            elsewhere = [{"instrument": "Water Act"}, wildlife | {"year": 2013}]
            saved = api.patch(
                url,
                json={"answers": [{"slot": TABLE_SLOT, "value": elsewhere, "base_revision": 1}]},
            )
            assert saved.status_code == 200, saved.text
            water = saved.json()["answers"][0]["value"][0]
        conflict = legal.locator(".conflict")
        # the tab looks for newer values when it is shown again (a look while its own save is
        # on the way skips that question and the next look finds it), as at its next poll
        for _ in range(20):
            page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
            try:
                expect(conflict.locator(".row-clashes")).to_be_visible(timeout=1_000)
                break
            except AssertionError:
                continue
        expect(conflict.locator(".row-clashes")).to_contain_text("1 row was changed on both sides")
        expect(conflict.locator(".row-clashes .theirs")).to_contain_text("Wildlife Act")
        expect(conflict.locator(".row-clashes .theirs")).to_contain_text("2013")
        expect(conflict.locator(".row-clashes .mine")).to_contain_text("Wildlife Act")
        expect(conflict.locator(".row-clashes .mine")).to_contain_text("1993")
        # side by side: both versions in one line of a table, the column that differs in bold
        expect(conflict.locator(".row-clashes tr:has(td.theirs):has(td.mine)")).to_have_count(1)
        expect(conflict.locator(".row-clashes .theirs strong")).to_have_text(re.compile("2013"))
        expect(conflict.locator(".row-clashes .mine strong")).to_have_text(re.compile("1993"))
        conflict.scroll_into_view_if_needed()
        shot(page, "15-table-rows-merge-by-id")
        page.unroute(pattern)
        conflict.get_by_role("button", name=re.compile("Keep both tabs' rows")).click()
        wait_saved(page)
        expect(legal.locator("tbody tr")).to_have_count(3)
        merged = answers(server, workspace)[TABLE_SLOT]["value"]
        assert without_ids(merged) == [
            {"instrument": "Water Act"},
            {"instrument": "Wildlife Act", "year": 2013},
            {"instrument": "Forest Act"},
        ]
        # each row kept its id; the row added here has the one this tab gave it
        assert merged[0]["@id"] == water["@id"]
        assert merged[1]["@id"] == wildlife["@id"]
        forest = merged[2]["@id"]
        assert str(uuid.UUID(forest)) == forest
        assert forest not in (water["@id"], wildlife["@id"], old["@id"])
        # a reload shows the same rows, ids kept
        page.reload()
        expect(legal.locator("tbody tr")).to_have_count(3)
        legal.get_by_label("Title of the legal instrument — row 3").fill("Forest Act 2020")
        wait_saved(page)
        again = answers(server, workspace)[TABLE_SLOT]["value"]
        assert [row["@id"] for row in again] == [row["@id"] for row in merged]
        assert again[2]["instrument"] == "Forest Act 2020"
    finally:
        page.context.close()


def test_the_search_finds_questions_by_their_words_in_other_languages(
    browser: Browser | None, server: Server
) -> None:
    """An English form of a bilingual template: words of the French texts find their question
    too (accents ignored)."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    from tests.factories.exports import export_template

    document = export_template("EXPW")
    with server.api(EDITOR) as api:
        cycle = {
            "convention": "CMS",
            "code": "EXPW",
            "title": "Search test",
            "opens_on": "2026-01-01",
            "due_on": "2027-12-31",
        }
        assert api.post("/cycles", json=cycle).status_code == 201
        imported = api.post("/templates", json=document)
        assert imported.status_code == 201, imported.text
        assert api.post(f"/templates/{imported.json()['id']}/publish").status_code == 200
        assert api.put("/parties/LSO/memberships/CMS", json={}).status_code in (200, 201)
        made = api.post("/workspaces", json={"party": "LSO", "cycles": ["CMS:EXPW"]})
        assert made.status_code == 201, made.text
        workspace = made.json()["id"]
    page = new_context_page(browser, "en-GB")
    try:
        page.goto(f"{server.base}/")
        page.locator("input#token").fill(server.tokens[EDITOR])
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text(EDITOR)
        page.goto(f"{server.base}/ui/#/w/{workspace}")
        questions = page.locator(".form-main .q:visible")
        expect(questions.first).to_be_visible()
        page.get_by_label("Search the questions").fill("aires protegees")
        expect(questions).to_have_count(1)
        expect(questions.first).to_contain_text("Number of protected areas")
    finally:
        page.context.close()


def test_use_this_answer_fills_the_question_and_records_its_source(
    browser: Browser | None, server: Server
) -> None:
    """An answer given for one report is offered beside a question of another report that a
    related (non-filling) mapping links to it; "Use this answer" fills the field, the focal
    point edits it, and the saved answer and the preview name where it came from."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    def template(convention: str, qid: str, text: str) -> dict[str, Any]:
        question = {"id": qid, "type": "text", "text": {"en": text}, "max_length": 200}
        return {
            "convention": convention,
            "cycle": "REUSE",
            "version": "1.0.0",
            "languages": ["en"],
            "title": {"en": f"{convention} reuse report"},
            "sections": [{"id": "I", "title": {"en": "Institutions"}, "questions": [question]}],
        }

    with server.api(EDITOR) as api:
        for convention, qid, text in (
            ("CMS", "I.1", "Which authority coordinates the implementation of CMS?"),
            ("AEWA", "A.1", "Which national authority coordinates AEWA implementation?"),
        ):
            cycle = {
                "convention": convention,
                "code": "REUSE",
                "title": f"{convention} reuse cycle",
                "opens_on": "2026-01-01",
                "due_on": "2027-12-31",
            }
            assert api.post("/cycles", json=cycle).status_code == 201
            made = api.post("/templates", json=template(convention, qid, text))
            assert made.status_code == 201, made.text
            assert api.post(f"/templates/{made.json()['id']}/publish").status_code == 200
            member = api.put(f"/parties/UGA/memberships/{convention}", json={"demo": True})
            assert member.status_code in (200, 201), member.text
        concept = {"key": "e2e.coordinating_authority", "type": "text", "text": {"en": "Authority"}}
        assert api.post("/concepts", json=concept).status_code == 201
        mappings = [
            {
                "concept": "e2e.coordinating_authority",
                "question": question,
                "template_version": "1.0.0",
                "relation": "relatedMatch",
                "status": "approved",
            }
            for question in ("CMS:REUSE:I.1", "AEWA:REUSE:A.1")
        ]
        assert api.post("/mappings", json=mappings).status_code == 201
        made = api.post("/workspaces", json={"party": "UGA", "cycles": ["CMS:REUSE", "AEWA:REUSE"]})
        assert made.status_code == 201, made.text
        workspace = made.json()["id"]

    page = new_context_page(browser, "en-GB")
    try:
        page.goto(f"{server.base}/")
        page.locator("input#token").fill(server.tokens[EDITOR])
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text(EDITOR)
        page.goto(f"{server.base}/ui/#/w/{workspace}")
        source = item(page, "AEWA:REUSE:A.1")
        target = item(page, "CMS:REUSE:I.1")
        expect(target.get_by_role("button", name="Use this answer")).to_have_count(0)

        source.get_by_role("textbox").fill("Uganda Wildlife Authority")
        wait_saved(page)
        offer = target.get_by_role("group", name="An answer you already gave")
        expect(offer).to_contain_text("Already answered in AEWA REUSE · A.1 (a related question):")
        expect(offer).to_contain_text("Uganda Wildlife Authority")
        shot(page, "10-form-use-this-answer")

        offer.get_by_role("button", name="Use this answer").click()
        field = target.get_by_role("textbox")
        expect(field).to_have_value("Uganda Wildlife Authority")
        expect(field).to_be_focused()
        page.keyboard.press("End")
        page.keyboard.type(" (Ministry of Tourism)")
        wait_saved(page)
        expect(target.locator(".reused")).to_contain_text(
            "Taken from the answer to AEWA REUSE · A.1"
        )
        # the value taken is not offered again once it is the answer
        expect(target.get_by_role("button", name="Use this answer")).to_have_count(1)

        stored = stored_when(
            server, workspace, "CMS:REUSE:I.1", "Uganda Wildlife Authority (Ministry of Tourism)"
        )
        assert stored["reused_from"]["slot"] == "AEWA:REUSE:A.1"
        assert stored["reused_from"]["relation"] == "relatedMatch"
        assert stored["reused_from"]["edited"] is True

        page.goto(f"{server.base}/ui/#/w/{workspace}/preview/CMS%3AREUSE")
        row = page.locator("tr", has_text="Which authority coordinates")
        expect(row).to_contain_text("Taken from AEWA REUSE · A.1")
        shot(page, "11-preview-reused-answer")
    finally:
        page.context.close()


def test_the_report_once_heatmap_shows_every_pair_and_opens_one(
    browser: Browser | None, server: Server
) -> None:
    """A secretariat sees, for every pair of published templates, how much of one report
    answering the other fills and suggests (as the coverage API computes it), and opens a pair."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    with server.api("demo-cms-secretariat") as api:
        coverage = api.get("/crosswalk/coverage", params={"from": "CBD:NR7", "to": "CMS:COP15"})
        assert coverage.status_code == 200, coverage.text
        totals = coverage.json()["totals"]
        published = api.get("/templates", params={"status": "published", "limit": 500}).json()
    cycles = len({t["cycle"] for t in published["items"]})  # other tests publish some too
    filled = f"{round(totals['share_fillable'] * 100)} %"
    suggested = f"{round(totals['suggestion_only'] / totals['questions'] * 100)} %"
    page = new_context_page(browser, "en-GB")
    try:
        page.goto(f"{server.base}/")
        page.locator("input#token").fill(server.tokens["demo-cms-secretariat"])
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Report once").click()
        heatmap = page.locator("table.heatmap")
        expect(heatmap.locator("tbody tr")).to_have_count(cycles)
        expect(heatmap.locator("td.heat a")).to_have_count(cycles * (cycles - 1))
        cell = page.get_by_role(
            "link",
            name=f"Answering CBD NR7 fills {filled} of CMS COP15, and suggests {suggested} more",
        )
        expect(cell).to_be_visible()
        shot(page, "coverage-heatmap")
        cell.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            "Answering CBD NR7: what it gives CMS COP15"
        )
        expect(page.locator("table.data tbody tr")).to_have_count(totals["questions"])
        expect(page.locator("tr.cov-suggested")).to_have_count(totals["suggestion_only"])
    finally:
        page.context.close()


def test_the_workbench_rejects_and_accepts_suggestions_from_the_keyboard(
    browser: Browser | None, server: Server
) -> None:
    """From a pair of the heatmap, an admin reviews suggested mappings: R rejects the first
    pair (never suggested again), the option grid edits a transform, Accept creates the mapping
    through the mapping rules, J moves on."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    params: dict[str, str | float] = {
        "from": "CMS:COP15",
        "to": "AEWA:MOP9",
        "limit": 200,
        "min_score": 0.3,
    }
    with server.api(EDITOR) as api:
        before = api.get("/crosswalk/suggestions", params=params).json()["items"]
    assert len(before) >= 3
    page = new_context_page(browser, "en-GB")
    try:
        page.goto(f"{server.base}/")
        page.locator("input#token").fill(server.tokens[EDITOR])
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text(EDITOR)
        page.goto(f"{server.base}/ui/#/coverage/CMS%3ACOP15/AEWA%3AMOP9")
        page.get_by_role("link", name="Review suggested mappings for this pair").click()
        cards = page.locator(".wb-card:visible")
        expect(cards).to_have_count(len(before))
        first = before[0]
        cards.first.focus()
        page.keyboard.press("r")
        expect(page.locator(".filter-count, .workbench p.muted[aria-live]").last).to_contain_text(
            f"{len(before) - 1} pairs shown"
        )
        with server.api(EDITOR) as api:
            rejected = api.get("/crosswalk/rejections", params={"limit": 500}).json()["items"]
            pairs = {(r["subject"], r["object"]) for r in rejected}
            assert (first["from_question"], first["to_question"]) in pairs, rejected
            again = api.get("/crosswalk/suggestions", params=params).json()["items"]
            assert (first["from_question"], first["to_question"]) not in {
                (s["from_question"], s["to_question"]) for s in again
            }
        shot(page, "workbench")
        # J moves to the next pair; K back
        cards.first.focus()
        page.keyboard.press("j")
        expect(cards.nth(1)).to_be_focused()
        page.keyboard.press("k")
        expect(cards.first).to_be_focused()
        # a pair with an option map: the grid shows it; an edit that the concept's own
        # transform would change is refused with a reason, the proposal is accepted as it is
        mapped = next(
            s for s in before if (s["transform"] or {}).get("options", {}).get("false") == "no"
        )
        card = page.get_by_role(
            "listitem",
            name=f"Suggested pair {mapped['from_question']} and {mapped['to_question']}",
        )
        grid = card.get_by_label("false maps to")
        proposed = grid.input_value()
        assert proposed != ""  # the proposal maps false to an option
        grid.select_option(label="— no equivalent —")
        with server.api(EDITOR) as api:
            links = api.get(f"/crosswalk/{mapped['from_question']}").json()
        through = [c for c in links["concepts"] if c["status"] == "approved"]
        card.get_by_role("button", name="Accept").click()
        if through and through[0]["transform"]:
            expect(card.locator(".wb-msg")).to_contain_text("linked through the concept")
            grid.select_option(value=proposed)
            card.get_by_role("button", name="Accept").click()
        # decided pairs leave the list of those not yet decided; "All" shows them again
        expect(cards).to_have_count(len(before) - 2)
        page.get_by_label("Show").select_option("all")
        expect(card.locator(".wb-msg")).to_have_text("Accepted: the mapping was created.")
        expect(card).to_have_attribute("data-status", "accepted")
        with server.api(EDITOR) as api:
            made = api.get("/mappings", params={"question": mapped["to_question"]}).json()
        mine = [m for m in made["items"] if m["author"] == f"user:{EDITOR}"]
        assert len(mine) == 1, made
        assert mine[0]["status"] == "approved"
    finally:
        page.context.close()


def mail_to(server: Server, address: str) -> list[str]:
    """The bodies of the e-mail the server wrote to this address (waits up to 15 s for one)."""
    import email

    assert server.mail is not None
    deadline = time.monotonic() + 15
    while True:
        bodies = []
        for path in sorted(server.mail.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if message["To"] == address:
                payload = message.get_payload(decode=True)
                assert isinstance(payload, bytes)
                bodies.append(payload.decode("utf-8"))
        if bodies or time.monotonic() > deadline:
            return bodies
        time.sleep(0.2)


def test_an_invited_focal_point_accepts_then_resets_the_password(
    browser_page: Page | None, server: Server
) -> None:
    page = need(browser_page)
    from playwright.sync_api import expect

    address = "otieno@environment.example"
    with server.api("demo-cms-secretariat") as api:
        made = api.post(
            "/invitations",
            json={"email": address, "role": "focal_point", "convention": "CMS", "party": "KEN"},
        )
    assert made.status_code == 201, made.text
    [body] = mail_to(server, address)
    link = re.search(r"(http://\S+/ui/#/invitation/\S+)", body)
    assert link, body

    page.goto(link.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Accept your invitation")
    page.get_by_label("Your name as others see it (optional)").fill("Otieno")
    page.get_by_label("New password", exact=True).fill("password123")
    page.get_by_label("The same password again").fill("password123")
    page.get_by_role("button", name="Choose this password").click()
    expect(page.locator("#link-error")).to_contain_text("Choose another password")
    good = "heron river delta 1987"
    page.get_by_label("New password", exact=True).fill(good)
    page.get_by_label("The same password again").fill(good)
    page.get_by_role("button", name="Choose this password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is ready")
    shot(page, "invitation-accepted")

    # the link works once
    page.goto(link.group(1))
    page.reload()
    page.get_by_label("New password", exact=True).fill(good + "!")
    page.get_by_label("The same password again").fill(good + "!")
    page.get_by_role("button", name="Choose this password").click()
    expect(page.locator("#link-error")).to_contain_text("already used")

    page.goto(f"{server.base}/ui/#/signin")
    page.get_by_label("User name or e-mail address").fill(address)
    page.get_by_label("Password", exact=True).fill(good)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, otieno")

    # a forgotten password: the same answer for an unknown address, a link for a known one
    page.context.clear_cookies()
    page.goto(f"{server.base}/ui/#/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill("nobody@environment.example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#forgot-sent")).to_be_visible()
    page.get_by_label("E-mail address").fill(address)
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#forgot-sent")).to_be_visible()
    deadline = time.monotonic() + 15
    while not any("/ui/#/reset/" in b for b in mail_to(server, address)):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    reset = next(b for b in mail_to(server, address) if "/ui/#/reset/" in b)
    found = re.search(r"(http://\S+/ui/#/reset/\S+)", reset)
    assert found, reset
    page.goto(found.group(1))
    newer = "egret lagoon mangrove 2026"
    page.get_by_label("New password", exact=True).fill(newer)
    page.get_by_label("The same password again").fill(newer)
    page.get_by_role("button", name="Set this password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is set")
    assert mail_to(server, "nobody@environment.example") == []


def accept_by_mail(server: Server, address: str, password: str) -> None:
    """Choose a password through the invitation the server mailed to an address."""
    [body] = [b for b in mail_to(server, address) if "/ui/#/invitation/" in b]
    found = re.search(r"/ui/#/invitation/(\S+)", body)
    assert found, body
    accepted = httpx.post(
        f"{server.base}/api/v1/invitations/accept",
        json={"token": found.group(1), "new_password": password},
        timeout=10,
    )
    assert accepted.status_code == 200, accepted.text


def sign_in_with_password(page: Page, server: Server, login: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.base}/ui/#/signin")
    page.get_by_label("User name or e-mail address").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_a_focal_point_assigns_two_sections_and_submits_what_a_contributor_filled(
    browser: Browser | None, server: Server
) -> None:
    """Ethiopia's focal point (invited by e-mail) invites a contributor from the workspace,
    assigns two sections; the contributor sees only those, fills them and marks them ready;
    the focal point sees who is in the form and where, sees "ready", and submits."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    focal, contributor = "eth.focal@environment.example", "abebe.kebede@wildlife.example"
    password = "acacia savanna ibis 2031"
    with server.api("demo-admin") as api:
        member = api.put("/parties/ETH/memberships/CMS", json={"demo": True})
        assert member.status_code in (200, 201), member.text
        invited = api.post(
            "/invitations",
            json={"email": focal, "role": "focal_point", "convention": "CMS", "party": "ETH"},
        )
        assert invited.status_code == 201, invited.text
        made = api.post("/workspaces", json={"party": "ETH", "cycles": ["CMS:COP15"]})
        assert made.status_code == 201, made.text
    workspace = made.json()["id"]
    accept_by_mail(server, focal, password)

    fp = new_context_page(browser, "en-GB")
    sign_in_with_password(fp, server, focal, password)
    fp.goto(f"{server.base}/ui/#/w/{workspace}")
    panel = fp.locator("#assignments")
    expect(panel.get_by_role("row")).not_to_have_count(0)
    panel.get_by_label("Invite a contributor (e-mail address)").fill(contributor)
    panel.get_by_role("button", name="Invite", exact=True).click()
    accept_by_mail(server, contributor, password)
    for section in ("CMS:COP15:II", "CMS:COP15:VI"):
        row = panel.locator(f'tr[data-section="{section}"]')
        row.get_by_role("combobox").select_option("abebe.kebede")
        row.get_by_role("button", name="Assign").click()
        expect(row.locator(".asg-status")).to_have_text("Not started")
    expect(fp.locator('section[data-part="CMS:COP15:II"] .sec-status')).to_contain_text(
        "Not started"
    )
    shot(fp, "assign-01-focal-point-assigned")
    # the assignment reached the contributor by e-mail, with a link to the workspace
    deadline = time.monotonic() + 15
    while not any(f"/ui/#/w/{workspace}" in b for b in mail_to(server, contributor)):
        assert time.monotonic() < deadline, mail_to(server, contributor)
        time.sleep(0.2)

    helper = new_context_page(browser, "en-GB")
    sign_in_with_password(helper, server, contributor, password)
    expect(helper.get_by_role("link", name=re.compile("Ethiopia"))).to_be_visible()
    helper.goto(f"{server.base}/ui/#/w/{workspace}")
    sections = helper.locator("section.form-section")
    expect(sections).to_have_count(2)
    expect(helper.get_by_role("link", name="Submit", exact=True)).to_have_count(0)
    text = item(helper, "CMS:COP15:II.2a").locator("textarea, input").first
    text.fill("Hunting of Appendix I species is banned by the Wildlife Proclamation.")
    item(helper, "CMS:COP15:VI.1").get_by_role("group").get_by_label("Yes", exact=True).check()
    wait_saved(helper)
    text.focus()  # the contributor is at II.2a (told within a second): the focal point sees it
    deadline = time.monotonic() + 15
    while True:
        with server.api("demo-admin") as api:
            present = api.get(f"/workspaces/{workspace}/answers").json()["presence"]
        if any(p["slot"] == "CMS:COP15:II.2a" for p in present):
            break
        assert time.monotonic() < deadline, present
        time.sleep(0.2)

    fp.reload()
    here = fp.locator('section[data-part="CMS:COP15:II"] .sec-presence')
    expect(here).to_contain_text("abebe.kebede")
    fp.locator(
        '.field-wrap[data-slot="CMS:COP15:II.2a"] textarea, '
        '.field-wrap[data-slot="CMS:COP15:II.2a"] input'
    ).first.focus()
    expect(fp.locator(".presence-warn")).to_contain_text("abebe.kebede is at this question now")
    shot(fp, "assign-02-presence")

    mine = helper.locator("#assignments")
    for section in ("CMS:COP15:II", "CMS:COP15:VI"):
        row = mine.locator(f'tr[data-section="{section}"]')
        row.get_by_role("button", name="Mark ready for review").click()
        expect(row.locator(".asg-status")).to_have_text("Ready for review")
    # ready for review: read-only for the contributor until the focal point reopens it
    expect(text).to_be_disabled()
    shot(helper, "assign-03-contributor-ready")

    fp.reload()
    for section in ("CMS:COP15:II", "CMS:COP15:VI"):
        expect(panel.locator(f'tr[data-section="{section}"] .asg-status')).to_have_text(
            "Ready for review"
        )
    expect(fp.locator('section[data-part="CMS:COP15:VI"] .sec-status')).to_contain_text(
        "Ready for review"
    )
    row = panel.locator('tr[data-section="CMS:COP15:II"]')
    row.get_by_role("button", name="Mark done").click()
    expect(row.locator(".asg-status")).to_have_text("Done")

    fp.get_by_role("link", name="Submit", exact=True).click()
    fp.get_by_role("checkbox", name=re.compile("CMS COP15")).check()
    fp.get_by_role("button", name="Submit the selected reports").click()
    fp.get_by_role("button", name="Confirm and submit").click()
    expect(fp.locator("main").get_by_text("Submitted: CMS COP15 v1.")).to_be_visible()
    shot(fp, "assign-04-submitted")
    with server.api("demo-admin") as api:
        found = api.get("/submissions", params={"party": "ETH", "cycle": "CMS:COP15"}).json()
        submission = api.get(f"/submissions/{found['items'][0]['id']}").json()
    assert submission["values"]["II.2a"].startswith("Hunting of Appendix I species")
    assert submission["values"]["VI.1"] is True

    # the focal point takes the contributor off the Party: their sections are free again
    fp.get_by_role("link", name="Form", exact=True).click()
    person = fp.locator('#assignments li[data-contributor="abebe.kebede"]')
    person.get_by_role("button", name="Remove abebe.kebede from the Party's contributors").click()
    expect(person).to_have_count(0)
    expect(panel.locator('tr[data-section="CMS:COP15:II"] .asg-status')).to_have_text(
        "Not assigned"
    )
    fp.context.close()
    helper.context.close()


def test_the_cbd_report_reads_in_arabic_right_to_left_and_in_chinese(
    browser: Browser | None, server: Server
) -> None:
    """The CBD NR7 form in the Secretariat's Arabic (the page right to left) and Chinese; the
    interface's own texts stay in English and the page says so."""
    if browser is None:
        pytest.fail(f"CMSREPORTING_REQUIRE_BROWSER=1 but {_why_no_browser()}")
    from playwright.sync_api import expect

    reference = Path(__file__).resolve().parents[3] / "shared" / "reference"
    i18n_path = reference / "cbd_nr7_i18n.json"
    if not i18n_path.exists():
        pytest.skip(f"{i18n_path} is not beside this checkout")
    texts = json.loads(i18n_path.read_text("utf-8"))["languages"]
    with server.api(EDITOR) as api:
        member = api.put("/parties/EGY/memberships/CBD", json={"demo": True})
        assert member.status_code in (200, 201), member.text
        made = api.post("/workspaces", json={"party": "EGY", "cycles": ["CBD:NR7"]})
        assert made.status_code == 201, made.text
        workspace = made.json()["id"]
    slot = "CBD:NR7:sectionII.hasRevisedNbsap"
    page = new_context_page(browser, "en-GB")
    try:
        page.goto(f"{server.base}/")
        page.locator("input#token").fill(server.tokens[EDITOR])
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text(EDITOR)
        page.goto(f"{server.base}/ui/#/w/{workspace}")
        question = page.locator(f'.field-wrap[data-slot="{slot}"]')
        expect(question).to_contain_text(texts["en"]["nr7-edit-section-II"]["revisedNbsap"])
        expect(page.locator("html")).to_have_attribute("dir", "ltr")

        page.locator("#lang-select").select_option("ar")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("html")).to_have_attribute("lang", "ar")
        expect(question).to_contain_text(texts["ar"]["nr7-edit-section-II"]["revisedNbsap"])
        expect(page.locator("#lang-note")).to_be_visible()
        expect(page.locator("#lang-note")).to_contain_text("العربية")
        # the section's guidance from the Secretariat's tool, under its heading
        guidance = texts["ar"]["nr7-edit-section-III"]["sectionIIIDescription"].strip()[:80]
        expect(page.locator(".sec-guidance", has_text=guidance)).to_be_visible()
        # the GBF indicator names are not in the Secretariat's translations: said on the form
        expect(page.locator(".lang-note", has_text="CBD")).to_be_visible()
        # right to left: the question text starts at the right edge of its box
        box = question.bounding_box()
        label = question.locator("label, legend").first.bounding_box()
        assert box is not None
        assert label is not None
        assert label["x"] + label["width"] > box["x"] + box["width"] * 0.9

        page.locator("#lang-select").select_option("zh")
        expect(page.locator("html")).to_have_attribute("dir", "ltr")
        expect(question).to_contain_text(texts["zh"]["nr7-edit-section-II"]["revisedNbsap"])
        shot(page, "cbd-nr7-zh")
    finally:
        page.context.close()
