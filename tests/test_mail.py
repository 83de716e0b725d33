"""E-mail through the outbox: queued in the transaction of the decision that causes it, sent by
SMTP to a real server running in the tests' process (aiosmtpd), in the recipient's language,
once; retried with backoff while the server is down; shared safely by concurrent senders.
"""

from __future__ import annotations

import asyncio
import email
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cmsreporting.auth import service as auth_service
from cmsreporting.config import Settings
from cmsreporting.db import utcnow
from cmsreporting.mail import outbox
from cmsreporting.mail.models import OutboxMessage
from tests.factories.mail import (
    Inbox,
    body_of,
    factory,
    free_port,
    mail_settings,
    smtp,
    subject_of,
)
from tests.factories.workspaces import open_workspace, set_members
from tests.helpers import Headers

SUBMISSIONS = "/api/v1/submissions"


async def set_user(client: httpx.AsyncClient, auth: Headers, name: str, **fields: Any) -> None:
    response = await client.patch(f"/api/v1/users/{name}", json=fields, headers=auth["admin"])
    assert response.status_code == 200, response.text


async def add_focal_point(
    factory: async_sessionmaker[AsyncSession], name: str, convention: str, party: str, email: str
) -> None:
    async with factory() as session, session.begin():
        user = await auth_service.create_user(session, actor="test", name=name)
        user.email = email
        await auth_service.grant_role(
            session, actor="test", user=user, role="focal_point", convention=convention, party=party
        )


async def a_submission(client: httpx.AsyncClient, auth: Headers) -> int:
    """A CMS submission of Kenya (submitted by ken_fp)."""
    await set_members(client, auth, "KEN", "CMS")
    wid = await open_workspace(client, auth["ken_fp"], "KEN", "CMS:COP15")
    response = await client.post(
        f"/api/v1/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=auth["ken_fp"] | {"Idempotency-Key": "mail-test"},
    )
    assert response.status_code == 201, response.text
    sid: int = response.json()["submissions"][0]["id"]
    return sid


async def decide(
    client: httpx.AsyncClient, auth: Headers, sid: int, decision: str, comment: str | None = None
) -> None:
    body = {} if comment is None else {"comment": comment}
    response = await client.post(
        f"{SUBMISSIONS}/{sid}/{decision}", json=body, headers=auth["cms_sec"]
    )
    assert response.status_code == 200, response.text


async def outbox_rows(factory: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with factory() as session:
        rows = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))  # type: ignore[arg-type]
        return list(rows.scalars().all())


