"""Intake's commands and event handlers: load, one domain decision, commit.

Every handler takes (uow, command or event, ctx: HandlerContext); the decisions, and every
question to the policy pack, are in domain/.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy.exc import IntegrityError

from services.intake import commands as c
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import (
    DECLARATION_FIELDS,
    Agency,
    AgencyNotFound,
    AgencyNotRegistered,
    InvalidDeclaration,
    InvalidTransition,
    Judgement,
    Material,
    PlanError,
    Project,
    ProjectNotFound,
    ProjectStatus,
    Signoff,
    approval,
    design,
    endings,
    formal_review,
    materials,
    oversight,
    plans,
    submission,
)
from services.intake.storage import MaterialStore
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.idempotency import create_once
from shared.workdays import today_in_shanghai


async def _commit(uow: IntakeUnitOfWork, conflict: str) -> None:
    """Commit; a unique key taken by a concurrent request in the meantime is a 409, not a 500."""
    try:
        await uow.commit()
    except IntegrityError as exc:
        raise InvalidTransition(conflict) from exc


async def _own(uow: IntakeUnitOfWork, project_id: str, scope: Scope) -> Project:
    """The project, if the caller may act on it: of its jurisdictions, and an applicant's own agency's.
    Another's is not found, as a missing one (its existence is not revealed)."""
    project = await uow.projects.get(project_id, for_update=True)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在")
    return project


# -- agencies ---------------------------------------------------------------------------------------


async def register_agency(
    uow: IntakeUnitOfWork, cmd: c.RegisterAgency, ctx: HandlerContext
) -> tuple[Agency, bool]:
    """登记建设单位; registering the same name again returns the first (created=False)."""
    async with uow:
        found = await uow.agencies.anywhere(cmd.name)
        if found is not None:
            return Agency.registered_again(found, cmd.jurisdiction, cmd.level.value, cmd.parent), False
        agency = Agency(
            id=uuid.uuid4().hex,
            jurisdiction=cmd.jurisdiction,
            name=cmd.name,
            level=cmd.level.value,
            parent=cmd.parent,
            created_at=ctx.now(),
        )
        uow.agencies.add(agency)
        await _commit(uow, f"{cmd.name} 正由另一请求同时登记，请刷新后查看")
        return agency, True


async def set_agency_duties(uow: IntakeUnitOfWork, cmd: c.SetAgencyDuties, ctx: HandlerContext) -> Agency:
    """Record whether the agency left its migration or data-sharing duties unmet (zhonglou §8)."""
    async with uow:
        agency = await uow.agencies.get(cmd.agency_id)
        if agency is None or not cmd.scope.includes(agency.jurisdiction):
            raise AgencyNotFound(f"建设单位 {cmd.agency_id} 不存在")
        agency.duties_unmet, agency.duties_note = cmd.unmet, cmd.note
        await uow.commit()
        return agency


# -- declarations ------------------------------------------------------------------------------------


async def create_draft(
    uow: IntakeUnitOfWork, cmd: c.DraftProject, ctx: HandlerContext
) -> tuple[Project, bool]:
    """A new declaration (draft); a retry with the same Idempotency-Key returns the first one."""
    async with uow:
        if await uow.agencies.named(cmd.jurisdiction, cmd.agency) is None:
            raise AgencyNotRegistered(
                f"建设单位 {cmd.agency} 尚未在 {cmd.jurisdiction} 主管部门登记，"
                "请先由主管部门登记单位及其层级"
            )

        async def create() -> Project:
            project = Project.draft(
                jurisdiction=cmd.jurisdiction,
                agency=cmd.agency,
                declaration=cmd.declaration,
                by=cmd.by,
                at=ctx.now(),
                idempotency_key=cmd.idempotency_key,
            )
            uow.projects.add(project)
            await uow.commit()
            return project

        def same(p: Project) -> bool:
            return p.jurisdiction == cmd.jurisdiction and asdict(p.declaration()) == asdict(cmd.declaration)

        key = cmd.idempotency_key
        earlier = lambda: uow.projects.by_idempotency_key(cmd.agency, key or "")  # noqa: E731
        return await create_once(uow, key, earlier=earlier, same=same, create=create)


async def update_draft(uow: IntakeUnitOfWork, cmd: c.UpdateDraft, ctx: HandlerContext) -> Project:
    unknown = set(cmd.changes) - set(DECLARATION_FIELDS)
    if unknown:
        raise InvalidDeclaration(f"不能修改这些字段: {', '.join(sorted(unknown))}")
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        project.update(dict(cmd.changes), by=cmd.by, at=ctx.now())
        await uow.commit()
        return project


