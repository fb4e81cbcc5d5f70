"""Procurement's commands and event handlers: load, hand the domain the command, commit.

Every handler is `(uow, command or event, ctx)`; the pack, the calendar and the instant come
from the HandlerContext. The decisions are in services.procurement.domain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from services.procurement import domain, purchase_handlers
from services.procurement.commands import (
    CompleteConstruction,
    DecideChange,
    FileContract,
    RecomputeDeadlines,
    RecordException,
    RecordTender,
    RequestChange,
    ReviewRequirements,
    ScanDeadlines,
    SetFirm,
    StartConstruction,
    SubmitReport,
    SubmitRequirements,
)
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.domain import (
    Change,
    ChangeNotFound,
    Contract,
    Decision,
    EventMismatch,
    Filing,
    Firm,
    Project,
    ProjectNotFound,
    Reporting,
    moved_deadlines,
    suspension,
)
from shared.auth import Scope
from shared.consume import HandlerContext, unprocessable_on
from shared.contracts.intake import (
    Closing,
    DesignApproved,
    OversightMeasureLifted,
    OversightMeasureTaken,
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
    TerminationDecided,
)
from shared.contracts.review import ReviewConcluded
from shared.idempotency import create_once
from shared.workdays import today_in_shanghai


async def _project(uow: ProcurementUnitOfWork, project_id: str, scope: Scope) -> Project:
    """The project, locked; one outside the caller's scope (another jurisdiction's, another agency's)
    is not found, as a missing one."""
    project = await uow.projects.get(project_id)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在或尚未申报")
    return project


def _today(ctx: HandlerContext) -> dt.date:
    return today_in_shanghai(ctx.now())


# -- procurement ------------------------------------------------------------------------------------


async def submit_requirements(
    uow: ProcurementUnitOfWork, cmd: SubmitRequirements, ctx: HandlerContext
) -> Project:
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.submit_requirements(ctx.policy, project, cmd.summary, Filing(cmd.by, ctx.now()))
        await uow.commit()
        return project


async def review_requirements(
    uow: ProcurementUnitOfWork, cmd: ReviewRequirements, ctx: HandlerContext
) -> Project:
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.review_requirements(ctx.policy, project, cmd.approved, cmd.comment, Filing(cmd.by, ctx.now()))
        await uow.commit()
        return project


async def record_tender(uow: ProcurementUnitOfWork, cmd: RecordTender, ctx: HandlerContext) -> Project:
    domain.check_tender_dates(cmd.tender, _today(ctx))
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        winner = await uow.firms.get(project.jurisdiction, cmd.tender.winner_credit_code)
        tender = replace(cmd.tender, id=domain.new_id(), recorded_by=cmd.by)
        domain.record_tender(ctx.policy, project, tender, winner)
        await uow.commit()
        return project


async def file_contract(
    uow: ProcurementUnitOfWork, cmd: FileContract, ctx: HandlerContext
) -> tuple[Contract, bool]:
    """合同备案 (once per idempotency key)."""
    filing = Filing(cmd.by, ctx.now(), cmd.idempotency_key)
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.check_contract_terms(cmd.terms, today_in_shanghai(filing.at))

        async def create() -> Contract:
            firm = await uow.firms.get(project.jurisdiction, cmd.terms.credit_code)
            on_file = domain.OnFile(firm, await uow.contracts.of(project.id))
            contract = domain.file_contract(ctx.policy, ctx.calendar, project, cmd.terms, on_file, filing)
            uow.contracts.add(contract)
            await uow.commit()
            return contract

        async def earlier() -> Contract | None:
            key = cmd.idempotency_key
            return await uow.contracts.by_key(cmd.project_id, key) if key else None

        return await create_once(
            uow, cmd.idempotency_key, earlier=earlier, same=lambda c: c.same_terms(cmd.terms), create=create
        )


# -- construction -----------------------------------------------------------------------------------


async def start_construction(
    uow: ProcurementUnitOfWork, cmd: StartConstruction, ctx: HandlerContext
) -> Project:
    today = _today(ctx)
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.start(ctx.policy, project, cmd.on or today, today)
        await uow.commit()
        return project


async def record_exception(uow: ProcurementUnitOfWork, cmd: RecordException, ctx: HandlerContext) -> Project:
    """例外: the authority departs from a 原则上 refusal of the project's construction, on the record."""
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.record_exception(ctx.policy, project, cmd.exception)
        await uow.commit()
        return project


