"""Intake's commands and event handlers: load, ask the pack, call the domain, commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.intake import standing
from services.intake.approval import approval_articles, approval_refusals, review_refusals
from services.intake.cycle import Cycle, plan_cycle
from services.intake.db import IntakeUnitOfWork, plan_entries, plans, projects
from services.intake.domain import (
    DECLARATION_FIELDS,
    OPEN_FOR_MATERIALS,
    Agency,
    AgencyNotFound,
    AgencyNotRegistered,
    ApprovalRefused,
    Declaration,
    FundingSource,
    InvalidDeclaration,
    InvalidTransition,
    Material,
    MaterialNotAccepted,
    PlanError,
    Project,
    ProjectKind,
    ProjectNotFound,
    ProjectStatus,
    Signoff,
)
from services.intake.requirements import (
    materials_up_from,
    required_materials,
    required_signoffs,
    signoffs_up_from,
)
from services.intake.screening import AgencyLevel
from services.intake.screening import Declaration as Screened
from services.intake.screening import screen as screen_declaration
from services.intake.storage import MaterialStore
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.contracts.acceptance import (
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    SecurityAttested,
)
from shared.contracts.procurement import TerminationRecommended
from shared.contracts.review import ReviewConcluded
from shared.db import utcnow
from shared.idempotency import create_once
from shared.policy import PolicyRegistry
from shared.workdays import today_in_shanghai

# -- agencies ---------------------------------------------------------------------------------------


async def register_agency(
    uow: IntakeUnitOfWork,
    *,
    jurisdiction: str,
    name: str,
    level: AgencyLevel,
    parent: str | None,
    at: datetime,
) -> tuple[Agency, bool]:
    """登记建设单位; registering the same name again returns the first (created=False)."""
    async with uow:
        elsewhere = await uow.agencies.anywhere(name)
        if elsewhere is not None and elsewhere.jurisdiction != jurisdiction:
            raise InvalidTransition(
                f"{name} 已登记在 {elsewhere.jurisdiction}；同名单位请使用含地名的全称（如 歙县教育局）"
            )
        found = elsewhere
        if found is not None:
            if (found.level, found.parent) != (level.value, parent):
                raise InvalidTransition(
                    f"{jurisdiction} 已登记建设单位 {name}（{found.level}），请修改而非重复登记"
                )
            return found, False
        agency = Agency(
            id=uuid.uuid4().hex,
            jurisdiction=jurisdiction,
            name=name,
            level=level.value,
            parent=parent,
            created_at=at,
        )
        uow.agencies.add(agency)
        await _commit(uow, f"{name} 正由另一请求同时登记，请刷新后查看")
        return agency, True


async def set_agency_duties(
    uow: IntakeUnitOfWork, agency_id: str, scope: Scope, *, unmet: bool, note: str
) -> Agency:
    """Record whether the agency left its migration or data-sharing duties unmet (zhonglou §8)."""
    async with uow:
        agency = await uow.agencies.get(agency_id)
        if agency is None or not scope.includes(agency.jurisdiction):
            raise AgencyNotFound(f"建设单位 {agency_id} 不存在")
        agency.duties_unmet, agency.duties_note = unmet, note
        await uow.commit()
        return agency


# -- declarations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftProject:
    jurisdiction: str
    agency: str
    by: str
    declaration: Declaration
    idempotency_key: str | None = None


async def create_draft(uow: IntakeUnitOfWork, cmd: DraftProject, *, at: datetime) -> tuple[Project, bool]:
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
                at=at,
                idempotency_key=cmd.idempotency_key,
            )
            uow.projects.add(project)
            await uow.commit()
            return project

        def same(p: Project) -> bool:
            return p.jurisdiction == cmd.jurisdiction and asdict(p.declaration()) == asdict(cmd.declaration)

        key = cmd.idempotency_key
        return await create_once(
            uow,
            key,
            earlier=lambda: uow.projects.by_idempotency_key(cmd.agency, key or ""),
            same=same,
            create=create,
        )


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


async def update_draft(
    uow: IntakeUnitOfWork,
    project_id: str,
    scope: Scope,
    changes: dict[str, Any],
    *,
    by: str,
    at: datetime,
) -> Project:
    unknown = set(changes) - set(DECLARATION_FIELDS)
    if unknown:
        raise InvalidDeclaration(f"不能修改这些字段: {', '.join(sorted(unknown))}")
    async with uow:
        project = await _own(uow, project_id, scope)
        project.update(changes, by=by, at=at)
        await uow.commit()
        return project


async def submit(
    uow: IntakeUnitOfWork,
    project_id: str,
    scope: Scope,
    policy: PolicyRegistry,
    *,
    by: str,
    at: datetime,
) -> Project:
    """申报: the plan cycle, bars and the named predecessor decide whether it may be made."""
    async with uow:
        project = await _own(uow, project_id, scope)
        if project.status is not ProjectStatus.DRAFT:
            project.submit(by=by, at=at, plan_year=project.plan_year or 0, refusals=())
            return project
        j = project.jurisdiction
        today = today_in_shanghai(at)
        from_above = policy.rule(j, "intake.report_funds_from_above")
        record_only: Sequence[str] = ()
        if (
            project.funding_source is FundingSource.UPPER_LEVEL
            and from_above.applies
            and from_above.params.get("timing") == "before_implementation"
        ):
            # Funded and approved above (zhonglou §10, bayingolin §14): reported, not planned here.
            record_only = from_above.articles
            cycle = Cycle(plan_year=project.requested_plan_year or today.year)
        else:
            cycle = plan_cycle(
                policy,
                j,
                kind=project.kind.value,
                off_plan=project.off_plan,
                requested=project.requested_plan_year,
                today=today,
            )
        refusals = list(cycle.refusals)
        bars = await uow.bars.active(j, project.agency)
        refusals += standing.barred(policy, j, project.nature.value, bars, today)
        kind, nature = project.kind.value, project.nature.value
        needs_accepted = standing.needs_accepted_predecessor(policy, j, kind, nature)
        extra_flags = []
        if needs_accepted and not project.predecessor_id:
            refusals += standing.predecessor_unnamed(policy, j, project.predecessor_acceptance_ref)
            extra_flags += standing.predecessor_outside(policy, j, project.predecessor_acceptance_ref)
        if project.predecessor_id:
            predecessor = await uow.projects.get(project.predecessor_id)
            # Only the agency's own earlier projects can be named (nor is another's state revealed).
            if predecessor is None or predecessor.jurisdiction != j or predecessor.agency != project.agency:
                raise InvalidDeclaration(f"predecessor_id: 本单位没有项目 {project.predecessor_id}")
            if needs_accepted:
                refusals += standing.predecessor_refusal(policy, j, predecessor, predecessor.final_acceptance)
        project.plan_year = cycle.plan_year
        flags = standing.likely_splits(policy, j, project, await uow.projects.siblings(project)) + extra_flags
        project.submit(
            by=by,
            at=at,
            plan_year=cycle.plan_year,
            refusals=refusals,
            notes=cycle.notes,
            flags=flags,
            review_batch=cycle.review_batch,
            record_only=record_only,
        )
        await uow.commit()
        return project


async def upload_material(
    uow: IntakeUnitOfWork,
    store: MaterialStore,
    policy: PolicyRegistry,
    *,
    project_id: str,
    scope: Scope,
    material: str,
    filename: str,
    chunks: AsyncIterator[bytes],
    by: str,
    at: datetime,
) -> Material:
    """Store an upload as one of the materials the project's checklist asks for, with the
    Content-Type its bytes show (not the one the client claims)."""
    name = store.check_name(filename)
    async with uow:
        project = await _own(uow, project_id, scope)
        if project.status not in OPEN_FOR_MATERIALS:
            raise InvalidTransition(f"项目处于 {project.status.value} 状态，不再接收材料")
        wanted = {m.material: m for m in required_materials(policy, project.jurisdiction, project.facts())}
        # What an approval above the declared amount would ask for is taken too (shexian §20(一)).
        if material not in materials_up_from(policy, project.jurisdiction, project.facts()):
            listed = "、".join(f"{k}（{m.label}）" for k, m in wanted.items()) or "无"
            raise MaterialNotAccepted(f"本项目无须提交 {material} 类材料；应提交的材料类型: {listed}")
        await uow.rollback()  # release the write lock while the file is streamed to disk
    stored = await store.save(chunks, name)
    async with uow:
        project = await _own(uow, project_id, scope)
        if project.status not in OPEN_FOR_MATERIALS:
            raise InvalidTransition(f"项目处于 {project.status.value} 状态，不再接收材料")
        item = Material(
            id=uuid.uuid4().hex,
            project_id=project.id,
            material=material,
            filename=name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=by,
            uploaded_at=at,
        )
        await uow.projects.add_material(item)
        await uow.commit()
        return item


# -- the authority --------------------------------------------------------------------------------


async def screen(
    uow: IntakeUnitOfWork, project_id: str, scope: Scope, policy: PolicyRegistry, *, by: str, at: datetime
) -> Project:
    """形式审查 of a submitted declaration, every rule of the pack at once."""
    async with uow:
        project = await _own(uow, project_id, scope)
        if project.status is not ProjectStatus.DECLARED:
            if project.status in (ProjectStatus.ACCEPTED, ProjectStatus.REJECTED):
                return project  # screened already: a retried request
            raise InvalidTransition(f"项目处于 {project.status.value} 状态，不能进行形式审查")
        # Locked: two screenings of one department must not both pass lhasa §7's count.
        agency = await uow.agencies.named(project.jurisdiction, project.agency, for_update=True)
        if agency is None:
            raise AgencyNotRegistered(
                f"建设单位 {project.agency} 未在 {project.jurisdiction} 登记，请先登记其层级再审查"
            )
        siblings = await uow.projects.siblings(project)
        admitted = [
            s
            for s in siblings
            if s.status in (ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN, ProjectStatus.APPROVED)
        ]
        bars = await uow.bars.active(project.jurisdiction, project.agency)
        declaration = Screened(
            jurisdiction=project.jurisdiction,
            facts=project.facts(),
            agency_level=AgencyLevel(agency.level),
            deployment=project.deployment,
            deployment_explained=bool(project.deployment_explanation.strip()),
            shares_data_with_platform=project.shares_data_with_platform,
            assigned_from_above=project.assigned_from_above,
            xinchuang_compatible=project.xinchuang_compatible,
            has_security_plan=bool(project.security_plan.strip()),
            agency_duties_unmet=agency.duties_unmet or any(b.ground == "data_not_shared" for b in bars),
            materials=await uow.projects.material_counts(project.id),
            other_declarations_this_year=len(admitted),
        )
        decision = screen_declaration(declaration, policy)
        flags = standing.likely_splits(policy, project.jurisdiction, project, siblings)
        project.screen(reasons=decision.reasons, flags=flags, by=by, at=at)
        await uow.commit()
        return project


async def _plan_row(uow: IntakeUnitOfWork, jurisdiction: str, year: int) -> Any:
    """The plan's row, locked: ranking and publication of one plan do not interleave."""
    query = plans.select().where(plans.c.jurisdiction == jurisdiction, plans.c.year == year)
    return (await uow.session.execute(query.with_for_update())).first()


