"""Submit-once, secretariat decisions, comments, version differences and cycle status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlmodel import col

from cmsreporting.audit.service import record
from cmsreporting.auth.principal import Principal
from cmsreporting.core.document import iter_questions
from cmsreporting.core.projection import Report
from cmsreporting.core.validation import is_answered
from cmsreporting.crosswalk import concept_service, link_service, questions
from cmsreporting.db import orm_attr, utcnow, valid_id
from cmsreporting.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from cmsreporting.pagination import Page, paginate
from cmsreporting.registry.models import Cycle
from cmsreporting.registry.service import get_cycle, members_on, parse_cycle_ref
from cmsreporting.reporting import notices, preview_service
from cmsreporting.reporting.answer_service import answer_values
from cmsreporting.reporting.contexts import (
    CycleContext,
    Loaded,
    context_for,
    contexts,
    load,
    plan_for,
)
from cmsreporting.reporting.models import (
    Comment,
    IdempotencyRecord,
    Submission,
    Workspace,
    WorkspaceCycle,
)
from cmsreporting.templates import service as templates_service


def summary(submission: Submission) -> dict[str, Any]:
    """A submission without its values."""
    errors = sum(1 for i in submission.issues if i.get("severity") == "error")
    return {
        "id": submission.id,
        "workspace_id": submission.workspace_id,
        "party": submission.party_iso3,
        "convention": submission.cycle.convention_code,
        "cycle": submission.cycle.ref,
        "template_id": submission.template_id,
        "template_version": submission.template.version,
        "version": submission.version,
        "status": submission.status,
        "submitted_at": submission.submitted_at.isoformat(),
        "submitted_by": submission.submitted_by,
        "decided_at": submission.decided_at.isoformat() if submission.decided_at else None,
        "decided_by": submission.decided_by,
        "warnings": sum(1 for i in submission.issues if i.get("severity") == "warning"),
        "errors": errors,
    }


def pinned_download(submission_id: int, document_id: int) -> str:
    """Where a document a submission cites is downloaded, at the version it pinned."""
    return f"/api/v1/submissions/{submission_id}/documents/{document_id}"


def pinned_documents(submission: Submission) -> list[dict[str, Any]]:
    """The documents a submission cites, each at the version it pinned, with its download."""
    return [
        pin | {"download": pinned_download(submission.id, pin["document"])}
        for pin in submission.documents or []
    ]


def detail(submission: Submission) -> dict[str, Any]:
    """A submission with its values, provenance, issues and the documents it cites."""
    return summary(submission) | {
        "values": submission.values,
        "provenance": submission.provenance,
        "reused": submission.reused or {},
        "issues": submission.issues,
        "documents": pinned_documents(submission),
    }


def _query() -> Select[Submission]:
    return select(Submission).options(
        joinedload(orm_attr(Submission.cycle)), joinedload(orm_attr(Submission.template))
    )


async def _latest(session: AsyncSession, *, party: str, cycle_id: int) -> Submission | None:
    return await session.scalar(
        select(Submission)
        .where(col(Submission.party_iso3) == party, col(Submission.cycle_id) == cycle_id)
        .order_by(col(Submission.version).desc())
        .limit(1)
    )


async def find_idempotent(
    session: AsyncSession, *, workspace_id: int, key: str
) -> IdempotencyRecord | None:
    """The record of an earlier request with this key, if any."""
    return await session.scalar(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.workspace_id) == workspace_id, col(IdempotencyRecord.key) == key
        )
    )


async def submit(
    session: AsyncSession,
    *,
    principal: Principal,
    workspace: Workspace,
    cycle_refs: Sequence[str],
    key: str,
    request_digest: str,
) -> tuple[int, dict[str, Any]]:
    """Validate every requested cycle and snapshot each one: all of them or none.

    Repeating the Idempotency-Key returns the first result; reusing it for another request is
    refused.
    """
    earlier = await _replayed(session, workspace=workspace, key=key, digest=request_digest)
    if earlier is not None:
        return earlier
    chosen = _chosen_cycles(await contexts(session, workspace=workspace), cycle_refs)
    _authorize_submit(principal, workspace, chosen)
    loaded = await load(session, workspace=workspace, chosen=chosen)
    reports = _reports_without_blocking_issues(loaded)
    versions = await _next_versions(session, workspace=workspace, chosen=chosen)
    reused = [loaded.reused_of(c, r) for c, r in zip(chosen, reports, strict=True)]
    created = _snapshots(principal, workspace, chosen, reports, reused, versions)
    for context, report, submission in zip(chosen, reports, created, strict=True):
        # each cited document pinned at its current version: a later one does not change it
        submission.documents = await preview_service.cited_listing(
            session, party=workspace.party_iso3, cited=loaded.cited(context, report)
        )
    session.add_all(created)
    await session.flush()
    body = {"submissions": [summary(s) for s in created]}
    await _remember(
        session,
        principal=principal,
        workspace=workspace,
        key=key,
        digest=request_digest,
        body=body,
        created=created,
    )
    return 201, body


async def _replayed(
    session: AsyncSession, *, workspace: Workspace, key: str, digest: str
) -> tuple[int, dict[str, Any]] | None:
    """The first result of a repeated Idempotency-Key; a key reused for another body is
    refused."""
    earlier = await find_idempotent(session, workspace_id=workspace.id, key=key)
    if earlier is None:
        return None
    if earlier.request_digest != digest:
        raise InvalidInput(
            "this Idempotency-Key was used for a different request",
            errors=[FieldError("/Idempotency-Key", "reused with another body", **{"in": "header"})],
        )
    return earlier.status_code, earlier.response


def _chosen_cycles(
    cycle_contexts: list[CycleContext], cycle_refs: Sequence[str]
) -> list[CycleContext]:
    """The workspace's contexts of the requested cycles, each once (InvalidInput naming each
    bad entry)."""
    if not cycle_refs:
        raise InvalidInput("name at least one cycle", errors=[FieldError("/cycles", "empty")])
    chosen: list[CycleContext] = []
    errors: list[FieldError] = []
    for i, ref in enumerate(cycle_refs):
        try:
            parse_cycle_ref(ref)
            context = context_for(cycle_contexts, ref)
        except DomainError as exc:
            errors.append(FieldError(f"/cycles/{i}", exc.detail))
            continue
        if any(c.cycle.id == context.cycle.id for c in chosen):
            errors.append(FieldError(f"/cycles/{i}", f"{ref} is listed twice"))
            continue
        chosen.append(context)
    if errors:
        raise InvalidInput("cannot submit these cycles", errors=errors)
    return chosen


def _authorize_submit(
    principal: Principal, workspace: Workspace, chosen: list[CycleContext]
) -> None:
    """Only admins and the Party's focal points of each cycle's convention submit to it."""
    for i, context in enumerate(chosen):
        convention = context.cycle.convention_code
        if not (principal.is_admin or principal.is_focal_point(workspace.party_iso3, convention)):
            raise Forbidden(
                f"only {workspace.party_iso3}'s {convention} focal points submit to {convention}",
                errors=[FieldError(f"/cycles/{i}", "not your convention")],
            )


def _reports_without_blocking_issues(loaded: Loaded) -> list[Report]:
    """Each cycle's report; InvalidInput with every blocking issue if any report has one."""
    reports = []
    errors: list[FieldError] = []
    blocking: dict[str, list[dict[str, Any]]] = {}
    for i, context in enumerate(loaded.contexts):
        report = loaded.project(context)
        reports.append(report)
        if report.errors:
            blocking[context.cycle.ref] = [issue.as_dict() for issue in report.errors]
            errors.append(
                FieldError(f"/cycles/{i}", f"{len(report.errors)} issue(s) block submission")
            )
    if errors:
        raise InvalidInput(
            "nothing was submitted: some reports have blocking issues",
            errors=errors,
            issues=blocking,
        )
    return reports


