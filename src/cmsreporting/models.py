"""Every table, imported in one place for Alembic and the app, and the metadata they share."""

from cmsreporting.audit.models import AuditEvent
from cmsreporting.auth.models import AccountLink, ApiToken, RoleGrant, User
from cmsreporting.crosswalk.models import Concept, ConceptTag, Mapping, NegativeMapping
from cmsreporting.db import metadata
from cmsreporting.documents.models import Document, DocumentUpload, DocumentVersion
from cmsreporting.jobs.models import ExportJob
from cmsreporting.mail.models import OutboxMessage
from cmsreporting.registry.models import Convention, Cycle, Membership, Party
from cmsreporting.reporting.models import (
    Answer,
    Comment,
    IdempotencyRecord,
    Submission,
    Workspace,
    WorkspaceCycle,
)
from cmsreporting.templates.models import Template

__all__ = [
    "AccountLink",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "Comment",
    "Concept",
    "ConceptTag",
    "Convention",
    "Cycle",
    "Document",
    "DocumentUpload",
    "DocumentVersion",
    "ExportJob",
    "IdempotencyRecord",
    "Mapping",
    "Membership",
    "NegativeMapping",
    "OutboxMessage",
    "Party",
    "RoleGrant",
    "Submission",
    "Template",
    "User",
    "Workspace",
    "WorkspaceCycle",
    "metadata",
]
