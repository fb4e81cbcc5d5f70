"""Review's commands and event handlers: load, ask the pack, call the domain, commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.review import drawing, rules
from services.review.db import ReviewUnitOfWork
from services.review.domain import (
    CaseNotFound,
    CaseStatus,
    Expert,
    ExpertNotFound,
    InvalidCaseState,
    ReviewCase,
)
from services.review.drawing import Candidate, ExpertStatus, InsufficientPool
from services.review.pools import pool_of
from services.review.rules import Clock, Verdict
from shared.auth import EVERYWHERE, Scope
from shared.consume import HandlerContext
from shared.contracts.acceptance import FinalAcceptanceApplied, PostEvaluationDue
from shared.contracts.intake import Closing, ProjectScreened
from shared.contracts.procurement import ChangeRecorded, ChangeReviewRequested
from shared.contracts.review import ReviewOverdue
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, today_in_shanghai

# -- the pool -------------------------------------------------------------------------------------


async def add_expert(
    uow: ReviewUnitOfWork,
    *,
    pool: str,
    name: str,
    employer: str,
    title: str,
    specialties: Sequence[str],
    subject: str | None,
    at: dt.datetime,
) -> Expert:
    async with uow:
        expert = Expert(
            id=uuid.uuid4().hex,
            name=name,
            employer=employer,
            title=title,
            specialties=sorted(set(specialties)),
            status=ExpertStatus.ACTIVE,
            status_reason="",
            created_at=at,
            pool=pool,
            subject=subject,
        )
        if subject and await uow.experts.by_subject(pool, subject) is not None:
            raise InvalidCaseState(f"登录身份 {subject} 已对应专家库 {pool} 中的另一名专家")
        uow.experts.add(expert)
        try:
            await uow.commit()
        except IntegrityError as exc:  # the same subject added concurrently
            raise InvalidCaseState(f"登录身份 {subject} 已对应专家库 {pool} 中的另一名专家") from exc
        return expert


async def set_expert_status(
    uow: ReviewUnitOfWork,
    expert_id: str,
    pools: frozenset[str] | None,
    status: ExpertStatus,
    reason: str,
) -> Expert:
    """Suspend, restore or blacklist an expert in the pool they are registered in (only there)."""
    async with uow:
        expert = await uow.experts.get(expert_id)
        if expert is None or (pools is not None and expert.pool not in pools):
            raise ExpertNotFound(f"专家 {expert_id} 不存在")
        expert.set_status(status, reason)
        await uow.commit()
        return expert


# -- cases ----------------------------------------------------------------------------------------


async def open_case(
    uow: ReviewUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    *,
    project_id: str,
    jurisdiction: str,
    stage: str,
    agency: str,
    parties: Sequence[str],
    by: str,
    at: dt.datetime,
) -> tuple[ReviewCase, bool]:
    """立案; a case already open for the project and stage is returned (created=False)."""
    async with uow:
        existing = await uow.cases.open_for(project_id, stage)
        if existing is not None:
            return existing, False
        rules.panel_spec(policy, jurisdiction, stage)  # refuses where the pack has no expert review
        received = today_in_shanghai(at)
        deadline = rules.due(policy, calendar, jurisdiction, Clock.FIRST_REVIEW, received)
        case = ReviewCase.open(
            project_id=project_id,
            jurisdiction=jurisdiction,
            stage=stage,
            agency=agency,
            parties=parties,
            by=by,
            at=at,
            received_on=received,
            clock=Clock.FIRST_REVIEW.value if deadline else None,
            due_on=deadline.date if deadline else None,
            articles=policy.rule(jurisdiction, "review.panel").articles,
        )
        uow.cases.add(case)
        await uow.commit()
        return case, True


async def _case(uow: ReviewUnitOfWork, case_id: str, scope: Scope) -> ReviewCase:
    """The case, if within the caller's scope; another jurisdiction's is not found, as a missing one."""
    case = await uow.cases.get(case_id)
    if case is None or not scope.includes(case.jurisdiction):
        raise CaseNotFound(f"评审案件 {case_id} 不存在")
    return case


async def draw_panel(
    uow: ReviewUnitOfWork, policy: PolicyRegistry, case_id: str, scope: Scope, *, seed: str | None = None
) -> ReviewCase:
    """抽选专家组 from the pool of the case's jurisdiction with a fresh seed, recorded with the
    candidate list; no other pool's expert is a candidate.

    Where the pack has a third party review the materials first (shexian §21), the draw is refused
    until the assessment is on the case, so the experts review with it in hand.
    """
    async with uow:
        case = await _case(uow, case_id, scope)
        pool = await uow.experts.pool(pool_of(policy, case.jurisdiction))
        spec = rules.panel_spec(policy, case.jurisdiction, case.stage)
        drawn = drawing.draw(
            seed or drawing.new_seed(), [e.candidate() for e in pool], spec, case.avoidance()
        )
        case.seat_panel(
            drawn,
            pool,
            policy.rule(case.jurisdiction, "review.panel").articles,
            third_party=rules.third_party_review(policy, case.jurisdiction, case.stage),
        )
        await uow.commit()
        return case


async def set_parties(
    uow: ReviewUnitOfWork, case_id: str, scope: Scope, parties: Sequence[str]
) -> ReviewCase:
    async with uow:
        case = await _case(uow, case_id, scope)
        case.set_parties(parties)
        await uow.commit()
        return case


async def attach_assessment(uow: ReviewUnitOfWork, case_id: str, scope: Scope, text: str) -> ReviewCase:
    async with uow:
        case = await _case(uow, case_id, scope)
        case.attach_assessment(text)
        await uow.commit()
        return case


async def decline(
    uow: ReviewUnitOfWork,
    policy: PolicyRegistry,
    case_id: str,
    scope: Scope,
    expert_ids: Collection[str],
) -> ReviewCase:
    """An expert declines (回避或无法参加): a replacement is drawn by the case's own seed, from the
    pool of the case's jurisdiction.

    Like for like when the leaving expert's specialty would otherwise fall short; when the
    experts who stay still cover it, any eligible expert may take the seat.
    """
    async with uow:
        case = await _case(uow, case_id, scope)
        expert_id = case.seated_among(expert_ids)
        leaving = case.leaving(expert_id)
        experts = await uow.experts.pool(pool_of(policy, case.jurisdiction))
        pool = [e.candidate() for e in experts]
        if leaving.specialty is not None:
            spec = rules.panel_spec(policy, case.jurisdiction, case.stage)
            specialties = {e.id: set(e.specialties) for e in experts}
            staying = [
                s["expert_id"] for s in case.seats if s["state"] == "seated" and s["expert_id"] != expert_id
            ]
            covered = sum(leaving.specialty in specialties.get(i, set()) for i in staying)
            if covered >= spec.specialties.get(leaving.specialty, 0):
                leaving = drawing.Seat(leaving.expert_id, None, leaving.rank)
        avoid = case.avoidance()
        avoid = drawing.Avoidance(
            organisations=avoid.organisations,
            declined=avoid.declined | {expert_id},
            seated=avoid.seated - {expert_id},
        )
        assert case.seed is not None
        replacement = drawing.replace(case.seed, pool, avoid, leaving)
        case.replace(leaving, replacement)
        await uow.commit()
        return case


async def submit_opinion(
    uow: ReviewUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    case_id: str,
    scope: Scope,
    expert_ids: Collection[str],
    *,
    score: int,
    verdict: Verdict,
    comments: str,
    at: dt.datetime,
) -> ReviewCase:
    """An expert's score, verdict and comments; the last one concludes the case by the pack's rule."""
    async with uow:
        case = await _case(uow, case_id, scope)
        case.record_opinion(case.seated_among(expert_ids), score=score, verdict=verdict, comments=comments)
        verdicts = case.verdicts()
        if verdicts is not None:
            j = case.jurisdiction
            conclusion = rules.conclude(policy, j, verdicts)
            failures = case.failures + (conclusion is not Verdict.PASS)
            resubmission = (
                rules.must_resubmit(policy, j, failures) if conclusion is not Verdict.PASS else None
            )
            revising = conclusion is not Verdict.PASS and resubmission is None
            started = rules.after_conclusion(
                policy, calendar, j, conclusion, revising=revising, on=today_in_shanghai(at)
            )
            case.conclude(
                conclusion,
                at=at,
                resubmission=resubmission,
                next_clock=started[0].value if started else None,
                next_due=started[1].date if started else None,
                articles=policy.rule(j, "review.conclusion").articles,
                third_party=rules.third_party_review(policy, j, case.stage),
            )
        await uow.commit()
        return case


async def issue_report(
    uow: ReviewUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    case_id: str,
    scope: Scope,
    document: str,
    *,
    at: dt.datetime,
) -> ReviewCase:
    """评审报告或书面评审意见已出具: its time limit ends; a revision's starts (lhasa §11)."""
    async with uow:
        case = await _case(uow, case_id, scope)
        on = today_in_shanghai(at)
        deadline = None
        if case.status is CaseStatus.REVISING and case.clock == Clock.FAIL_OPINION.value:
            # The agency revises within its limit of receiving the written opinion.
            deadline = rules.due(policy, calendar, case.jurisdiction, Clock.REVISION, on)
        case.issue_report(
            document,
            on=on,
            next_clock=Clock.REVISION.value if deadline else None,
            next_due=deadline.date if deadline else None,
        )
        await uow.commit()
        return case