async def report(uow: ProcurementUnitOfWork, cmd: SubmitReport, ctx: HandlerContext) -> Project:
    reporting = Reporting(cmd.kind, cmd.period, cmd.summary, cmd.by, ctx.now())
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.report(ctx.policy, project, reporting)
        await uow.commit()
        return project


async def complete_construction(
    uow: ProcurementUnitOfWork, cmd: CompleteConstruction, ctx: HandlerContext
) -> Project:
    today = _today(ctx)
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        domain.complete(ctx.policy, project, (cmd.on or today, cmd.security_test_report), today)
        await uow.commit()
        return project


# -- changes ----------------------------------------------------------------------------------------


async def request_change(
    uow: ProcurementUnitOfWork, cmd: RequestChange, ctx: HandlerContext
) -> tuple[Change, bool]:
    """A change request, routed by the pack (once per idempotency key)."""
    filing = Filing(cmd.by, ctx.now(), cmd.idempotency_key)
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)

        async def create() -> Change:
            earlier_changes = await uow.changes.of(project.id)
            change = domain.request_change(ctx.policy, project, earlier_changes, cmd.request, filing)
            uow.changes.add(change)
            await uow.commit()
            return change

        async def earlier() -> Change | None:
            key = cmd.idempotency_key
            return await uow.changes.by_key(cmd.project_id, key) if key else None

        return await create_once(
            uow,
            cmd.idempotency_key,
            earlier=earlier,
            same=lambda c: c.same_request(cmd.request),
            create=create,
        )


async def decide_change(uow: ProcurementUnitOfWork, cmd: DecideChange, ctx: HandlerContext) -> Change:
    """The authority's (and in bayingolin §22 finance's) decision on a change awaiting approval."""
    decision = Decision(cmd.approve, cmd.comment, cmd.by, ctx.now(), cmd.approval_number)
    async with uow:
        # Lock the project before the change, in the order the review's event handler locks them.
        project_id = await uow.changes.project_of(cmd.change_id)
        if project_id is None:
            raise ChangeNotFound(f"变更 {cmd.change_id} 不存在")
        try:
            project = await _project(uow, project_id, cmd.scope)
        except ProjectNotFound:
            raise ChangeNotFound(f"变更 {cmd.change_id} 不存在") from None
        change = await uow.changes.get(cmd.change_id)
        assert change is not None
        domain.decide_change(project, change, cmd.role, decision)
        await uow.commit()
        return change


# -- firms ------------------------------------------------------------------------------------------


async def set_firm(uow: ProcurementUnitOfWork, cmd: SetFirm, ctx: HandlerContext) -> Firm:
    """列入或移出失信名单, where the pack keeps one for firms (xunyang §25, lhasa §22)."""
    domain.check_listing(ctx.policy, cmd.listing)
    async with uow:
        known = await uow.firms.get(cmd.listing.jurisdiction, cmd.listing.credit_code)
        firm = domain.list_firm(known, cmd.listing, ctx.now())
        if known is None:
            uow.firms.add(firm)
        await uow.commit()
        return firm


# -- deadlines that run by themselves ---------------------------------------------------------------


async def scan_deadlines(
    new_uow: Callable[[], ProcurementUnitOfWork], cmd: ScanDeadlines, ctx: HandlerContext
) -> int:
    """Event each missed deadline once, one project per transaction (the scope's jurisdictions'
    only, when the authority asks), and each purchase outside the plan filed too late; returns
    how many fired."""
    async with new_uow() as uow:
        ids = await uow.projects.ids_in_progress(cmd.scope.jurisdictions)
    fired = 0
    for project_id in ids:
        fired += await _scan_one(new_uow(), project_id, ctx)
    return fired + await purchase_handlers.scan_filings(new_uow, cmd.scope, ctx)


async def _scan_one(uow: ProcurementUnitOfWork, project_id: str, ctx: HandlerContext) -> int:
    async with uow:
        project = await uow.projects.get(project_id)
        if project is None:
            return 0
        fired = domain.note_missed(ctx.policy, ctx.calendar, project, _today(ctx))
        await uow.commit()
        return fired


async def recompute_deadlines(
    new_uow: Callable[[], ProcurementUnitOfWork], cmd: RecomputeDeadlines, ctx: HandlerContext
) -> int:
    """A holiday notice was loaded: each open deadline it moves is announced, one project per
    transaction; returns how many moved."""
    async with new_uow() as uow:
        ids = await uow.projects.ids_in_progress()
    moved = 0
    for project_id in ids:
        async with new_uow() as uow:
            project = await uow.projects.get(project_id)
            if project is None:
                continue
            calendars = (cmd.previous, ctx.calendar)
            moved += moved_deadlines.move_deadlines(ctx.policy, calendars, project, _today(ctx), cmd.years)
            await uow.commit()
    return moved


