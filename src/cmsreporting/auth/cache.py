"""A per-process memory of recently authenticated callers, by token digest.

Every request names its caller by a bearer token; reading the token, the user and the roles is
a query per request. The cache keeps a successful authentication for a few seconds
(`CMSREPORTING_AUTH_CACHE_SECONDS`), so a role granted or a token revoked directly in the
database takes effect within that delay in every worker. Unknown tokens are never cached: a new
token works at once. A token's own expiry is always honoured exactly.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from threading import Lock

from cmsreporting.auth.principal import Principal
from cmsreporting.db import utcnow


class CallerCache:
    """Principals by token digest, each for at most `seconds`."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = Lock()

    def get(self, digest: str) -> Principal | None:
        """The cached caller of a token, if still fresh."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            until, principal = entry
            if until < time.monotonic() or (
                principal.expires_at is not None and principal.expires_at <= utcnow()
            ):
                del self._entries[digest]
                return None
            return principal

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a successful authentication."""
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.seconds, principal)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
