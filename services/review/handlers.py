"""Review's command and event handlers: load, one decision of the domain, commit."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from services.review import commands
from services.review.db import ReviewUnitOfWork
from services.review.domain import CaseNotFound, Expert, ReviewCase, opening, panels, pools, recompute
from services.review.domain import conclusions as concluding
from services.review.domain.experts import in_pools, subject_taken
from services.review.domain.records import Submission
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.contracts.acceptance import FinalAcceptanceApplied, PostEvaluationDue
from shared.contracts.intake import Closing, ProjectApproved, ProjectScreened
from shared.contracts.procurement import ChangeRecorded, ChangeReviewRequested

# -- the pool -------------------------------------------------------------------------------------


async def add_expert(uow: ReviewUnitOfWork, cmd: commands.AddExpert, ctx: HandlerContext) -> Expert:
    """专家入库, into the pool the jurisdiction's panels draw from."""
    pool = pools.pool_of(ctx.policy, cmd.jurisdiction)
    async with uow:
        holder = await uow.experts.by_subject(pool, cmd.subject) if cmd.subject else None
        expert = Expert.register(cmd.registration(), pool=pool, at=ctx.now(), holder=holder)
        uow.experts.add(expert)
        try:
            await uow.commit()
        except IntegrityError as exc:  # the same subject added concurrently
            raise subject_taken(pool, cmd.subject) from exc
        return expert


async def set_expert_status(
    uow: ReviewUnitOfWork, cmd: commands.SetExpertStatus, ctx: HandlerContext
) -> Expert:
    """Suspend, restore or blacklist an expert in the pool they are registered in (only there)."""
    async with uow:
        expert = await uow.experts.get(cmd.expert_id)
        expert = in_pools(expert, cmd.expert_id, pools.pools_of(ctx.policy, cmd.scope))
        expert.set_status(cmd.status, cmd.reason)
        await uow.commit()
        return expert


# -- cases ----------------------------------------------------------------------------------------


async def open_case(
    uow: ReviewUnitOfWork, cmd: commands.OpenCase, ctx: HandlerContext
) -> tuple[ReviewCase, bool]:
    """立案; a case already open for the project and stage is returned (created=False)."""
    async with uow:
        existing = await uow.cases.open_for(cmd.project_id, cmd.stage)
        if existing is not None:
            return existing, False
        case = opening.open_case(ctx.policy, ctx.calendar, cmd.submission(), by=cmd.by, at=ctx.now())
        uow.cases.add(case)
        await uow.commit()
        return case, True


async def _case(uow: ReviewUnitOfWork, case_id: str, scope: Scope) -> ReviewCase:
    """The case, if within the caller's scope; another jurisdiction's is not found, as a missing one."""
    case = await uow.cases.get(case_id)
    if case is None or not scope.includes(case.jurisdiction):
        raise CaseNotFound(f"评审案件 {case_id} 不存在")
    return case


async def draw_panel(uow: ReviewUnitOfWork, cmd: commands.DrawPanel, ctx: HandlerContext) -> ReviewCase:
    """抽选专家组 from the pool of the case's jurisdiction, seed and candidates recorded."""
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        pool = await uow.experts.pool(pools.pool_of(ctx.policy, case.jurisdiction))
        panels.draw_panel(case, pool, ctx.policy, cmd.seed)
        await uow.commit()
        return case


async def set_parties(uow: ReviewUnitOfWork, cmd: commands.SetParties, ctx: HandlerContext) -> ReviewCase:
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        case.set_parties(cmd.parties)
        await uow.commit()
        return case


async def attach_assessment(
    uow: ReviewUnitOfWork, cmd: commands.AttachAssessment, ctx: HandlerContext
) -> ReviewCase:
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        case.attach_assessment(cmd.text)
        await uow.commit()
        return case


async def decline(uow: ReviewUnitOfWork, cmd: commands.Decline, ctx: HandlerContext) -> ReviewCase:
    """An expert declines (回避或无法参加): a replacement is drawn by the case's own seed, from the
    pool of the case's jurisdiction."""
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        pool = await uow.experts.pool(pools.pool_of(ctx.policy, case.jurisdiction))
        panels.decline(case, cmd.expert_ids, pool, ctx.policy)
        await uow.commit()
        return case


async def submit_opinion(
    uow: ReviewUnitOfWork, cmd: commands.SubmitOpinion, ctx: HandlerContext
) -> ReviewCase:
    """An expert's score, verdict and comments; the last one concludes the case by the pack's rule."""
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        concluding.give_opinion(case, cmd.expert_ids, cmd.opinion(), ctx.policy, ctx.calendar, ctx.now())
        await uow.commit()
        return case


