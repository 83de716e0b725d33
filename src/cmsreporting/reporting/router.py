"""Workspaces, answers, previews, submissions, comments and cycle status."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from cmsreporting.auth.deps import CurrentUser, optional_principal
from cmsreporting.auth.principal import Principal
from cmsreporting.db import SessionDep, utcnow
from cmsreporting.errors import FieldError, Forbidden, InvalidInput
from cmsreporting.pagination import PageOut, Paging
from cmsreporting.registry.service import get_cycle
from cmsreporting.reporting import (
    access,
    answer_service,
    assignments,
    presence,
    preview_service,
    reuse_service,
    submissions,
    workspace_service,
)
from cmsreporting.reporting.models import Answer, Comment, Workspace
from cmsreporting.reporting.schemas import (
    AnswerOut,
    AnswersIn,
    AnswersOut,
    CommentIn,
    CommentOut,
    CycleReviewOut,
    CycleStatusOut,
    DecisionIn,
    DiffOut,
    FormOut,
    PresenceOut,
    PreviewOut,
    SubmissionDetailOut,
    SubmissionOut,
    SubmissionPageOut,
    SubmissionStatus,
    SubmitIn,
    SubmittedOut,
    WorkspaceCycleOut,
    WorkspaceIn,
    WorkspaceOut,
    WorkspaceReviewOut,
    WorkspaceSuggestionsOut,
)

router = APIRouter(prefix="/api/v1", dependencies=[Depends(optional_principal)])


def workspace_out(workspace: Workspace, carried: int | None = None) -> WorkspaceOut:
    """API form of a workspace."""
    return WorkspaceOut(
        id=workspace.id,
        party=workspace.party_iso3,
        title=workspace.title,
        cycles=[
            WorkspaceCycleOut(
                cycle=link.cycle.ref,
                convention=link.cycle.convention_code,
                title=link.cycle.title,
                due_on=link.cycle.due_on.isoformat(),
            )
            for link in workspace.cycles
        ],
        created_at=workspace.created_at,
        created_by=workspace.created_by,
        carried_forward=carried,
    )


def answer_out(answer: Answer | answer_service.Written) -> AnswerOut:
    """API form of an answer."""
    return AnswerOut(
        slot=answer.slot,
        value=answer.value,
        revision=answer.revision,
        updated_at=answer.updated_at,
        updated_by=answer.updated_by,
        carried=answer.carried,
        reused_from=answer.reused_from,
        documents=answer.documents or [],
    )


def comment_out(comment: Comment, version: int) -> CommentOut:
    """API form of a comment, with the version of the report it was written on."""
    return CommentOut(
        id=comment.id,
        kind=comment.kind,
        question=comment.question_id,
        body=comment.body,
        author=comment.author,
        created_at=comment.created_at,
        submission_id=comment.submission_id,
        version=version,
    )


# --- workspaces ---------------------------------------------------------------------------


@router.post(
    "/workspaces",
    summary="Open a workspace for a Party's cycles",
    response_model=WorkspaceOut,
    status_code=201,
    tags=["workspaces"],
)
async def create_workspace(
    body: WorkspaceIn, session: SessionDep, principal: CurrentUser, response: Response
) -> WorkspaceOut:
    """Open a Party's workspace for cycles of conventions it is a member of (its focal points)."""
    if not access.can_use(principal, body.party.upper()):
        raise Forbidden(f"only {body.party.upper()}'s focal points open its workspaces")
    workspace, carried = await workspace_service.create_workspace(
        session,
        actor=principal.actor,
        party=body.party,
        cycle_refs=body.cycles,
        title=body.title,
        carry_forward=body.carry_forward,
    )
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace.id, principal=principal
    )
    response.headers["Location"] = f"/api/v1/workspaces/{workspace.id}"
    return workspace_out(workspace, carried)


@router.get(
    "/workspaces",
    summary="List the caller's workspaces",
    response_model=PageOut[WorkspaceOut],
    tags=["workspaces"],
)
async def list_workspaces(
    session: SessionDep,
    principal: CurrentUser,
    paging: Paging,
    party: Annotated[str | None, Query(max_length=3)] = None,
) -> PageOut[WorkspaceOut]:
    """The workspaces of the caller's Parties (all of them for admins)."""
    page = await workspace_service.list_workspaces(
        session, principal=principal, party=party, limit=paging.limit, cursor=paging.cursor
    )
    return PageOut(items=[workspace_out(w) for w in page.items], next_cursor=page.next_cursor)


