"""Conventions, Parties, memberships and cycles."""

from __future__ import annotations

import gettext
import json
from datetime import date
from functools import lru_cache
from typing import Any

import pycountry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.db import orm_attr
from cmsreporting.errors import BadRequest, Conflict, FieldError, InvalidInput, NotFound
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Convention, Cycle, Membership, Party
from cmsreporting.registry.schemas import CycleIn
from cmsreporting.resources import content_dir


def _reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((content_dir() / "reference" / name).read_text("utf-8"))
    return data


async def load_reference_data(session: AsyncSession, *, actor: str) -> dict[str, int]:
    """Insert the conventions, Parties, memberships and cycles that are missing."""
    added = {"conventions": 0, "parties": 0, "memberships": 0, "cycles": 0}
    known = set((await session.scalars(select(col(Convention.code)))).all())
    conventions = _reference("conventions.json")["conventions"]
    for item in sorted(conventions, key=lambda c: c.get("family") is not None):
        if item["code"] not in known:
            session.add(
                Convention(
                    code=item["code"],
                    name=item["name"],
                    languages=item["languages"],
                    family=item.get("family"),
                    url=item.get("url"),
                )
            )
            added["conventions"] += 1
            await session.flush()
    known_parties = set((await session.scalars(select(col(Party.iso3)))).all())
    for organisation in _reference("organisations.json")["organisations"]:
        if organisation["code"] not in known_parties:
            session.add(
                Party(
                    iso3=organisation["code"],
                    iso2=organisation["iso2"],
                    numeric=None,
                    name=organisation["name"]["en"],
                    kind=organisation["kind"],
                )
            )
            added["parties"] += 1
    for country in pycountry.countries:
        if country.alpha_3 not in known_parties:
            session.add(
                Party(
                    iso3=country.alpha_3,
                    iso2=country.alpha_2,
                    numeric=country.numeric,
                    name=getattr(country, "common_name", None) or country.name,
                    official_name=getattr(country, "official_name", None),
                )
            )
            added["parties"] += 1
    await session.flush()
    for item in _reference("memberships.json")["memberships"]:
        exists = await session.scalar(
            select(col(Membership.id)).where(
                col(Membership.party_iso3) == item["party"],
                col(Membership.convention_code) == item["convention"],
            )
        )
        if exists is None:
            session.add(
                Membership(
                    party_iso3=item["party"],
                    convention_code=item["convention"],
                    since=date.fromisoformat(item["since"]) if item.get("since") else None,
                    source=item["source"],
                )
            )
            added["memberships"] += 1
    for item in _reference("cycles.json")["cycles"]:
        exists = await session.scalar(
            select(col(Cycle.id)).where(
                col(Cycle.convention_code) == item["convention"], col(Cycle.code) == item["code"]
            )
        )
        if exists is None:
            session.add(
                Cycle(
                    convention_code=item["convention"],
                    code=item["code"],
                    title=item["title"],
                    opens_on=date.fromisoformat(item["opens_on"]),
                    due_on=date.fromisoformat(item["due_on"]),
                    note=item.get("note"),
                )
            )
            added["cycles"] += 1
    await session.flush()
    if any(added.values()):
        await record(
            session,
            actor=actor,
            action="reference.load",
            target_type="registry",
            target_id="reference",
            after=added,
        )
    return added


# --- Party names in other languages ------------------------------------------------------


@lru_cache(maxsize=16)
def _country_names(lang: str) -> gettext.NullTranslations:
    """pycountry's translations of ISO 3166-1 names into one language (none: as they are)."""
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


@lru_cache(maxsize=1)
def _organisation_names() -> dict[str, dict[str, str]]:
    return {o["code"]: o["name"] for o in _reference("organisations.json")["organisations"]}


def party_name(party: Party, lang: str | None) -> str:
    """A Party's name in a language (`fr`, `es-419`…), English when no translation is known."""
    if not lang:
        return party.name
    base = lang.split("-")[0].split("_")[0].lower()
    if not (2 <= len(base) <= 3 and base.isascii() and base.isalpha()):
        return party.name  # not a language subtag (and never a path to a catalogue)
    if party.kind != "state":
        names = _organisation_names().get(party.iso3, {})
        return names.get(base) or party.name
    return _country_names(base).gettext(party.name)


# --- conventions -------------------------------------------------------------------------


async def list_conventions(session: AsyncSession) -> list[Convention]:
    """All conventions, by code."""
    return list((await session.scalars(select(Convention).order_by(col(Convention.code)))).all())


async def get_convention(session: AsyncSession, *, code: str) -> Convention:
    """One convention by code."""
    convention = await session.get(Convention, code)
    if convention is None:
        raise NotFound(f"no convention {code!r}")
    return convention


# --- parties and memberships ------------------------------------------------------------


async def list_parties(
    session: AsyncSession, *, convention: str | None, limit: int, cursor: str | None
) -> tuple[Page[Party], dict[str, list[Membership]]]:
    """Parties (members of a convention, when given) and their memberships."""
    stmt = select(Party)
    if convention is not None:
        await get_convention(session, code=convention)
        stmt = stmt.join(Membership, col(Membership.party_iso3) == col(Party.iso3)).where(
            col(Membership.convention_code) == convention
        )
    page = await paginate(
        session, stmt, orm_attr(Party.iso3), limit=limit, cursor=cursor, key_type=str
    )
    return page, await memberships_of(session, parties=[p.iso3 for p in page.items])