def _in_batches(policy: PolicyRegistry, jurisdiction: str) -> bool:
    """Whether the year's plan is issued in batches, each with its own document (bayingolin §9)."""
    rule = policy.rule(jurisdiction, "funding.plan_required")
    return rule.applies and bool(rule.params.get("issued_in_batches"))


async def _issued(uow: IntakeUnitOfWork, jurisdiction: str, year: int) -> dict[str, str]:
    """The plan's entries already published: project id -> the document that included it."""
    rows = await uow.session.execute(
        select(plan_entries.c.project_id, projects.c.plan_document)
        .join(projects, projects.c.id == plan_entries.c.project_id)
        .where(
            plan_entries.c.jurisdiction == jurisdiction,
            plan_entries.c.year == year,
            projects.c.plan_document.is_not(None),
        )
    )
    return {project_id: document for project_id, document in rows}


async def set_plan(
    uow: IntakeUnitOfWork,
    jurisdiction: str,
    year: int,
    ranking: Sequence[str],
    policy: PolicyRegistry,
    *,
    at: datetime,
) -> None:
    """排序 — the authority's ranking of the year's admitted declarations, replaceable until published.

    Where the plan is issued in batches (bayingolin §9), a published plan takes a further batch:
    the ranking names the projects to add, ranked after those already published, which stay.
    """
    if len(set(ranking)) != len(ranking):
        raise PlanError("排序中有重复的项目")
    async with uow:
        plan = await _plan_row(uow, jurisdiction, year)
        published = plan is not None and plan.status == "published"
        if published and not _in_batches(policy, jurisdiction):
            raise InvalidTransition(
                f"{jurisdiction} {year} 年度计划已下达（{plan.document}），不能再调整；新增项目请走计划外程序"
            )
        kept = len(await _issued(uow, jurisdiction, year)) if published else 0
        found = await uow.projects.for_plan(jurisdiction, ranking)
        for index, project_id in enumerate(ranking):
            project = found.get(project_id)
            if project is None:
                raise PlanError(f"ranking[{index}]: 项目 {project_id} 不是 {jurisdiction} 的项目")
            if project.plan_document is not None:
                raise PlanError(
                    f"ranking[{index}]: 项目 {project.title} 已由 {project.plan_document} 列入计划，"
                    "已下达的不再排序；请只列本批新增的项目"
                )
            if project.status is not ProjectStatus.ACCEPTED or project.plan_year != year or project.off_plan:
                raise PlanError(
                    f"ranking[{index}]: 项目 {project.title} 须为已通过形式审查、申报 {year} 年度的计划内项目"
                    f"（当前 {project.status.value}，申报年度 {project.plan_year}）"
                )
        try:
            # Published entries hold ranks 1..kept; only the batch not yet published is replaced.
            where = (
                (plan_entries.c.jurisdiction == jurisdiction)
                & (plan_entries.c.year == year)
                & (plan_entries.c.rank > kept)
            )
            await uow.session.execute(plan_entries.delete().where(where))
            if plan is None:
                await uow.session.execute(
                    plans.insert().values(jurisdiction=jurisdiction, year=year, status="draft", updated_at=at)
                )
            else:
                await uow.session.execute(
                    plans.update()
                    .where(plans.c.jurisdiction == jurisdiction, plans.c.year == year)
                    .values(updated_at=at)
                )
            if ranking:
                await uow.session.execute(
                    plan_entries.insert(),
                    [
                        {"jurisdiction": jurisdiction, "year": year, "rank": kept + i + 1, "project_id": p}
                        for i, p in enumerate(ranking)
                    ],
                )
            await uow.commit()
        except IntegrityError as exc:
            # Two first rankings of one plan at once (PostgreSQL): the loser retries.
            raise InvalidTransition(f"{jurisdiction} {year} 年度计划正被同时修改，请刷新后重试") from exc