@router.get(
    "/workspaces/{workspace_id}",
    summary="Get a workspace",
    response_model=WorkspaceOut,
    tags=["workspaces"],
)
async def get_workspace(
    workspace_id: int, session: SessionDep, principal: CurrentUser
) -> WorkspaceOut:
    """One workspace."""
    return workspace_out(
        await workspace_service.get_workspace(
            session, workspace_id=workspace_id, principal=principal, contributors=True
        )
    )


@router.get(
    "/workspaces/{workspace_id}/form",
    summary="The merged form of a workspace",
    response_model=FormOut,
    tags=["workspaces"],
)
async def get_workspace_form(
    workspace_id: int,
    session: SessionDep,
    principal: CurrentUser,
    response: Response,
    lang: Annotated[str | None, Query(max_length=35)] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> dict[str, Any]:
    """The merged form: each shared concept once with the questions it feeds, then each
    convention-specific question, in the templates' order, with labels in one language (a
    contributor gets the sections assigned to them only)."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    merged = await preview_service.form(
        session, workspace=workspace, lang=lang, accept=accept_language
    )
    merged = assignments.only_assigned_form(
        merged,
        await assignments.assigned_parts(session, workspace=workspace, principal=principal),
    )
    response.headers["Content-Language"] = merged["lang"]
    return {"workspace_id": workspace.id, "party": workspace.party_iso3} | merged


@router.get(
    "/workspaces/{workspace_id}/answers",
    summary="The answers of a workspace",
    response_model=AnswersOut,
    tags=["workspaces"],
)
async def get_workspace_answers(
    workspace_id: int,
    session: SessionDep,
    principal: CurrentUser,
    since: Annotated[
        datetime | None,
        Query(
            description="Only answers written at or after this time (ISO 8601; UTC when it has "
            "no offset), for a cheap check for newer values: send an earlier response's `as_of`, "
            "less a margin for writes still in flight, and keep the highest revision of each slot"
        ),
    ] = None,
) -> AnswersOut:
    """Every answer of the workspace with its revision (or those written since a time; a
    contributor gets those of the sections assigned to them), and who else is in the form."""
    as_of = utcnow()
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal, contributors=True
    )
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    written = await answer_service.list_answers(session, workspace=workspace, since=since)
    if access.contributes(principal, workspace.party_iso3):
        written = await assignments.only_assigned_answers(
            session, workspace=workspace, principal=principal, answers=written
        )
    here = await presence.others(session, workspace_id=workspace.id, principal=principal)
    return AnswersOut(
        answers=[answer_out(a) for a in written],
        presence=[PresenceOut.model_validate(h, from_attributes=True) for h in here],
        as_of=as_of,
    )


@router.patch(
    "/workspaces/{workspace_id}/answers",
    summary="Save answers",
    response_model=AnswersOut,
    tags=["workspaces"],
    responses={
        403: {
            "description": "A contributor wrote outside their open sections; nothing was written"
        },
        409: {"description": "A base revision is stale; nothing was written"},
    },
)
async def patch_workspace_answers(
    workspace_id: int, body: AnswersIn, session: SessionDep, principal: CurrentUser
) -> AnswersOut:
    """Save a batch of answers, each with the revision it was based on: all or nothing (a
    contributor writes only in the sections assigned to them, not marked ready or done)."""
    target = await answer_service.save_target(
        session, workspace_id=workspace_id, principal=principal
    )
    items = [a.model_dump() for a in body.answers]
    if target.contributor:
        await assignments.check_contributor_write(
            session, target=target, principal=principal, items=items
        )
    reused = await reuse_service.resolve_reused(
        session, workspace_id=workspace_id, principal=principal, items=items
    )
    written = await answer_service.write_answers(
        session, actor=principal.actor, target=target, items=items, reused=reused
    )
    return AnswersOut(answers=[answer_out(a) for a in written])


@router.get(
    "/workspaces/{workspace_id}/review",
    summary="A workspace as its secretariats see it",
    response_model=WorkspaceReviewOut,
    tags=["workspaces"],
)
async def get_workspace_review(
    workspace_id: int, session: SessionDep, principal: CurrentUser
) -> WorkspaceReviewOut:
    """Each cycle of a workspace as its secretariat sees it: the submitted versions and their
    status, the feedback thread across versions, and whether it is past due."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    reviews = await submissions.workspace_review(
        session, principal=principal, workspace=workspace, today=utcnow().date()
    )
    return WorkspaceReviewOut(
        workspace_id=workspace.id,
        cycles=[
            CycleReviewOut(
                cycle=review.cycle.ref,
                convention=review.cycle.convention_code,
                due_on=review.cycle.due_on,
                past_due=review.past_due,
                status=SubmissionStatus(review.versions[-1].status) if review.versions else None,
                versions=[
                    SubmissionOut.model_validate(submissions.summary(v)) for v in review.versions
                ],
                comments=[comment_out(comment, version) for comment, version in review.comments],
            )
            for review in reviews
        ],
    )


