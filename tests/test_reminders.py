"""Deadline reminders: on the days of the schedule before a cycle's due date, only the focal
points of member Parties that have not submitted are reminded, once each however often (and
from however many processes) `cmsreporting notify` runs; `--dry-run` shows them and queues
nothing. Delivered to a real SMTP server in the tests' process."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cmsreporting.reporting import reminders
from tests.factories.mail import Inbox, body_of, deliver, factory, smtp, subject_of
from tests.factories.workspaces import open_workspace, set_members
from tests.helpers import Headers
from tests.test_cli import cli

API = "/api/v1"
SCHEDULE = [60, 30, 7, 1]


async def setup(client: httpx.AsyncClient, auth: Headers) -> date:
    """Kenya and Tanzania members of CMS, their focal points with addresses; Kenya submits
    COP15. The cycle's due date."""
    await set_members(client, auth, "KEN", "CMS")
    await set_members(client, auth, "TZA", "CMS")
    for name, fields in {
        "ken_fp": {"email": "fp@ken.example"},
        "tza_fp": {"email": "fp@tza.example", "language": "fr"},
    }.items():
        response = await client.patch(f"{API}/users/{name}", json=fields, headers=auth["admin"])
        assert response.status_code == 200, response.text
    wid = await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15")
    submitted = await client.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=auth["ken_fp"] | {"Idempotency-Key": "reminders"},
    )
    assert submitted.status_code == 201, submitted.text
    cycle = await client.get(f"{API}/cycles/CMS:COP15")
    return date.fromisoformat(cycle.json()["due_on"])


