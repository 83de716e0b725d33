"""Password hashing (Argon2id, argon2-cffi) and the rules a new password must meet.

Hashes use argon2-cffi's default parameters (RFC 9106's second recommended profile); a hash made
with older parameters is replaced at the next successful sign-in. Hashing takes tens of
milliseconds of CPU, so it runs in a thread. A sign-in for an unknown account verifies a dummy
hash, so that it takes as long as one for a known account.

The common passwords are the 30,000 of the `passwords` frequency list that the zxcvbn package
ships (compiled from leaked password sets); a password is refused when it, in lower case, is one
of them.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MAX_LENGTH = 256


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords refused as new passwords (lower case)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def weakness(password: str, *, min_length: int, avoid: tuple[str, ...] = ()) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < min_length:
        return f"a password has at least {min_length} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) < 4:
        return "this password is too common or too simple; choose another"
    if any(word and len(word) >= 4 and word.lower() in lowered for word in avoid):
        return "a password must not contain the user's name or e-mail address"
    return None


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> tuple[bool, bool]:
    """(matches, needs rehash); a missing hash is compared with the dummy one, and fails."""
    try:
        ok = _hasher.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if stored is None:
        return False, False
    return ok, _hasher.check_needs_rehash(stored)


async def hash_password(password: str) -> str:
    """The Argon2id hash of a password."""
    return await asyncio.to_thread(_hash, password)


async def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """Whether the password matches the stored hash (None: no account or no password, verified
    against a dummy hash all the same), and whether the hash should be made anew."""
    return await asyncio.to_thread(_verify, stored, password[:MAX_LENGTH])