async def test_a_returned_report_mails_the_partys_focal_points_in_their_language(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    await set_user(client, auth, "ken_fp", email="fp@ken.example", language="fr")
    await set_user(client, auth, "tza_fp", email="fp@tza.example")
    await add_focal_point(factory, "ken_cbd", "CBD", "KEN", "cbd@ken.example")
    sid = await a_submission(client, auth)

    await decide(client, auth, sid, "return", "Section 3 manque les données de 2024.")
    assert inbox.received == []  # queued only: nothing is sent inside the request

    done = await outbox.send_pending(factory, mail_settings(port))
    assert (len(done.sent), done.retrying, done.failed) == (1, [], [])
    assert [rcpt for rcpt, _ in inbox.received] == [["fp@ken.example"]]
    message = inbox.to("fp@ken.example")[0]
    assert message["From"] == "reports@cms.example.org"
    assert subject_of(message) == "Rapport CMS de Kenya renvoyé (COP15)"
    body = body_of(message)
    assert "Section 3 manque les données de 2024." in body
    assert "version 1" in body
    assert "/#/w/" in body

    # what was sent to whom: the outbox, for admins, without the bodies
    listed = await client.get("/api/v1/mail", params={"status": "sent"}, headers=auth["admin"])
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["items"]
    assert (row["recipient"], row["kind"], row["language"], row["attempts"]) == (
        "fp@ken.example",
        "submission.returned",
        "fr",
        1,
    )
    assert row["sent_at"] is not None
    assert "body" not in row
    pending = await client.get("/api/v1/mail", params={"status": "pending"}, headers=auth["admin"])
    assert pending.json()["items"] == []
    refused = await client.get("/api/v1/mail", headers=auth["cms_sec"])
    assert refused.status_code == 403
    bad = await client.get("/api/v1/mail", params={"status": "lost"}, headers=auth["admin"])
    assert bad.status_code == 422

    # sent once: a second run finds nothing due
    again = await outbox.send_pending(factory, mail_settings(port))
    assert again.sent == []
    assert len(inbox.received) == 1

    events = await client.get("/api/v1/audit", params={"limit": "200"}, headers=auth["admin"])
    actions = [e["action"] for e in events.json()["items"] if e["target_type"] == "mail"]
    assert sorted(actions) == ["mail.queue", "mail.sent"]


async def test_an_accepted_report_mails_in_english_by_default_with_the_note(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    await set_user(client, auth, "ken_fp", email="fp@ken.example", display_name="Wanjiru")
    await add_focal_point(factory, "ken_es", "CMS", "KEN", "es@ken.example")
    async with factory() as session, session.begin():
        user = await auth_service.get_user(session, name="ken_es")
        user.language = "es"
    sid = await a_submission(client, auth)
    await decide(client, auth, sid, "accept", "Thank you.")

    await outbox.send_pending(factory, mail_settings(port))
    english = inbox.to("fp@ken.example")
    spanish = inbox.to("es@ken.example")
    assert (len(english), len(spanish)) == (1, 1)
    assert english[0]["Subject"] == "CMS report of Kenya accepted (COP15)"
    assert body_of(english[0]).startswith("Hello Wanjiru,")
    assert "Thank you." in body_of(english[0])
    assert "aceptó la versión 1" in body_of(spanish[0])
    assert english[0]["Message-ID"] != spanish[0]["Message-ID"]


async def test_smtp_down_keeps_mail_in_the_outbox_and_the_decision_stands(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    await set_user(client, auth, "ken_fp", email="fp@ken.example")
    sid = await a_submission(client, auth)
    await decide(client, auth, sid, "return", "Incomplete")
    status = await client.get(f"{SUBMISSIONS}/{sid}", headers=auth["cms_sec"])
    assert status.json()["status"] == "returned"

    down = mail_settings(free_port(), mail_retry_seconds=60, mail_max_attempts=3)
    first = await outbox.send_pending(factory, down)
    assert (first.sent, len(first.retrying)) == ([], 1)
    [row] = await outbox_rows(factory)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert row.last_error
    wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)

    # not due yet: nothing is tried
    assert (await outbox.send_pending(factory, down)).retrying == []
    # the second failure waits twice as long
    second = await outbox.send_pending(factory, down, now=row.next_attempt_at)
    assert len(second.retrying) == 1
    [row2] = await outbox_rows(factory)
    assert row2.attempts == 2
    assert row2.next_attempt_at - row.next_attempt_at == timedelta(seconds=120)

    # the server is back: the message goes, once
    up = mail_settings(port, mail_max_attempts=3)
    later = row2.next_attempt_at
    assert len((await outbox.send_pending(factory, up, now=later)).sent) == 1
    assert len((await outbox.send_pending(factory, up, now=later)).sent) == 0
    assert len(inbox.to("fp@ken.example")) == 1
    [row3] = await outbox_rows(factory)
    assert (row3.status, row3.attempts, row3.last_error) == ("sent", 3, None)


async def test_a_message_fails_after_its_last_attempt(
    client: httpx.AsyncClient, auth: Headers, factory: async_sessionmaker[AsyncSession]
) -> None:
    await set_user(client, auth, "ken_fp", email="fp@ken.example")
    sid = await a_submission(client, auth)
    await decide(client, auth, sid, "accept")
    down = mail_settings(free_port(), mail_max_attempts=2)
    now = utcnow()
    assert len((await outbox.send_pending(factory, down, now=now)).retrying) == 1
    later = now + timedelta(days=1)
    assert len((await outbox.send_pending(factory, down, now=later)).failed) == 1
    assert (await outbox.send_pending(factory, down, now=later + timedelta(days=1))).failed == []
    [row] = await outbox_rows(factory)
    assert (row.status, row.attempts) == ("failed", 2)


async def test_mail_of_a_rolled_back_change_is_never_sent_and_keys_queue_once(
    factory: async_sessionmaker[AsyncSession], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    fields = {
        "name": "A",
        "inviter": "B",
        "party": "Kenya",
        "convention": "CMS",
        "role": "focal point",
    }
    fields |= {"expires": "2027-01-01", "link": "http://x/"}

    async def queue(session: AsyncSession, key: str) -> bool:
        return await outbox.enqueue(
            session,
            actor="test",
            key=key,
            kind="invitation",
            recipient="a@b.example",
            language="xx",
            fields=fields,
        )

    async with factory() as session:
        assert await queue(session, "rolled-back")
        await session.rollback()
    async with factory() as session, session.begin():
        assert await queue(session, "kept")
        assert not await queue(session, "kept")
    async with factory() as session, session.begin():
        assert not await queue(session, "kept")

    rows = await outbox_rows(factory)
    assert [(r.key, r.language) for r in rows] == [("kept", "en")]
    await outbox.send_pending(factory, mail_settings(port))
    assert len(inbox.received) == 1


async def test_concurrent_senders_send_each_message_once(
    factory: async_sessionmaker[AsyncSession], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    fields = {"name": "A", "expires": "2027-01-01", "link": "http://x/"}
    async with factory() as session, session.begin():
        for i in range(30):
            await outbox.enqueue(
                session,
                actor="test",
                key=f"reset:{i}",
                kind="password.reset",
                recipient=f"user{i}@example.org",
                language="en",
                fields=fields,
            )
    settings = mail_settings(port)
    runs = await asyncio.gather(
        *(outbox.send_pending(factory, settings, batch=4) for _ in range(3))
    )
    sent = sorted(i for run in runs for i in run.sent)
    assert len(sent) == 30 == len(set(sent))
    assert sorted(r[0][0] for r in inbox.received) == sorted(
        f"user{i}@example.org" for i in range(30)
    )
    async with factory() as session:
        pending = await session.scalar(
            select(func.count()).where(OutboxMessage.status != "sent")  # type: ignore[arg-type]
        )
    assert pending == 0


async def test_the_folder_backend_writes_each_message_as_a_file(
    factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with factory() as session, session.begin():
        await outbox.enqueue(
            session,
            actor="test",
            key="reset:1",
            kind="password.reset",
            recipient="u@example.org",
            language="es",
            fields={"name": "Ana", "expires": "2027-01-01", "link": "http://x/r"},
        )
    folder = tmp_path / "mail"
    settings = Settings(mail_backend="folder", mail_folder=str(folder))
    assert len((await outbox.send_pending(factory, settings)).sent) == 1
    [file] = list(folder.glob("*.eml"))
    message = email.message_from_bytes(file.read_bytes())
    assert message["To"] == "u@example.org"
    assert "Hola Ana:" in body_of(message)
    assert list(folder.glob(".*")) == []


__all__ = ["factory", "smtp"]  # fixtures