# -- events from intake and review ------------------------------------------------------------------


async def _known(uow: ProcurementUnitOfWork, project_id: str, jurisdiction: str) -> Project:
    project = await uow.projects.get(project_id)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {project_id} 的申报事件尚未到达")
    if project.jurisdiction != jurisdiction:
        raise EventMismatch(f"项目 {project_id} 属于 {project.jurisdiction}，事件却来自 {jurisdiction}")
    return project


def _event_day(ctx: HandlerContext) -> dt.date:
    """The day the event happened in Shanghai (its CloudEvents time), not the day it was handled:
    after an outage or a dead-letter replay the dates zhonglou §13 and §17 count from stay put.
    A time ahead of the service's own clock is not believed: nothing is dated after it arrived."""
    now = ctx.now()
    return today_in_shanghai(min(ctx.envelope.time, now) if ctx.envelope is not None else now)


async def record_declared(uow: ProcurementUnitOfWork, event: ProjectDeclared, ctx: HandlerContext) -> None:
    if await uow.projects.get(event.project_id) is None:
        uow.projects.add(domain.declared(event, ctx.now()))


@unprocessable_on(EventMismatch)
async def record_upper_level(uow: ProcurementUnitOfWork, event: ProjectRecorded, ctx: HandlerContext) -> None:
    """上级资金项目报备 (zhonglou §10): approved above, it goes straight to procurement."""
    project = await uow.projects.get(event.project_id)
    if project is None:
        project = domain.declared(event, ctx.now())
        uow.projects.add(project)
    elif project.jurisdiction != event.jurisdiction:
        raise EventMismatch(f"项目 {project.id} 属于 {project.jurisdiction}，事件却来自 {event.jurisdiction}")
    project.approve(event.amount_fen, _event_day(ctx))


@unprocessable_on(EventMismatch)
async def record_plan(uow: ProcurementUnitOfWork, event: ProjectIncludedInPlan, ctx: HandlerContext) -> None:
    """计划下达: bayingolin §16 and §21 count from here."""
    project = await _known(uow, event.project_id, event.jurisdiction)
    project.plan_issued(_event_day(ctx))


@unprocessable_on(EventMismatch)
async def record_approval(uow: ProcurementUnitOfWork, event: ProjectApproved, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id, event.jurisdiction)
    project.approve(event.approved_amount_fen, _event_day(ctx))


@unprocessable_on(EventMismatch)
async def record_review(uow: ProcurementUnitOfWork, event: ReviewConcluded, ctx: HandlerContext) -> None:
    """A pass of the approval review starts zhonglou §17's clock; a change review decides its change."""
    project = await _known(uow, event.project_id, event.jurisdiction)
    if event.stage == "change":
        domain.reviewed_changes(await uow.changes.awaiting_review(project.id), event)
    elif domain.review_starts_clock(ctx.policy, event):
        project.review_passed(_event_day(ctx))


@unprocessable_on(EventMismatch)
async def close(uow: ProcurementUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id, event.jurisdiction)
    project.close(event.outcome)


@unprocessable_on(EventMismatch)
async def record_termination_decision(
    uow: ProcurementUnitOfWork, event: TerminationDecided, ctx: HandlerContext
) -> None:
    """延期: the authority extended the missed deadline instead of terminating (原则上)."""
    project = await _known(uow, event.project_id, event.jurisdiction)
    if event.decision == "extend":
        project.extend(event.deadline, event.until)


@unprocessable_on(EventMismatch)
async def record_measure(
    uow: ProcurementUnitOfWork, event: OversightMeasureTaken | OversightMeasureLifted, ctx: HandlerContext
) -> None:
    """暂停建设 taken or lifted by the authority (zhonglou §21, shexian §49, lhasa §18)."""
    project = await _known(uow, event.project_id, event.jurisdiction)
    suspension.hear(project, event)


@unprocessable_on(EventMismatch)
async def record_design_approval(
    uow: ProcurementUnitOfWork, event: DesignApproved, ctx: HandlerContext
) -> None:
    """初步设计批复 (shexian §20(一)): its 概算 is the approved total changes are measured against."""
    project = await _known(uow, event.project_id, event.jurisdiction)
    if project.approved_fen is not None:
        project.approved_fen = event.approved_amount_fen
