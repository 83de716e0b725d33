"""Queue e-mail in the caller's transaction, and deliver what is due.

`enqueue` only inserts a row in the current transaction: a change that is rolled back sends
nothing, and a committed one keeps its message until it is sent. `send_pending` claims due
messages (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the work;
SQLite serializes writers), sets a lease on them, sends each outside any transaction, then marks
it sent, or schedules a retry with exponential backoff, or marks it failed after the last
attempt. A sender that stops between sending and marking leaves the message to be sent again
once its lease ends (with the same Message-ID, so a receiving server may drop the copy).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.config import Settings
from cmsreporting.db import orm_attr, utcnow
from cmsreporting.mail.messages import language_of, render
from cmsreporting.mail.models import OutboxMessage
from cmsreporting.pagination import Page, paginate

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
LEASE = timedelta(minutes=5)
ACTOR = "system:mail"


async def enqueue(
    session: AsyncSession,
    *,
    actor: str,
    key: str,
    kind: str,
    recipient: str,
    language: str | None,
    fields: dict[str, Any],
) -> bool:
    """Queue one message in the current transaction, rendered in the recipient's language;
    False when a message with this key was queued already (it is not queued twice)."""
    lang = language_of(language)
    subject, body = render(kind, lang, fields)
    now = utcnow()
    values = {
        "key": key,
        "kind": kind,
        "recipient": recipient,
        "language": lang,
        "subject": subject,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(OutboxMessage)
        .values(values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(OutboxMessage.id))
    )
    made = (await session.execute(statement)).scalar_one_or_none()
    if made is None:
        return False
    await record(
        session,
        actor=actor,
        action="mail.queue",
        target_type="mail",
        target_id=str(made),
        after={"key": key, "kind": kind, "recipient": recipient, "language": lang},
    )
    return True


async def list_messages(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    kind: str | None = None,
    recipient: str | None = None,
    key_prefix: str | None = None,
) -> Page[OutboxMessage]:
    """Messages of the outbox, newest first."""
    stmt = select(OutboxMessage)
    if key_prefix:
        stmt = stmt.where(col(OutboxMessage.key).startswith(key_prefix, autoescape=True))
    if status:
        stmt = stmt.where(col(OutboxMessage.status) == status)
    if kind:
        stmt = stmt.where(col(OutboxMessage.kind) == kind)
    if recipient:
        stmt = stmt.where(col(OutboxMessage.recipient) == recipient.strip().lower())
    return await paginate(
        session, stmt, orm_attr(OutboxMessage.id), limit=limit, cursor=cursor, descending=True
    )


class Backend(Protocol):
    """Where messages go."""

    async def send(self, message: EmailMessage) -> None: ...


class SmtpBackend:
    """An SMTP server, through aiosmtplib (STARTTLS, TLS or plain, with optional login)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=s.smtp_timeout_seconds,
        )


class FolderBackend:
    """Writes each message to a .eml file in a folder (for development and demonstrations)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(self.folder / name)

    async def send(self, message: EmailMessage) -> None:
        name = f"{message['X-Outbox-Id']:0>8}-{message['X-Outbox-Key-Digest']}.eml"
        await asyncio.to_thread(self._write, name, message.as_bytes())


def backend_for(settings: Settings) -> Backend:
    """The backend the settings choose."""
    if settings.mail_backend == "folder":
        return FolderBackend(settings.mail_folder)
    return SmtpBackend(settings)


@dataclass
class Delivery:
    """What one delivery run did, by message id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    attempts: int


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: doubled each time, at most 6 hours."""
    wait = timedelta(seconds=settings.mail_retry_seconds * 2 ** min(attempts - 1, 20))
    return min(wait, MAX_BACKOFF)


def build(settings: Settings, claimed: _Claimed) -> EmailMessage:
    """The message as sent: plain UTF-8 text, its Message-ID derived from its key."""
    digest = hashlib.sha256(claimed.key.encode()).hexdigest()[:32]
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = claimed.recipient
    message["Subject"] = claimed.subject
    message["Date"] = format_datetime(claimed.created_at)
    message["Message-ID"] = f"<{digest}@{domain}>"
    message["X-Outbox-Id"] = str(claimed.id)
    message["X-Outbox-Key-Digest"] = digest
    message.set_content(claimed.body)
    return message


async def _claim(
    factory: async_sessionmaker[AsyncSession], *, now: datetime, limit: int
) -> list[_Claimed]:
    async with factory() as session, session.begin():
        free = or_(
            col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) <= now
        )
        rows = (
            (
                await session.execute(
                    select(OutboxMessage)
                    .where(
                        col(OutboxMessage.status) == "pending",
                        col(OutboxMessage.next_attempt_at) <= now,
                        free,
                    )
                    .order_by(col(OutboxMessage.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        claimed = []
        for row in rows:
            row.claimed_until = now + LEASE
            row.attempts += 1
            claimed.append(
                _Claimed(
                    id=row.id,
                    key=row.key,
                    recipient=row.recipient,
                    subject=row.subject,
                    body=row.body,
                    created_at=row.created_at,
                    attempts=row.attempts,
                )
            )
        return claimed


async def _settle(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    claimed: _Claimed,
    *,
    error: str | None,
    now: datetime,
    done: Delivery,
) -> None:
    async with factory() as session, session.begin():
        values: dict[str, Any] = {"claimed_until": None, "last_error": error}
        if error is None:
            values |= {"status": "sent", "sent_at": now}
            action, bucket = "mail.sent", done.sent
        elif claimed.attempts >= settings.mail_max_attempts:
            values |= {"status": "failed"}
            action, bucket = "mail.failed", done.failed
        else:
            values |= {"next_attempt_at": now + backoff(settings, claimed.attempts)}
            action, bucket = "mail.retry", done.retrying
        await session.execute(
            update(OutboxMessage).where(col(OutboxMessage.id) == claimed.id).values(values)
        )
        after: dict[str, Any] = {"attempts": claimed.attempts, "error": error}
        if "next_attempt_at" in values:
            after["next_attempt_at"] = values["next_attempt_at"].isoformat()
        await record(
            session,
            actor=ACTOR,
            action=action,
            target_type="mail",
            target_id=str(claimed.id),
            after=after,
        )
        bucket.append(claimed.id)


async def send_pending(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    backend: Backend | None = None,
    now: datetime | None = None,
    batch: int = 50,
) -> Delivery:
    """Send every message that is due (in batches), retrying failures later."""
    backend = backend or backend_for(settings)
    done = Delivery()
    seen: set[int] = set()
    while True:
        moment = now or utcnow()
        claimed = [c for c in await _claim(factory, now=moment, limit=batch) if c.id not in seen]
        if not claimed:
            return done
        for message in claimed:
            seen.add(message.id)
            error: str | None = None
            try:
                await backend.send(build(settings, message))
            except Exception as exc:  # refused, unreachable, or a message it cannot take
                error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("mail %s to %s not sent: %s", message.id, message.recipient, error)
            await _settle(factory, settings, message, error=error, now=now or utcnow(), done=done)


async def deliver_forever(
    factory: async_sessionmaker[AsyncSession], settings: Settings, interval: float
) -> None:
    """Send what is due every `interval` seconds until cancelled (a server process's loop)."""
    backend = backend_for(settings)
    while True:
        try:
            await send_pending(factory, settings, backend=backend)
        except Exception:  # a database hiccup must not end the loop
            log.exception("mail delivery failed; trying again in %s s", interval)
        await asyncio.sleep(interval)
