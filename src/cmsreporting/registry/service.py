"""Conventions, Parties, memberships and cycles."""

from __future__ import annotations

import gettext
import json
from datetime import date
from functools import lru_cache
from typing import Any

import pycountry
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.core.memberships import (
    ListProblems,
    MembershipList,
    Row,
    is_member_on,
    read_csv,
    read_json,
)
from cmsreporting.db import orm_attr, utcnow
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


def member_on(day: date) -> ColumnElement[bool]:
    """SQL: the membership holds on that day (in force, and no withdrawal in effect)."""
    return and_(
        or_(col(Membership.since).is_(None), col(Membership.since) <= day),
        or_(col(Membership.withdrawn_on).is_(None), col(Membership.withdrawn_on) > day),
    )


async def members_on(session: AsyncSession, *, convention: str, day: date) -> list[str]:
    """The Parties that are members of a convention on a day, by code."""
    return list(
        (
            await session.scalars(
                select(col(Membership.party_iso3))
                .where(col(Membership.convention_code) == convention, member_on(day))
                .order_by(col(Membership.party_iso3))
            )
        ).all()
    )


async def is_member(session: AsyncSession, *, party: str, convention: str, day: date) -> bool:
    """Whether a Party is a member of a convention on a day."""
    found = await session.scalar(
        select(col(Membership.id)).where(
            col(Membership.party_iso3) == party,
            col(Membership.convention_code) == convention,
            member_on(day),
        )
    )
    return found is not None


async def list_parties(
    session: AsyncSession,
    *,
    convention: str | None,
    on: date,
    limit: int,
    cursor: str | None,
) -> tuple[Page[Party], dict[str, list[Membership]]]:
    """Parties (members of a convention on a day, when one is given) and their memberships."""
    stmt = select(Party)
    if convention is not None:
        await get_convention(session, code=convention)
        stmt = stmt.join(Membership, col(Membership.party_iso3) == col(Party.iso3)).where(
            col(Membership.convention_code) == convention, member_on(on)
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


async def has_recorded_memberships(session: AsyncSession, *, convention: str) -> bool:
    """Whether a convention has memberships other than demo ones."""
    found = await session.scalar(
        select(col(Membership.id))
        .where(col(Membership.convention_code) == convention, col(Membership.demo).is_(False))
        .limit(1)
    )
    return found is not None


async def get_party(session: AsyncSession, *, iso3: str) -> Party:
    """One Party by ISO 3166-1 alpha-3 code."""
    party = await session.get(Party, iso3.upper())
    if party is None:
        raise NotFound(f"no Party with ISO 3166-1 alpha-3 code {iso3!r}")
    return party


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def membership_record(m: Membership) -> dict[str, Any]:
    """A membership's dates and source, as audit events and change lists show them."""
    return {
        "since": _iso(m.since),
        "withdrawn_on": _iso(m.withdrawn_on),
        "source": m.source,
        "source_name": m.source_name,
        "source_read_on": _iso(m.source_read_on),
        "demo": m.demo,
    }


async def set_membership(
    session: AsyncSession,
    *,
    actor: str,
    iso3: str,
    convention: str,
    since: date | None,
    source: str | None,
    demo: bool,
    withdrawn_on: date | None = None,
    source_name: str | None = None,
    source_read_on: date | None = None,
) -> tuple[Membership, bool]:
    """Create or update a membership; True when it was created."""
    party = await get_party(session, iso3=iso3)
    await get_convention(session, code=convention)
    if since is not None and withdrawn_on is not None and withdrawn_on <= since:
        raise InvalidInput(
            "the withdrawal must take effect after the entry into force",
            errors=[FieldError("/withdrawn_on", "on or before `since`")],
        )
    membership = await session.scalar(
        select(Membership).where(
            col(Membership.party_iso3) == party.iso3, col(Membership.convention_code) == convention
        )
    )
    created = membership is None
    before = None
    if membership is None:
        membership = Membership(party_iso3=party.iso3, convention_code=convention)
        session.add(membership)
    else:
        before = membership_record(membership)
    membership.since, membership.withdrawn_on = since, withdrawn_on
    membership.source, membership.source_name = source, source_name
    membership.source_read_on, membership.demo = source_read_on, demo
    membership.updated_at = utcnow()
    after = membership_record(membership)
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
        before=membership_record(membership),
    )


# --- membership lists ---------------------------------------------------------------------


async def membership_overview(
    session: AsyncSession, *, convention: str, on: date, limit: int, cursor: str | None
) -> tuple[dict[str, Any], Page[Membership]]:
    """A convention's membership: how many Parties are members on a day, the lists it was
    taken from, and every membership (past ones too), by Party."""
    await get_convention(session, code=convention)
    rows = (
        await session.execute(
            select(
                col(Membership.since),
                col(Membership.withdrawn_on),
                col(Membership.source),
                col(Membership.source_name),
                col(Membership.source_read_on),
                col(Membership.demo),
            ).where(col(Membership.convention_code) == convention)
        )
    ).all()
    members = 0
    withdrawn = 0
    sources: dict[tuple[Any, ...], int] = {}
    for since, withdrawn_on, source, name, read_on, demo in rows:
        if is_member_on(since, withdrawn_on, on):
            members += 1
        elif withdrawn_on is not None and withdrawn_on <= on:
            withdrawn += 1
        key = (source, name, read_on, demo)
        sources[key] = sources.get(key, 0) + 1
    summary = {
        "convention": convention,
        "on": on,
        "members": members,
        "withdrawn": withdrawn,
        "total": len(rows),
        "sources": [
            {"url": url, "name": name, "read_on": read_on, "demo": demo, "memberships": n}
            for (url, name, read_on, demo), n in sorted(
                sources.items(), key=lambda kv: (-kv[1], str(kv[0][0]))
            )
        ],
    }
    page = await paginate(
        session,
        select(Membership).where(col(Membership.convention_code) == convention),
        orm_attr(Membership.party_iso3),
        limit=limit,
        cursor=cursor,
        key_type=str,
    )
    return summary, page


