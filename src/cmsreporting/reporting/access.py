"""Who may use a Party's workspaces."""

from __future__ import annotations

from cmsreporting.auth.principal import Principal

CONTRIBUTORS_ONLY_ASSIGNED = (
    "a contributor works only in the sections assigned to them; this is for the Party's "
    "focal points"
)


def can_use(principal: Principal, party: str) -> bool:
    """Admins and the Party's focal points (for any convention) use its workspaces whole."""
    return principal.is_admin or principal.is_focal_point(party)


def contributes(principal: Principal, party: str) -> bool:
    """A contributor of the Party (and nothing more): reads and edits the workspace sections
    assigned to them only."""
    return not can_use(principal, party) and principal.is_contributor(party)
