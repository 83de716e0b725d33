"""Who is calling and what their roles allow (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Grant:
    """One role, scoped to a convention and, for a focal point, a Party."""

    role: str
    convention: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    user_id: int
    name: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    expires_at: datetime | None = field(default=None, compare=False)
    session_id: int | None = field(default=None, compare=False)
    """The web session the caller signed in with (None: an API token)."""

    @property
    def actor(self) -> str:
        """How the caller is named in audit events."""
        return f"user:{self.name}"

    @property
    def is_admin(self) -> bool:
        """Holds the admin role."""
        return any(g.role == "admin" for g in self.grants)

    @property
    def is_reviewer(self) -> bool:
        """Holds the reviewer role."""
        return any(g.role == "reviewer" for g in self.grants)

    def is_secretariat(self, convention: str) -> bool:
        """Is on the secretariat of this convention."""
        return any(g.role == "secretariat" and g.convention == convention for g in self.grants)

    def is_focal_point(self, party: str, convention: str | None = None) -> bool:
        """Is focal point of this Party (for this convention, when given)."""
        return any(
            g.role == "focal_point"
            and g.party == party
            and (convention is None or g.convention == convention)
            for g in self.grants
        )

    def is_contributor(self, party: str) -> bool:
        """Is a contributor of this Party (edits the workspace sections assigned to them)."""
        return any(g.role == "contributor" and g.party == party for g in self.grants)

    @property
    def contributor_of(self) -> frozenset[str]:
        """Parties the caller contributes to."""
        return frozenset(g.party for g in self.grants if g.role == "contributor" and g.party)

    def can_manage_convention(self, convention: str) -> bool:
        """May write this convention's templates and cycles."""
        return self.is_admin or self.is_secretariat(convention)

    @property
    def secretariat_of(self) -> frozenset[str]:
        """Conventions whose secretariat the caller is on."""
        return frozenset(
            g.convention for g in self.grants if g.role == "secretariat" and g.convention
        )
