"""The review service's conclusions as intake keeps them: the latest verdict per stage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.intake.domain.kinds import LIVE, PRE_APPROVAL_STAGES, ProjectStatus
from services.intake.domain.projects import Project
from shared.contracts.review import ReviewConcluded


def record_review(project: Project, event: ReviewConcluded, at: datetime) -> bool:
    """The review service's conclusion; only stages before approval matter here."""
    stage, verdict, case_id = event.stage, event.verdict, event.case_id
    if stage not in PRE_APPROVAL_STAGES or project.status not in LIVE - {ProjectStatus.APPROVED}:
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