async def publish_plan(
    uow: IntakeUnitOfWork,
    jurisdiction: str,
    year: int,
    document: str,
    policy: PolicyRegistry,
    *,
    by: str,
    at: datetime,
) -> None:
    """下达年度计划: every ranked project is included.

    Where the plan is issued in batches (bayingolin §9), each later publication includes the
    projects ranked since the last one, under its own document; those published stay as they are.

    O&M projects need no further approval where the pack says so (shexian §20(三)): the plan is
    their approval, so like any approval it waits for the expert review's pass (shexian §7, §12);
    until then the plan is refused, as 批复 is, naming each such project.
    """
    async with uow:
        plan = await _plan_row(uow, jurisdiction, year)
        if plan is None:
            raise PlanError(f"{jurisdiction} {year} 年度计划尚未排序")
        issued: dict[str, str] = {}
        if plan.status == "published":
            if not _in_batches(policy, jurisdiction):
                if plan.document == document:
                    return
                raise InvalidTransition(f"{jurisdiction} {year} 年度计划已下达（{plan.document}）")
            issued = await _issued(uow, jurisdiction, year)
        ranked = [
            row
            for row in (
                await uow.session.execute(
                    plan_entries.select()
                    .where(plan_entries.c.jurisdiction == jurisdiction, plan_entries.c.year == year)
                    .order_by(plan_entries.c.rank)
                )
            ).all()
            if row.project_id not in issued
        ]
        if document in issued.values():
            if not ranked:
                return  # the last batch's publication, retried
            raise InvalidTransition(f"文号 {document} 已用于 {jurisdiction} {year} 年度计划此前下达的一批")
        if not ranked:
            more = "新增" if issued else ""
            raise PlanError(f"{jurisdiction} {year} 年度计划没有{more}项目")
        found = await uow.projects.for_plan(jurisdiction, [r.project_id for r in ranked])
        plan_rule = policy.rule(jurisdiction, "funding.plan_required")
        path = policy.rule(jurisdiction, "intake.approval_path_by_amount")
        om_direct = path.applies and bool(path.params.get("om_no_further_approval"))
        direct = [found[r.project_id] for r in ranked if om_direct]
        direct = [p for p in direct if p.kind is ProjectKind.OPERATION]
        unreviewed = [
            reason
            for p in direct
            for reason in review_refusals(policy, p, f"运维类项目「{p.title}」（{p.id}）")
        ]
        ApprovalRefused.refuse_if(
            unreviewed, f"{jurisdiction} {year} 年度计划将批复其中的运维类项目，不能下达"
        )
        for row in ranked:
            project = found[row.project_id]
            project.include_in_plan(
                year=year, rank=row.rank, document=document, articles=plan_rule.articles, by=by, at=at
            )
            if project in direct:
                project.approve_with_plan(document=document, articles=path.articles, by=by, at=at)
        # The plan's own document and date stay those of its first publication.
        first = {} if issued else {"document": document, "published_at": at, "published_by": by}
        await uow.session.execute(
            plans.update()
            .where(plans.c.jurisdiction == jurisdiction, plans.c.year == year)
            .values(status="published", updated_at=at, **first)
        )
        await _commit(uow, f"{jurisdiction} {year} 年度计划下达时批复文号冲突，请检查后重试")


