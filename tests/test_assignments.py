"""Contributors and section assignments, through the HTTP API: a focal point invites a
contributor by e-mail (a real SMTP server in the tests' process), assigns sections of the
workspace to them; the contributor sees and edits only those, cannot submit, marks them ready;
the focal point marks them done or reopens them; presence in the form; e-mail on comments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cmsreporting.db import utcnow
from cmsreporting.reporting.models import Presence
from tests.factories.mail import (
    Inbox,
    body_of,
    deliver,
    factory,
    link_in,
    smtp,
    subject_of,
)
from tests.factories.workspaces import set_members
from tests.helpers import Headers, assert_problem, fill_required, pointers

__all__ = ["factory", "smtp"]  # fixtures

API = "/api/v1"
GOOD = "river delta heron 1987"


async def new_contributor(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
    *,
    email: str,
    party: str = "KEN",
    by: str = "ken_fp",
    language: str = "en",
) -> tuple[str, dict[str, str]]:
    """A contributor invited by a focal point who set their password through the e-mailed
    link; their user name and the headers of an API token they made for themselves."""
    inbox, port = smtp
    made = await client.post(
        f"{API}/invitations",
        json={"email": email, "role": "contributor", "party": party, "language": language},
        headers=auth[by],
    )
    assert made.status_code == 201, made.text
    assert (made.json()["role"], made.json()["party"], made.json()["convention"]) == (
        "contributor",
        party,
        None,
    )
    await deliver(factory, port)
    message = inbox.to(email)[-1]
    accepted = await client.post(
        f"{API}/invitations/accept",
        json={"token": link_in(message, "invitation"), "new_password": GOOD},
    )
    assert accepted.status_code == 200, accepted.text
    signed = await client.post(f"{API}/auth/signin", json={"login": email, "password": GOOD})
    assert signed.status_code == 200, signed.text
    token = await client.post(
        f"{API}/me/tokens",
        json={"label": "tests"},
        headers={"X-CSRF-Token": signed.json()["csrf_token"]},
    )
    client.cookies.clear()
    assert token.status_code == 201, token.text
    return made.json()["user"], {"Authorization": f"Bearer {token.json()['token']}"}


async def kenya_workspace(client: httpx.AsyncClient, auth: Headers) -> int:
    await set_members(client, auth, "KEN", "CMS")
    made = await client.post(
        f"{API}/workspaces", json={"party": "KEN", "cycles": ["CMS:COP15"]}, headers=auth["ken_fp"]
    )
    assert made.status_code == 201, made.text
    wid: int = made.json()["id"]
    return wid


async def save(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int, *answers: tuple[str, Any, int]
) -> httpx.Response:
    batch = [{"slot": s, "value": v, "base_revision": b} for s, v, b in answers]
    return await client.patch(
        f"{API}/workspaces/{wid}/answers", json={"answers": batch}, headers=headers
    )


async def answers_of(
    client: httpx.AsyncClient, headers: dict[str, str], wid: int
) -> dict[str, Any]:
    got = await client.get(f"{API}/workspaces/{wid}/answers", headers=headers)
    assert got.status_code == 200, got.text
    return {a["slot"]: a["value"] for a in got.json()["answers"]}


async def statuses(client: httpx.AsyncClient, headers: dict[str, str], wid: int) -> dict[str, str]:
    got = await client.get(f"{API}/workspaces/{wid}/assignments", headers=headers)
    assert got.status_code == 200, got.text
    return {a["section"]: a["status"] for a in got.json()}


async def audit(client: httpx.AsyncClient, auth: Headers) -> list[dict[str, Any]]:
    events = await client.get(f"{API}/audit", params={"limit": "500"}, headers=auth["admin"])
    items: list[dict[str, Any]] = events.json()["items"]
    return items


async def test_a_contributor_fills_only_the_sections_assigned_and_marks_them_ready(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    # only a Party's own focal point (or an admin) invites its contributors
    for who, party in (("tza_fp", "KEN"), ("cms_sec", "KEN"), ("reviewer", "KEN")):
        refused = await client.post(
            f"{API}/invitations",
            json={"email": "x@env.go.ke", "role": "contributor", "party": party},
            headers=auth[who],
        )
        assert_problem(refused, 403)
    no_party = await client.post(
        f"{API}/invitations",
        json={"email": "x@env.go.ke", "role": "contributor"},
        headers=auth["admin"],
    )
    assert pointers(assert_problem(no_party, 422)) == ["/party"]

    name, contributor = await new_contributor(
        client, auth, factory, smtp, email="otieno@wildlife.go.ke", language="es"
    )
    [invitation] = inbox.to("otieno@wildlife.go.ke")
    assert subject_of(invitation) == "Invitación: colaborador de los informes nacionales de Kenya"
    me = (await client.get(f"{API}/me", headers=contributor)).json()
    assert [(r["role"], r["convention"], r["party"]) for r in me["roles"]] == [
        ("contributor", None, "KEN")
    ]

    wid = await kenya_workspace(client, auth)
    # a contributor opens no workspace and sees none until a section is theirs
    opened = await client.post(
        f"{API}/workspaces", json={"party": "KEN", "cycles": ["CMS:COP15"]}, headers=contributor
    )
    assert_problem(opened, 403)
    listed = await client.get(f"{API}/workspaces", headers=contributor)
    assert listed.json()["items"] == []

    people = await client.get(f"{API}/workspaces/{wid}/contributors", headers=auth["ken_fp"])
    assert [p["name"] for p in people.json()] == ["ken_contrib", name]  # ken_contrib: seeded
    form = (await client.get(f"{API}/workspaces/{wid}/form", headers=auth["ken_fp"])).json()
    keys = [s["key"] for s in form["sections"]]
    assert keys[0] == "shared"
    assert {"CMS:COP15:II", "CMS:COP15:VI", "CMS:COP15:V"} <= set(keys)
    assert {i["section"] for i in form["items"]} <= set(keys)

    # the focal point writes in a section nobody is assigned
    own = await save(client, auth["ken_fp"], wid, ("CMS:COP15:V.2", "the focal point's", 0))
    assert own.status_code == 200, own.text

    def assign(section: str, who: str = name, as_: str = "ken_fp") -> Any:
        return client.post(
            f"{API}/workspaces/{wid}/assignments",
            json={"section": section, "contributor": who},
            headers=auth.get(as_, contributor),
        )

    made = {}
    for section in ("CMS:COP15:II", "CMS:COP15:VI"):
        response = await assign(section)
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["section"], body["contributor"], body["status"]) == (
            section,
            name,
            "not_started",
        )
        assert response.headers["Location"].endswith(f"/assignments/{body['id']}")
        made[section] = body["id"]

    assert pointers(assert_problem(await assign("CMS:COP15:II"), 409)) == ["/section"]
    assert pointers(assert_problem(await assign("CMS:COP15:NOPE"), 422)) == ["/section"]
    assert pointers(assert_problem(await assign("CMS:COP15:V", "tza_fp"), 422)) == ["/contributor"]
    assert pointers(assert_problem(await assign("CMS:COP15:V", "nobody"), 422)) == ["/contributor"]
    assert_problem(await assign("CMS:COP15:V", as_="contributor"), 403)
    assert_problem(await assign("CMS:COP15:V", as_="tza_fp"), 404)

    # each assignment is mailed to the contributor in their language
    await deliver(factory, port)
    mailed = sorted(subject_of(m) for m in inbox.to("otieno@wildlife.go.ke")[1:])
    assert len(mailed) == 2, mailed
    assert all(
        s.startswith("Una sección del informe de Kenya para usted: CMS:COP15") for s in mailed
    )
    assert f"/ui/#/w/{wid}" in body_of(inbox.to("otieno@wildlife.go.ke")[-1])

    # the contributor sees the workspace, and of the form and answers only their sections
    listed = await client.get(f"{API}/workspaces", headers=contributor)
    assert [w["id"] for w in listed.json()["items"]] == [wid]
    theirs = (await client.get(f"{API}/workspaces/{wid}/form", headers=contributor)).json()
    assert [s["key"] for s in theirs["sections"]] == ["CMS:COP15:II", "CMS:COP15:VI"]
    assert {i["section"] for i in theirs["items"]} == {"CMS:COP15:II", "CMS:COP15:VI"}
    assert await answers_of(client, contributor, wid) == {}
    for path in ("preview/CMS:COP15", "review", "suggestions"):
        assert_problem(await client.get(f"{API}/workspaces/{wid}/{path}", headers=contributor), 403)

    # writes outside their sections: 403 naming the question, nothing stored
    outside = await save(client, contributor, wid, ("CMS:COP15:V.2", "overwritten", 1))
    problem = assert_problem(outside, 403)
    assert "CMS:COP15:V.2" in problem["detail"]
    assert pointers(problem) == ["/answers/0/slot"]
    mixed = await save(
        client,
        contributor,
        wid,
        ("CMS:COP15:II.2a", "mine", 0),
        ("concept:governance.institutions", "shared, not mine", 0),
    )
    problem = assert_problem(mixed, 403)
    assert [e["slot"] for e in problem["errors"]] == ["concept:governance.institutions"]
    assert await answers_of(client, auth["ken_fp"], wid) == {"CMS:COP15:V.2": "the focal point's"}

    inside = await save(
        client, contributor, wid, ("CMS:COP15:II.2a", "mine", 0), ("CMS:COP15:VI.1", True, 0)
    )
    assert inside.status_code == 200, inside.text
    assert await answers_of(client, contributor, wid) == {
        "CMS:COP15:II.2a": "mine",
        "CMS:COP15:VI.1": True,
    }
    assert await statuses(client, auth["ken_fp"], wid) == {
        "CMS:COP15:II": "in_progress",
        "CMS:COP15:VI": "in_progress",
    }

    # a contributor never submits
    submitted = await client.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=contributor | {"Idempotency-Key": "contrib-1"},
    )
    assert_problem(submitted, 403)

    async def move(section: str, status: str, headers: dict[str, str]) -> httpx.Response:
        return await client.patch(
            f"{API}/workspaces/{wid}/assignments/{made[section]}",
            json={"status": status},
            headers=headers,
        )

    assert (await move("CMS:COP15:II", "ready", contributor)).json()["status"] == "ready"
    assert_problem(await move("CMS:COP15:VI", "done", contributor), 403)
    assert_problem(await move("CMS:COP15:VI", "not_started", contributor), 403)
    # ready: closed to the contributor until the focal point reopens it
    closed = await save(client, contributor, wid, ("CMS:COP15:II.2a", "more", 1))
    assert "ready" in assert_problem(closed, 403)["detail"]
    assert await statuses(client, contributor, wid) == {
        "CMS:COP15:II": "ready",
        "CMS:COP15:VI": "in_progress",
    }

    assert (await move("CMS:COP15:II", "in_progress", auth["ken_fp"])).status_code == 200
    again = await save(client, contributor, wid, ("CMS:COP15:II.2a", "more", 1))
    assert again.status_code == 200, again.text
    assert (await move("CMS:COP15:II", "ready", contributor)).status_code == 200
    assert (await move("CMS:COP15:II", "done", auth["ken_fp"])).json()["status"] == "done"
    assert_problem(await move("CMS:COP15:II", "in_progress", contributor), 403)
    assert_problem(
        await client.patch(
            f"{API}/workspaces/{wid}/assignments/{made['CMS:COP15:II']}",
            json={"status": "finished"},
            headers=auth["ken_fp"],
        ),
        422,
    )

    # taken back: the answers stay, the contributor no longer writes there
    gone = await client.delete(
        f"{API}/workspaces/{wid}/assignments/{made['CMS:COP15:VI']}", headers=contributor
    )
    assert_problem(gone, 403)
    gone = await client.delete(
        f"{API}/workspaces/{wid}/assignments/{made['CMS:COP15:VI']}", headers=auth["ken_fp"]
    )
    assert gone.status_code == 204
    assert_problem(await save(client, contributor, wid, ("CMS:COP15:VI.1", False, 1)), 403)
    assert (await answers_of(client, auth["ken_fp"], wid))["CMS:COP15:VI.1"] is True
    missing = await client.delete(
        f"{API}/workspaces/{wid}/assignments/{made['CMS:COP15:VI']}", headers=auth["ken_fp"]
    )
    assert_problem(missing, 404)
    huge = await client.delete(
        f"{API}/workspaces/{wid}/assignments/99999999999999999999", headers=auth["ken_fp"]
    )
    assert_problem(huge, 404)

    # the focal point submits what the contributor filled
    await fill_required(client, auth["ken_fp"], wid, "CMS:COP15")
    submitted = await client.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=auth["ken_fp"] | {"Idempotency-Key": "fp-1"},
    )
    assert submitted.status_code == 201, submitted.text
    sid = submitted.json()["submissions"][0]["id"]
    values = (await client.get(f"{API}/submissions/{sid}", headers=auth["ken_fp"])).json()
    assert values["values"]["II.2a"] == "more"
    assert_problem(await client.get(f"{API}/submissions/{sid}", headers=contributor), 404)

    events = await audit(client, auth)
    actions = [(e["actor"], e["action"]) for e in events]
    assert actions.count(("user:ken_fp", "assignment.create")) == 2
    assert ("user:ken_fp", "assignment.delete") in actions
    assert (f"user:{name}", "assignment.status") in actions  # first write, then ready
    assert ("user:ken_fp", "assignment.status") in actions  # reopen, done
    written = [e for e in events if e["action"] == "answer.write" and e["actor"] == f"user:{name}"]
    assert sorted(e["after"]["slot"] for e in written) == [
        "CMS:COP15:II.2a",
        "CMS:COP15:II.2a",
        "CMS:COP15:VI.1",
    ]


async def test_contributors_of_another_party_and_shared_questions(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    wid = await kenya_workspace(client, auth)
    tza_name, tza = await new_contributor(
        client, auth, factory, smtp, email="tza@env.go.tz", party="TZA", by="tza_fp"
    )
    assert_problem(await client.get(f"{API}/workspaces/{wid}", headers=tza), 404)
    assert_problem(await client.get(f"{API}/workspaces/{wid}/assignments", headers=tza), 404)
    assert_problem(await save(client, tza, wid, ("CMS:COP15:II.2a", "no", 0)), 404)
    refused = await client.post(
        f"{API}/workspaces/{wid}/assignments",
        json={"section": "CMS:COP15:II", "contributor": tza_name},
        headers=auth["ken_fp"],
    )
    assert pointers(assert_problem(refused, 422)) == ["/contributor"]

    name, ken = await new_contributor(client, auth, factory, smtp, email="ken@env.go.ke")
    shared = await client.post(
        f"{API}/workspaces/{wid}/assignments",
        json={"section": "shared", "contributor": name},
        headers=auth["ken_fp"],
    )
    assert shared.status_code == 201, shared.text
    form = (await client.get(f"{API}/workspaces/{wid}/form", headers=ken)).json()
    assert {i["kind"] for i in form["items"]} == {"concept"}
    saved = await save(client, ken, wid, ("concept:governance.institutions", "Ministry", 0))
    assert saved.status_code == 200, saved.text
    native = await save(client, ken, wid, ("CMS:COP15:I(a).1", "native", 0))
    assert "CMS:COP15:I(a).1" in assert_problem(native, 403)["detail"]
    # the focal point's view of the assignment, the contributor's own view
    assert await statuses(client, auth["ken_fp"], wid) == {"shared": "in_progress"}
    assert await statuses(client, ken, wid) == {"shared": "in_progress"}

    # the focal point takes the role back: the assignments go, the answers stay
    url = f"{API}/workspaces/{wid}/contributors/{name}"
    assert_problem(await client.delete(url, headers=ken), 403)
    assert_problem(await client.delete(url, headers=auth["tza_fp"]), 404)
    assert_problem(
        await client.delete(
            f"{API}/workspaces/{wid}/contributors/{tza_name}", headers=auth["ken_fp"]
        ),
        404,
    )
    removed = await client.delete(url, headers=auth["ken_fp"])
    assert removed.status_code == 204, removed.text
    assert_problem(await client.get(f"{API}/workspaces/{wid}", headers=ken), 404)
    assert await statuses(client, auth["ken_fp"], wid) == {}
    kept = await answers_of(client, auth["ken_fp"], wid)
    assert kept["concept:governance.institutions"] == "Ministry"
    people = await client.get(f"{API}/workspaces/{wid}/contributors", headers=auth["ken_fp"])
    assert name not in [p["name"] for p in people.json()]
    events = await audit(client, auth)
    revoked = [e for e in events if e["action"] == "user.revoke" and e["target_id"] == name]
    assert [e["before"]["role"] for e in revoked] == ["contributor"]
    assert any(
        e["action"] == "assignment.delete" and e["before"]["contributor"] == name for e in events
    )


async def test_presence_shows_who_is_in_which_section_and_expires(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    wid = await kenya_workspace(client, auth)
    name, contributor = await new_contributor(client, auth, factory, smtp, email="p@env.go.ke")
    made = await client.post(
        f"{API}/workspaces/{wid}/assignments",
        json={"section": "CMS:COP15:II", "contributor": name},
        headers=auth["ken_fp"],
    )
    assert made.status_code == 201, made.text

    async def beat(headers: dict[str, str], section: str | None, slot: str | None) -> Any:
        response = await client.put(
            f"{API}/workspaces/{wid}/presence",
            json={"section": section, "slot": slot},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        return response.json()["presence"]

    assert await beat(contributor, "CMS:COP15:II", "CMS:COP15:II.2a") == []
    here = await beat(auth["ken_fp"], "CMS:COP15:II", "CMS:COP15:II.2a")
    assert [(h["user"], h["section"], h["slot"]) for h in here] == [
        (name, "CMS:COP15:II", "CMS:COP15:II.2a")
    ]
    # the answers poll carries presence too
    polled = await client.get(
        f"{API}/workspaces/{wid}/answers",
        params={"since": utcnow().isoformat()},
        headers=contributor,
    )
    assert [(h["user"], h["slot"]) for h in polled.json()["presence"]] == [
        ("ken_fp", "CMS:COP15:II.2a")
    ]
    # a contributor is present only in their own sections; strangers not at all
    refused = await client.put(
        f"{API}/workspaces/{wid}/presence", json={"section": "CMS:COP15:V"}, headers=contributor
    )
    assert_problem(refused, 403)
    stranger = await client.put(
        f"{API}/workspaces/{wid}/presence", json={"section": None}, headers=auth["tza_fp"]
    )
    assert_problem(stranger, 404)
    too_long = await client.put(
        f"{API}/workspaces/{wid}/presence", json={"slot": "x" * 301}, headers=auth["ken_fp"]
    )
    assert pointers(assert_problem(too_long, 422)) == ["/slot"]

    # a heartbeat older than a minute no longer counts
    async with factory() as session, session.begin():
        await session.execute(update(Presence).values(seen_at=utcnow() - timedelta(seconds=61)))
    assert (await client.get(f"{API}/workspaces/{wid}/answers", headers=contributor)).json()[
        "presence"
    ] == []
    assert await beat(auth["ken_fp"], None, None) == []


async def test_a_comment_on_a_question_is_mailed_to_the_other_side(
    client: httpx.AsyncClient,
    auth: Headers,
    factory: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    for user, email, language in (
        ("ken_fp", "fp@env.go.ke", "fr"),
        ("cms_sec", "sec@cms.example.org", "en"),
        ("cbd_sec", "sec@cbd.example.org", "en"),
    ):
        changed = await client.patch(
            f"{API}/users/{user}",
            json={"email": email, "language": language},
            headers=auth["admin"],
        )
        assert changed.status_code == 200, changed.text
    wid = await kenya_workspace(client, auth)
    await fill_required(client, auth["ken_fp"], wid, "CMS:COP15")
    done = await client.post(
        f"{API}/workspaces/{wid}/submit",
        json={"cycles": ["CMS:COP15"]},
        headers=auth["ken_fp"] | {"Idempotency-Key": "c-1"},
    )
    sid = done.json()["submissions"][0]["id"]

    said = await client.post(
        f"{API}/submissions/{sid}/comments",
        json={"body": "Please name the instrument.", "question": "II.2a"},
        headers=auth["cms_sec"],
    )
    assert said.status_code == 201, said.text
    answered = await client.post(
        f"{API}/submissions/{sid}/comments",
        json={"body": "Added in the next version."},
        headers=auth["ken_fp"],
    )
    assert answered.status_code == 201, answered.text
    await deliver(factory, port)

    [to_party] = inbox.to("fp@env.go.ke")
    assert subject_of(to_party) == (
        "Nouveau commentaire sur le rapport CMS de Kenya (COP15) — question II.2a"
    )
    assert "Please name the instrument." in body_of(to_party)
    assert f"/ui/#/w/{wid}" in body_of(to_party)
    [to_secretariat] = inbox.to("sec@cms.example.org")
    assert subject_of(to_secretariat) == "New comment on the CMS report of Kenya (COP15)"
    assert "Added in the next version." in body_of(to_secretariat)
    assert f"/ui/#/s/{sid}" in body_of(to_secretariat)
    assert inbox.to("sec@cbd.example.org") == []  # another convention's secretariat
