"""Every table, imported in one place for Alembic and the app."""

from cmsreporting.audit.models import AuditEvent
from cmsreporting.auth.models import ApiToken, RoleGrant, User
from cmsreporting.crosswalk.models import Concept, ConceptTag, Mapping
from cmsreporting.db import Base
from cmsreporting.registry.models import Convention, Cycle, Membership, Party
from cmsreporting.templates.models import Template

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Concept",
    "ConceptTag",
    "Convention",
    "Cycle",
    "Mapping",
    "Membership",
    "Party",
    "RoleGrant",
    "Template",
    "User",
]
