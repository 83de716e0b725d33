"""Documents of a Party's library and their versions (each version one stored file)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from cmsreporting.db import JSONDoc, UTCDateTime, utcnow

DOCUMENT_TYPES = ("law", "policy_plan", "report", "data", "map", "other")


class Document(SQLModel, table=True):
    """A document of a Party's library: its metadata and its current version.

    `status` is `active` or `withdrawn` (a withdrawn document is kept, with its versions, and
    no longer listed). `links` holds the concepts, targets and questions it bears on.
    """

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'withdrawn')", name="known_status"),
        CheckConstraint(
            "type IN ('law', 'policy_plan', 'report', 'data', 'map', 'other')", name="known_type"
        ),
        Index("ix_documents_party_iso3_id", "party_iso3", "id"),
    )

    id: int = Field(default=None, primary_key=True)
    party_iso3: str = Field(foreign_key="parties.iso3", ondelete="RESTRICT", sa_type=String(3))
    title: str = Field(sa_type=String(500))
    description: str = Field(default="", sa_type=String(5000))
    language: str = Field(sa_type=String(3))
    document_date: date | None = None
    type: str = Field(sa_type=String(12))
    links: dict[str, Any] = Field(sa_type=JSONDoc)
    status: str = Field(default="active", sa_type=String(10))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(sa_type=String(100))


class DocumentVersion(SQLModel, table=True):
    """One version of a document: its file, by SHA-256 (the name of its blob in storage)."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: int = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", ondelete="CASCADE")
    version: int
    sha256: str = Field(sa_type=String(64), index=True)
    size: int = Field(sa_type=BigInteger)
    media_type: str = Field(sa_type=String(200))
    file_name: str = Field(sa_type=String(255))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(100))


class DocumentUpload(SQLModel, table=True):
    """A resumable (tus) upload in progress: its bytes so far are in a partial file named by
    `id` (an unguessable token) in the upload folder; `offset` of `length` have arrived.

    `meta` holds the checked metadata of the document it will make, `replaces` the document it
    will give a new version (else it makes a new document); `document_id` is set once it is
    complete (the partial file is gone then). Only `created_by` may use it; it is removed with
    its file by the sweep once `expires_at` has passed.
    """

    __tablename__ = "document_uploads"
    __table_args__ = (CheckConstraint("upload_offset <= upload_length", name="offset_in_length"),)

    id: str = Field(primary_key=True, sa_type=String(64))
    party_iso3: str = Field(foreign_key="parties.iso3", ondelete="CASCADE", sa_type=String(3))
    created_by: str = Field(sa_type=String(100))
    meta: dict[str, Any] = Field(sa_type=JSONDoc)
    replaces: int | None = Field(default=None, foreign_key="documents.id", ondelete="CASCADE")
    upload_length: int = Field(sa_type=BigInteger)
    upload_offset: int = Field(default=0, sa_type=BigInteger)
    document_id: int | None = Field(default=None, foreign_key="documents.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