def read_membership_list(
    raw: bytes, *, kind: str, expected: str | None, today: date
) -> MembershipList:
    """A membership list from a CSV or JSON file's bytes, checked (Party codes apart)."""
    try:
        if kind == "csv":
            return read_csv(raw, expected=expected, today=today)
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(
                "the membership list is not valid JSON", errors=[FieldError("", str(exc)[:200])]
            ) from None
        return read_json(document, expected=expected, today=today)
    except ListProblems as exc:
        raise InvalidInput(exc.detail, errors=exc.errors) from None


def _row_record(row: Row) -> dict[str, Any]:
    return {
        "since": row.since.isoformat(),
        "withdrawn_on": _iso(row.withdrawn_on),
        "source": row.source.url,
        "source_name": row.source.name,
        "source_read_on": row.source.read_on.isoformat(),
        "demo": False,
    }


async def import_memberships(
    session: AsyncSession,
    *,
    actor: str,
    convention: str,
    listing: MembershipList,
    dry_run: bool,
) -> dict[str, Any]:
    """Make a convention's memberships those of a published list: Parties on the list are
    added, withdrawn or changed to match it, Parties not on it are removed; all or nothing.
    A dry run says what would change and stores nothing."""
    code = (await get_convention(session, code=convention)).code
    if listing.convention != code.upper():
        raise InvalidInput(
            f"this list is for {listing.convention}, not {code}; nothing was stored",
            errors=[FieldError("/convention", f"expected {code}")],
        )
    codes = {row.party for row in listing.rows}
    known = set(
        (await session.scalars(select(col(Party.iso3)).where(col(Party.iso3).in_(codes)))).all()
    )
    unknown = [row for row in listing.rows if row.party not in known]
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} unknown Party code{'' if len(unknown) == 1 else 's'}; "
            "nothing was stored",
            errors=[
                FieldError(
                    row.pointer("party"),
                    f"{row.where}: no Party {row.party!r} (ISO 3166-1 alpha-3, or EU)",
                )
                for row in unknown[:100]
            ],
        )
    existing = {
        m.party_iso3: m
        for m in (
            await session.scalars(select(Membership).where(col(Membership.convention_code) == code))
        ).all()
    }
    changes: dict[str, list[Any]] = {
        "added": [],
        "withdrawn": [],
        "changed": [],
        "removed": [],
        "unchanged": [],
    }
    for row in listing.rows:
        after = _row_record(row)
        current = existing.get(row.party)
        if current is None:
            changes["added"].append({"party": row.party, **after})
            if not dry_run:
                session.add(
                    Membership(
                        party_iso3=row.party,
                        convention_code=code,
                        since=row.since,
                        withdrawn_on=row.withdrawn_on,
                        source=row.source.url,
                        source_name=row.source.name,
                        source_read_on=row.source.read_on,
                        demo=False,
                    )
                )
            continue
        before = membership_record(current)
        fields = [k for k in ("since", "withdrawn_on", "demo") if before[k] != after[k]]
        if not fields:
            changes["unchanged"].append(row.party)
        elif current.withdrawn_on is None and row.withdrawn_on is not None:
            changes["withdrawn"].append({"party": row.party, "before": before, "after": after})
        else:
            changes["changed"].append(
                {"party": row.party, "fields": fields, "before": before, "after": after}
            )
        if not dry_run:
            if fields:
                current.updated_at = utcnow()
            current.since, current.withdrawn_on = row.since, row.withdrawn_on
            current.source, current.source_name = row.source.url, row.source.name
            current.source_read_on, current.demo = row.source.read_on, False
    for party in sorted(set(existing) - codes):
        changes["removed"].append({"party": party, **membership_record(existing[party])})
        if not dry_run:
            await session.delete(existing[party])
    sources: dict[tuple[str, str | None, date], int] = {}
    for row in listing.rows:
        key = (row.source.url, row.source.name, row.source.read_on)
        sources[key] = sources.get(key, 0) + 1
    result: dict[str, Any] = {
        "convention": code,
        "dry_run": dry_run,
        "totals": {k: len(v) for k, v in changes.items()} | {"rows": len(listing.rows)},
        **changes,
        "sources": [
            {"url": url, "name": name, "read_on": read_on.isoformat(), "rows": n}
            for (url, name, read_on), n in sources.items()
        ],
    }
    if not dry_run:
        await session.flush()
        await record(
            session,
            actor=actor,
            action="membership.import",
            target_type="convention",
            target_id=code,
            before={
                "memberships": len(existing),
                "records": {
                    c["party"]: c["before"] for k in ("withdrawn", "changed") for c in changes[k]
                }
                | {
                    c["party"]: {k: v for k, v in c.items() if k != "party"}
                    for c in changes["removed"]
                },
            },
            after={
                "totals": result["totals"],
                "sources": result["sources"],
                **{
                    k: [c if isinstance(c, str) else c["party"] for c in v]
                    for k, v in changes.items()
                    if k != "unchanged"
                },
                "records": {
                    c["party"]: c["after"] for k in ("withdrawn", "changed") for c in changes[k]
                }
                | {
                    c["party"]: {k: v for k, v in c.items() if k != "party"}
                    for c in changes["added"]
                },
            },
        )
    return result


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