async def record_signoff(
    uow: IntakeUnitOfWork,
    project_id: str,
    scope: Scope,
    policy: PolicyRegistry,
    *,
    signoff: str,
    document_ref: str,
    by: str,
    at: datetime,
) -> Signoff:
    """Record another body's approval (市/省审核、政府审定…) that the project needs before 批复."""
    async with uow:
        project = await _own(uow, project_id, scope)
        # Also those an approval above the declared amount would need (shexian §25).
        needed = signoffs_up_from(policy, project.jurisdiction, project.facts())
        if signoff not in needed:
            declared = required_signoffs(policy, project.jurisdiction, project.facts())
            listed = "、".join(f"{s.signoff}（{s.label}）" for s in declared) or "无"
            raise InvalidDeclaration(f"signoff: 本项目无须 {signoff}；须记录的审核意见: {listed}")
        existing = await uow.projects.signoff(project.id, signoff)
        if existing is not None:
            return existing
        item = Signoff(
            project_id=project.id, signoff=signoff, document_ref=document_ref, recorded_by=by, recorded_at=at
        )
        await uow.projects.add_signoff(item)
        project.record_decision("signoff", signoff, by, at, note=f"{needed[signoff].label}（{document_ref}）")
        await _commit(uow, f"{signoff} 已由同时提交的请求记录")
        return item


