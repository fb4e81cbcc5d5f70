"""Intake's read side: projects, their checklists and decisions, agencies and plans as API schemas."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.domain import FundingSource, ProjectKind, ProjectNature, ProjectStatus, evaluations
from services.intake.domain.requirements import (
    ProjectFacts,
    RequiredMaterial,
    RequiredSignoff,
    required_materials,
    required_signoffs,
)
from services.intake.domain.screening import Deployment
from services.intake.domain.standing import GROUND_LABELS
from services.intake.labels import PlanStatus, Readable
from services.intake.schemas import ProjectFilter
from services.intake.tables import (
    agencies,
    bars,
    decisions,
    materials,
    plan_entries,
    plans,
    projects,
    signoffs,
)
from shared.auth import Principal, Role
from shared.contracts.envelope import Citation
from shared.pagination import Page, PageParams
from shared.policy import PolicyRegistry, citations
from shared.views import filters, in_jurisdictions, one, page_of, visible_to


class ProjectOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: ProjectKind
    nature: ProjectNature
    amount_fen: int
    software_fen: int
    classified: bool
    packaged_software: bool
    simple: bool
    status: ProjectStatus
    created_at: datetime
    declared_at: datetime | None
    requested_plan_year: int | None
    plan_year: int | None
    off_plan: bool
    funding_source: FundingSource
    plan_rank: int | None
    review_verdict: str | None
    approval_number: str | None
    approved_amount_fen: int | None
    approved_at: datetime | None
    flags: list[Citation] = Field(description="提请主管部门注意的情形（如疑似拆分申报），不构成拒绝")


class MaterialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    material: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class SignoffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    signoff: str
    document_ref: str
    recorded_by: str
    recorded_at: datetime


class DecisionOut(BaseModel):
    action: str
    outcome: str
    by: str
    at: datetime
    note: str
    reasons: list[Citation]


class ChecklistItem(RequiredMaterial):
    provided: int = Field(description="已上传份数")
    complete: bool


class SignoffItem(RequiredSignoff):
    recorded: bool


class ProjectDetail(ProjectOut):
    summary: str
    deployment: Deployment
    deployment_explanation: str
    xinchuang_compatible: bool
    shares_data_with_platform: bool
    assigned_from_above: bool
    data_sharing_items: list[str]
    security_plan: str
    off_plan_reason: str
    upper_approval_ref: str
    predecessor_id: str | None
    predecessor_acceptance_ref: str
    on_platform: bool
    off_platform_reason: str
    network_links: dict[str, str] = Field(description="网络连接 → 依托的网络")
    leases_lines: bool
    hardware: list[str] = Field(description="采购的硬件设备类别")
    hardware_secure_controllable: bool
    cybersecurity_review_ref: str
    original_development: bool
    development_fees_separate: bool
    review_batch: str | None
    review_stage: str | None
    plan_document: str | None
    approved_scope: str | None
    closed_reason: str | None
    termination: dict[str, Any] | None = Field(
        default=None,
        description="终止建议（原因、条款、所依据的期限）及主管部门的决定（终止、延期至某日或继续实施，文号、理由、决定人）",
    )
    design_approval: dict[str, Any] | None = Field(
        default=None, description="初步设计批复（shexian §20(一)）：required 待批复；批复后有文号、概算"
    )
    evaluation: dict[str, Any] | None = Field(
        default=None, description="最近一次评价结果（评价类型、日期、严重问题、是否整改到位）"
    )
    oversight: dict[str, Any] | None = Field(
        default=None,
        description="监督整改：整改通知（问题、事项、期限、文号、状态 open/rectified/unmet）"
        "及处理措施（措施、文号、解除情况）",
    )
    final_acceptance: str | None
    notes: list[Citation]
    required_materials: list[ChecklistItem] = Field(
        description="该项目须提交的材料（按辖区办法与金额计算），每项注明依据条款、提交阶段与已上传份数"
    )
    required_signoffs: list[SignoffItem] = Field(
        description="须记录的其他机关审核、备案意见：before=approval 批复前，before=procurement 采购前"
    )
    materials: list[MaterialOut]
    signoffs: list[SignoffOut]
    decisions: list[DecisionOut] = Field(description="每一项决定及其依据条款，按时间先后")


async def get_project(
    session: AsyncSession, principal: Principal, project_id: str, policy: PolicyRegistry
) -> ProjectDetail | None:
    row = (
        await session.execute(
            select(projects).where(projects.c.id == project_id, *visible_to(principal, projects))
        )
    ).first()
    if row is None:
        return None
    data: dict[str, Any] = dict(row._mapping)
    # Once approved above the declared amount, the checklist is that of the larger one, as approval's.
    facts = ProjectFacts.of(SimpleNamespace(**data)).as_approved(data["approved_amount_fen"])
    uploaded = [
        MaterialOut.model_validate(r._mapping)
        for r in await session.execute(
            select(materials).where(materials.c.project_id == project_id).order_by(materials.c.uploaded_at)
        )
    ]
    counts: dict[str, int] = {}
    for m in uploaded:
        counts[m.material] = counts.get(m.material, 0) + 1
    recorded = [
        SignoffOut.model_validate(r._mapping)
        for r in await session.execute(select(signoffs).where(signoffs.c.project_id == project_id))
    ]
    done = {s.signoff for s in recorded}
    history = [
        DecisionOut.model_validate(dict(r._mapping))
        for r in await session.execute(
            select(decisions).where(decisions.c.project_id == project_id).order_by(decisions.c.seq)
        )
    ]
    j = data["jurisdiction"]
    return ProjectDetail(
        **data,
        required_materials=[
            ChecklistItem(
                **m.model_dump(),
                provided=counts.get(m.material, 0),
                complete=counts.get(m.material, 0) >= m.min_count,
            )
            for m in required_materials(policy, j, facts)
        ],
        required_signoffs=[
            SignoffItem(**s.model_dump(), recorded=s.signoff in done)
            for s in required_signoffs(policy, j, facts)
        ],
        materials=uploaded,
        signoffs=recorded,
        decisions=history,
    )


async def material_of(
    session: AsyncSession, principal: Principal, project_id: str, material_id: str
) -> MaterialOut | None:
    visible = await one(session, projects, _Id, projects.c.id == project_id, *visible_to(principal, projects))
    if visible is None:
        return None
    return await one(
        session, materials, MaterialOut, materials.c.id == material_id, materials.c.project_id == project_id
    )


class _Id(BaseModel):
    id: str


async def list_projects(
    session: AsyncSession, principal: Principal, page: PageParams, chosen: ProjectFilter
) -> Page[ProjectOut]:
    where = projects_chosen(principal, chosen)
    order = [projects.c.created_at.desc(), projects.c.id]
    return await page_of(session, projects, ProjectOut, page, where, order)


def projects_chosen(principal: Principal, chosen: ProjectFilter) -> list[Any]:
    """The projects the principal may see that the filter chooses (the list's, the register's)."""
    c = projects.c
    pairs: list[tuple[Any, Any]] = [(c.status, chosen.status), (c.jurisdiction, chosen.jurisdiction)]
    pairs += [(c.agency, chosen.agency), (c.kind, chosen.kind), (c.plan_year, chosen.plan_year)]
    where = visible_to(principal, projects) + filters([*pairs, (c.termination_state, chosen.termination)])
    if (q := chosen.q) is not None:  # the text as written: LIKE's wildcards in it are escaped
        where.append(or_(c.title.icontains(q, autoescape=True), c.id.icontains(q, autoescape=True)))
    return where


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    name: str
    level: str
    parent: str | None
    duties_unmet: bool
    duties_note: str
    created_at: datetime


class BarOut(BaseModel):
    """A bar on the agency's new declarations, from a later stage's finding."""

    model_config = ConfigDict(from_attributes=True)

    ground: str = Field(description="evaluation_problems_unfixed, data_not_shared, duplicate_collection, …")
    label: str
    source_project_id: str
    since: datetime
    detail: str


class AgencyDetail(AgencyOut):
    bars: list[BarOut] = Field(description="仍然有效的限制（是否构成不予申报，按辖区办法判断）")


async def get_agency(session: AsyncSession, principal: Principal, agency_id: str) -> AgencyDetail | None:
    found = await one(session, agencies, AgencyOut, agencies.c.id == agency_id)
    if found is None or not principal.may_see(found.jurisdiction, found.name):
        return None
    rows = await session.execute(
        select(bars)
        .where(
            bars.c.jurisdiction == found.jurisdiction, bars.c.agency == found.name, bars.c.lifted_at.is_(None)
        )
        .order_by(bars.c.since)
    )
    return AgencyDetail(
        **found.model_dump(),
        bars=[BarOut(**r._mapping, label=GROUND_LABELS.get(r.ground, r.ground)) for r in rows],
    )


async def list_agencies(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    jurisdiction: str | None,
    level: str | None,
) -> Page[AgencyOut]:
    where = in_jurisdictions(principal, agencies.c.jurisdiction) + filters(
        [(agencies.c.jurisdiction, jurisdiction), (agencies.c.level, level)]
    )
    if principal.scope.agency is not None:
        where.append(agencies.c.name == principal.scope.agency)  # its own record only
    return await page_of(
        session, agencies, AgencyOut, page, where, [agencies.c.jurisdiction, agencies.c.name]
    )


class PlanEntryOut(Readable):
    rank: int
    project_id: str
    title: str
    agency: str
    kind: ProjectKind
    amount_fen: int
    status: ProjectStatus
    document: str | None = Field(
        description="列入计划的下达文号（分批下达的为其批次的文号，bayingolin §9）；未下达为 null"
    )
    bases: list[Citation] = Field(
        default_factory=list,
        description="排序的重要依据（不构成拒绝）：本单位项目的评价结果（zhonglou §20、shexian §50）",
    )


class PlanOut(Readable):
    jurisdiction: str
    year: int
    status: PlanStatus = Field(description="draft 排序中, published 已下达")
    document: str | None = Field(description="计划下达文号（分批下达的为首批的文号）")
    published_at: datetime | None
    entries: list[PlanEntryOut]
    total_fen: int


async def get_plan(
    session: AsyncSession, principal: Principal, which: tuple[str, int], policy: PolicyRegistry
) -> PlanOut | None:
    jurisdiction, year = which
    plan = (
        await session.execute(select(plans).where(plans.c.jurisdiction == jurisdiction, plans.c.year == year))
    ).first()
    if plan is None or (plan.status != "published" and principal.role is Role.APPLICANT):
        return None  # agencies see a plan once it is published
    evaluated = await _evaluated(session, jurisdiction)
    rows = await session.execute(
        select(plan_entries.c.rank, projects)
        .join(projects, projects.c.id == plan_entries.c.project_id)
        .where(plan_entries.c.jurisdiction == jurisdiction, plan_entries.c.year == year)
        .order_by(plan_entries.c.rank)
    )
    entries = [
        PlanEntryOut(
            rank=r.rank,
            project_id=r.id,
            title=r.title,
            agency=r.agency,
            kind=r.kind,
            amount_fen=r.amount_fen,
            status=r.status,
            document=r.plan_document,
            bases=citations(evaluations.bases(policy, jurisdiction, evaluated.get(r.agency, ()))),
        )
        for r in rows
        # Agencies see what has been published; a further batch once it is (bayingolin §9).
        if r.plan_document is not None or principal.role is not Role.APPLICANT
    ]
    return PlanOut(
        jurisdiction=jurisdiction,
        year=year,
        status=plan.status,
        document=plan.document,
        published_at=plan.published_at,
        entries=entries,
        total_fen=sum(e.amount_fen for e in entries),
    )


async def _evaluated(session: AsyncSession, jurisdiction: str) -> dict[str, list[SimpleNamespace]]:
    """The jurisdiction's projects with an evaluation on file, by agency (zhonglou §20, shexian §50)."""
    found: dict[str, list[SimpleNamespace]] = {}
    rows = await session.execute(
        select(projects.c.id, projects.c.title, projects.c.agency, projects.c.evaluation).where(
            projects.c.jurisdiction == jurisdiction, projects.c.evaluation.is_not(None)
        )
    )
    for r in rows:
        found.setdefault(r.agency, []).append(SimpleNamespace(**r._mapping))
    return found
