"""The annual plan (年度计划): the authority's ranking, and its publication, which includes every
ranked project — in batches where the pack says so (bayingolin §9), or adjusted by the authority's
exception where the text fixes the plan 原则上 (zhonglou §9) — and is itself the approval of O&M
projects where the pack says so (shexian §20(三))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.intake.domain.errors import ApprovalRefused, ExceptionNotAllowed, InvalidTransition, PlanError
from services.intake.domain.kinds import ProjectKind, ProjectStatus
from services.intake.domain.orders import Oversight
from services.intake.domain.projects import Project
from services.intake.domain.reviews import review_refusals
from shared.policy import SUITE_DEFAULT, PolicyRegistry, Reason, citations
from shared.policy.principle import ExceptionRefused, PrincipleException, except_in_principle


@dataclass(frozen=True)
class PlanState:
    """A plan as stored: draft or published, with the document of its first publication."""

    jurisdiction: str
    year: int
    published: bool = False
    document: str | None = None


@dataclass(frozen=True)
class Publication:
    """下达: the document, and the ranked projects (rank, project) not published before."""

    document: str
    ranked: Sequence[tuple[int, Project]]
    by: str
    at: datetime
    excepted: Sequence[Reason] = ()  # the authority's exception to a plan fixed 原则上 (zhonglou §9)


def in_batches(policy: PolicyRegistry, jurisdiction: str) -> bool:
    """Whether the year's plan is issued in batches, each with its own document (bayingolin §9)."""
    rule = policy.rule(jurisdiction, "funding.plan_required")
    return rule.applies and bool(rule.params.get("issued_in_batches"))


def takes_more(policy: PolicyRegistry, jurisdiction: str) -> bool:
    """Whether a published plan takes further projects under a further document: issued in batches
    (bayingolin §9), or adjusted by exception where the text fixes it only 原则上 (zhonglou §9)."""
    return in_batches(policy, jurisdiction) or policy.rule(jurisdiction, "intake.plan_fixed").in_principle


def may_rank(policy: PolicyRegistry, plan: PlanState | None) -> None:
    """A published plan takes no new ranking, unless it takes more (takes_more). Where no article
    speaks of adjusting a plan, keeping the issued one is the suite's default, and says so."""
    if plan is not None and plan.published and not takes_more(policy, plan.jurisdiction):
        raise InvalidTransition(
            f"{plan.jurisdiction} {plan.year} 年度计划已下达（{plan.document}），"
            f"不再调整（{SUITE_DEFAULT}）；新增项目请走计划外程序"
        )


def adjustment(
    policy: PolicyRegistry, plan: PlanState, exceptions: Sequence[PrincipleException]
) -> list[Reason]:
    """A further publication of a plan the text fixes (zhonglou §9 一经确定原则上不予调整): refused,
    unless the authority departs from it with its reason and document; returns that exception."""
    if not plan.published or in_batches(policy, plan.jurisdiction):
        if exceptions:
            raise ExceptionNotAllowed(f"{plan.jurisdiction} {plan.year} 年度计划的这次下达没有可作例外的理由")
        return []
    rule = policy.rule(plan.jurisdiction, "intake.plan_fixed")
    fixed = Reason(
        code="plan_fixed",
        rule="intake.plan_fixed",
        articles=rule.articles,
        message=f"{plan.jurisdiction} {plan.year} 年度计划已下达（{plan.document}），{rule.summary}",
        in_principle=rule.in_principle,
    )
    try:
        standing, made = except_in_principle([fixed], exceptions)
    except ExceptionRefused as exc:
        raise ExceptionNotAllowed(str(exc)) from exc
    InvalidTransition.refuse_if(standing, "调整年度计划被拒绝")
    return made


def check_distinct(ranking: Sequence[str]) -> None:
    """Each ranked project once — asked before anything else about the ranking."""
    if len(set(ranking)) != len(ranking):
        raise PlanError("排序中有重复的项目")


def check_ranking(ranking: Sequence[str], found: Mapping[str, Project], jurisdiction: str, year: int) -> None:
    """Each ranked project of the jurisdiction, screened, declared for the year and in plan."""
    for index, project_id in enumerate(ranking):
        project = found.get(project_id)
        if project is None:
            raise PlanError(f"ranking[{index}]: 项目 {project_id} 不是 {jurisdiction} 的项目")
        if project.plan_document is not None:
            raise PlanError(
                f"ranking[{index}]: 项目 {project.title} 已由 {project.plan_document} 列入计划，"
                "已下达的不再排序；请只列本批新增的项目"
            )
        for held in Oversight.of(project.oversight).active("defer_plan"):
            raise PlanError(
                f"ranking[{index}]: 项目 {project.title} 已被{held.label}（{held.document_ref}，"
                f"{'、'.join(held.articles)}），解除前不列入计划"
            )
        if project.status is not ProjectStatus.ACCEPTED or project.plan_year != year or project.off_plan:
            raise PlanError(
                f"ranking[{index}]: 项目 {project.title} 须为已通过形式审查、申报 {year} 年度的计划内项目"
                f"（当前 {project.status.value}，申报年度 {project.plan_year}）"
            )


def already_published(policy: PolicyRegistry, plan: PlanState, document: str) -> bool:
    """True for a retried publication of a plan that takes no more; refuses another document."""
    if not plan.published or takes_more(policy, plan.jurisdiction):
        return False
    if plan.document == document:
        return True
    raise InvalidTransition(f"{plan.jurisdiction} {plan.year} 年度计划已下达（{plan.document}）")


def batch_retried(plan: PlanState, issued: Mapping[str, str], document: str, waiting: int) -> bool:
    """True for the last batch's (or adjustment's) publication retried; refuses a reused document
    or an empty plan."""
    if document in issued.values():
        if not waiting:
            return True
        raise InvalidTransition(
            f"文号 {document} 已用于 {plan.jurisdiction} {plan.year} 年度计划此前下达的一批"
        )
    if not waiting:
        more = "新增" if issued else ""
        raise PlanError(f"{plan.jurisdiction} {plan.year} 年度计划没有{more}项目")
    return False


def publish(policy: PolicyRegistry, plan: PlanState, publication: Publication) -> None:
    """Include every ranked project; where the plan approves O&M projects, approve them, once
    each has passed its expert review (shexian §7, §12) — else nothing is published."""
    j, year = plan.jurisdiction, plan.year
    plan_rule = policy.rule(j, "funding.plan_required")
    path = policy.rule(j, "intake.approval_path_by_amount")
    om_direct = path.applies and bool(path.params.get("om_no_further_approval"))
    direct = [p for _, p in publication.ranked if om_direct and p.kind is ProjectKind.OPERATION]
    unreviewed = [
        reason for p in direct for reason in review_refusals(policy, p, f"运维类项目「{p.title}」（{p.id}）")
    ]
    ApprovalRefused.refuse_if(unreviewed, f"{j} {year} 年度计划将批复其中的运维类项目，不能下达")
    document, by, at = publication.document, publication.by, publication.at
    for rank, project in publication.ranked:
        project.include_in_plan(
            year=year, rank=rank, document=document, articles=plan_rule.articles, by=by, at=at
        )
        if publication.excepted:
            made = citations(publication.excepted)
            project.flags = [*project.flags, *(c.model_dump(mode="json") for c in made)]
            project.record_decision("plan_adjustment", "excepted", by, at, reasons=made)
        if project in direct:
            project.approve_with_plan(document=document, articles=path.articles, by=by, at=at)
