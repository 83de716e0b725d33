"""A per-process memory of recently authenticated callers, by credential digest.

Every request names its caller by a bearer token or a session cookie; reading the credential,
the user and the roles is a query per request. The cache keeps a successful authentication for a
few seconds (`CMSREPORTING_AUTH_CACHE_SECONDS`), so a role, a token, a session or a user changed
by another server process (or directly in the database) takes effect within that delay in every
worker; a change made through this process (sign-out, revocation, deactivation) is dropped from
its cache at once. Unknown credentials are never cached: a new token works at once. A token's
or session's own expiry is always honoured exactly.
"""

from __future__ import annotations

from cmsreporting.auth.principal import Principal
from cmsreporting.core.memo import Memo
from cmsreporting.db import utcnow


class CallerCache:
    """Principals by credential digest, each for at most `seconds`."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self._memo: Memo[str, Principal] = Memo(max_entries, seconds, name="callers")

    def get(self, digest: str) -> Principal | None:
        """The cached caller of a credential, if still fresh and the credential not expired."""
        principal = self._memo.get(digest)
        if principal is not None and (
            principal.expires_at is not None and principal.expires_at <= utcnow()
        ):
            self._memo.forget(digest)
            return None
        return principal

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a successful authentication."""
        self._memo.put(digest, principal)

    def forget(self, digest: str) -> None:
        """Drop one credential (revoked here)."""
        self._memo.forget(digest)

    def forget_user(self, user_id: int) -> None:
        """Drop every credential of a user (roles changed, deactivated, signed out everywhere)."""
        self._memo.forget_where(lambda principal: principal.user_id == user_id)
