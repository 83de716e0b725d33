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
from dataclasses import dataclass
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
    """The running service and the demo users' tokens."""

    base: str
    tokens: dict[str, str]

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
    env = os.environ | {"CMSREPORTING_DATABASE_URL": url, "COLUMNS": "200"}
    env.pop("CMSREPORTING_TEST_DATABASE_URL", None)
    log = folder / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "cmsreporting.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
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
        tokens = dict(re.findall(r"(demo-[a-z-]+)\s*│\s*(cmsr_[A-Za-z0-9_-]+)", log.read_text()))
        assert "demo-ken-focal-point" in tokens, log.read_text()
        yield Server(base=base, tokens=tokens)
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
    expect(page.get_by_label("Access token")).to_be_focused()
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
    assert answers(server, workspace)["AEWA:MOP9:B.5"]["value"] == [
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
    expect(item(page, "AEWA:MOP9:A.2").get_by_label("Partiellement")).to_be_checked()
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
        assert answers(server, workspace)[TABLE_SLOT]["value"] == [
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
