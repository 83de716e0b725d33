"""A real SMTP server in the tests' process (aiosmtpd) and what it received; delivery of the
outbox to it."""

from __future__ import annotations

import email
import email.header
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory
from cmsreporting.mail import outbox


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [message for rcpt, message in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 (in its own thread); its inbox and port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def mail_settings(port: int, **extra: Any) -> Settings:
    """Settings that deliver to the test server on this port (plain SMTP)."""
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout_seconds=5,
        mail_from="reports@cms.example.org",
        **extra,
    )


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def subject_of(message: Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def link_in(message: Message, page: str) -> str:
    """The secret of the link to this page of the web interface that a message carries."""
    found = re.search(rf"/ui/#/{page}/(\S+)", body_of(message))
    assert found, body_of(message)
    return found.group(1)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
async def factory(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test's database (for delivering the outbox, as the command does)."""
    engine = create_engine(db_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def deliver(factory: async_sessionmaker[AsyncSession], port: int) -> outbox.Delivery:
    """Send what is due to the test server."""
    return await outbox.send_pending(factory, mail_settings(port))