async def _next_versions(
    session: AsyncSession, *, workspace: Workspace, chosen: list[CycleContext]
) -> list[int]:
    """The version each new submission takes; Conflict where the latest is not returned."""
    versions = []
    errors: list[FieldError] = []
    for i, context in enumerate(chosen):
        latest = await _latest(session, party=workspace.party_iso3, cycle_id=context.cycle.id)
        if latest is not None and latest.status != "returned":
            errors.append(
                FieldError(
                    f"/cycles/{i}",
                    f"version {latest.version} is {latest.status}; a new version follows a return",
                    submission=latest.id,
                )
            )
        versions.append(1 if latest is None else latest.version + 1)
    if errors:
        raise Conflict("nothing was submitted", errors=errors)
    return versions


def _snapshots(
    principal: Principal,
    workspace: Workspace,
    chosen: list[CycleContext],
    reports: list[Report],
    reused: list[dict[str, dict[str, Any]]],
    versions: list[int],
) -> list[Submission]:
    """One frozen submission per cycle, all stamped with the same time."""
    now = utcnow()
    return [
        Submission(
            workspace_id=workspace.id,
            party_iso3=workspace.party_iso3,
            cycle=context.cycle,
            template=context.template,
            version=version,
            status="submitted",
            values=report.values,
            provenance=report.provenance,
            reused=sources or None,
            issues=[issue.as_dict() for issue in report.issues],
            submitted_at=now,
            submitted_by=principal.actor,
        )
        for context, report, sources, version in zip(chosen, reports, reused, versions, strict=True)
    ]


