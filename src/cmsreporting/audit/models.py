"""Append-only record of every write."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlmodel import Field, SQLModel

from cmsreporting.db import UNSET, JSONDoc, UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """Who did what to which target, when, with the state before and after."""

    __tablename__ = "audit_events"

    id: int = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(sa_type=String(100))
    action: str = Field(sa_type=String(60))
    target_type: str = Field(sa_type=String(40))
    target_id: str = Field(sa_type=String(200))
    before: Any = Field(default=UNSET, sa_type=JSONDoc, nullable=True)
    after: Any = Field(default=UNSET, sa_type=JSONDoc, nullable=True)
