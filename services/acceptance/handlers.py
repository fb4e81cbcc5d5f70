"""Acceptance's command and event handlers: load the project, hand it to one decision of the
domain, commit. Every handler takes (unit of work, command or event, HandlerContext)."""

from __future__ import annotations

from collections.abc import Callable

from services.acceptance import commands as c
from services.acceptance.db import AcceptanceUnitOfWork
from services.acceptance.domain import (
    Attestation,
    AuditReport,
    Evaluation,
    EvaluationReport,
    InvalidState,
    Pack,
    Project,
    ProjectNotFound,
    Status,
    application,
    audit,
    evaluation,
    final,
    moved,
    security,
    sharing,
    trial,
)
from shared.auth import Scope
from shared.consume import HandlerContext, unprocessable_on
from shared.contracts.intake import Closing, ProjectDeclared, ProjectRecorded
from shared.contracts.procurement import ConstructionCompleted
from shared.contracts.review import ReviewConcluded

Decision = Callable[[Project, Pack], object]


def _pack(ctx: HandlerContext) -> Pack:
    return Pack(ctx.policy, ctx.calendar, ctx.now())


async def _project(uow: AcceptanceUnitOfWork, project_id: str, scope: Scope) -> Project:
    """The project, locked; one outside the caller's scope (another jurisdiction's, another agency's)
    is not found, as a missing one."""
    project = await uow.projects.get(project_id)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在或尚未申报")
    return project


async def _decide(
    uow: AcceptanceUnitOfWork, cmd: c.ProjectCommand, ctx: HandlerContext, decision: Decision
) -> Project:
    """Load the project in the command's scope, let the decision move it, commit."""
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        decision(project, _pack(ctx))
        await uow.commit()
        return project


# -- 初验 and trial run ------------------------------------------------------------------------------


async def record_initial(uow: AcceptanceUnitOfWork, cmd: c.RecordInitial, ctx: HandlerContext) -> Project:
    trial.not_after(cmd.held_on, _pack(ctx).today, "初验日期")
    return await _decide(
        uow,
        cmd,
        ctx,
        lambda p, pack: trial.record_initial(
            p, pack, held_on=cmd.held_on, passed=cmd.passed, findings=cmd.findings, by=cmd.by
        ),
    )


async def trial_run(uow: AcceptanceUnitOfWork, cmd: c.RecordTrialRun, ctx: HandlerContext) -> Project:
    today = _pack(ctx).today
    trial.not_after(cmd.started_on, today, "试运行开始日期")
    trial.not_after(cmd.ended_on, today, "试运行结束日期")
    return await _decide(
        uow,
        cmd,
        ctx,
        lambda p, pack: trial.record_trial(p, pack, started_on=cmd.started_on, ended_on=cmd.ended_on),
    )


# -- data sharing, security, audit -------------------------------------------------------------------


async def submit_data_sharing(
    uow: AcceptanceUnitOfWork, cmd: c.SubmitDataSharing, ctx: HandlerContext
) -> Project:
    return await _decide(
        uow, cmd, ctx, lambda p, pack: sharing.submit_data_sharing(p, pack, cmd.catalogue, cmd.items, cmd.by)
    )


async def decide_data_sharing(
    uow: AcceptanceUnitOfWork, cmd: c.DecideDataSharing, ctx: HandlerContext
) -> Project:
    """数据共享确认, refusal or revocation by the authority (shexian §39, §44(一))."""
    return await _decide(
        uow,
        cmd,
        ctx,
        lambda p, pack: sharing.decide_data_sharing(
            p,
            pack,
            decision=cmd.decision,
            duplicate_collection=cmd.duplicate_collection,
            reason=cmd.reason,
            by=cmd.by,
        ),
    )


