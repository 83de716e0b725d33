"""Health, registry and the template lifecycle through the HTTP API."""

from __future__ import annotations

import httpx

from tests.helpers import assert_problem, minimal_template, pointers


async def test_health_reports_database_and_revision(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    from cmsreporting.migrate import head_revision

    assert body["revision"] == head_revision()


async def test_conventions_include_the_cms_family(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/conventions")
    codes = {c["code"]: c for c in response.json()["items"]}
    for code in (
        "CMS",
        "AEWA",
        "CBD",
        "CITES",
        "RAMSAR",
        "WHC",
        "ITPGRFA",
        "ASCOBANS",
        "EUROBATS",
        "RAPTORS",
        "SHARKS",
    ):
        assert code in codes
    assert codes["AEWA"]["family"] == "CMS"
    assert codes["AEWA"]["languages"] == ["en", "fr"]
    one = await client.get("/api/v1/conventions/CBD")
    assert one.json()["name"] == "Convention on Biological Diversity"
    assert_problem(await client.get("/api/v1/conventions/NOPE"), 404)


async def test_parties_are_paginated_iso_countries(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/parties", params=params)).json()
        seen += [p["iso3"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 193
    assert seen == sorted(seen)
    assert {"KEN", "BRA", "FRA", "CHN", "USA", "TUV"} <= set(seen)
    kenya = (await client.get("/api/v1/parties/ken")).json()
    assert kenya["iso2"] == "KE"
    assert kenya["name"] == "Kenya"
    assert_problem(await client.get("/api/v1/parties", params={"cursor": "garbage!"}), 400)
    assert_problem(await client.get("/api/v1/parties/XXX"), 404)


async def test_party_names_in_the_interface_language(client: httpx.AsyncClient) -> None:
    """Names as people know them: ISO 3166-1 names translated (the iso-codes catalogues
    pycountry ships), English where no translation is known or the language is not one."""
    cases = [
        ("GBR", None, "United Kingdom"),
        ("GBR", "fr", "Royaume-Uni"),
        ("GBR", "es", "Reino Unido"),
        ("GBR", "fr-CA", "Royaume-Uni"),
        ("BOL", "fr", "Bolivie"),
        ("DEU", "fr", "Allemagne"),
        ("GBR", "xx", "United Kingdom"),
        ("GBR", "../../etc", "United Kingdom"),
        ("EU", "fr", "Union européenne"),
        ("EU", "es", "Unión Europea"),
        ("EU", "de", "European Union"),
    ]
    for code, lang, name in cases:
        params = {"lang": lang} if lang else {}
        got = await client.get(f"/api/v1/parties/{code}", params=params)
        assert got.status_code == 200, got.text
        assert got.json()["name"] == name, (code, lang)
    listed = (await client.get("/api/v1/parties", params={"limit": 500, "lang": "fr"})).json()
    names = {p["iso3"]: p["name"] for p in listed["items"]}
    assert (names["GBR"], names["EU"], names["KEN"]) == ("Royaume-Uni", "Union européenne", "Kenya")
    refused = await client.get("/api/v1/parties/GBR", params={"lang": "x" * 36})
    assert pointers(assert_problem(refused, 422)) == ["/lang"]


async def test_the_european_union_is_a_party(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    """A regional economic integration organisation: code EU (exceptionally reserved in ISO
    3166-1), no numeric code; its memberships and workspaces work like any Party's."""
    eu = (await client.get("/api/v1/parties/eu")).json()
    assert eu == {
        "iso3": "EU",
        "iso2": "EU",
        "numeric": None,
        "name": "European Union",
        "official_name": None,
        "kind": "regional_economic_integration_organisation",
        "memberships": [],
    }
    kenya = (await client.get("/api/v1/parties/KEN")).json()
    assert (kenya["kind"], kenya["numeric"]) == ("state", "404")
    joined = await client.put(
        "/api/v1/parties/EU/memberships/CMS", json={"source": "test"}, headers=auth["admin"]
    )
    assert joined.status_code == 201, joined.text
    members = (await client.get("/api/v1/parties", params={"convention": "CMS"})).json()
    assert [p["iso3"] for p in members["items"]] == ["EU"]
    made = await client.post(
        "/api/v1/workspaces", json={"party": "EU", "cycles": ["CMS:COP15"]}, headers=auth["admin"]
    )
    assert made.status_code == 201, made.text
    assert made.json()["party"] == "EU"
    # a code of one letter is not a Party's
    refused = await client.post(
        "/api/v1/workspaces", json={"party": "E", "cycles": ["CMS:COP15"]}, headers=auth["admin"]
    )
    assert pointers(assert_problem(refused, 422)) == ["/party"]


async def test_admin_sets_memberships(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    url = "/api/v1/parties/KEN/memberships/CMS"
    body = {"since": "1999-01-01", "source": "CMS list of Parties"}
    assert_problem(await client.put(url, json=body), 401)
    assert_problem(await client.put(url, json=body, headers=auth["cms_sec"]), 403)
    created = await client.put(url, json=body, headers=auth["admin"])
    assert created.status_code == 201
    again = await client.put(url, json=body | {"since": "2000-05-01"}, headers=auth["admin"])
    assert again.status_code == 200
    assert again.json()["since"] == "2000-05-01"
    members = (await client.get("/api/v1/parties", params={"convention": "CMS"})).json()
    assert [p["iso3"] for p in members["items"]] == ["KEN"]
    assert members["items"][0]["memberships"][0]["source"] == "CMS list of Parties"
    bad = await client.put(url, json={"since": "not a date"}, headers=auth["admin"])
    assert pointers(assert_problem(bad, 422)) == ["/since"]
    unknown = await client.put(
        "/api/v1/parties/KEN/memberships/XYZ", json={}, headers=auth["admin"]
    )
    assert_problem(unknown, 404)
    audit = (
        await client.get(
            "/api/v1/audit", params={"target_type": "membership"}, headers=auth["admin"]
        )
    ).json()
    assert [e["action"] for e in audit["items"]] == ["membership.set", "membership.set"]
    assert audit["items"][0]["before"]["since"] == "1999-01-01"
    assert audit["items"][0]["actor"] == "user:admin"


async def test_cycles(client: httpx.AsyncClient, auth: dict[str, dict[str, str]]) -> None:
    cycles = (await client.get("/api/v1/cycles")).json()["items"]
    refs = {c["ref"] for c in cycles}
    assert {"CBD:NR7", "CMS:COP15"} <= refs
    new = {
        "convention": "CMS",
        "code": "COP16",
        "title": "COP16 reports",
        "opens_on": "2028-01-01",
        "due_on": "2028-12-31",
    }
    assert_problem(await client.post("/api/v1/cycles", json=new, headers=auth["cbd_sec"]), 403)
    created = await client.post("/api/v1/cycles", json=new, headers=auth["cms_sec"])
    assert created.status_code == 201
    assert created.json()["ref"] == "CMS:COP16"
    assert created.json()["template"] is None
    assert_problem(await client.post("/api/v1/cycles", json=new, headers=auth["admin"]), 409)
    backwards = new | {"code": "X", "opens_on": "2029-01-01"}
    assert_problem(await client.post("/api/v1/cycles", json=backwards, headers=auth["admin"]), 422)
    got = await client.get("/api/v1/cycles/CMS:COP16")
    assert got.json()["due_on"] == "2028-12-31"
    assert_problem(await client.get("/api/v1/cycles/CMSCOP16"), 400)
    assert_problem(await client.get("/api/v1/cycles/CMS:NOPE"), 404)


async def test_template_lifecycle(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    doc = minimal_template()
    created = await client.post("/api/v1/templates", json=doc, headers=auth["cms_sec"])
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assert created.json()["status"] == "draft"
    assert created.headers["location"] == f"/api/v1/templates/{tid}"
    # drafts are hidden from the public and from other secretariats
    assert_problem(await client.get(f"/api/v1/templates/{tid}"), 404)
    assert_problem(await client.get(f"/api/v1/templates/{tid}", headers=auth["cbd_sec"]), 404)
    listed = await client.get("/api/v1/templates", params={"status": "draft"})
    assert tid not in [t["id"] for t in listed.json()["items"]]
    mine = await client.get(
        "/api/v1/templates", params={"status": "draft"}, headers=auth["cms_sec"]
    )
    assert tid in [t["id"] for t in mine.json()["items"]]
    # replace the draft
    doc["title"]["en"] = "Test report, revised"
    replaced = await client.put(f"/api/v1/templates/{tid}", json=doc, headers=auth["cms_sec"])
    assert replaced.status_code == 200
    assert replaced.json()["title"] == "Test report, revised"
    # publish; then it is public and immutable
    published = await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["cms_sec"])
    assert published.status_code == 200, published.text
    assert published.json()["template"]["status"] == "published"
    public = await client.get(f"/api/v1/templates/{tid}")
    assert public.status_code == 200
    assert public.json()["sections"][0]["questions"][0]["text"] == "Is it covered?"
    doc["title"]["en"] = "Changed after publication"
    assert_problem(
        await client.put(f"/api/v1/templates/{tid}", json=doc, headers=auth["cms_sec"]), 409
    )
    assert_problem(
        await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["cms_sec"]), 409
    )
    assert_problem(await client.delete(f"/api/v1/templates/{tid}", headers=auth["cms_sec"]), 409)
    stored = await client.get(f"/api/v1/templates/{tid}/document")
    assert stored.json()["title"]["en"] == "Test report, revised"
    # the same version cannot be imported again; a new version can, and supersedes it
    assert_problem(await client.post("/api/v1/templates", json=doc, headers=auth["cms_sec"]), 409)
    newer = await client.post(
        "/api/v1/templates", json=doc | {"version": "9.1.0"}, headers=auth["cms_sec"]
    )
    assert newer.status_code == 201
    report = await client.post(
        f"/api/v1/templates/{newer.json()['id']}/publish", headers=auth["admin"]
    )
    assert report.json()["replaces"]["id"] == tid
    cycle = (await client.get("/api/v1/cycles/CMS:COP15")).json()
    assert cycle["template"] == {"id": newer.json()["id"], "version": "9.1.0"}
    # an older version cannot be published after a newer one
    older = await client.post(
        "/api/v1/templates", json=doc | {"version": "8.0.0"}, headers=auth["cms_sec"]
    )
    assert_problem(
        await client.post(
            f"/api/v1/templates/{older.json()['id']}/publish", headers=auth["cms_sec"]
        ),
        409,
    )
    deleted = await client.delete(
        f"/api/v1/templates/{older.json()['id']}", headers=auth["cms_sec"]
    )
    assert deleted.status_code == 204
    retired = await client.post(f"/api/v1/templates/{tid}/retire", headers=auth["cms_sec"])
    assert retired.json()["status"] == "retired"
    actions = [
        e["action"]
        for e in (
            await client.get(
                "/api/v1/audit",
                params={"target_type": "template", "limit": 100},
                headers=auth["admin"],
            )
        ).json()["items"]
    ]
    for action in (
        "template.import",
        "template.replace",
        "template.publish",
        "template.delete",
        "template.retire",
    ):
        assert action in actions


async def test_language_selection(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    created = await client.post(
        "/api/v1/templates", json=minimal_template(), headers=auth["cms_sec"]
    )
    tid = created.json()["id"]
    await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["cms_sec"])
    fr = await client.get(f"/api/v1/templates/{tid}", params={"lang": "fr"})
    assert fr.headers["content-language"] == "fr"
    question = fr.json()["sections"][0]["questions"][0]
    assert question["text"] == "Est-ce couvert ?"
    assert question["options"][0]["label"] == "Oui"
    # a label without French falls back to the first language
    assert fr.json()["sections"][0]["questions"][1]["text"] == "Details"
    header = await client.get(
        f"/api/v1/templates/{tid}", headers={"Accept-Language": "de-CH, fr;q=0.8, en;q=0.5"}
    )
    assert header.json()["lang"] == "fr"
    query_wins = await client.get(
        f"/api/v1/templates/{tid}", params={"lang": "en"}, headers={"Accept-Language": "fr"}
    )
    assert query_wins.json()["sections"][0]["title"] == "Policies"
    unknown = await client.get(f"/api/v1/templates/{tid}", params={"lang": "ru"})
    assert unknown.json()["lang"] == "en"
    assert unknown.json()["title"] == "Test report"


async def test_template_reads_carry_validators_and_never_serve_a_stale_copy(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    doc = minimal_template()
    tid = (await client.post("/api/v1/templates", json=doc, headers=auth["cms_sec"])).json()["id"]
    draft = await client.get(f"/api/v1/templates/{tid}", headers=auth["cms_sec"])
    assert draft.headers["cache-control"] == "private, no-cache"
    # a replaced draft is read with its new content at once, with a new validator
    doc["title"]["en"] = "Test report, revised"
    doc["sections"][0]["title"]["en"] = "Policies, revised"
    replaced = await client.put(f"/api/v1/templates/{tid}", json=doc, headers=auth["cms_sec"])
    assert replaced.status_code == 200, replaced.text
    again = await client.get(f"/api/v1/templates/{tid}", headers=auth["cms_sec"])
    assert again.json()["title"] == "Test report, revised"
    assert again.json()["sections"][0]["title"] == "Policies, revised"
    assert again.headers["etag"] != draft.headers["etag"]
    raw = await client.get(f"/api/v1/templates/{tid}/document", headers=auth["cms_sec"])
    assert raw.json() == doc
    await client.post(f"/api/v1/templates/{tid}/publish", headers=auth["cms_sec"])
    published = await client.get(f"/api/v1/templates/{tid}", params={"lang": "fr"})
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.headers["cache-control"].startswith("public")
    # (and Accept-Encoding once the body is large enough to be compressed)
    assert "Accept-Language" in [v.strip() for v in published.headers["vary"].split(",")]
    etag = published.headers["etag"]
    # the client's copy is current: 304 without a body; another language is another copy
    same = await client.get(
        f"/api/v1/templates/{tid}", params={"lang": "fr"}, headers={"If-None-Match": etag}
    )
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    english = await client.get(
        f"/api/v1/templates/{tid}", params={"lang": "en"}, headers={"If-None-Match": etag}
    )
    assert english.status_code == 200
    assert english.json()["lang"] == "en"
    # retiring changes the summary: the cached content is served with the fresh status
    retired = await client.post(f"/api/v1/templates/{tid}/retire", headers=auth["cms_sec"])
    assert retired.status_code == 200, retired.text
    after = await client.get(
        f"/api/v1/templates/{tid}", params={"lang": "fr"}, headers={"If-None-Match": etag}
    )
    assert after.status_code == 200
    assert after.json()["status"] == "retired"
    assert after.json()["retired_at"] is not None
    assert after.json()["sections"] == published.json()["sections"]
    assert after.headers["etag"] != etag