async def _remember(
    session: AsyncSession,
    *,
    principal: Principal,
    workspace: Workspace,
    key: str,
    digest: str,
    body: dict[str, Any],
    created: list[Submission],
) -> None:
    """Keep the result under its Idempotency-Key and audit each new submission."""
    session.add(
        IdempotencyRecord(
            workspace_id=workspace.id,
            key=key,
            request_digest=digest,
            status_code=201,
            response=body,
            created_by=principal.actor,
        )
    )
    for s in created:
        await record(
            session,
            actor=principal.actor,
            action="submission.create",
            target_type="submission",
            target_id=str(s.id),
            after=summary(s),
        )
    await session.flush()


def can_read(principal: Principal, submission: Submission) -> bool:
    """Admins, the convention's secretariat, the Party's focal points, reviewers if accepted."""
    return (
        principal.is_admin
        or principal.is_secretariat(submission.cycle.convention_code)
        or principal.is_focal_point(submission.party_iso3)
        or (principal.is_reviewer and submission.status == "accepted")
    )


async def get_submission(
    session: AsyncSession, *, submission_id: int, principal: Principal
) -> Submission:
    """A submission the caller may read; others are reported as missing."""
    if not valid_id(submission_id):
        raise NotFound(f"no submission {submission_id}")
    submission = await session.scalar(_query().where(col(Submission.id) == submission_id))
    if submission is None or not can_read(principal, submission):
        raise NotFound(f"no submission {submission_id}")
    return submission


async def list_submissions(
    session: AsyncSession,
    *,
    principal: Principal,
    convention: str | None,
    cycle: str | None,
    party: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Submission]:
    """Submissions the caller may read, filtered."""
    stmt = _query().join(Cycle, col(Cycle.id) == col(Submission.cycle_id))
    if not principal.is_admin:
        secretariat = sorted(principal.secretariat_of)
        parties = sorted({g.party for g in principal.grants if g.role == "focal_point" and g.party})
        visible = col(Cycle.convention_code).in_(secretariat) | col(Submission.party_iso3).in_(
            parties
        )
        if principal.is_reviewer:
            visible = visible | (col(Submission.status) == "accepted")
        stmt = stmt.where(visible)
    if convention:
        stmt = stmt.where(col(Cycle.convention_code) == convention)
    if cycle:
        conv, code = parse_cycle_ref(cycle)
        stmt = stmt.where(col(Cycle.convention_code) == conv, col(Cycle.code) == code)
    if party:
        stmt = stmt.where(col(Submission.party_iso3) == party.upper())
    if status:
        stmt = stmt.where(col(Submission.status) == status)
    return await paginate(session, stmt, orm_attr(Submission.id), limit=limit, cursor=cursor)


async def decide(
    session: AsyncSession,
    *,
    principal: Principal,
    submission: Submission,
    decision: str,
    comment: str | None,
) -> Submission:
    """Accept a submission, or return it with a comment (the convention's secretariat)."""
    convention = submission.cycle.convention_code
    if not (principal.is_admin or principal.is_secretariat(convention)):
        raise Forbidden(f"only the {convention} secretariat decides on its submissions")
    if submission.status != "submitted":
        raise Conflict(f"submission {submission.id} is already {submission.status}")
    if decision == "return" and not (comment and comment.strip()):
        raise InvalidInput(
            "say why the submission is returned", errors=[FieldError("/comment", "required")]
        )
    before = summary(submission)
    submission.status = "accepted" if decision == "accept" else "returned"
    submission.decided_at = utcnow()
    submission.decided_by = principal.actor
    if comment and comment.strip():
        session.add(
            Comment(
                submission_id=submission.id,
                kind=decision,
                body=comment.strip(),
                author=principal.actor,
            )
        )
    await record(
        session,
        actor=principal.actor,
        action=f"submission.{decision}",
        target_type="submission",
        target_id=str(submission.id),
        before=before,
        after=summary(submission),
    )
    await notices.decision(
        session,
        actor=principal.actor,
        submission=submission,
        decided=decision,
        comment=comment,
    )
    await session.flush()
    return submission