async def issue_report(uow: ReviewUnitOfWork, cmd: commands.IssueReport, ctx: HandlerContext) -> ReviewCase:
    """评审报告或书面评审意见已出具: its time limit ends; a revision's starts (lhasa §11)."""
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        concluding.issue_report(case, cmd.document, ctx.policy, ctx.calendar, ctx.now())
        await uow.commit()
        return case


async def resubmit(uow: ReviewUnitOfWork, cmd: commands.Resubmit, ctx: HandlerContext) -> ReviewCase:
    """修改材料已送达: the second review's time limit starts (lhasa §11)."""
    async with uow:
        case = await _case(uow, cmd.case_id, cmd.scope)
        concluding.resubmit(case, ctx.policy, ctx.calendar, ctx.now())
        await uow.commit()
        return case


async def scan_overdue(uow: ReviewUnitOfWork, cmd: commands.ScanOverdue, ctx: HandlerContext) -> int:
    """Emit one overdue event per passed time limit (of the scope's jurisdictions); returns how many."""
    async with uow:
        count = 0
        for case in await uow.cases.past_due(cmd.today, cmd.scope.jurisdictions):
            event = concluding.overdue(case, ctx.policy)
            if event is not None:
                uow.emit(event)
                count += 1
        await uow.commit()
        return count


async def recompute_time_limits(
    new_uow: Callable[[], ReviewUnitOfWork], cmd: commands.RecomputeTimeLimits, ctx: HandlerContext
) -> int:
    """A holiday notice was loaded: each running time limit it moves is moved and announced, one
    case per unit of work. Returns how many moved."""
    async with new_uow() as uow:
        ids = await uow.cases.running()
    moved = 0
    for case_id in ids:
        async with new_uow() as uow:
            case = await uow.cases.get(case_id)
            calendars = (cmd.previous, ctx.calendar)
            if case is not None and recompute.move_time_limit(case, ctx.policy, calendars, cmd.years):
                await uow.commit()
                moved += 1
    return moved


# -- events ----------------------------------------------------------------------------------------


async def _open_from_event(
    uow: ReviewUnitOfWork, submission: Submission | None, by: str, ctx: HandlerContext
) -> None:
    """Open a case for the submission (about its reference), once, where the pack has panels."""
    if submission is None:
        return
    if await uow.cases.open_for(submission.project_id, submission.stage, submission.reference) is not None:
        return
    case = opening.open_on_event(ctx.policy, ctx.calendar, submission, by=by, at=ctx.now())
    if case is not None:
        uow.cases.add(case)


async def open_for_screened(uow: ReviewUnitOfWork, event: ProjectScreened, ctx: HandlerContext) -> None:
    """A declaration admitted by screening goes to the review stage its pack names first."""
    await _open_from_event(uow, opening.after_screening(ctx.policy, event), _by(event.type), ctx)


async def open_for_design(uow: ReviewUnitOfWork, event: ProjectApproved, ctx: HandlerContext) -> None:
    """After the 可研 approval, the 初步设计 review its design approval waits for (shexian §20(一))."""
    await _open_from_event(uow, opening.after_feasibility(ctx.policy, event), _by(event.type), ctx)


async def open_for_change(uow: ReviewUnitOfWork, event: ChangeReviewRequested, ctx: HandlerContext) -> None:
    await _open_from_event(uow, opening.for_change(event), _by(event.type), ctx)


async def open_for_acceptance(
    uow: ReviewUnitOfWork, event: FinalAcceptanceApplied, ctx: HandlerContext
) -> None:
    await _open_from_event(uow, opening.for_acceptance(event), _by(event.type), ctx)


async def open_for_post_evaluation(
    uow: ReviewUnitOfWork, event: PostEvaluationDue, ctx: HandlerContext
) -> None:
    await _open_from_event(uow, opening.for_post_evaluation(event), _by(event.type), ctx)


def _by(event_type: str) -> str:
    """Who opened a case from an event: the service that published it."""
    return event_type.split(".")[1]


async def cancel_for_rejected_change(
    uow: ReviewUnitOfWork, event: ChangeRecorded, ctx: HandlerContext
) -> None:
    """A rejected change: a case still open for it is cancelled (nothing left to review), and on one
    already concluded the report or written-opinion time limit (lhasa §11) stops; status and verdict stay."""
    if event.status != "rejected":
        return
    reason = f"变更申请 {event.change_id} 已被驳回，变更评审终止"
    at = ctx.now()
    for case in await uow.cases.unsettled(event.project_id, event.change_id):
        case.settle(reason, at)


async def cancel_for_closed_project(uow: ReviewUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    """A project rejected, withdrawn or terminated: every review still open for it is cancelled, and
    the time limit still running on a concluded one (the report it awaits) stops with it."""
    reason, at = f"项目{event.outcome}（{event.reason}），评审终止", ctx.now()
    for case in await uow.cases.unsettled(event.project_id):
        case.settle(reason, at)