async def resubmit(
    uow: ReviewUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    case_id: str,
    scope: Scope,
    *,
    at: dt.datetime,
) -> ReviewCase:
    """修改材料已送达: the second review's time limit starts (lhasa §11)."""
    async with uow:
        case = await _case(uow, case_id, scope)
        received = today_in_shanghai(at)
        deadline = rules.due(policy, calendar, case.jurisdiction, Clock.SECOND_REVIEW, received)
        case.resubmit(
            received_on=received,
            clock=Clock.SECOND_REVIEW.value if deadline else None,
            due_on=deadline.date if deadline else None,
        )
        await uow.commit()
        return case


async def scan_overdue(
    uow: ReviewUnitOfWork, policy: PolicyRegistry, *, today: dt.date, scope: Scope = EVERYWHERE
) -> int:
    """Emit one overdue event per passed time limit (of the scope's jurisdictions); returns how many."""
    async with uow:
        count = 0
        for case in await uow.cases.past_due(today, scope.jurisdictions):
            if case.clock is None or case.due_on is None:
                continue
            clock = Clock(case.clock)
            case.overdue_notified = True
            uow.emit(
                ReviewOverdue(
                    project_id=case.project_id,
                    jurisdiction=case.jurisdiction,
                    case_id=case.id,
                    clock=clock.name.lower(),
                    due_on=case.due_on,
                    articles=policy.rule(case.jurisdiction, clock.value).articles,
                )
            )
            count += 1
        await uow.commit()
        return count