async def attest(uow: AcceptanceUnitOfWork, cmd: c.Attest, ctx: HandlerContext) -> Project:
    """等保测评 or 密评 with its validity (shexian §33, §44(二); bayingolin §7; zhonglou §24); a
    classified system's 保密测评 or 保密审查 (shexian §42)."""
    record = Attestation(
        cmd.attestation,
        cmd.compliant,
        cmd.reference,
        cmd.issued_on,
        cmd.valid_until,
        cmd.by,
        cmd.issuer,
        cmd.issuer_level,
    )
    return await _decide(uow, cmd, ctx, lambda p, pack: security.attest(p, pack, record))


async def file_audit_report(
    uow: AcceptanceUnitOfWork, cmd: c.FileAuditReport, ctx: HandlerContext
) -> Project:
    report = AuditReport(cmd.reference, cmd.issued_on, cmd.auditor, cmd.by)
    return await _decide(uow, cmd, ctx, lambda p, _: audit.file_audit_report(p, report))


# -- the final acceptance ----------------------------------------------------------------------------


async def request_delay(uow: AcceptanceUnitOfWork, cmd: c.RequestDelay, ctx: HandlerContext) -> Project:
    """延期验收申请, where the pack allows one (shexian §39)."""
    return await _decide(
        uow, cmd, ctx, lambda p, pack: final.request_delay(p, pack.policy, cmd.until, cmd.reason, cmd.by)
    )


async def decide_delay(uow: AcceptanceUnitOfWork, cmd: c.DecideDelay, ctx: HandlerContext) -> Project:
    return await _decide(uow, cmd, ctx, lambda p, _: final.decide_delay(p, cmd.approve, cmd.comment, cmd.by))


async def apply(uow: AcceptanceUnitOfWork, cmd: c.Apply, ctx: HandlerContext) -> Project:
    """终验申请: refused with every unmet precondition, each citing its article."""
    return await _decide(
        uow, cmd, ctx, lambda p, pack: application.apply(p, pack, given=cmd.materials, by=cmd.by)
    )


async def admit(uow: AcceptanceUnitOfWork, cmd: c.Admit, ctx: HandlerContext) -> Project:
    """The authority admits (bayingolin §26) or returns the application; an admitted one goes to experts."""
    return await _decide(
        uow, cmd, ctx, lambda p, pack: final.admit(p, pack, admit=cmd.admit, reason=cmd.reason, by=cmd.by)
    )


async def conclude(uow: AcceptanceUnitOfWork, cmd: c.Conclude, ctx: HandlerContext) -> Project:
    """The authority's conclusion where no expert panel concludes (xunyang §20)."""
    return await _decide(
        uow,
        cmd,
        ctx,
        lambda p, pack: final.conclude(
            p, pack, passed=cmd.passed, items=cmd.items, due=cmd.rectification_due, by=cmd.by
        ),
    )


async def order_rectification(
    uow: AcceptanceUnitOfWork, cmd: c.OrderRectification, ctx: HandlerContext
) -> Project:
    return await _decide(uow, cmd, ctx, lambda p, _: final.order_rectification(p, cmd.items, cmd.due_on))


async def file_report(uow: AcceptanceUnitOfWork, cmd: c.FileReport, ctx: HandlerContext) -> Project:
    """验收报告备案; bayingolin §29's seven working days: a late one is kept, marked and cited."""
    return await _decide(uow, cmd, ctx, lambda p, pack: final.file_report(p, pack, cmd.reference, cmd.by))


# -- evaluations -------------------------------------------------------------------------------------


async def record_evaluation(
    uow: AcceptanceUnitOfWork, cmd: c.RecordEvaluation, ctx: HandlerContext
) -> tuple[Project, Evaluation]:
    """绩效自评、后评价 or first-year evaluation: post-evaluations only in the pack's window."""
    report = EvaluationReport(
        cmd.evaluation, cmd.period, cmd.serious_problems, cmd.rectified, cmd.rectification_due, cmd.summary
    )
    evaluation.may_report(report, cmd.scope)
    recorded: list[Evaluation] = []
    project = await _decide(
        uow, cmd, ctx, lambda p, pack: recorded.append(evaluation.record_evaluation(p, pack, report, cmd.by))
    )
    return project, recorded[0]