async def approve(
    uow: IntakeUnitOfWork,
    project_id: str,
    scope: Scope,
    policy: PolicyRegistry,
    *,
    approval_number: str,
    approved_amount_fen: int,
    approved_scope: str,
    by: str,
    at: datetime,
) -> Project:
    async with uow:
        project = await _own(uow, project_id, scope)
        holder = await uow.projects.by_approval_number(project.jurisdiction, approval_number)
        if holder is not None and holder.id != project.id:
            raise InvalidTransition(f"批复文号 {approval_number} 已用于项目「{holder.title}」（{holder.id}）")
        refusals = []
        if project.status in (ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN):
            counts = await uow.projects.material_counts(project.id)
            signed = await uow.projects.signoffs_of(project.id)
            refusals = approval_refusals(policy, project, counts, signed, approved_amount_fen)
        project.approve(
            approval_number=approval_number,
            approved_amount_fen=approved_amount_fen,
            approved_scope=approved_scope or project.summary or project.title,
            refusals=refusals,
            articles=approval_articles(policy, project),
            by=by,
            at=at,
        )
        await _commit(uow, f"批复文号 {approval_number} 已被同时提交的另一批复使用")
        return project


async def reject(
    uow: IntakeUnitOfWork, project_id: str, scope: Scope, *, reason: str, by: str, at: datetime
) -> Project:
    async with uow:
        project = await _own(uow, project_id, scope)
        project.reject(reason=reason, by=by, at=at)
        await uow.commit()
        return project


