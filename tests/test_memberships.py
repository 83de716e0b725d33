"""Memberships from a published list: a secretariat imports its convention's Parties from a CSV
or JSON file citing the list's address and the date it was read (all or nothing, with a dry run
that shows what would change); memberships have dates, and the cycle status, reminders and new
workspaces read the members on a cycle's due date. Bad files are refused naming the row, and
store nothing. Through the HTTP API and the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsreporting import bootstrap
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.reporting import reminders
from tests.factories.workspaces import open_workspace
from tests.helpers import Headers, assert_problem, pointers
from tests.test_cli import cli

API = "/api/v1"
URL = "https://www.cms.int/en/parties-range-states"
HEADER = "convention,party,name,entry_into_force,withdrawal,source_name,source_url,source_read_on"
CSV = {"Content-Type": "text/csv"}


def csv_of(
    *rows: tuple[str, str, str], convention: str = "CMS", read_on: str = "2026-11-30"
) -> str:
    """A membership list as CSV: (party, entry into force, withdrawal) per row."""
    lines = [HEADER]
    for party, since, withdrawal in rows:
        lines.append(f"{convention},{party},,{since},{withdrawal},CMS Parties,{URL},{read_on}")
    return "\n".join(lines) + "\n"


FIRST = csv_of(
    ("KEN", "1999-05-01", ""),
    ("TZA", "1999-11-01", ""),
    ("EU", "1983-11-01", ""),
    ("GHA", "1988-12-01", ""),
    ("NOR", "1985-10-01", "2020-01-01"),
)
SECOND = csv_of(
    ("KEN", "1999-05-01", ""),
    ("EU", "1983-11-01", ""),
    ("GHA", "1988-12-01", "2026-06-01"),
    ("NOR", "1985-10-01", "2020-01-01"),
    ("SEN", "1988-04-01", ""),
    read_on="2026-12-02",
)


async def put_list(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    body: str,
    *,
    dry_run: bool = False,
    convention: str = "CMS",
) -> httpx.Response:
    return await client.put(
        f"{API}/conventions/{convention}/memberships",
        params={"dry_run": str(dry_run).lower()},
        content=body.encode(),
        headers=headers | CSV,
    )


async def overview(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get(f"{API}/conventions/CMS/memberships", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_of_imports(client: httpx.AsyncClient, auth: Headers) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/audit", params={"target_type": "convention"}, headers=auth["admin"]
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [e for e in items if e["action"] == "membership.import"]


async def test_a_secretariat_imports_its_membership_and_later_only_the_changes(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    sec = auth["cms_sec"]
    # a dry run says what would change and stores nothing
    dry = await put_list(client, sec, FIRST, dry_run=True)
    assert dry.status_code == 200, dry.text
    preview = dry.json()
    assert preview["dry_run"] is True
    assert preview["totals"] == {
        "added": 5,
        "withdrawn": 0,
        "changed": 0,
        "removed": 0,
        "unchanged": 0,
        "rows": 5,
    }
    assert [a["party"] for a in preview["added"]] == ["KEN", "TZA", "EU", "GHA", "NOR"]
    assert preview["sources"] == [
        {"url": URL, "name": "CMS Parties", "read_on": "2026-11-30", "rows": 5}
    ]
    assert (await overview(client))["total"] == 0
    assert await audit_of_imports(client, auth) == []

    applied = await put_list(client, sec, FIRST)
    assert applied.status_code == 200, applied.text
    assert applied.json()["dry_run"] is False
    assert applied.json()["totals"]["added"] == 5

    now = await overview(client)
    assert (now["members"], now["withdrawn"], now["total"]) == (4, 1, 5)
    assert now["sources"] == [
        {
            "url": URL,
            "name": "CMS Parties",
            "read_on": "2026-11-30",
            "demo": False,
            "memberships": 5,
        }
    ]
    by_party = {m["party"]: m for m in now["items"]}
    assert by_party["NOR"]["member"] is False
    assert by_party["NOR"]["withdrawn_on"] == "2020-01-01"
    assert by_party["EU"]["member"] is True
    assert by_party["KEN"]["since"] == "1999-05-01"
    assert by_party["KEN"]["source_read_on"] == "2026-11-30"
    # on a day before Kenya's entry into force it was not a member
    then = await overview(client, on="1999-01-01")
    assert {m["party"] for m in then["items"] if m["member"]} == {"EU", "GHA", "NOR"}
    members = (await client.get(f"{API}/parties", params={"convention": "CMS"})).json()
    assert [p["iso3"] for p in members["items"]] == ["EU", "GHA", "KEN", "TZA"]

    # the cycle status lists every member on the due date, "not started" without a workspace
    status = (await client.get(f"{API}/cycles/CMS:COP15/status", headers=sec)).json()
    assert [(r["party"], r["status"]) for r in status["parties"]] == [
        ("EU", "not_started"),
        ("GHA", "not_started"),
        ("KEN", "not_started"),
        ("TZA", "not_started"),
    ]
    assert status["totals"]["members"] == 4

    # a later list: Ghana withdrew, Senegal joined, Tanzania is not on it
    later = await put_list(client, sec, SECOND, dry_run=True)
    assert later.status_code == 200, later.text
    changes = later.json()
    assert [a["party"] for a in changes["added"]] == ["SEN"]
    assert [w["party"] for w in changes["withdrawn"]] == ["GHA"]
    assert changes["withdrawn"][0]["before"]["withdrawn_on"] is None
    assert changes["withdrawn"][0]["after"]["withdrawn_on"] == "2026-06-01"
    assert [r["party"] for r in changes["removed"]] == ["TZA"]
    assert changes["changed"] == []
    assert sorted(changes["unchanged"]) == ["EU", "KEN", "NOR"]
    assert (await overview(client))["members"] == 4  # nothing stored yet

    done = await put_list(client, sec, SECOND)
    assert done.json()["totals"] == changes["totals"]
    after = await overview(client)
    assert (after["members"], after["withdrawn"], after["total"]) == (3, 2, 5)
    assert after["sources"][0]["read_on"] == "2026-12-02"  # unchanged rows cite the newer list
    status = (await client.get(f"{API}/cycles/CMS:COP15/status", headers=sec)).json()
    assert [r["party"] for r in status["parties"]] == ["EU", "KEN", "SEN"]

    # the same list again changes nothing
    again = await put_list(client, sec, SECOND, dry_run=True)
    totals = again.json()["totals"]
    assert (totals["unchanged"], totals["added"], totals["withdrawn"], totals["removed"]) == (
        5,
        0,
        0,
        0,
    )

    imports = await audit_of_imports(client, auth)
    assert len(imports) == 2
    latest = imports[0]
    assert latest["actor"] == "user:cms_sec"
    assert latest["target_id"] == "CMS"
    assert latest["after"]["added"] == ["SEN"]
    assert latest["after"]["withdrawn"] == ["GHA"]
    assert latest["after"]["removed"] == ["TZA"]
    assert latest["after"]["sources"][0]["url"] == URL
    assert latest["before"]["records"]["GHA"]["withdrawn_on"] is None
    assert latest["after"]["records"]["GHA"]["withdrawn_on"] == "2026-06-01"
    assert latest["before"]["records"]["TZA"]["since"] == "1999-11-01"
    assert latest["after"]["records"]["SEN"]["source_read_on"] == "2026-12-02"


async def test_demo_memberships_stay_out_of_an_imported_list(
    client: httpx.AsyncClient, auth: Headers, db_url: str
) -> None:
    """`serve --demo` adds Kenya's demo memberships only to conventions without a list."""
    await put_list(client, auth["cms_sec"], csv_of(("GHA", "1988-12-01", "")))
    engine = create_engine(db_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await bootstrap.create_demo_users(session)
    finally:
        await engine.dispose()
    kenya = (await client.get(f"{API}/parties/KEN")).json()["memberships"]
    assert {(m["convention"], m["demo"]) for m in kenya} == {("CBD", True), ("AEWA", True)}
    assert [m["party"] for m in (await overview(client))["items"]] == ["GHA"]


async def test_json_lists_and_who_may_import(client: httpx.AsyncClient, auth: Headers) -> None:
    document = {
        "convention": "CMS",
        "source": {"name": "CMS Parties", "url": URL, "read_on": "2026-11-30"},
        "memberships": [
            {"party": "ken", "entry_into_force": "1999-05-01"},
            {"party": "EU", "name": "European Union", "entry_into_force": "1983-11-01"},
        ],
    }
    url = f"{API}/conventions/CMS/memberships"
    assert_problem(await client.put(url, json=document), 401)
    assert_problem(await client.put(url, json=document, headers=auth["cbd_sec"]), 403)
    assert_problem(await client.put(url, json=document, headers=auth["ken_fp"]), 403)
    assert_problem(
        await client.put(
            url, content=b"KEN", headers=auth["admin"] | {"Content-Type": "text/plain"}
        ),
        415,
    )
    assert_problem(
        await client.put(
            f"{API}/conventions/NOPE/memberships", json=document, headers=auth["admin"]
        ),
        404,
    )
    assert_problem(await client.get(f"{API}/conventions/NOPE/memberships"), 404)
    assert_problem(await client.get(f"{API}/conventions/CMS/memberships?on=soon"), 422)
    made = await client.put(url, json=document, headers=auth["admin"])
    assert made.status_code == 200, made.text
    assert [a["party"] for a in made.json()["added"]] == ["KEN", "EU"]
    assert (await overview(client))["members"] == 2
    # a workspace of a member; a Party that is no member is refused
    await open_workspace(client, auth["admin"], "EU", "CMS:COP15")
    refused = await client.post(
        f"{API}/workspaces", json={"party": "TZA", "cycles": ["CMS:COP15"]}, headers=auth["admin"]
    )
    assert pointers(assert_problem(refused, 422)) == ["/cycles/0"]


def _json_list(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "convention": "CMS",
        "source": {"url": URL, "read_on": "2026-11-30"},
        "memberships": [{"party": "KEN", "entry_into_force": "1999-05-01"}],
    }
    return document | changes


BAD_CSV = {
    "unknown Party": (
        csv_of(("KEN", "1999-05-01", ""), ("XYZ", "2001-01-01", "")),
        "/memberships/1/party",
        "row 2 (line 3)",
    ),
    "not a code": (csv_of(("Kenya", "1999-05-01", "")), "/memberships/0/party", "row 1"),
    "duplicate rows": (
        csv_of(("KEN", "1999-05-01", ""), ("GHA", "1988-12-01", ""), ("ken", "1999-05-01", "")),
        "/memberships/2/party",
        "listed twice (first in row 1",
    ),
    "withdrawal before entry into force": (
        csv_of(("KEN", "1999-05-01", "1998-01-01")),
        "/memberships/0/withdrawal",
        "must take effect after",
    ),
    "another convention's file": (
        csv_of(("KEN", "1999-05-01", ""), convention="CBD"),
        "/memberships/0/convention",
        "this list is for CBD, not CMS",
    ),
    "no source": (
        f"{HEADER}\nCMS,KEN,,1999-05-01,,,,2026-11-30\n",
        "/memberships/0/source_url",
        "no source",
    ),
    "no date read": (
        f"{HEADER}\nCMS,KEN,,1999-05-01,,,{URL},\n",
        "/memberships/0/source_read_on",
        "date the source was read",
    ),
    "read in the future": (
        csv_of(("KEN", "1999-05-01", ""), read_on="2999-01-01"),
        "/memberships/0/source_read_on",
        "after today",
    ),
    "a bad date": (csv_of(("KEN", "1999-02-30", "")), "/memberships/0/entry_into_force", "date"),
    "no source column": (
        "convention,party,entry_into_force\nCMS,KEN,1999-05-01\n",
        "/columns",
        "source_url",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
async def test_bad_csv_lists_name_the_row_and_store_nothing(
    client: httpx.AsyncClient, auth: Headers, case: str
) -> None:
    await put_list(client, auth["admin"], csv_of(("GHA", "1988-12-01", "")))
    body, pointer, detail = BAD_CSV[case]
    for dry_run in (True, False):
        refused = await put_list(client, auth["cms_sec"], body, dry_run=dry_run)
        problem = assert_problem(refused, 422)
        assert pointer in pointers(problem), problem
        assert any(detail in e["detail"] for e in problem["errors"]), problem
    now = await overview(client)
    assert [m["party"] for m in now["items"]] == ["GHA"]
    assert len(await audit_of_imports(client, auth)) == 1


BAD_JSON = {
    "no source": (_json_list(source=None), "/source"),
    "source without an address": (
        _json_list(source={"name": "x", "read_on": "2026-11-30"}),
        "/source/url",
    ),
    "not an http address": (
        _json_list(source={"url": "ftp://x.example/list", "read_on": "2026-11-30"}),
        "/source/url",
    ),
    "another convention": (_json_list(convention="AEWA"), "/convention"),
    "no rows": (_json_list(memberships=[]), "/memberships"),
    "unknown field": (
        _json_list(memberships=[{"party": "KEN", "entry_into_force": "1999-05-01", "x": 1}]),
        "/memberships/0/x",
    ),
    "no entry into force": (
        _json_list(memberships=[{"party": "KEN"}]),
        "/memberships/0/entry_into_force",
    ),
}


@pytest.mark.parametrize("case", list(BAD_JSON))
async def test_bad_json_lists_are_refused(
    client: httpx.AsyncClient, auth: Headers, case: str
) -> None:
    document, pointer = BAD_JSON[case]
    refused = await client.put(
        f"{API}/conventions/CMS/memberships", json=document, headers=auth["cms_sec"]
    )
    assert pointer in pointers(assert_problem(refused, 422))
    assert (await overview(client))["total"] == 0


async def test_admins_set_withdrawal_dates(client: httpx.AsyncClient, auth: Headers) -> None:
    url = f"{API}/parties/KEN/memberships/CMS"
    bad = await client.put(
        url, json={"since": "2000-01-01", "withdrawn_on": "2000-01-01"}, headers=auth["admin"]
    )
    assert_problem(bad, 422)
    made = await client.put(
        url,
        json={
            "since": "2000-01-01",
            "withdrawn_on": "2010-01-01",
            "source": URL,
            "source_read_on": "2026-11-30",
        },
        headers=auth["admin"],
    )
    assert made.status_code == 201, made.text
    assert made.json()["withdrawn_on"] == "2010-01-01"
    kenya = (await client.get(f"{API}/parties/KEN")).json()
    assert kenya["memberships"][0]["source_read_on"] == "2026-11-30"
    assert (await client.get(f"{API}/parties", params={"convention": "CMS"})).json()["items"] == []
    past = await client.get(f"{API}/parties", params={"convention": "CMS", "on": "2005-01-01"})
    assert [p["iso3"] for p in past.json()["items"]] == ["KEN"]


async def test_a_party_that_withdrew_keeps_its_submissions_and_is_not_reminded(
    client: httpx.AsyncClient,
    auth: Headers,
    db_url: str,
) -> None:
    due_on = date.fromisoformat((await client.get(f"{API}/cycles/CMS:COP15")).json()["due_on"])
    await put_list(
        client,
        auth["admin"],
        csv_of(("KEN", "1999-05-01", ""), ("TZA", "1999-11-01", ""), ("GHA", "1988-12-01", "")),
    )
    for name, email in {"ken_fp": "fp@ken.example", "tza_fp": "fp@tza.example"}.items():
        response = await client.patch(
            f"{API}/users/{name}", json={"email": email}, headers=auth["admin"]
        )
        assert response.status_code == 200, response.text
    wid = await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15")
    submitted = await client.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=auth["ken_fp"] | {"Idempotency-Key": "withdrawn"},
    )
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()["submissions"][0]["id"]

    # Kenya and Tanzania withdraw before the due date
    before_due = (due_on - timedelta(days=10)).isoformat()
    await put_list(
        client,
        auth["admin"],
        csv_of(
            ("KEN", "1999-05-01", before_due),
            ("TZA", "1999-11-01", before_due),
            ("GHA", "1988-12-01", ""),
        ),
    )
    kept = await client.get(f"{API}/submissions/{submission}", headers=auth["cms_sec"])
    assert kept.status_code == 200, kept.text
    status = (await client.get(f"{API}/cycles/CMS:COP15/status", headers=auth["cms_sec"])).json()
    rows = {r["party"]: r for r in status["parties"]}
    assert set(rows) == {"GHA", "KEN"}  # Ghana owes the report; Kenya's submission stays
    assert (rows["KEN"]["member"], rows["KEN"]["status"]) == (False, "submitted")
    assert (rows["GHA"]["member"], rows["GHA"]["status"]) == (True, "not_started")

    engine = create_engine(db_url)
    try:
        async with create_session_factory(engine)() as session:
            due = await reminders.due_today(
                session, today=due_on - timedelta(days=30), schedule=[30]
            )
    finally:
        await engine.dispose()
    assert [r.party for r in due] == []  # Tanzania withdrew; Ghana has no focal point


async def test_the_command_line_loads_a_membership_list(
    db_url: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "memberships.csv"
    path.write_text(FIRST, "utf-8")
    dry = await asyncio.to_thread(cli, db_url, "load", "--dry-run", str(path))
    assert dry.returncode == 0, dry.stderr
    assert "CMS memberships: 5 added, 0 withdrawn, 0 changed, 0 removed, 0 unchanged" in dry.stdout
    assert "added: KEN, TZA, EU, GHA, NOR" in dry.stdout
    assert "nothing was stored" in dry.stdout
    assert (await overview(client))["total"] == 0

    loaded = await asyncio.to_thread(cli, db_url, "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert (await overview(client))["members"] == 4

    path.write_text(SECOND, "utf-8")
    later = await asyncio.to_thread(cli, db_url, "load", "--dry-run", str(path))
    assert "1 added, 1 withdrawn, 0 changed, 1 removed, 3 unchanged" in later.stdout
    assert "removed: TZA" in later.stdout

    # JSON lists load the same way
    listing = tmp_path / "aewa.json"
    listing.write_text(
        json.dumps(
            {
                "convention": "AEWA",
                "source": {"url": "https://www.unep-aewa.org/en/parties", "read_on": "2026-11-30"},
                "memberships": [{"party": "KEN", "entry_into_force": "2001-01-01"}],
            }
        ),
        "utf-8",
    )
    aewa = await asyncio.to_thread(cli, db_url, "load", str(listing))
    assert aewa.returncode == 0, aewa.stderr
    assert "AEWA memberships: 1 added" in aewa.stdout
    kenya = (await client.get(f"{API}/parties/KEN")).json()["memberships"]
    assert [(m["convention"], m["since"]) for m in kenya if m["convention"] == "AEWA"] == [
        ("AEWA", "2001-01-01")
    ]

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_of(("KEN", "1999-05-01", ""), ("XYZ", "2000-01-01", "")), "utf-8")
    refused = await asyncio.to_thread(cli, db_url, "load", str(path), str(bad))
    assert refused.returncode == 1
    assert "/memberships/1/party: row 2 (line 3): no Party 'XYZ'" in refused.stderr
    assert (await overview(client))["members"] == 4  # neither file was applied
