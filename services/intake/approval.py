"""批复条件 — what must hold before the authority approves, each asked of the pack.

Nothing outside the plan is approved (zhonglou §9, shexian §15, bayingolin §15, xunyang §9,
lhasa §6) except through the off-plan emergency path; no expert review, no approval
(shexian §7, zhonglou §11–12, bayingolin §9, lhasa §11); the approval-stage documents and the
sign-offs of other bodies (shexian §25 escalation, the off-plan sign-offs) must be on file.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from services.intake.domain import PRE_APPROVAL_STAGES, Project, ProjectStatus
from services.intake.requirements import Stage, required_materials, required_signoffs
from shared.policy import PolicyRegistry, Reason


def approval_refusals(
    policy: PolicyRegistry, project: Project, materials: Mapping[str, int], signed: Set[str]
) -> list[Reason]:
    j, facts = project.jurisdiction, project.facts()
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
    review = policy.rule(j, "funding.expert_review_required")
    state = project.review_state(review.params.get("stages") or sorted(PRE_APPROVAL_STAGES))
    if review.applies and state != "pass":
        state = {"revise": "评审意见为修改后再审", "fail": "评审未通过"}.get(state, "尚未通过专家评审")
        reasons.append(
            policy.refusal(
                j, "funding.expert_review_required", "review_not_passed", f"{state}，{review.summary}"
            )
        )
    for item in required_materials(policy, j, facts):
        provided = materials.get(item.material, 0)
        if provided < item.min_count:
            need = f"（至少 {item.min_count} 份，已提交 {provided} 份）" if item.min_count > 1 else ""
            stage = "审批" if item.stage is Stage.APPROVAL else "申报"
            reasons.append(
                Reason(
                    code=f"material_missing:{item.material}",
                    rule=item.article,
                    articles=(item.article,),
                    message=f"缺少{stage}材料：{item.label}{need}（{item.article}）",
                )
            )
    for needed in required_signoffs(policy, j, facts):
        if needed.signoff not in signed:
            reasons.append(
                Reason(
                    code=f"signoff_missing:{needed.signoff}",
                    rule=needed.article,
                    articles=(needed.article,),
                    message=f"尚无{needed.label}的记录（{needed.article}）",
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
