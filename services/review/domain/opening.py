"""立案: which submissions open a review case, and the first time limit it runs under (lhasa §11).

The authority opens a case by hand; the suite's events open the others — a declaration admitted
by screening, a change, a final acceptance with experts, a post-evaluation — wherever the pack
reviews by a panel.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.review.domain.cases import ReviewCase
from services.review.domain.records import Submission
from services.review.domain.rules import (
    Clock,
    has_panels,
    panel_articles,
    panel_spec,
    screening_review,
    time_limit,
)
from shared.contracts.acceptance import FinalAcceptanceApplied, PostEvaluationDue
from shared.contracts.intake import ProjectApproved, ProjectScreened
from shared.contracts.procurement import ChangeReviewRequested
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, today_in_shanghai


def open_case(
    policy: PolicyRegistry, calendar: WorkingCalendar, submission: Submission, *, by: str, at: dt.datetime
) -> ReviewCase:
    """A case the authority opens: refused (PolicyError) where the pack has no expert review; the
    first review's time limit runs from today, the day the materials are received."""
    panel_spec(policy, submission.jurisdiction, submission.stage)
    articles = panel_articles(policy, submission.jurisdiction)
    return _opened(policy, calendar, dataclasses.replace(submission, articles=articles), by, at)


def open_on_event(
    policy: PolicyRegistry, calendar: WorkingCalendar, submission: Submission, *, by: str, at: dt.datetime
) -> ReviewCase | None:
    """A case an event asks for; None where the jurisdiction reviews without a panel."""
    if not has_panels(policy, submission.jurisdiction):
        return None
    return _opened(policy, calendar, submission, by, at)


def _opened(
    policy: PolicyRegistry, calendar: WorkingCalendar, submission: Submission, by: str, at: dt.datetime
) -> ReviewCase:
    received = today_in_shanghai(at)
    limit = time_limit(policy, calendar, submission.jurisdiction, Clock.FIRST_REVIEW, received)
    return ReviewCase.open(submission, by=by, at=at, received_on=received, limit=limit)


def after_screening(policy: PolicyRegistry, event: ProjectScreened) -> Submission | None:
    """A declaration admitted by screening goes to the review stage its pack names first."""
    wanted = screening_review(policy, event.jurisdiction, event.kind) if event.accepted else None
    if wanted is None:
        return None
    stage, articles = wanted
    return Submission(event.project_id, event.jurisdiction, stage, event.agency, articles=articles)


DESIGN_STAGE = "preliminary_design"


def after_feasibility(policy: PolicyRegistry, event: ProjectApproved) -> Submission | None:
    """A 可研 approval that a 初步设计 approval follows (shexian §20(一)) opens the 初步设计 review,
    where the pack reviews that stage before approval (shexian §7, §21)."""
    rule = policy.rule(event.jurisdiction, "funding.expert_review_required")
    stages = rule.params.get("stages") or () if rule.applies else ()
    if not event.design_approval_required or event.agency is None or DESIGN_STAGE not in stages:
        return None
    return Submission(
        event.project_id,
        event.jurisdiction,
        DESIGN_STAGE,
        event.agency,
        reference=event.approval_number,
        articles=rule.articles,
    )


def for_change(event: ChangeReviewRequested) -> Submission:
    return Submission(
        event.project_id,
        event.jurisdiction,
        "change",
        event.agency,
        parties=tuple(event.parties),
        reference=event.change_id,
        articles=tuple(event.articles),
    )


def for_acceptance(event: FinalAcceptanceApplied) -> Submission | None:
    """xunyang §20, lhasa §17: without experts the authority concludes without a panel."""
    if not event.experts:
        return None
    return Submission(
        event.project_id,
        event.jurisdiction,
        "acceptance",
        event.agency,
        parties=tuple(event.parties),
        reference=event.application_id,
        articles=tuple(event.articles),
    )


def for_post_evaluation(event: PostEvaluationDue) -> Submission:
    return Submission(
        event.project_id,
        event.jurisdiction,
        "post_evaluation",
        event.agency,
        parties=tuple(event.parties),
        reference=f"post_evaluation:{event.due_on.isoformat()}",
        articles=tuple(event.articles),
    )