@router.get(
    "/workspaces/{workspace_id}/suggestions",
    summary="Answers to reuse from earlier reports",
    response_model=WorkspaceSuggestionsOut,
    response_model_exclude_none=True,
    tags=["workspaces"],
)
async def get_workspace_suggestions(
    workspace_id: int, session: SessionDep, principal: CurrentUser
) -> dict[str, Any]:
    """Answers the Party already gave (in this workspace, or in its latest report of another
    cycle), offered to the questions of this workspace that a non-filling mapping links to them,
    each carried into the question's own terms."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    offered = await reuse_service.suggestions(session, workspace=workspace)
    return {
        "workspace_id": workspace.id,
        "items": [{"slot": slot, **s} for slot, found in offered.items() for s in found],
    }


@router.get(
    "/workspaces/{workspace_id}/preview/{cycle_ref}",
    summary="Preview one cycle's report before submitting",
    response_model=PreviewOut,
    response_model_exclude_unset=True,  # an issue's row and column only where they apply
    tags=["workspaces"],
)
async def get_workspace_preview(
    workspace_id: int, cycle_ref: str, session: SessionDep, principal: CurrentUser
) -> dict[str, Any]:
    """Exactly what would be submitted for one cycle, where each value came from, and what
    still blocks submission."""
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    context, report, reused, documents = await preview_service.preview(
        session, workspace=workspace, cycle_ref=cycle_ref
    )
    return {
        "workspace_id": workspace.id,
        "party": workspace.party_iso3,
        "cycle": context.cycle.ref,
        "template_id": context.template.id,
        "template_version": context.template.version,
        "submittable": not report.errors,
        **report.as_dict(),
        "reused": reused,
        "documents": preview_service.with_library_links(documents),
    }


@router.post(
    "/workspaces/{workspace_id}/submit",
    summary="Submit reports",
    status_code=201,
    response_model=None,
    tags=["submissions"],
    responses={
        201: {
            "model": SubmittedOut,
            "description": "The submissions created (or those of the first request with this key)",
        },
        409: {"description": "A cycle already has a pending or accepted submission"},
        422: {"description": "A report has blocking issues; nothing was submitted"},
    },
)
async def submit_workspace(
    workspace_id: int,
    body: SubmitIn,
    session: SessionDep,
    principal: CurrentUser,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="Repeat-safe request key"),
    ] = None,
) -> JSONResponse:
    """Submit one or several cycles at once: every snapshot is created, or none."""
    if not idempotency_key or not idempotency_key.strip():
        raise InvalidInput(
            "send an Idempotency-Key header so the submission can be retried safely",
            errors=[FieldError("/Idempotency-Key", "required", **{"in": "header"})],
        )
    workspace = await workspace_service.get_workspace(
        session, workspace_id=workspace_id, principal=principal
    )
    digest = hashlib.sha256(json.dumps(body.cycles).encode()).hexdigest()
    status, result = await submissions.submit(
        session,
        principal=principal,
        workspace=workspace,
        cycle_refs=body.cycles,
        key=idempotency_key.strip(),
        request_digest=digest,
    )
    return JSONResponse(result, status_code=status)


# --- submissions ----------------------------------------------------------------------------


@router.get(
    "/submissions",
    summary="List the submissions",
    response_model=SubmissionPageOut,
    tags=["submissions"],
)
async def list_submissions(
    session: SessionDep,
    principal: CurrentUser,
    paging: Paging,
    convention: Annotated[str | None, Query(max_length=40)] = None,
    cycle: Annotated[str | None, Query(max_length=81)] = None,
    party: Annotated[str | None, Query(max_length=3)] = None,
    status: SubmissionStatus | None = None,
) -> dict[str, Any]:
    """Submissions the caller may read."""
    page = await submissions.list_submissions(
        session,
        principal=principal,
        convention=convention,
        cycle=cycle,
        party=party,
        status=status.value if status else None,
        limit=paging.limit,
        cursor=paging.cursor,
    )
    return {
        "items": [submissions.summary(s) for s in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/submissions/{submission_id}",
    summary="Get a submission",
    response_model=SubmissionDetailOut,
    response_model_exclude_unset=True,  # an issue's row and column only where they apply
    tags=["submissions"],
)
async def get_submission(
    submission_id: int, session: SessionDep, principal: CurrentUser
) -> dict[str, Any]:
    """One submission with its values, their provenance and its validation result."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    return submissions.detail(submission)