def can_comment(principal: Principal, submission: Submission) -> bool:
    """Admins, the convention's secretariat and the Party's focal points for it."""
    convention = submission.cycle.convention_code
    return (
        principal.is_admin
        or principal.is_secretariat(convention)
        or principal.is_focal_point(submission.party_iso3, convention)
    )


async def list_comments(
    session: AsyncSession, *, submission: Submission
) -> list[tuple[Comment, int]]:
    """The feedback thread of the submission's Party and cycle, across its versions, oldest
    first: each comment with the version it was written on."""
    rows = await session.execute(
        select(Comment, col(Submission.version))
        .join(Submission, col(Submission.id) == col(Comment.submission_id))
        .where(
            col(Submission.party_iso3) == submission.party_iso3,
            col(Submission.cycle_id) == submission.cycle_id,
        )
        .order_by(col(Comment.id))
    )
    return [(comment, version) for comment, version in rows.all()]


@dataclass(frozen=True)
class CycleReview:
    """Where one cycle of a workspace stands with its secretariat."""

    cycle: Cycle
    versions: list[Submission]  # oldest first
    comments: list[tuple[Comment, int]]
    past_due: bool


async def workspace_review(
    session: AsyncSession, *, principal: Principal, workspace: Workspace, today: date
) -> list[CycleReview]:
    """For each cycle of a workspace: its submitted versions, the feedback thread across them
    (for those who may read it), and whether it is past due without a report."""
    links = sorted(workspace.cycles, key=lambda link: link.cycle.ref)
    found = await session.scalars(
        _query()
        .where(
            col(Submission.party_iso3) == workspace.party_iso3,
            col(Submission.cycle_id).in_([link.cycle_id for link in links]),
        )
        .order_by(col(Submission.version))
    )
    versions: dict[int, list[Submission]] = {link.cycle_id: [] for link in links}
    for submission in found.unique().all():
        versions[submission.cycle_id].append(submission)
    reviews = []
    for link in links:
        mine = versions[link.cycle_id]
        thread = (
            await list_comments(session, submission=mine[-1])
            if mine and can_comment(principal, mine[-1])
            else []
        )
        reviews.append(
            CycleReview(
                cycle=link.cycle,
                versions=mine,
                comments=thread,
                past_due=today > link.cycle.due_on and not mine,
            )
        )
    return reviews


async def add_comment(
    session: AsyncSession,
    *,
    principal: Principal,
    submission: Submission,
    body: str,
    question: str | None,
) -> Comment:
    """Add to the feedback thread, optionally about one question."""
    if not can_comment(principal, submission):
        raise Forbidden("only the secretariat and the Party's focal points comment here")
    if not body.strip():
        raise InvalidInput("a comment needs some text", errors=[FieldError("/body", "blank")])
    if question is not None and question not in questions.question_index(submission.template):
        raise InvalidInput(
            f"{submission.cycle.ref} has no question {question!r}",
            errors=[FieldError("/question", "unknown question")],
        )
    comment = Comment(
        submission_id=submission.id,
        question_id=question,
        body=body.strip(),
        author=principal.actor,
    )
    session.add(comment)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="comment.create",
        target_type="submission",
        target_id=str(submission.id),
        after={"comment": comment.id, "question": question},
    )
    convention = submission.cycle.convention_code
    await notices.comment_posted(
        session,
        author=principal.actor,
        author_id=principal.user_id,
        from_party=not (principal.is_admin or principal.is_secretariat(convention)),
        submission=submission,
        comment=comment,
    )
    return comment