def redraw_check(case: ReviewCase, policy: PolicyRegistry) -> bool:
    """An auditor's check: the recorded seed and candidates give the recorded first panel."""
    if case.seed is None:
        raise InvalidCaseState("本案尚未抽选专家组")
    pool = [
        Candidate(c["id"], c["employer"], frozenset(c["specialties"]), ExpertStatus(c["status"]))
        for c in case.candidates
    ]
    first_avoid = drawing.Avoidance(organisations=frozenset([case.agency, *case.parties]))
    spec = rules.panel_spec(policy, case.jurisdiction, case.stage)
    try:
        drawn = drawing.draw(case.seed, pool, spec, first_avoid)
    except InsufficientPool:
        return False
    original = case.seats[: spec.size]  # replacements are appended after the first draw
    recorded = {(s["expert_id"], s["specialty"], s["rank"]) for s in original}
    return {(s.expert_id, s.specialty, s.rank) for s in drawn.seats} == recorded


# -- events ----------------------------------------------------------------------------------------


async def _open_from_event(
    uow: ReviewUnitOfWork,
    ctx: HandlerContext,
    event: Any,
    stage: str,
    parties: Sequence[str],
    articles: Sequence[str],
    reference: str | None = None,
) -> None:
    """Open a case for an event's project at `stage` (about `reference`), once, where the pack has panels."""
    if not ctx.policy.rule(event.jurisdiction, "review.panel").applies:
        return
    if await uow.cases.open_for(event.project_id, stage, reference) is not None:
        return
    received = today_in_shanghai(ctx.now())
    deadline = rules.due(ctx.policy, ctx.calendar, event.jurisdiction, Clock.FIRST_REVIEW, received)
    uow.cases.add(
        ReviewCase.open(
            project_id=event.project_id,
            jurisdiction=event.jurisdiction,
            stage=stage,
            agency=event.agency,
            parties=parties,
            by=event.type.split(".")[1],
            at=ctx.now(),
            received_on=received,
            clock=Clock.FIRST_REVIEW.value if deadline else None,
            due_on=deadline.date if deadline else None,
            articles=articles,
            reference=reference,
        )
    )