async def test_only_parties_that_have_not_submitted_are_reminded_once(
    client: httpx.AsyncClient,
    auth: Headers,
    db_url: str,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, port = smtp
    due_on = await setup(client, auth)
    day = (due_on - timedelta(days=30)).isoformat()

    dry = await asyncio.to_thread(cli, db_url, "notify", "--dry-run", "--date", day)
    assert dry.returncode == 0, dry.stderr
    assert "CMS:COP15" in dry.stdout
    assert "fp@tza.example" in dry.stdout
    assert "fp@ken.example" not in dry.stdout
    assert "1 reminder(s) would be queued; nothing was queued" in dry.stdout
    assert (await deliver(factory, port)).sent == []

    # not a day of the schedule: nothing
    other = await asyncio.to_thread(
        cli, db_url, "notify", "--date", (due_on - timedelta(days=29)).isoformat()
    )
    assert "0 reminder(s) queued" in other.stdout

    first = await asyncio.to_thread(cli, db_url, "notify", "--date", day)
    assert first.returncode == 0, first.stderr
    assert "1 reminder(s) queued (0 queued before)" in first.stdout
    again = await asyncio.to_thread(cli, db_url, "notify", "--date", day)
    assert "0 reminder(s) queued (1 queued before)" in again.stdout

    # `cmsreporting mail send-pending` sends them
    for name, value in {"HOST": "127.0.0.1", "PORT": str(port), "SECURITY": "none"}.items():
        monkeypatch.setenv(f"CMSREPORTING_SMTP_{name}", value)
    sent = await asyncio.to_thread(cli, db_url, "mail", "send-pending")
    assert sent.returncode == 0, sent.stderr
    assert "sent 1, to retry 0, failed 0" in sent.stdout
    assert [rcpt for rcpt, _ in inbox.received] == [["fp@tza.example"]]
    message = inbox.to("fp@tza.example")[0]
    assert subject_of(message) == "Rapport CMS de Tanzania attendu dans 30 jour(s) (COP15)"
    assert due_on.isoformat() in body_of(message)

    # the day after the due date: a past-due notice, still only to Tanzania; none on the day
    async with factory() as session, session.begin():
        on_the_day = await reminders.due_today(session, today=due_on, schedule=SCHEDULE)
        assert on_the_day == []
        late = await reminders.due_today(
            session, today=due_on + timedelta(days=1), schedule=SCHEDULE
        )
        assert [(r.party, r.kind, r.days) for r in late] == [("TZA", "deadline.past_due", -1)]
        assert await reminders.queue(session, late) == 1
    await deliver(factory, port)
    notice = inbox.to("fp@tza.example")[-1]
    assert subject_of(notice) == "Rapport CMS de Tanzania en retard (COP15)"

    bad = await asyncio.to_thread(cli, db_url, "notify", "--date", "soon")
    assert bad.returncode == 2
    assert "--date" in bad.stderr


async def test_a_returned_report_is_reminded_and_concurrent_runs_queue_once(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    due_on = await setup(client, auth)
    listed = await client.get(f"{API}/submissions", headers=auth["cms_sec"])
    [ken] = [s for s in listed.json()["items"] if s["party"] == "KEN"]
    returned = await client.post(
        f"{API}/submissions/{ken['id']}/return",
        json={"comment": "Incomplete"},
        headers=auth["cms_sec"],
    )
    assert returned.status_code == 200, returned.text
    await deliver(factory, port)  # the return's own message
    inbox.received.clear()

    today = due_on - timedelta(days=7)

    async def run() -> int:
        async with factory() as session, session.begin():
            due = await reminders.due_today(session, today=today, schedule=SCHEDULE)
            assert sorted(r.party for r in due) == ["KEN", "TZA"]
            return await reminders.queue(session, due)

    counts = await asyncio.gather(run(), run(), run())
    assert sum(counts) == 2
    await deliver(factory, port)
    assert sorted(r[0] for r, _ in inbox.received) == ["fp@ken.example", "fp@tza.example"]
    ken_body = body_of(inbox.to("fp@ken.example")[0])
    assert "due on " + due_on.isoformat() in ken_body
    assert "/ui/#/w/" in ken_body  # Kenya's workspace


__all__ = ["factory", "smtp"]  # fixtures


async def test_a_secretariat_sets_its_cycles_schedule_and_sees_what_was_sent(
    client: httpx.AsyncClient,
    auth: Headers,
    db_url: str,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    due_on = await setup(client, auth)
    url = f"{API}/cycles/CMS:COP15/reminders"

    default = await client.get(url, headers=auth["cms_sec"])
    assert default.status_code == 200, default.text
    assert default.json() | {} == {
        "cycle": "CMS:COP15",
        "due_on": due_on.isoformat(),
        "days": sorted(SCHEDULE, reverse=True),
        "default": True,
        "past_due_notice": True,
    }
    # only admins and the convention's own secretariat read or change it
    for who in ("cbd_sec", "ken_fp"):
        denied = await client.get(url, headers=auth[who])
        assert denied.status_code == 403, (who, denied.text)
        changed = await client.put(url, json={"days": [3]}, headers=auth[who])
        assert changed.status_code == 403, (who, changed.text)

    # bad schedules name the day at fault and change nothing
    for days, pointer in (
        ([7, 0], "/days/1"),
        ([400], "/days/0"),
        ([7, 7], "/days"),
        (["soon"], "/days/0"),
        (list(range(1, 14)), "/days"),
    ):
        bad = await client.put(url, json={"days": days}, headers=auth["cms_sec"])
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"] == "application/problem+json"
        assert pointer in [e["pointer"] for e in bad.json()["errors"]], bad.json()
    assert (await client.get(url, headers=auth["cms_sec"])).json()["default"] is True

    mine = await client.put(url, json={"days": [5, 45]}, headers=auth["cms_sec"])
    assert mine.status_code == 200, mine.text
    assert mine.json()["days"] == [45, 5]
    assert mine.json()["default"] is False
    cycle = await client.get(f"{API}/cycles/CMS:COP15")
    assert cycle.json()["reminder_days"] == [45, 5]
    audit = await client.get(
        f"{API}/audit",
        params={"target_type": "cycle", "target_id": "CMS:COP15"},
        headers=auth["admin"],
    )
    assert audit.status_code == 200, audit.text
    [event] = [e for e in audit.json()["items"] if e["action"] == "cycle.reminders"]
    assert event["after"] == {"reminder_days": [45, 5]}

    # 30 days before is no longer a day of this cycle's schedule; 45 days before is
    quiet = await asyncio.to_thread(
        cli, db_url, "notify", "--date", (due_on - timedelta(days=30)).isoformat()
    )
    assert "0 reminder(s) queued" in quiet.stdout, quiet.stdout
    loud = await asyncio.to_thread(
        cli, db_url, "notify", "--date", (due_on - timedelta(days=45)).isoformat()
    )
    assert "1 reminder(s) queued" in loud.stdout, loud.stdout
    await deliver(factory, port)
    assert [rcpt for rcpt, _ in inbox.received] == [["fp@tza.example"]]

    sent = await client.get(f"{url}/sent", headers=auth["cms_sec"])
    assert sent.status_code == 200, sent.text
    [row] = sent.json()["items"]
    assert (row["recipient"], row["days"], row["kind"], row["status"]) == (
        "fp@tza.example",
        45,
        "deadline.reminder",
        "sent",
    )
    assert "body" not in row
    assert (await client.get(f"{url}/sent", headers=auth["cbd_sec"])).status_code == 403

    # null: back to the default
    reset = await client.put(url, json={"days": None}, headers=auth["cms_sec"])
    assert reset.json()["default"] is True
    assert reset.json()["days"] == sorted(SCHEDULE, reverse=True)