async def diff(
    session: AsyncSession, *, principal: Principal, submission: Submission, against: int | None
) -> dict[str, Any]:
    """What changed between an earlier version and this one."""
    if against is None:
        other = await session.scalar(
            _query()
            .where(
                col(Submission.party_iso3) == submission.party_iso3,
                col(Submission.cycle_id) == submission.cycle_id,
                col(Submission.version) < submission.version,
            )
            .order_by(col(Submission.version).desc())
            .limit(1)
        )
        if other is None:
            raise NotFound(f"submission {submission.id} is the first version")
    else:
        other = await get_submission(session, submission_id=against, principal=principal)
        if (other.party_iso3, other.cycle_id) != (submission.party_iso3, submission.cycle_id):
            raise InvalidInput(
                "compare versions of the same Party and cycle",
                errors=[FieldError("/against", "another Party or cycle")],
            )
    old, new = other.values, submission.values
    changes = []
    for qid in [*old, *(q for q in new if q not in old)]:
        if old.get(qid) != new.get(qid):
            kind = "added" if qid not in old else "removed" if qid not in new else "changed"
            changes.append(
                {"question": qid, "change": kind, "before": old.get(qid), "after": new.get(qid)}
            )
    return {
        "from": summary(other),
        "to": summary(submission),
        "changes": changes,
    }


async def cycle_status(session: AsyncSession, *, cycle_ref: str, today: date) -> dict[str, Any]:
    """Each Party that was a member of the cycle's convention on its due date, and any other
    that submitted to it (one that withdrew keeps its submissions): where its report stands."""
    cycle = await get_cycle(session, ref=cycle_ref)
    due_members = await members_on(session, convention=cycle.convention_code, day=cycle.due_on)
    links = {
        wc.party_iso3: wc.workspace_id
        for wc in (
            await session.scalars(
                select(WorkspaceCycle).where(col(WorkspaceCycle.cycle_id) == cycle.id)
            )
        ).all()
    }
    latest: dict[str, Submission] = {}
    first_submitted: dict[str, date] = {}
    for submission in (
        await session.scalars(
            select(Submission)
            .where(col(Submission.cycle_id) == cycle.id)
            .order_by(col(Submission.version))
        )
    ).all():
        latest[submission.party_iso3] = submission
        first_submitted.setdefault(submission.party_iso3, submission.submitted_at.date())
    member_set = set(due_members)
    members = sorted(member_set | set(latest))
    template = None
    plan = None
    if any(p in links and p not in latest for p in members):
        template = await templates_service.current_template(session, cycle_ref=cycle.ref)
        bindings = (await link_service.bindings_of(session, template_ids=[template.id]))[
            template.id
        ]
        concepts = await concept_service.concepts_by_key(
            session, keys={b.concept for b in bindings}
        )
        plan = plan_for(template, bindings, concepts)
    late = today > cycle.due_on
    rows = []
    counts: dict[str, int] = {}
    for party in members:
        row: dict[str, Any] = {
            "party": party,
            "member": party in member_set,
            "workspace_id": links.get(party),
        }
        if party in latest:
            submission = latest[party]
            row |= {
                "status": submission.status,
                "submission_id": submission.id,
                "version": submission.version,
                "submitted_at": submission.submitted_at.isoformat(),
            }
            # a returned report is late while it is past due; a submitted or accepted one if
            # its first version came after the due date (dates in UTC)
            row["late"] = (
                late if submission.status == "returned" else first_submitted[party] > cycle.due_on
            )
        elif party in links and template is not None and plan is not None:
            answers = await answer_values(session, workspace_id=links[party])
            report = plan.project(answers)
            required = [q for q in _required(template.document) if q not in report.hidden]
            done = sum(1 for q in required if is_answered(report.values.get(q)))
            row |= {
                "status": "in_progress",
                "required_answered": done,
                "required_total": len(required),
                "share_answered": round(done / len(required), 4) if required else 1.0,
                "late": late,
            }
        else:
            row |= {"status": "not_started", "late": late}
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        rows.append(row)
    return {
        "cycle": cycle.ref,
        "due_on": cycle.due_on.isoformat(),
        "past_due": late,
        "totals": counts
        | {
            "parties": len(rows),
            "members": len(member_set),
            "late": sum(1 for r in rows if r["late"]),
        },
        "parties": rows,
    }


def _required(document: dict[str, Any]) -> list[str]:
    return [q["id"] for _, q in iter_questions(document) if q.get("required")]