async def rectify_evaluation(
    uow: AcceptanceUnitOfWork, cmd: c.RectifyEvaluation, ctx: HandlerContext
) -> Project:
    """The authority confirms the problems an evaluation found are fixed (zhonglou §21)."""
    return await _decide(
        uow, cmd, ctx, lambda p, pack: evaluation.rectify_evaluation(p, pack, cmd.evaluation_id, cmd.by)
    )


async def scan(
    new_uow: Callable[[], AcceptanceUnitOfWork], cmd: c.ScanEvaluations, ctx: HandlerContext
) -> int:
    """Announce each post-evaluation whose window opened (review opens its case), of the scope's
    jurisdictions; one unit of work per project. Returns how many."""
    async with new_uow() as uow:
        ids = await uow.projects.ids_to_watch(cmd.scope.jurisdictions)
    fired = 0
    for project_id in ids:
        async with new_uow() as uow:
            project = await uow.projects.get(project_id)
            if project is not None:
                fired += evaluation.announce_post_evaluations(project, _pack(ctx))
                await uow.commit()
    return fired


async def recompute_deadlines(
    new_uow: Callable[[], AcceptanceUnitOfWork], cmd: c.RecomputeDeadlines, ctx: HandlerContext
) -> int:
    """A holiday notice was loaded: each open time limit it moves is moved and announced, one
    project per unit of work; returns how many moved."""
    async with new_uow() as uow:
        ids = await uow.projects.ids_to_watch()
    count = 0
    for project_id in ids:
        async with new_uow() as uow:
            project = await uow.projects.get(project_id)
            if project is not None:
                packs = (Pack(ctx.policy, cmd.previous, ctx.now()), _pack(ctx))
                count += moved.move_deadlines(project, packs, cmd.years)
                await uow.commit()
    return count


# -- events from intake, procurement and review ------------------------------------------------------


async def record_declared(uow: AcceptanceUnitOfWork, event: ProjectDeclared, ctx: HandlerContext) -> None:
    if await uow.projects.get(event.project_id) is None:
        uow.projects.add(
            Project(
                id=event.project_id,
                jurisdiction=event.jurisdiction,
                agency=event.agency,
                title=event.title,
                kind=event.kind,
                software_fen=event.software_fen,
                status=Status.BUILDING,
                classified=event.classified,
                created_at=ctx.now(),
            )
        )


async def record_upper_level(uow: AcceptanceUnitOfWork, event: ProjectRecorded, ctx: HandlerContext) -> None:
    if await uow.projects.get(event.project_id) is None:
        uow.projects.add(
            Project(
                id=event.project_id,
                jurisdiction=event.jurisdiction,
                agency=event.agency,
                title=event.title,
                kind=event.kind,
                software_fen=event.software_fen,
                status=Status.BUILDING,
                classified=event.classified,
                created_at=ctx.now(),
            )
        )


async def _known(uow: AcceptanceUnitOfWork, project_id: str) -> Project:
    project = await uow.projects.get(project_id)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {project_id} 的申报事件尚未到达")
    return project


async def record_completion(
    uow: AcceptanceUnitOfWork, event: ConstructionCompleted, ctx: HandlerContext
) -> None:
    project = await _known(uow, event.project_id)
    project.record_completion(event.completed_on, event.contractors, event.supervisor)


@unprocessable_on(InvalidState)
async def record_review(uow: AcceptanceUnitOfWork, event: ReviewConcluded, ctx: HandlerContext) -> None:
    """The expert panel's conclusion on the final acceptance; a project in no state to take it
    never will be (dead-lettered at once), one not declared yet may be (retried)."""
    if not final.is_final_verdict(event):
        return
    project = await _known(uow, event.project_id)
    final.conclude_by_panel(project, _pack(ctx), event)


async def close(uow: AcceptanceUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    project.close(event.outcome)
