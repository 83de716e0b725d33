"""API forms of documents."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class DocumentVersionOut(BaseModel):
    """One version of a document: its file."""

    version: int
    sha256: str = Field(description="SHA-256 of the file (hex)")
    size: int = Field(description="Bytes")
    media_type: str
    file_name: str
    created_at: datetime
    created_by: str
    download: str = Field(description="Path of its download")


class DocumentLinks(BaseModel):
    """What a document bears on."""

    concepts: list[str] = Field(default_factory=list, description="Concept keys")
    targets: list[str] = Field(default_factory=list, description="Targets, e.g. GBF:T3")
    questions: list[str] = Field(default_factory=list, description="Qualified question ids")


class DocumentOut(BaseModel):
    """A document of a Party's library, with its current version."""

    id: int
    party: str
    title: str
    description: str
    language: str
    document_date: date | None
    type: str
    links: DocumentLinks
    status: str = Field(description="active or withdrawn")
    version: int = Field(description="The current version")
    current: DocumentVersionOut
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class DocumentDetailOut(DocumentOut):
    """A document with every version, oldest first."""

    versions: list[DocumentVersionOut]


class UploadOut(BaseModel):
    """A resumable upload: where it stands, and the document it made once complete."""

    id: str
    offset: int = Field(description="Bytes received")
    length: int = Field(description="Bytes announced (Upload-Length)")
    party: str
    document: int | None = Field(description="The document made (or given a new version)")
