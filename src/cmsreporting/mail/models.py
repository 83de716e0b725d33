"""The outbox: e-mail written in the transaction of the change that causes it, sent later."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlmodel import Field, SQLModel

from cmsreporting.db import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """One e-mail to one recipient, rendered in their language when it was queued.

    `key` names the event and the recipient (e.g. `submission.returned:12:user:7`): a second
    message with the same key is not queued, so each is sent once however often its cause is
    retried. A sender claims a message by setting `claimed_until` (a lease: a sender that stops
    mid-way leaves it to the next one once the lease ends).
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="known_status"),
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )

    id: int = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(200), unique=True)
    kind: str = Field(sa_type=String(60))
    recipient: str = Field(sa_type=String(254))
    language: str = Field(sa_type=String(8))
    subject: str = Field(sa_type=String(300))
    body: str = Field(sa_type=Text)
    status: str = Field(default="pending", sa_type=String(10))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=String(500))