async def _decide(
    session: AsyncSession,
    principal: Principal,
    submission_id: int,
    decision: Literal["accept", "return"],
    comment: str | None,
) -> dict[str, Any]:
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    decided = await submissions.decide(
        session, principal=principal, submission=submission, decision=decision, comment=comment
    )
    return submissions.summary(decided)


@router.post(
    "/submissions/{submission_id}/accept",
    summary="Accept a submission",
    response_model=SubmissionOut,
    tags=["submissions"],
)
async def accept_submission(
    submission_id: int, body: DecisionIn, session: SessionDep, principal: CurrentUser
) -> dict[str, Any]:
    """Accept a submission (the convention's secretariat)."""
    return await _decide(session, principal, submission_id, "accept", body.comment)


@router.post(
    "/submissions/{submission_id}/return",
    summary="Return a submission to its Party",
    response_model=SubmissionOut,
    tags=["submissions"],
)
async def return_submission(
    submission_id: int, body: DecisionIn, session: SessionDep, principal: CurrentUser
) -> dict[str, Any]:
    """Return a submission to the Party with a comment; it is amended as a new version."""
    return await _decide(session, principal, submission_id, "return", body.comment)


@router.get(
    "/submissions/{submission_id}/comments",
    summary="The feedback thread of a submission",
    response_model=list[CommentOut],
    tags=["submissions"],
)
async def list_submission_comments(
    submission_id: int, session: SessionDep, principal: CurrentUser
) -> list[CommentOut]:
    """The feedback thread of the submission's Party and cycle, across its versions (each
    comment tagged with the version it was written on)."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    if not submissions.can_comment(principal, submission):
        raise Forbidden("only the secretariat and the Party's focal points read this thread")
    thread = await submissions.list_comments(session, submission=submission)
    return [comment_out(comment, version) for comment, version in thread]


@router.post(
    "/submissions/{submission_id}/comments",
    summary="Comment on a submission",
    response_model=CommentOut,
    status_code=201,
    tags=["submissions"],
)
async def add_submission_comment(
    submission_id: int, body: CommentIn, session: SessionDep, principal: CurrentUser
) -> CommentOut:
    """Comment on a submission, optionally about one question."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    comment = await submissions.add_comment(
        session,
        principal=principal,
        submission=submission,
        body=body.body,
        question=body.question,
    )
    return comment_out(comment, submission.version)


@router.get(
    "/submissions/{submission_id}/diff",
    summary="Compare two versions of a report",
    response_model=DiffOut,
    tags=["submissions"],
)
async def get_submission_diff(
    submission_id: int,
    session: SessionDep,
    principal: CurrentUser,
    against: Annotated[
        int | None, Query(description="Submission to compare with (default: previous version)")
    ] = None,
) -> dict[str, Any]:
    """What changed between two versions of a Party's report for a cycle."""
    submission = await submissions.get_submission(
        session, submission_id=submission_id, principal=principal
    )
    return await submissions.diff(
        session, principal=principal, submission=submission, against=against
    )


@router.get(
    "/cycles/{ref}/status",
    summary="Where each member Party stands in a cycle",
    response_model=CycleStatusOut,
    response_model_exclude_unset=True,  # each Party's members are those of its status
    tags=["submissions"],
)
async def get_cycle_status(ref: str, session: SessionDep, principal: CurrentUser) -> dict[str, Any]:
    """Per member Party: not started, in progress (share answered), submitted, accepted or
    returned, and late past the due date (the convention's secretariat, reviewers, admins)."""
    cycle = await get_cycle(session, ref=ref)
    if not (
        principal.is_admin
        or principal.is_reviewer
        or principal.is_secretariat(cycle.convention_code)
    ):
        raise Forbidden(f"only the {cycle.convention_code} secretariat follows this cycle")
    return await submissions.cycle_status(session, cycle_ref=ref, today=utcnow().date())