async def memberships_of(
    session: AsyncSession, *, parties: list[str]
) -> dict[str, list[Membership]]:
    """Memberships of the given Parties, by Party."""
    result: dict[str, list[Membership]] = {iso3: [] for iso3 in parties}
    if parties:
        rows = await session.scalars(
            select(Membership)
            .where(col(Membership.party_iso3).in_(parties))
            .order_by(col(Membership.convention_code))
        )
        for m in rows:
            result[m.party_iso3].append(m)
    return result


async def get_party(session: AsyncSession, *, iso3: str) -> Party:
    """One Party by ISO 3166-1 alpha-3 code."""
    party = await session.get(Party, iso3.upper())
    if party is None:
        raise NotFound(f"no Party with ISO 3166-1 alpha-3 code {iso3!r}")
    return party


async def set_membership(
    session: AsyncSession,
    *,
    actor: str,
    iso3: str,
    convention: str,
    since: date | None,
    source: str | None,
    demo: bool,
) -> tuple[Membership, bool]:
    """Create or update a membership; True when it was created."""
    party = await get_party(session, iso3=iso3)
    await get_convention(session, code=convention)
    membership = await session.scalar(
        select(Membership).where(
            col(Membership.party_iso3) == party.iso3, col(Membership.convention_code) == convention
        )
    )
    after = {"since": since.isoformat() if since else None, "source": source, "demo": demo}
    created = membership is None
    before = None
    if membership is None:
        membership = Membership(
            party_iso3=party.iso3, convention_code=convention, since=since, source=source, demo=demo
        )
        session.add(membership)
    else:
        before = {
            "since": membership.since.isoformat() if membership.since else None,
            "source": membership.source,
            "demo": membership.demo,
        }
        membership.since, membership.source, membership.demo = since, source, demo
    await session.flush()
    await record(
        session,
        actor=actor,
        action="membership.set",
        target_type="membership",
        target_id=f"{party.iso3}:{convention}",
        before=before,
        after=after,
    )
    return membership, created


async def delete_membership(
    session: AsyncSession, *, actor: str, iso3: str, convention: str
) -> None:
    """Remove a membership."""
    membership = await session.scalar(
        select(Membership).where(
            col(Membership.party_iso3) == iso3.upper(),
            col(Membership.convention_code) == convention,
        )
    )
    if membership is None:
        raise NotFound(f"{iso3.upper()} is not a member of {convention}")
    await session.delete(membership)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="membership.delete",
        target_type="membership",
        target_id=f"{iso3.upper()}:{convention}",
        before={"since": membership.since.isoformat() if membership.since else None},
    )


# --- cycles -------------------------------------------------------------------------------


def parse_cycle_ref(ref: str, *, field: str = "cycle") -> tuple[str, str]:
    """CONVENTION:CYCLE into its two parts."""
    convention, sep, code = ref.partition(":")
    if not sep or not convention or not code or ":" in code:
        raise BadRequest(
            f"{ref!r} is not a cycle reference of the form CONVENTION:CYCLE",
            errors=[FieldError(f"/{field}", "expected CONVENTION:CYCLE")],
        )
    return convention, code


async def get_cycle(session: AsyncSession, *, ref: str) -> Cycle:
    """A cycle by its reference CONVENTION:CYCLE."""
    convention, code = parse_cycle_ref(ref)
    cycle = await session.scalar(
        select(Cycle).where(col(Cycle.convention_code) == convention, col(Cycle.code) == code)
    )
    if cycle is None:
        raise NotFound(f"no cycle {ref!r}")
    return cycle


async def list_cycles(
    session: AsyncSession, *, convention: str | None, limit: int, cursor: str | None
) -> Page[Cycle]:
    """Cycles, optionally of one convention."""
    stmt = select(Cycle)
    if convention is not None:
        stmt = stmt.where(col(Cycle.convention_code) == convention)
    return await paginate(session, stmt, orm_attr(Cycle.id), limit=limit, cursor=cursor)


async def create_cycle(session: AsyncSession, *, actor: str, data: CycleIn) -> Cycle:
    """A new cycle of an existing convention."""
    if await session.get(Convention, data.convention) is None:
        raise InvalidInput(
            f"unknown convention {data.convention!r}",
            errors=[FieldError("/convention", "unknown convention")],
        )
    exists = await session.scalar(
        select(col(Cycle.id)).where(
            col(Cycle.convention_code) == data.convention, col(Cycle.code) == data.code
        )
    )
    if exists is not None:
        raise Conflict(
            f"cycle {data.convention}:{data.code} exists",
            errors=[FieldError("/code", "a cycle with this code exists")],
        )
    cycle = Cycle(
        convention_code=data.convention,
        code=data.code,
        title=data.title,
        opens_on=data.opens_on,
        due_on=data.due_on,
        note=data.note,
        reminder_days=data.reminder_days,
    )
    session.add(cycle)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="cycle.create",
        target_type="cycle",
        target_id=cycle.ref,
        after=data.model_dump(mode="json"),
    )
    return cycle