async def withdraw(
    uow: IntakeUnitOfWork, project_id: str, scope: Scope, *, reason: str, by: str, at: datetime
) -> Project:
    async with uow:
        project = await _own(uow, project_id, scope)
        project.withdraw(reason=reason, by=by, at=at)
        await uow.commit()
        return project


# -- events from the other stages ----------------------------------------------------------------------


async def record_review(uow: IntakeUnitOfWork, event: ReviewConcluded, ctx: HandlerContext) -> None:
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is not None:
        project.record_review(case_id=event.case_id, stage=event.stage, verdict=event.verdict, at=utcnow())


async def terminate(uow: IntakeUnitOfWork, event: TerminationRecommended, ctx: HandlerContext) -> None:
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is not None:
        project.terminate(reason=event.reason, articles=event.articles, by="procurement", at=utcnow())


async def record_final_acceptance(
    uow: IntakeUnitOfWork, event: FinalAcceptanceConcluded, ctx: HandlerContext
) -> None:
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is not None:
        project.final_acceptance = "passed" if event.passed else "failed"
        project.record_decision(
            "final_acceptance", project.final_acceptance, "acceptance", utcnow(), note=str(event.concluded_on)
        )


async def _bar(
    uow: IntakeUnitOfWork,
    event: Any,
    ground: str,
    on: bool,
    detail: str = "",
    effective_on: date | None = None,
) -> None:
    now = utcnow()
    if on:
        await uow.bars.impose(
            jurisdiction=event.jurisdiction,
            agency=event.agency,
            ground=ground,
            project_id=event.project_id,
            detail=detail,
            at=now,
            effective_on=effective_on,
        )
    else:
        await uow.bars.lift(project_id=event.project_id, ground=ground, at=now)


async def record_data_sharing(uow: IntakeUnitOfWork, event: DataSharingDecided, ctx: HandlerContext) -> None:
    await _bar(uow, event, "data_not_shared", event.decision != "confirmed", event.reason)
    await _bar(uow, event, "duplicate_collection", event.duplicate_collection, event.reason)


async def record_evaluation(uow: IntakeUnitOfWork, event: EvaluationRecorded, ctx: HandlerContext) -> None:
    # zhonglou §21: the bar starts only once the rectification deadline has passed unfixed.
    unfixed = bool(event.serious_problems) and not event.rectified
    due = event.rectification_due
    after_due = due + timedelta(days=1) if due is not None else None
    problems = "、".join(event.serious_problems)
    await _bar(uow, event, "evaluation_problems_unfixed", unfixed, problems, after_due)


async def record_security(uow: IntakeUnitOfWork, event: SecurityAttested, ctx: HandlerContext) -> None:
    ground = "security_noncompliant" if event.attestation == "mlps" else "crypto_noncompliant"
    await _bar(uow, event, ground, not event.compliant)
