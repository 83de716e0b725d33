"""Invitations and password resets by e-mail link, through the HTTP API, with the messages
delivered to a real SMTP server in the tests' process: who invites whom, single-use and
expiring links, weak passwords, addresses that are not addresses, no user enumeration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cmsreporting.auth.models import AccountLink
from cmsreporting.db import utcnow
from tests.factories.mail import (
    Inbox,
    body_of,
    deliver,
    factory,
    link_in,
    smtp,
    subject_of,
)
from tests.helpers import Headers, assert_problem, pointers

API = "/api/v1"
GOOD = "river delta heron 1987"


async def invite(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    fields = {"role": "focal_point", "convention": "CMS", "party": "KEN"} | body
    return await client.post(f"{API}/invitations", json=fields, headers=headers)


async def accept(
    client: httpx.AsyncClient, token: str, password: str = GOOD, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"{API}/invitations/accept", json={"token": token, "new_password": password} | extra
    )


async def sign_in(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    response = await client.post(f"{API}/auth/signin", json={"login": login, "password": password})
    client.cookies.clear()
    return response


async def audit_actions(client: httpx.AsyncClient, auth: Headers) -> list[str]:
    events = await client.get(f"{API}/audit", params={"limit": "500"}, headers=auth["admin"])
    return [e["action"] for e in events.json()["items"]]


async def test_an_invited_focal_point_chooses_a_password_once_and_signs_in(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    made = await invite(
        client, auth["cms_sec"], email=" Amina.Otieno@Environment.go.KE ", language="fr"
    )
    assert made.status_code == 201, made.text
    invited = made.json()
    assert (invited["user"], invited["email"]) == ("amina.otieno", "amina.otieno@environment.go.ke")
    assert (invited["role"], invited["convention"], invited["party"]) == (
        "focal_point",
        "CMS",
        "KEN",
    )

    # no password yet: the account cannot sign in
    assert (await sign_in(client, "amina.otieno", GOOD)).status_code == 401

    await deliver(factory, port)
    [message] = inbox.to("amina.otieno@environment.go.ke")
    assert subject_of(message) == "Invitation : correspondant national de Kenya pour la CMS"
    assert "cms_sec" in body_of(message)
    token = link_in(message, "invitation")

    weak = assert_problem(await accept(client, token, "password123"), 422)
    assert pointers(weak) == ["/new_password"]
    short = assert_problem(await accept(client, token, "abc"), 422)
    assert pointers(short) == ["/new_password"]

    done = await accept(client, token, display_name="Amina Otieno")
    assert done.status_code == 200, done.text
    assert done.json() == {"name": "amina.otieno", "email": "amina.otieno@environment.go.ke"}

    again = assert_problem(await accept(client, token, "another long phrase 42"), 422)
    assert pointers(again) == ["/token"]

    signed = await client.post(
        f"{API}/auth/signin", json={"login": "amina.otieno@environment.go.ke", "password": GOOD}
    )
    assert signed.status_code == 200, signed.text
    mine = await client.get(f"{API}/me")  # with the session cookie
    client.cookies.clear()
    assert mine.json()["display_name"] == "Amina Otieno"
    assert mine.json()["language"] == "fr"
    assert [(r["role"], r["convention"], r["party"]) for r in mine.json()["roles"]] == [
        ("focal_point", "CMS", "KEN")
    ]

    actions = await audit_actions(client, auth)
    for action in ("user.create", "user.grant", "user.invite", "user.invitation_used"):
        assert action in actions, action


async def test_who_invites_and_bad_invitations(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    refused = {
        "cbd_sec": {},  # another convention's secretariat
        "ken_fp": {},
        "reviewer": {},
        "cms_sec": {"role": "secretariat", "party": None},  # a secretariat invites focal points
    }
    for role, extra in refused.items():
        assert_problem(await invite(client, auth[role], email="x@y.example", **extra), 403)
    assert_problem(await invite(client, {}, email="x@y.example"), 401)

    bad = {
        "not-an-address": ("/email", 422),
        "two@@signs.example": ("/email", 422),
    }
    for address, (where, status) in bad.items():
        assert pointers(
            assert_problem(await invite(client, auth["cms_sec"], email=address), status)
        ) == [where]
    assert pointers(
        assert_problem(await invite(client, auth["admin"], email="a@b.example", party=None), 422)
    ) == ["/party"]
    assert pointers(
        assert_problem(await invite(client, auth["admin"], email="a@b.example", party="XXX"), 422)
    ) == ["/party"]
    assert pointers(
        assert_problem(await invite(client, auth["admin"], email="a@b.example", role="boss"), 422)
    ) == ["/role"]

    # an admin invites a secretariat
    made = await invite(
        client, auth["admin"], email="sec@cms.example", role="secretariat", party=None
    )
    assert made.status_code == 201, made.text
    await deliver(factory, port)
    [message] = inbox.to("sec@cms.example")
    assert subject_of(message) == "Invitation: member of the CMS secretariat"

    # nothing of the refused ones was made
    users = await client.get(f"{API}/users", params={"limit": "100"}, headers=auth["admin"])
    names = [u["name"] for u in users.json()["items"]]
    assert "x" not in names
    assert "a" not in names
    assert "sec" in names


async def test_an_expired_or_replaced_invitation_link_is_refused(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    assert (await invite(client, auth["cms_sec"], email="late@ken.example")).status_code == 201
    assert (await invite(client, auth["cms_sec"], email="late@ken.example")).status_code == 201
    await deliver(factory, port)
    first, second = (link_in(m, "invitation") for m in inbox.to("late@ken.example"))
    assert pointers(assert_problem(await accept(client, first), 422)) == ["/token"]

    async with factory() as session, session.begin():
        await session.execute(
            update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert pointers(assert_problem(await accept(client, second), 422)) == ["/token"]
    assert (await sign_in(client, "late", GOOD)).status_code == 401


async def test_a_reset_link_sets_a_new_password_and_tells_nothing_of_unknown_addresses(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    patched = await client.patch(
        f"{API}/users/tza_fp",
        json={"email": "fp@tza.example", "language": "es"},
        headers=auth["admin"],
    )
    assert patched.status_code == 200, patched.text
    old = await client.post(
        f"{API}/auth/signin", json={"login": "tza_fp", "password": "tza_fp staple horse 2026"}
    )
    assert old.status_code == 200
    client.cookies.clear()

    known = await client.post(f"{API}/auth/password-reset", json={"email": "FP@tza.example"})
    unknown = await client.post(f"{API}/auth/password-reset", json={"email": "nobody@tza.example"})
    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json() == unknown.json()
    # a second request within a minute mails nothing more
    again = await client.post(f"{API}/auth/password-reset", json={"email": "fp@tza.example"})
    assert again.json() == known.json()
    problem = assert_problem(
        await client.post(f"{API}/auth/password-reset", json={"email": "not an address"}), 422
    )
    assert pointers(problem) == ["/email"]

    await deliver(factory, port)
    assert [rcpt for rcpt, _ in inbox.received] == [["fp@tza.example"]]
    [message] = inbox.to("fp@tza.example")
    assert subject_of(message) == "Elegir una nueva contraseña"
    token = link_in(message, "reset")

    confirm = f"{API}/auth/password-reset/confirm"
    weak = await client.post(confirm, json={"token": token, "new_password": "tza_fp tza_fp tza_fp"})
    assert pointers(assert_problem(weak, 422)) == ["/new_password"]
    done = await client.post(confirm, json={"token": token, "new_password": GOOD})
    assert done.status_code == 200, done.text
    reused = await client.post(confirm, json={"token": token, "new_password": GOOD + "!"})
    assert pointers(assert_problem(reused, 422)) == ["/token"]
    # an invitation's link does not reset, nor a reset link accept
    assert pointers(assert_problem(await accept(client, token), 422)) == ["/token"]

    assert (await sign_in(client, "tza_fp", "tza_fp staple horse 2026")).status_code == 401
    assert (await sign_in(client, "fp@tza.example", GOOD)).status_code == 200
    actions = await audit_actions(client, auth)
    assert "user.reset_requested" in actions
    assert "user.reset_used" in actions


async def test_a_deactivated_account_gets_no_reset_link(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    patched = await client.patch(
        f"{API}/users/tza_fp",
        json={"email": "fp@tza.example", "active": False},
        headers=auth["admin"],
    )
    assert patched.status_code == 200, patched.text
    asked = await client.post(f"{API}/auth/password-reset", json={"email": "fp@tza.example"})
    assert asked.status_code == 202
    await deliver(factory, port)
    assert inbox.received == []
    # nor can it be invited again until an admin activates it
    problem = assert_problem(await invite(client, auth["cms_sec"], email="fp@tza.example"), 409)
    assert pointers(problem) == ["/email"]


__all__ = ["factory", "smtp"]  # fixtures
