"""Accounts: password sign-in, web sessions with CSRF-checked writes, sign-out, throttling,
the caller's own sessions and tokens, and what administrators do to users (API and CLI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from cmsreporting.auth import passwords
from cmsreporting.auth.models import UserSession
from cmsreporting.config import Settings
from cmsreporting.db import create_engine, create_session_factory, utcnow
from cmsreporting.main import create_app
from tests.factories.databases import password_of
from tests.helpers import Headers, assert_problem

API = "/api/v1"


async def _app(
    url: str, *, address: str = "10.0.0.1", base: str = "http://test", **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 4711))
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            yield http


async def _browsers(url: str, **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    """Two browsers (cookie jars) on one server process."""
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 4711))
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as first,
            httpx.AsyncClient(transport=transport, base_url="http://test") as second,
        ):
            yield first, second


async def _in_database(url: str, statement: Any) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(statement)
    finally:
        await engine.dispose()


async def sign_in(http: httpx.AsyncClient, login: str, password: str | None = None) -> str:
    """Sign in (the client keeps the cookies); the CSRF token."""
    response = await http.post(
        f"{API}/auth/signin",
        json={"login": login, "password": password or password_of(login)},
    )
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    assert http.cookies.get("cmsr_csrf") == csrf
    return csrf


async def _audit(http: httpx.AsyncClient, auth: Headers, action: str) -> list[dict[str, Any]]:
    events = await http.get(f"{API}/audit", params={"limit": 500}, headers=auth["admin"])
    return [e for e in events.json()["items"] if e["action"] == action]


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header.lower()
        for header in response.headers.get_list("set-cookie")
    }


async def test_password_sign_in_sets_a_session_cookie_that_signs_requests_in(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    response = await client.post(
        f"{API}/auth/signin", json={"login": "ken_fp", "password": password_of("ken_fp")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["name"] == "ken_fp"
    assert body["user"]["signed_in_with"] == "session"
    assert body["idle_seconds"] == Settings().session_idle_seconds
    cookies = _set_cookies(response)
    session_cookie, csrf_cookie = cookies["cmsr_session"], cookies["cmsr_csrf"]
    assert "httponly" in session_cookie
    assert "samesite=lax" in session_cookie
    assert "path=/" in session_cookie
    assert "max-age=" in session_cookie
    assert "secure" not in session_cookie  # served over plain HTTP here
    assert "httponly" not in csrf_cookie  # the page reads it
    assert "cmss_" not in response.text  # the secret is only in the cookie
    me = await client.get(f"{API}/me")
    assert me.status_code == 200, me.text
    assert me.json()["signed_in_with"] == "session"
    assert {r["party"] for r in me.json()["roles"]} == {"KEN"}
    # the sign-in is audited, without the secret
    [event] = await _audit(client, auth, "user.signin")
    assert event["target_id"] == "ken_fp"
    assert "cmss_" not in str(event)


async def test_cookies_are_secure_over_https(db_url: str) -> None:
    async for http in _app(db_url, base="https://test"):
        response = await http.post(
            f"{API}/auth/signin", json={"login": "admin", "password": password_of("admin")}
        )
        assert response.status_code == 200
        assert all("secure" in c for c in _set_cookies(response).values())
        assert (await http.get(f"{API}/me")).status_code == 200


async def test_sign_in_by_email_address(client: httpx.AsyncClient, auth: Headers) -> None:
    changed = await client.patch(
        f"{API}/users/tza_fp", json={"email": "Focal.Point@Example.ORG"}, headers=auth["admin"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "focal.point@example.org"
    response = await client.post(
        f"{API}/auth/signin",
        json={"login": "FOCAL.point@example.org", "password": password_of("tza_fp")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["name"] == "tza_fp"


@pytest.mark.parametrize(
    ("email", "status"),
    [("not-an-address", 422), ("someone@", 422), ("a b@example.org", 422)],
)
async def test_email_addresses_are_checked(
    client: httpx.AsyncClient, auth: Headers, email: str, status: int
) -> None:
    response = await client.patch(
        f"{API}/users/tza_fp", json={"email": email}, headers=auth["admin"]
    )
    body = assert_problem(response, status)
    assert body["errors"][0]["pointer"] == "/email"
    user = await client.get(f"{API}/users/tza_fp", headers=auth["admin"])
    assert user.json()["email"] is None


async def test_an_email_address_belongs_to_one_user(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    first = await client.patch(
        f"{API}/users/tza_fp", json={"email": "shared@example.org"}, headers=auth["admin"]
    )
    assert first.status_code == 200
    second = await client.patch(
        f"{API}/users/ken_fp", json={"email": "SHARED@example.org"}, headers=auth["admin"]
    )
    assert assert_problem(second, 409)["errors"][0]["pointer"] == "/email"


async def test_cookie_writes_need_the_csrf_token_and_bearer_writes_do_not(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    csrf = await sign_in(client, "ken_fp")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        refused = await client.patch(f"{API}/me", json={"language": "fr"}, headers=headers)
        assert "CSRF" in assert_problem(refused, 403)["detail"]
        assert (await client.get(f"{API}/me")).json()["language"] == "en"  # nothing stored
    made = await client.post(f"{API}/workspaces", json={"party": "KEN", "cycles": ["CMS:COP15"]})
    assert_problem(made, 403)
    assert (await client.get(f"{API}/workspaces")).json()["items"] == []
    done = await client.patch(f"{API}/me", json={"language": "fr"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    assert done.json()["language"] == "fr"
    # a bearer token is enough on its own, cookie or not
    by_token = await client.patch(f"{API}/me", json={"language": "es"}, headers=auth["ken_fp"])
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["signed_in_with"] == "token"


async def test_wrong_passwords_and_unknown_accounts_get_the_same_answer(
    client: httpx.AsyncClient, auth: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str | None] = []
    real = passwords._verify

    def spy(stored: str | None, password: str) -> tuple[bool, bool]:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "_verify", spy)
    deactivated = await client.patch(
        f"{API}/users/tza_fp", json={"active": False}, headers=auth["admin"]
    )
    assert deactivated.status_code == 200
    answers = []
    for login, password in (
        ("ken_fp", "not the password"),
        ("nobody-at-all", "not the password"),
        ("nobody@example.org", "whatever it is"),
        ("tza_fp", password_of("tza_fp")),  # right password, inactive account
    ):
        response = await client.post(
            f"{API}/auth/signin", json={"login": login, "password": password}
        )
        body = assert_problem(response, 401)
        answers.append((body["detail"], body["type"], response.headers.get("set-cookie")))
        assert "cmsr_session" not in client.cookies
    assert len(set(answers)) == 1, answers
    # every attempt paid for one hash verification, the unknown accounts against a dummy hash
    assert len(checked) == 4
    assert checked[1] is None
    assert checked[2] is None


async def test_failed_sign_ins_are_throttled_per_account(db_url: str) -> None:
    async for http in _app(db_url, signin_account_failures=3, signin_window_seconds=600):
        for _ in range(3):
            bad = await http.post(f"{API}/auth/signin", json={"login": "ken_fp", "password": "x"})
            assert_problem(bad, 401)
        # now even the right password waits
        right = {"login": "ken_fp", "password": password_of("ken_fp")}
        throttled = await http.post(f"{API}/auth/signin", json=right)
        assert_problem(throttled, 429)
        assert 1 <= int(throttled.headers["retry-after"]) <= 600
        # as does an unknown account, after as many failures: nothing tells them apart
        for _ in range(3):
            await http.post(f"{API}/auth/signin", json={"login": "ghost", "password": "x"})
        ghost = await http.post(f"{API}/auth/signin", json={"login": "ghost", "password": "x"})
        assert_problem(ghost, 429)
        # other accounts sign in from the same address
        assert (
            await http.post(
                f"{API}/auth/signin",
                json={"login": "tza_fp", "password": password_of("tza_fp")},
            )
        ).status_code == 200
    # the failures are remembered by the database, so another server process throttles too
    async for other in _app(db_url, signin_account_failures=3, address="10.9.9.9"):
        assert_problem(await other.post(f"{API}/auth/signin", json=right), 429)
    # once the window has passed, the account signs in again
    async for later in _app(db_url, signin_account_failures=3, signin_window_seconds=1):
        await asyncio.sleep(1.1)
        assert (await later.post(f"{API}/auth/signin", json=right)).status_code == 200


async def test_failed_sign_ins_are_throttled_per_address(db_url: str) -> None:
    async for http in _app(db_url, signin_address_failures=4, signin_account_failures=100):
        for n in range(4):
            bad = await http.post(
                f"{API}/auth/signin", json={"login": f"guess{n}", "password": "x"}
            )
            assert_problem(bad, 401)
        right = {"login": "ken_fp", "password": password_of("ken_fp")}
        throttled = await http.post(f"{API}/auth/signin", json=right)
        assert_problem(throttled, 429)
        assert int(throttled.headers["retry-after"]) >= 1
    async for elsewhere in _app(db_url, signin_address_failures=4, address="10.0.0.2"):
        assert (await elsewhere.post(f"{API}/auth/signin", json=right)).status_code == 200


async def test_sign_out_ends_the_session(client: httpx.AsyncClient) -> None:
    csrf = await sign_in(client, "ken_fp")
    secret = client.cookies["cmsr_session"]
    assert_problem(await client.post(f"{API}/auth/signout"), 403)  # no CSRF token
    assert (await client.get(f"{API}/me")).status_code == 200
    out = await client.post(f"{API}/auth/signout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    cleared = _set_cookies(out)
    assert "max-age=0" in cleared["cmsr_session"]
    assert "max-age=0" in cleared["cmsr_csrf"]
    assert "cmsr_session" not in client.cookies
    # the old cookie no longer works, even if a browser kept it
    stale = await client.get(f"{API}/me", headers={"Cookie": f"cmsr_session={secret}"})
    assert "sign in again" in assert_problem(stale, 401)["detail"]
    # signing out without a session is harmless
    assert (await client.post(f"{API}/auth/signout")).status_code == 204


async def test_sign_out_everywhere_ends_every_session_but_keeps_tokens(
    db_url: str, auth: Headers
) -> None:
    async for laptop, phone in _browsers(db_url):
        csrf = await sign_in(laptop, "ken_fp")
        secret = laptop.cookies["cmsr_session"]
        await sign_in(phone, "tza_fp")
        tza_secret = phone.cookies["cmsr_session"]
        await sign_in(phone, "ken_fp")
        listed = await laptop.get(f"{API}/me/sessions")
        assert len(listed.json()) == 2
        assert [s["current"] for s in listed.json()] == [False, True]
        out = await laptop.post(f"{API}/auth/signout-everywhere", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert "cmsr_session" not in laptop.cookies
        assert_problem(await phone.get(f"{API}/me"), 401)
        assert_problem(
            await laptop.get(f"{API}/me", headers={"Cookie": f"cmsr_session={secret}"}), 401
        )
        # API tokens stay, and so does another user's session
        assert (await phone.get(f"{API}/me", headers=auth["ken_fp"])).status_code == 200
        tza = await phone.get(f"{API}/me", headers={"Cookie": f"cmsr_session={tza_secret}"})
        assert tza.status_code == 200
        assert tza.json()["name"] == "tza_fp"
        [event] = await _audit(laptop, auth, "user.signout_all")
        assert event["target_id"] == "ken_fp"
        assert event["after"] == {"sessions": 2}


async def test_one_session_ended_from_another(db_url: str, auth: Headers) -> None:
    async for laptop, phone in _browsers(db_url):
        csrf = await sign_in(laptop, "ken_fp")
        await sign_in(phone, "ken_fp")
        mine = (await laptop.get(f"{API}/me/sessions")).json()
        other = next(s for s in mine if not s["current"])
        assert other["address"] == "10.0.0.1"
        # another user cannot see or end it
        assert_problem(
            await laptop.delete(f"{API}/me/sessions/{other['id']}", headers=auth["tza_fp"]),
            404,
        )
        assert (await phone.get(f"{API}/me")).status_code == 200
        ended = await laptop.delete(
            f"{API}/me/sessions/{other['id']}", headers={"X-CSRF-Token": csrf}
        )
        assert ended.status_code == 204
        assert_problem(await phone.get(f"{API}/me"), 401)
        assert (await laptop.get(f"{API}/me")).status_code == 200
        assert len((await laptop.get(f"{API}/me/sessions")).json()) == 1


async def _age_sessions(
    url: str, *, seen: datetime | None = None, ends: datetime | None = None
) -> None:
    values: dict[str, Any] = {}
    if seen is not None:
        values["last_seen_at"] = seen
    if ends is not None:
        values["expires_at"] = ends
    await _in_database(url, update(UserSession).values(**values))


async def test_sessions_end_when_idle_and_at_their_absolute_expiry(db_url: str) -> None:
    async for http in _app(db_url, auth_cache_seconds=0, session_idle_seconds=600):
        await sign_in(http, "ken_fp")
        # used ten minutes ago less a little: still alive, and its use is noted
        await _age_sessions(db_url, seen=utcnow() - timedelta(seconds=590))
        assert (await http.get(f"{API}/me")).status_code == 200
        [alive] = (await http.get(f"{API}/me/sessions")).json()
        assert datetime.fromisoformat(alive["last_seen_at"]) > utcnow() - timedelta(seconds=60)
        # idle for longer than allowed
        await _age_sessions(db_url, seen=utcnow() - timedelta(seconds=601))
        assert_problem(await http.get(f"{API}/me"), 401)
        # a busy session still ends at its absolute expiry
        await sign_in(http, "ken_fp")
        await _age_sessions(db_url, seen=utcnow(), ends=utcnow() - timedelta(seconds=1))
        assert_problem(await http.get(f"{API}/me"), 401)


async def test_a_session_revoked_elsewhere_ends_within_the_cache_delay(db_url: str) -> None:
    async for http in _app(db_url, auth_cache_seconds=0.5):
        await sign_in(http, "ken_fp")
        assert (await http.get(f"{API}/me")).status_code == 200
        await _in_database(db_url, update(UserSession).values(revoked_at=utcnow()))
        await asyncio.sleep(0.6)
        assert_problem(await http.get(f"{API}/me"), 401)


async def test_own_tokens_expire_by_default_and_are_revocable(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    made = await client.post(
        f"{API}/me/tokens", json={"label": "nightly export"}, headers=auth["cms_sec"]
    )
    assert made.status_code == 201, made.text
    token = made.json()
    expires = datetime.fromisoformat(token["expires_at"])
    days = Settings().token_default_days
    assert timedelta(days=days - 1) < expires - utcnow() <= timedelta(days=days)
    script = {"Authorization": f"Bearer {token['token']}"}
    assert (await client.get(f"{API}/me", headers=script)).json()["name"] == "cms_sec"
    listed = (await client.get(f"{API}/me/tokens", headers=auth["cms_sec"])).json()
    assert next(t["label"] for t in listed) == "nightly export"
    assert all("token" not in t for t in listed)  # secrets are shown only once
    # another user's token is not found under one's own
    assert_problem(
        await client.delete(f"{API}/me/tokens/{token['id']}", headers=auth["cbd_sec"]), 404
    )
    short = await client.post(
        f"{API}/me/tokens", json={"expires_in_days": 0}, headers=auth["cms_sec"]
    )
    assert assert_problem(short, 422)["errors"][0]["pointer"] == "/expires_in_days"
    revoked = await client.delete(f"{API}/me/tokens/{token['id']}", headers=auth["cms_sec"])
    assert revoked.status_code == 204
    assert_problem(await client.get(f"{API}/me", headers=script), 401)
    listed = (await client.get(f"{API}/me/tokens", headers=auth["cms_sec"])).json()
    assert listed[0]["active"] is False
    assert listed[0]["revoked_at"] is not None
    [event] = await _audit(client, auth, "token.revoke")
    assert event["actor"] == "user:cms_sec"
    assert event["after"]["id"] == token["id"]


async def test_admins_list_and_revoke_a_users_tokens(
    client: httpx.AsyncClient, auth: Headers
) -> None:
    tokens = (await client.get(f"{API}/users/ken_fp/tokens", headers=auth["admin"])).json()
    [seeded] = tokens
    assert seeded["active"] is True
    revoked = await client.delete(
        f"{API}/users/ken_fp/tokens/{seeded['id']}", headers=auth["admin"]
    )
    assert revoked.status_code == 204
    assert_problem(await client.get(f"{API}/me", headers=auth["ken_fp"]), 401)
    assert_problem(
        await client.delete(f"{API}/users/tza_fp/tokens/{seeded['id']}", headers=auth["admin"]),
        404,
    )
    [event] = await _audit(client, auth, "token.revoke")
    assert event["actor"] == "user:admin"
    assert event["target_id"] == "ken_fp"


async def test_a_deactivated_user_is_locked_out_at_once_and_can_come_back(
    db_url: str, auth: Headers
) -> None:
    async for browser, admin in _browsers(db_url):
        await sign_in(browser, "ken_fp")
        assert (await browser.get(f"{API}/me", headers=auth["ken_fp"])).status_code == 200
        off = await admin.patch(
            f"{API}/users/ken_fp", json={"active": False}, headers=auth["admin"]
        )
        assert off.status_code == 200
        assert off.json()["active"] is False
        # no cookie, no token, no new sign-in
        assert_problem(await browser.get(f"{API}/me"), 401)
        assert_problem(await admin.get(f"{API}/me", headers=auth["ken_fp"]), 401)
        again = await admin.post(
            f"{API}/auth/signin",
            json={"login": "ken_fp", "password": password_of("ken_fp")},
        )
        assert_problem(again, 401)
        [event] = await _audit(admin, auth, "user.deactivate")
        assert event["before"] == {"active": True}
        assert event["after"] == {"active": False}
        on = await admin.patch(f"{API}/users/ken_fp", json={"active": True}, headers=auth["admin"])
        assert on.status_code == 200
        assert (await admin.get(f"{API}/me", headers=auth["ken_fp"])).status_code == 200
        # the sessions ended by the deactivation stay ended
        assert_problem(await browser.get(f"{API}/me"), 401)
        assert await _audit(admin, auth, "user.activate")


async def test_admins_grant_and_revoke_roles(client: httpx.AsyncClient, auth: Headers) -> None:
    granted = await client.post(
        f"{API}/users/tza_fp/roles",
        json={"role": "secretariat", "convention": "CBD"},
        headers=auth["admin"],
    )
    assert granted.status_code == 201, granted.text
    grant = next(r for r in granted.json()["roles"] if r["role"] == "secretariat")
    status = await client.get(f"{API}/cycles/CBD:NR7/status", headers=auth["tza_fp"])
    assert status.status_code == 200
    bad = await client.post(
        f"{API}/users/tza_fp/roles", json={"role": "secretariat"}, headers=auth["admin"]
    )
    assert assert_problem(bad, 422)["errors"][0]["pointer"] == "/convention"
    revoked = await client.delete(f"{API}/users/tza_fp/roles/{grant['id']}", headers=auth["admin"])
    assert revoked.status_code == 204
    assert_problem(await client.get(f"{API}/cycles/CBD:NR7/status", headers=auth["tza_fp"]), 403)
    roles = (await client.get(f"{API}/me", headers=auth["tza_fp"])).json()["roles"]
    assert [r["role"] for r in roles] == ["focal_point"]
    [event] = await _audit(client, auth, "user.revoke")
    assert event["before"] == {"role": "secretariat", "convention": "CBD", "party": None}
    assert_problem(
        await client.delete(f"{API}/users/ken_fp/roles/{grant['id']}", headers=auth["admin"]),
        404,
    )
    users = (await client.get(f"{API}/users", headers=auth["admin"])).json()["items"]
    assert {u["name"] for u in users} >= {"admin", "ken_fp", "tza_fp"}
    assert all(u["has_password"] for u in users)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least"),
        ("password1234", "too common"),
        ("aaaaaaaaaaaaaa", "too simple"),
        ("my ken_fp secret", "user's name"),
    ],
)
async def test_weak_passwords_are_refused(
    client: httpx.AsyncClient, auth: Headers, password: str, why: str
) -> None:
    response = await client.put(
        f"{API}/me/password",
        json={"current_password": password_of("ken_fp"), "new_password": password},
        headers=auth["ken_fp"],
    )
    body = assert_problem(response, 422)
    assert why in body["detail"]
    assert body["errors"][0]["pointer"] == "/new_password"
    assert (
        await client.post(
            f"{API}/auth/signin",
            json={"login": "ken_fp", "password": password_of("ken_fp")},
        )
    ).status_code == 200


async def test_changing_the_password_ends_the_other_sessions(db_url: str) -> None:
    new = "a long new phrase of mine"
    async for laptop, phone in _browsers(db_url):
        csrf = await sign_in(laptop, "ken_fp")
        await sign_in(phone, "ken_fp")
        wrong = await laptop.put(
            f"{API}/me/password",
            json={"current_password": "guess", "new_password": new},
            headers={"X-CSRF-Token": csrf},
        )
        assert assert_problem(wrong, 422)["errors"][0]["pointer"] == "/current_password"
        done = await laptop.put(
            f"{API}/me/password",
            json={"current_password": password_of("ken_fp"), "new_password": new},
            headers={"X-CSRF-Token": csrf},
        )
        assert done.status_code == 204, done.text
        assert (await laptop.get(f"{API}/me")).status_code == 200
        assert_problem(await phone.get(f"{API}/me"), 401)
        old = await phone.post(
            f"{API}/auth/signin",
            json={"login": "ken_fp", "password": password_of("ken_fp")},
        )
        assert_problem(old, 401)
        await sign_in(phone, "ken_fp", new)


async def test_guessing_the_current_password_is_throttled_too(db_url: str, auth: Headers) -> None:
    async for http in _app(db_url, signin_account_failures=2):
        for _ in range(2):
            wrong = await http.put(
                f"{API}/me/password",
                json={"current_password": "guess", "new_password": "a long new phrase of mine"},
                headers=auth["ken_fp"],
            )
            assert assert_problem(wrong, 422)["errors"][0]["pointer"] == "/current_password"
        right = await http.put(
            f"{API}/me/password",
            json={
                "current_password": password_of("ken_fp"),
                "new_password": "a long new phrase of mine",
            },
            headers=auth["ken_fp"],
        )
        assert_problem(right, 429)
        assert int(right.headers["retry-after"]) >= 1
        # and so is signing in to that account
        signin = {"login": "ken_fp", "password": password_of("ken_fp")}
        assert_problem(await http.post(f"{API}/auth/signin", json=signin), 429)


async def test_admins_end_a_users_sessions(db_url: str, auth: Headers) -> None:
    async for browser, admin in _browsers(db_url):
        await sign_in(browser, "tza_fp")
        assert (await browser.get(f"{API}/me")).status_code == 200
        ended = await admin.delete(f"{API}/users/tza_fp/sessions", headers=auth["admin"])
        assert ended.status_code == 204
        assert_problem(await browser.get(f"{API}/me"), 401)
        # the user's token stays
        assert (await admin.get(f"{API}/me", headers=auth["tza_fp"])).status_code == 200
        [event] = await _audit(admin, auth, "user.signout_all")
        assert event["actor"] == "user:admin"
        assert event["after"] == {"sessions": 1}
        # nobody else may
        refused = await admin.delete(f"{API}/users/tza_fp/sessions", headers=auth["cms_sec"])
        assert_problem(refused, 403)
