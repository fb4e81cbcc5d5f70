"""初步设计批复: the second approval where the text asks for one.

shexian §20(一): a new or upgraded project of 500万 and more has its 可行性研究报告 approved, and
then its 初步设计方案 submitted for approval; the emergency projects of §14 may combine them
((二)). The pack says which projects (`intake.approval_path_by_amount.design_approval`, a
condition on kind, nature, amount and the off-plan path); the first approval then announces
that a design approval follows, the 初步设计方案 is taken as a material of that stage, and the
construction money waits for it (funding's `design_approval` gate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.intake.domain.errors import ApprovalRefused, InvalidTransition
from services.intake.domain.projects import Project
from services.intake.domain.requirements import Stage, required_materials
from services.intake.domain.reviews import DESIGN_STAGE, design_awaited, review_refusals
from shared.contracts.intake import DesignApproved
from shared.policy import PolicyRegistry
from shared.policy.conditions import Condition

RULE = "intake.approval_path_by_amount"


@dataclass(frozen=True)
class DesignTerms:
    number: str
    amount_fen: int | None  # 概算; None keeps the approved total


def required(policy: PolicyRegistry, project: Project, approved_amount_fen: int) -> bool:
    """Whether this project's approval is the 可研 one, a 初步设计 approval to follow."""
    rule = policy.rule(project.jurisdiction, RULE)
    when = rule.params.get("design_approval")
    if not rule.applies or when is None:
        return False
    return Condition.model_validate(when).holds(project.facts().as_approved(approved_amount_fen))


awaited = design_awaited


def stage_materials(policy: PolicyRegistry, project: Project) -> set[str]:
    """The materials the design approval asks for (初步设计方案), taken while it is awaited."""
    facts = project.facts().as_approved(project.approved_amount_fen)
    return {
        m.material
        for m in required_materials(policy, project.jurisdiction, facts)
        if m.stage is Stage.DESIGN_APPROVAL
    }


def approve_design(
    policy: PolicyRegistry,
    project: Project,
    terms: DesignTerms,
    materials: Mapping[str, int],
    by: str,
    at: datetime,
) -> None:
    """初步设计批复 with its number (and 概算); the same number again is no change."""
    state = project.design_approval or {}
    if state.get("number") == terms.number:
        return
    if not awaited(project):
        said = f"已批复（{state['number']}）" if state.get("number") else "无须或尚不能报批初步设计"
        raise InvalidTransition(f"项目 {project.id} 初步设计{said}")
    rule = policy.rule(project.jurisdiction, RULE)
    facts = project.facts().as_approved(project.approved_amount_fen)
    missing = [
        reason
        for m in required_materials(policy, project.jurisdiction, facts)
        if m.stage is Stage.DESIGN_APPROVAL
        and (reason := m.missing(materials.get(m.material, 0), "缺少初步设计报批材料"))
    ]
    unreviewed = review_refusals(policy, project, "初步设计方案", stages=[DESIGN_STAGE])
    ApprovalRefused.refuse_if([*missing, *unreviewed], "初步设计不予批复")
    amount = terms.amount_fen if terms.amount_fen is not None else project.approved_amount_fen
    assert amount is not None
    project.design_approval = {
        "required": True,
        "number": terms.number,
        "amount_fen": amount,
        "at": at.isoformat(),
    }
    project.approved_amount_fen = amount
    project.record_decision(
        "design_approval", "approved", by, at, note=f"{terms.number}，批复概算 {amount} 分"
    )
    project.events.append(
        DesignApproved(
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            approval_number=terms.number,
            approved_amount_fen=amount,
            articles=rule.articles,
        )
    )
