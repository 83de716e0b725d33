"""A per-process memory of recently authenticated callers, by token digest.

Every request names its caller by a bearer token; reading the token, the user and the roles is
a query per request. The cache keeps a successful authentication for a few seconds
(`CMSREPORTING_AUTH_CACHE_SECONDS`), so a role granted or a token revoked directly in the
database takes effect within that delay in every worker. Unknown tokens are never cached: a new
token works at once. A token's own expiry is always honoured exactly.
"""

from __future__ import annotations

from cmsreporting.auth.principal import Principal
from cmsreporting.core.memo import Memo
from cmsreporting.db import utcnow


class CallerCache:
    """Principals by token digest, each for at most `seconds`."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self._memo: Memo[str, Principal] = Memo(max_entries, seconds, name="callers")

    def get(self, digest: str) -> Principal | None:
        """The cached caller of a token, if still fresh and the token not expired."""
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
