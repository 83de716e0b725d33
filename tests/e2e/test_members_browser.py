"""The membership page in headless Chromium: the CMS secretariat imports its list of Parties
from a CSV file after a preview of the changes, finds every member in the cycle status table
("not started" where there is no workspace), and a later list shows and applies only what
changed. Its own `serve --demo` server (this module replaces the demo's CMS membership, which
the other browser tests rely on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.e2e import test_browser as e2e

if TYPE_CHECKING:
    from playwright.sync_api import Page

# the fixtures of the other browser tests; module-scoped, so this module has its own server
server = e2e.server
browser = e2e.browser
browser_page = e2e.browser_page

URL = "https://www.cms.int/en/parties-range-states"
HEADER = "convention,party,name,entry_into_force,withdrawal,source_name,source_url,source_read_on"


def csv_of(*rows: tuple[str, str, str], read_on: str) -> bytes:
    lines = [HEADER]
    for party, since, withdrawal in rows:
        lines.append(f"CMS,{party},,{since},{withdrawal},CMS Parties,{URL},{read_on}")
    return ("\n".join(lines) + "\n").encode()


FIRST = csv_of(
    ("KEN", "1999-05-01", ""),
    ("ETH", "2010-01-01", ""),
    ("RWA", "2005-06-01", ""),
    ("MOZ", "2009-08-01", ""),
    ("EU", "1983-11-01", ""),
    ("NOR", "1985-10-01", "2020-01-01"),
    read_on="2026-11-30",
)
SECOND = csv_of(
    ("KEN", "1999-05-01", ""),
    ("ETH", "2010-01-01", ""),
    ("RWA", "2005-06-01", "2026-06-01"),
    ("MOZ", "2009-08-01", ""),
    ("EU", "1983-11-01", ""),
    ("NOR", "1985-10-01", "2020-01-01"),
    ("AGO", "2006-12-01", ""),
    read_on="2026-12-02",
)


def choose(page: Page, name: str, content: bytes) -> None:
    page.get_by_label("List of Parties (CSV or JSON)").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Preview the changes").click()


def totals(page: Page) -> dict[str, str]:
    preview = page.locator("#members-preview")
    return {
        kind: preview.locator(f'li[data-kind="{kind}"] .total-n').inner_text()
        for kind in ("added", "withdrawn", "changed", "removed", "unchanged")
    }


def test_a_secretariat_imports_its_members_and_follows_them_all(
    browser_page: Page | None, server: e2e.Server
) -> None:
    page = e2e.need(browser_page)
    from playwright.sync_api import expect

    e2e.sign_in(page, server, "demo-cms-secretariat")
    page.get_by_role("link", name="Members CMS").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of CMS")
    # the demo's one membership, marked as demo data
    expect(page.locator("#members-count .total-n")).to_have_text("1")
    expect(page.locator(".sources")).to_contain_text("demo data")

    # a preview of the list: nothing is stored until it is applied
    choose(page, "cms-parties.csv", FIRST)
    expect(page.locator("#members-preview")).to_contain_text("What this list changes")
    assert totals(page) == {
        "added": "5",
        "withdrawn": "0",
        "changed": "1",  # Kenya's demo membership becomes the list's
        "removed": "0",
        "unchanged": "0",
    }
    expect(page.locator(".change-list.kind-added li")).to_have_count(5)
    e2e.shot(page, "members-01-preview")
    with server.api("demo-admin") as api:
        assert api.get("/conventions/CMS/memberships").json()["total"] == 1
    page.get_by_role("button", name="Apply 6 changes").click()
    expect(page.locator("#members-count .total-n")).to_have_text("5")
    expect(page.locator(".sources")).to_contain_text("CMS Parties")
    expect(page.locator(".sources")).not_to_contain_text("demo data")
    expect(page.locator(".members-table tbody tr")).to_have_count(6)
    expect(page.locator('.members-table tr[data-party="NOR"]')).to_contain_text("No")
    e2e.shot(page, "members-02-applied")

    # the cycle status lists every member Party, "Not started" without a workspace
    page.goto(f"{server.base}/ui/#/cycles/CMS:COP15")
    rows = page.locator(".status-table tbody tr")
    expect(rows).to_have_count(5)
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.party)") == [
        "ETH",
        "EU",
        "KEN",
        "MOZ",
        "RWA",
    ]
    for row in rows.all():
        expect(row).to_contain_text("Not started")
    expect(page.get_by_text("5 Parties were members on the due date")).to_be_visible()
    e2e.shot(page, "members-03-status")

    # a later list: only what changed is shown, and applied
    page.get_by_role("link", name="Membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of CMS")
    choose(page, "cms-parties-2.csv", SECOND)
    expect(page.locator("#members-preview")).to_contain_text("What this list changes")
    assert totals(page) == {
        "added": "1",
        "withdrawn": "1",
        "changed": "0",
        "removed": "0",
        "unchanged": "5",
    }
    expect(page.locator(".change-list.kind-added")).to_contain_text("AGO")
    expect(page.locator(".change-list.kind-withdrawn")).to_contain_text("RWA")
    page.get_by_role("button", name="Apply 2 changes").click()
    expect(page.locator(".members-table tbody tr")).to_have_count(7)
    expect(page.locator('.members-table tr[data-party="AGO"]')).to_be_visible()
    # the same list again: nothing to change
    choose(page, "cms-parties-2.csv", SECOND)
    expect(page.locator("#members-nochange")).to_be_visible()
    expect(page.get_by_role("button", name="Apply", exact=False)).to_have_count(0)