async def submit(uow: IntakeUnitOfWork, cmd: c.Submit, ctx: HandlerContext) -> Project:
    """申报: the plan cycle, bars and the named predecessor decide whether it may be made."""
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        if project.status is not ProjectStatus.DRAFT:
            project.submit(Judgement(plan_year=project.plan_year or 0), by=cmd.by, at=ctx.now())
            return project
        today = today_in_shanghai(ctx.now())
        project.plan_year = submission.plan_year(ctx.policy, project, today)  # its siblings are that year's
        found = submission.Standing(
            bars=await uow.bars.active(project.jurisdiction, project.agency),
            predecessor=await uow.projects.get(project.predecessor_id) if project.predecessor_id else None,
            siblings=await uow.projects.siblings(project),
        )
        project.submit(submission.judge(ctx.policy, project, found, today), by=cmd.by, at=ctx.now())
        await uow.commit()
        return project


async def upload_material(
    uow: IntakeUnitOfWork, cmd: c.UploadMaterial, ctx: HandlerContext, store: MaterialStore
) -> Material:
    """Store an upload as one of the materials the project's checklist asks for, with the
    Content-Type its bytes show (not the one the client claims)."""
    name = store.check_name(cmd.filename)
    async with uow:
        materials.accept_material(ctx.policy, await _own(uow, cmd.project_id, cmd.scope), cmd.material)
        await uow.rollback()  # release the write lock while the file is streamed to disk
    stored = await store.save(cmd.chunks, name)
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        materials.accept_material(ctx.policy, project, cmd.material)  # still, after the upload
        item = Material(
            id=uuid.uuid4().hex,
            project_id=project.id,
            material=cmd.material,
            filename=name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=cmd.by,
            uploaded_at=ctx.now(),
        )
        await uow.projects.add_material(item)
        await uow.commit()
        return item


# -- the authority --------------------------------------------------------------------------------


async def screen(uow: IntakeUnitOfWork, cmd: c.Screen, ctx: HandlerContext) -> Project:
    """形式审查 of a submitted declaration, every rule of the pack at once."""
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        if formal_review.screened_already(project):
            return project
        # Locked: two screenings of one department must not both pass lhasa §7's count.
        agency = await uow.agencies.named(project.jurisdiction, project.agency, for_update=True)
        if agency is None:
            raise AgencyNotRegistered(
                f"建设单位 {project.agency} 未在 {project.jurisdiction} 登记，请先登记其层级再审查"
            )
        around = formal_review.Surroundings(
            agency=agency,
            bars=await uow.bars.active(project.jurisdiction, project.agency),
            materials=await uow.projects.material_counts(project.id),
            siblings=await uow.projects.siblings(project),
            evaluated=await uow.projects.evaluated(project.jurisdiction, project.agency),
        )
        formal_review.review(ctx.policy, project, around, by=cmd.by, at=ctx.now(), exceptions=cmd.exceptions)
        await uow.commit()
        return project


async def set_plan(uow: IntakeUnitOfWork, cmd: c.RankPlan, ctx: HandlerContext) -> None:
    """排序 — the authority's ranking of the year's admitted declarations, replaceable until published.

    Where the plan is issued in batches (bayingolin §9), a published plan takes a further batch:
    the ranking names the projects to add, ranked after those already published, which stay.
    """
    j, year, ranking = cmd.jurisdiction, cmd.year, list(cmd.ranking)
    plans.check_distinct(ranking)
    async with uow:
        plan = await uow.plans.state(j, year)
        plans.may_rank(ctx.policy, plan)
        plans.check_ranking(ranking, await uow.projects.for_plan(j, ranking), j, year)
        try:
            await uow.plans.rank(plan or plans.PlanState(j, year), plan is not None, ranking, ctx.now())
            await uow.commit()
        except IntegrityError as exc:
            # Two first rankings of one plan at once (PostgreSQL): the loser retries.
            raise InvalidTransition(f"{j} {year} 年度计划正被同时修改，请刷新后重试") from exc


async def publish_plan(uow: IntakeUnitOfWork, cmd: c.PublishPlan, ctx: HandlerContext) -> None:
    """下达年度计划: every ranked project is included (domain.plans.publish).

    In batches (bayingolin §9), each later publication includes the projects ranked since the
    last one, under its own document; where the plan is fixed 原则上 (zhonglou §9), such a later
    publication is an adjustment and needs the authority's exception. O&M projects the plan
    approves (shexian §20(三)) wait for their expert review's pass; until then the plan is refused,
    naming each.
    """
    j, year, at = cmd.jurisdiction, cmd.year, ctx.now()
    async with uow:
        plan = await uow.plans.state(j, year)
        if plan is None:
            raise PlanError(f"{j} {year} 年度计划尚未排序")
        if plans.already_published(ctx.policy, plan, cmd.document):
            return
        issued = await uow.plans.issued(j, year) if plan.published else {}
        waiting = [(rank, p) for rank, p in await uow.plans.ranked(j, year) if p not in issued]
        if plans.batch_retried(plan, issued, cmd.document, len(waiting)):
            return
        excepted = plans.adjustment(ctx.policy, plan, cmd.exceptions)
        found = await uow.projects.for_plan(j, [p for _, p in waiting])
        ranked = [(rank, found[p]) for rank, p in waiting]
        plans.publish(ctx.policy, plan, plans.Publication(cmd.document, ranked, cmd.by, at, excepted))
        # The plan's own document and date stay those of its first publication.
        first = {} if issued else {"document": cmd.document, "published_at": at, "published_by": cmd.by}
        await uow.plans.published(plan, first, at)
        await _commit(uow, f"{j} {year} 年度计划下达时批复文号冲突，请检查后重试")


