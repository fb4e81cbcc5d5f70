"""The review service's conclusions as intake keeps them: the latest verdict per stage; after the
可研 approval, that of the 初步设计 review its design approval waits for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.intake.domain.kinds import LIVE, PRE_APPROVAL_STAGES, ProjectStatus
from services.intake.domain.projects import Project
from shared.contracts.review import ReviewConcluded
from shared.policy import PolicyRegistry, Reason

DESIGN_STAGE = "preliminary_design"  # the review stage of the 初步设计方案 (domain.design)


def design_awaited(project: Project) -> bool:
    """Approved on its 可研, its 初步设计 approval still to come (shexian §20(一))."""
    state = project.design_approval or {}
    approved = project.status is ProjectStatus.APPROVED
    return approved and bool(state.get("required")) and not state.get("number")


def record_review(project: Project, event: ReviewConcluded, at: datetime) -> bool:
    """The review service's conclusion; only stages before approval matter here."""
    stage, verdict, case_id = event.stage, event.verdict, event.case_id
    design_review = stage == DESIGN_STAGE and design_awaited(project)  # shexian §20(一), §21
    if stage not in PRE_APPROVAL_STAGES or (
        project.status not in LIVE - {ProjectStatus.APPROVED} and not design_review
    ):
        return False
    project.review_case_id, project.review_stage, project.review_verdict = case_id, stage, verdict
    project.reviews = {**project.reviews, stage: verdict}
    project.record_decision("review", verdict, "review", at, note=f"{stage} 评审案件 {case_id}")
    return True


def review_state(project: Project, stages: Sequence[str]) -> str:
    """pass, revise, fail or none over the stages whose pass allows approval."""
    verdicts = [v for s, v in project.reviews.items() if s in stages]
    for worst in ("fail", "revise"):
        if worst in verdicts:
            return worst
    return "pass" if verdicts else "none"


def review_refusals(
    policy: PolicyRegistry, project: Project, subject: str = "", stages: Sequence[str] | None = None
) -> list[Reason]:
    """No expert review passed, no approval (shexian §7, zhonglou §11–12, bayingolin §9, lhasa §11):
    over the stages whose pass allows approval, or the `stages` named (the 初步设计 review)."""
    review = policy.rule(project.jurisdiction, "funding.expert_review_required")
    wanted = review.params.get("stages") or sorted(PRE_APPROVAL_STAGES)
    if stages is not None:
        wanted = [s for s in stages if s in wanted]
    state = review_state(project, wanted)
    if not review.applies or not wanted or state == "pass":
        return []
    state = {"revise": "评审意见为修改后再审", "fail": "评审未通过"}.get(state, "尚未通过专家评审")
    return [
        policy.refusal(
            project.jurisdiction,
            "funding.expert_review_required",
            "review_not_passed",
            f"{subject}{state}，{review.summary}",
        )
    ]
