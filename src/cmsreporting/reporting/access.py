"""Who may use a Party's workspaces."""

from __future__ import annotations

from cmsreporting.auth.principal import Principal


def can_use(principal: Principal, party: str) -> bool:
    """Admins and the Party's focal points (for any convention) use its workspaces."""
    return principal.is_admin or principal.is_focal_point(party)
