"""API models of export jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cmsreporting.reporting.schemas import SubmissionStatus

ExportStatus = Literal["queued", "running", "done", "failed", "expired"]


class ExportJobIn(BaseModel):
    """What to export: the options of `GET /cycles/{ref}/export`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"format": "xlsx"}, {"format": "csv", "layout": "wide"}]},
    )

    format: Literal["csv", "xlsx", "jsonl"] = "xlsx"
    layout: Literal["long", "wide", "documents"] = Field(
        default="long",
        description="CSV: long, wide, or documents (a row per cited document and question: "
        "party, question, document, version, title, type, file_name, size, sha256, link)",
    )
    status: SubmissionStatus | None = Field(
        default=None, description="Only the Parties whose latest report has this status"
    )
    values: Literal["codes", "labels"] = Field(
        default="codes", description="Wide layouts: option codes or labels"
    )
    lang: str | None = Field(default=None, max_length=35, description="Label language")
    guard: bool = Field(default=True, description="CSV: guard text cells against formula injection")


class ProgressOut(BaseModel):
    """How many of the cycle's Parties are in the file so far."""

    done: int
    total: int


class DownloadOut(BaseModel):
    """Where to fetch the file (with the same credentials), until when."""

    href: str
    filename: str | None
    size: int | None = Field(description="Bytes")
    expires_at: datetime


class ExportJobOut(BaseModel):
    """A cycle export running in the background."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "cycle": "CMS:COP15",
                    "format": "xlsx",
                    "options": {"format": "xlsx", "layout": "long", "values": "codes"},
                    "status": "done",
                    "progress": {"done": 131, "total": 131},
                    "runs": 1,
                    "error": None,
                    "created_at": "2026-12-03T15:00:00Z",
                    "started_at": "2026-12-03T15:00:01Z",
                    "finished_at": "2026-12-03T15:00:05Z",
                    "download": {
                        "href": "/api/v1/exports/7/download",
                        "filename": "CMS_COP15_20261203.xlsx",
                        "size": 48213,
                        "expires_at": "2026-12-04T15:00:05Z",
                    },
                }
            ]
        }
    )

    id: int
    cycle: str
    format: str
    options: dict[str, object]
    status: ExportStatus
    progress: ProgressOut
    runs: int = Field(description="Runs so far (a run interrupted by a stopped worker is redone)")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    download: DownloadOut | None = Field(description="Present once done, until it expires")
