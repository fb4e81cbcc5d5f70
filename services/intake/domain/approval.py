"""批复条件 — what must hold before the authority approves, each asked of the pack.

Nothing outside the plan is approved (zhonglou §9, shexian §15, bayingolin §15, xunyang §9,
lhasa §6) except through the off-plan emergency path; no expert review, no approval
(shexian §7, zhonglou §11–12, bayingolin §9, lhasa §11); the approval-stage documents and the
sign-offs of other bodies (shexian §25 escalation, the off-plan sign-offs, shexian §10 building
off the platform; not those due before procurement, bayingolin §17) must be on file, at
the larger of the declared and the approved amount: approving more than was declared does not
escape a threshold (shexian §20(一), §24, §25 and the like in other packs).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from services.intake.domain import design
from services.intake.domain.errors import ExceptionNotAllowed, InvalidTransition
from services.intake.domain.kinds import ProjectStatus
from services.intake.domain.projects import Project
from services.intake.domain.records import ApprovalTerms
from services.intake.domain.requirements import Stage, required_materials, required_signoffs
from services.intake.domain.reviews import review_refusals
from shared.policy import PolicyRegistry, Reason, citations
from shared.policy.principle import ExceptionRefused, except_in_principle


def _wan(fen: int) -> str:
    return f"{(Decimal(fen) / 1_000_000).normalize():f}"


def approval_refusals(
    policy: PolicyRegistry,
    project: Project,
    materials: Mapping[str, int],
    signed: Set[str],
    approved_amount_fen: int = 0,
) -> list[Reason]:
    j, declared = project.jurisdiction, project.facts()
    facts = declared.as_approved(approved_amount_fen)
    # What only the approved amount asks for says so: the declared amount did not need it.
    above = ""
    if facts.amount_fen > declared.amount_fen:
        above = (
            f"批复金额 {_wan(facts.amount_fen)} 万元高于申报金额 {_wan(declared.amount_fen)} 万元，按批复金额"
        )
    reasons: list[Reason] = []
    plan = policy.rule(j, "funding.plan_required")
    if plan.applies and project.status is not ProjectStatus.IN_PLAN and not project.off_plan:
        reasons.append(
            policy.refusal(
                j,
                "funding.plan_required",
                "not_in_plan",
                f"项目未列入 {project.plan_year} 年度计划，{plan.summary}",
            )
        )
    reasons += review_refusals(policy, project)
    at_declared = {m.material for m in required_materials(policy, j, declared)}
    for item in required_materials(policy, j, facts):
        if item.stage is Stage.DESIGN_APPROVAL:
            continue  # asked for by the 初步设计 approval that follows (domain.design)
        provided = materials.get(item.material, 0)
        stage = "审批" if item.stage is Stage.APPROVAL else "申报"
        said = f"缺少{stage}材料" if item.material in at_declared else f"{above}须补充{stage}材料"
        if (short := item.missing(provided, said)) is not None:
            reasons.append(short)
    needed_at_declared = {s.signoff for s in required_signoffs(policy, j, declared)}
    for needed in required_signoffs(policy, j, facts):
        if needed.before == "approval" and needed.signoff not in signed:
            missing = (
                f"尚无{needed.label}的记录"
                if needed.signoff in needed_at_declared
                else f"{above}须经{needed.label}，尚无记录"
            )
            reasons.append(
                Reason(
                    code=f"signoff_missing:{needed.signoff}",
                    rule=needed.article,
                    articles=(needed.article,),
                    message=f"{missing}（{needed.article}）",
                )
            )
    return reasons


def approval_articles(policy: PolicyRegistry, project: Project) -> tuple[str, ...]:
    """The articles an approval rests on: the plan (or the emergency path) and the review."""
    j = project.jurisdiction
    rule_ids = ["intake.off_plan_emergency" if project.off_plan else "funding.plan_required"]
    rule_ids.append("funding.expert_review_required")
    articles: list[str] = []
    for rule_id in rule_ids:
        rule = policy.rule(j, rule_id)
        if rule.applies:
            articles.extend(a for a in rule.articles if a not in articles)
    return tuple(articles)


@dataclass(frozen=True)
class OnFile:
    """What the project has on file when it is approved: files per material, sign-offs recorded,
    and the project that already holds the approval number, if one does."""

    materials: Mapping[str, int] = field(default_factory=dict)
    signed: Set[str] = frozenset()
    number_holder: Project | None = None


def approve(
    policy: PolicyRegistry, project: Project, terms: ApprovalTerms, on_file: OnFile, *, by: str, at: datetime
) -> None:
    """批复, every refusal at once; the same terms again change nothing (a retried request)."""
    holder = on_file.number_holder
    if holder is not None and holder.id != project.id:
        raise InvalidTransition(f"批复文号 {terms.number} 已用于项目「{holder.title}」（{holder.id}）")
    terms = replace(
        terms,
        scope=terms.scope or project.summary or project.title,
        design_required=design.required(policy, project, terms.amount_fen),
    )
    refusals: list[Reason] = []
    if project.status in (ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN):
        refusals = approval_refusals(policy, project, on_file.materials, on_file.signed, terms.amount_fen)
    try:  # 原则上不予审批 (shexian §15, lhasa §6, xunyang §9): the authority may depart, on the record
        refusals, made = except_in_principle(refusals, terms.exceptions)
    except ExceptionRefused as exc:
        raise ExceptionNotAllowed(str(exc)) from exc
    project.approve(terms, refusals, approval_articles(policy, project), by=by, at=at)
    if made and project.approved_at == at:
        project.flags = [*project.flags, *(c.model_dump(mode="json") for c in citations(made))]
        project.record_decision("approval_exception", "excepted", by, at, reasons=citations(made))