async def record_signoff(uow: IntakeUnitOfWork, cmd: c.RecordSignoff, ctx: HandlerContext) -> Signoff:
    """Record another body's approval (市/省审核、政府审定…) that the project needs before 批复."""
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        label = materials.signoff_label(ctx.policy, project, cmd.signoff)
        existing = await uow.projects.signoff(project.id, cmd.signoff)
        if existing is not None:
            return existing
        at = ctx.now()
        item = Signoff(project.id, cmd.signoff, cmd.document_ref, recorded_by=cmd.by, recorded_at=at)
        await uow.projects.add_signoff(item)
        project.record_decision("signoff", cmd.signoff, cmd.by, at, note=f"{label}（{cmd.document_ref}）")
        await _commit(uow, f"{cmd.signoff} 已由同时提交的请求记录")
        return item


async def approve(uow: IntakeUnitOfWork, cmd: c.Approve, ctx: HandlerContext) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        on_file = approval.OnFile(
            materials=await uow.projects.material_counts(project.id),
            signed=await uow.projects.signoffs_of(project.id),
            number_holder=await uow.projects.by_approval_number(project.jurisdiction, cmd.terms.number),
        )
        approval.approve(ctx.policy, project, cmd.terms, on_file, by=cmd.by, at=ctx.now())
        await _commit(uow, f"批复文号 {cmd.terms.number} 已被同时提交的另一批复使用")
        return project


async def reject(uow: IntakeUnitOfWork, cmd: c.Reject, ctx: HandlerContext) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        endings.reject(project, reason=cmd.reason, by=cmd.by, at=ctx.now())
        await uow.commit()
        return project


async def withdraw(uow: IntakeUnitOfWork, cmd: c.Withdraw, ctx: HandlerContext) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        endings.withdraw(project, reason=cmd.reason, by=cmd.by, at=ctx.now())
        await uow.commit()
        return project


async def decide_termination(uow: IntakeUnitOfWork, cmd: c.DecideTermination, ctx: HandlerContext) -> Project:
    """The authority decides a termination recommendation: terminate, extend or keep (原则上)."""
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        decision = endings.TerminationDecision(cmd.decision, cmd.document_ref, cmd.reason, cmd.by, cmd.until)
        now = ctx.now()
        endings.decide_termination(project, decision, now, today_in_shanghai(now))
        await uow.commit()
        return project


async def approve_design(uow: IntakeUnitOfWork, cmd: c.ApproveDesign, ctx: HandlerContext) -> Project:
    """初步设计批复 after the 可研 one, where the pack asks for it (shexian §20(一))."""
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        on_file = await uow.projects.material_counts(project.id)
        design.approve_design(ctx.policy, project, cmd.terms, on_file, cmd.by, ctx.now())
        await uow.commit()
        return project


# -- 监督整改 (domain.oversight) -------------------------------------------------------------------


async def order_rectification(
    uow: IntakeUnitOfWork, cmd: c.OrderRectification, ctx: HandlerContext
) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        now = ctx.now()
        oversight.order_rectification(ctx.policy, project, cmd.terms, cmd.by, now, today_in_shanghai(now))
        await uow.commit()
        return project


async def review_rectification(
    uow: IntakeUnitOfWork, cmd: c.ReviewRectification, ctx: HandlerContext
) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        oversight.review_rectification(project, cmd.review, cmd.by, ctx.now())
        await uow.commit()
        return project


async def take_measure(uow: IntakeUnitOfWork, cmd: c.TakeMeasure, ctx: HandlerContext) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        now = ctx.now()
        oversight.take_measure(ctx.policy, project, cmd.terms, cmd.by, now, today_in_shanghai(now))
        await uow.commit()
        return project


async def lift_measure(uow: IntakeUnitOfWork, cmd: c.LiftMeasure, ctx: HandlerContext) -> Project:
    async with uow:
        project = await _own(uow, cmd.project_id, cmd.scope)
        oversight.lift_measure(project, cmd.measure_id, cmd.document_ref, cmd.reason, cmd.by, ctx.now())
        await uow.commit()
        return project