async def open_for_screened(uow: ReviewUnitOfWork, event: ProjectScreened, ctx: HandlerContext) -> None:
    """A declaration admitted by screening goes to the review stage its pack names first."""
    rule = ctx.policy.rule(event.jurisdiction, "funding.expert_review_required")
    stages = rule.params.get("stages") if rule.applies else None
    if event.accepted and stages:
        await _open_from_event(uow, ctx, event, stages[0], (), rule.articles)


async def open_for_change(uow: ReviewUnitOfWork, event: ChangeReviewRequested, ctx: HandlerContext) -> None:
    await _open_from_event(uow, ctx, event, "change", event.parties, event.articles, event.change_id)


async def cancel_for_rejected_change(
    uow: ReviewUnitOfWork, event: ChangeRecorded, ctx: HandlerContext
) -> None:
    """A rejected change: a case still open for it is cancelled (nothing left to review), and on one
    already concluded the report or written-opinion time limit (lhasa §11) stops; status and verdict stay."""
    if event.status != "rejected":
        return
    reason = f"变更申请 {event.change_id} 已被驳回，变更评审终止"
    await _settle(uow, event.project_id, reason, ctx.now(), event.change_id)


async def cancel_for_closed_project(uow: ReviewUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    """A project rejected, withdrawn or terminated: every review still open for it is cancelled, and
    the time limit still running on a concluded one (the report it awaits) stops with it."""
    await _settle(uow, event.project_id, f"项目{event.outcome}（{event.reason}），评审终止", ctx.now())


async def _settle(
    uow: ReviewUnitOfWork, project_id: str, reason: str, at: dt.datetime, reference: str | None = None
) -> None:
    """What the cases reviewed no longer stands: an open case is cancelled with the reason; on a
    concluded one the report or written opinion it awaits is no longer owed on time (lhasa §11)."""
    for case in await uow.cases.unsettled(project_id, reference):
        if not case.cancel(reason, at):
            case.stop_time_limit()


async def open_for_acceptance(
    uow: ReviewUnitOfWork, event: FinalAcceptanceApplied, ctx: HandlerContext
) -> None:
    if event.experts:  # xunyang §20, lhasa §17: the authority concludes without a panel
        await _open_from_event(
            uow, ctx, event, "acceptance", event.parties, event.articles, event.application_id
        )


async def open_for_post_evaluation(
    uow: ReviewUnitOfWork, event: PostEvaluationDue, ctx: HandlerContext
) -> None:
    reference = f"post_evaluation:{event.due_on.isoformat()}"
    await _open_from_event(uow, ctx, event, "post_evaluation", event.parties, event.articles, reference)
