"""Opinions, the panel's conclusion and the time limits after it (lhasa §11).

The last seated expert's opinion concludes the case by the pack's rule; a conclusion starts the
report (pass) or the written opinion (not passed); the written opinion starts the revision; the
revised materials start the second review. A passed time limit is announced once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from services.review.domain.cases import CaseStatus, ReviewCase
from services.review.domain.records import Conclusion, Opinion
from services.review.domain.rules import (
    Clock,
    TimeLimit,
    Verdict,
    after_conclusion,
    clock_articles,
    conclude,
    conclusion_articles,
    conclusion_method,
    must_resubmit,
    third_party_review,
    time_limit,
)
from shared.contracts.review import ReviewOverdue
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, today_in_shanghai


def give_opinion(
    case: ReviewCase,
    expert_ids: Collection[str],
    opinion: Opinion,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    at: dt.datetime,
) -> None:
    """An expert's score, verdict and comments; the last one concludes the case by the pack's rule."""
    expert_id = case.seated_among(expert_ids)
    # bayingolin §9: the experts review with the third-party assessment in hand.
    third_party = third_party_review(policy, case.jurisdiction, case.stage, "opinion")
    if case.status is CaseStatus.PANEL_DRAWN:
        case.check_third_party_review(third_party)
    case.record_opinion(expert_id, score=opinion.score, verdict=opinion.verdict, comments=opinion.comments)
    verdicts = case.verdicts()
    if verdicts is not None:
        case.conclude(conclusion_of(policy, calendar, case, verdicts, at), third_party=third_party)


def conclusion_of(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    case: ReviewCase,
    verdicts: list[Verdict],
    at: dt.datetime,
) -> Conclusion:
    """The panel's conclusion, whether the materials are to be redone (lhasa §11: after the pack's
    number of failures), and the time limit it starts."""
    j = case.jurisdiction
    verdict = conclude(policy, j, verdicts)
    failures = case.failures + (verdict is not Verdict.PASS)
    resubmission = must_resubmit(policy, j, failures) if verdict is not Verdict.PASS else None
    revising = verdict is not Verdict.PASS and resubmission is None
    started = after_conclusion(policy, calendar, j, verdict, revising=revising, on=today_in_shanghai(at))
    return Conclusion(
        verdict,
        at,
        resubmission=resubmission,
        next_limit=TimeLimit(started[0], started[1].date) if started else None,
        articles=conclusion_articles(policy, j),
        method=conclusion_method(policy, j),
    )


def issue_report(
    case: ReviewCase, document: str, policy: PolicyRegistry, calendar: WorkingCalendar, at: dt.datetime
) -> None:
    """评审报告或书面评审意见已出具: its time limit ends; a revision's starts (lhasa §11)."""
    on = today_in_shanghai(at)
    limit = None
    if case.status is CaseStatus.REVISING and case.clock == Clock.FAIL_OPINION.value:
        # The agency revises within its limit of receiving the written opinion.
        limit = time_limit(policy, calendar, case.jurisdiction, Clock.REVISION, on)
    case.issue_report(document, on=on, next_limit=limit)


def resubmit(case: ReviewCase, policy: PolicyRegistry, calendar: WorkingCalendar, at: dt.datetime) -> None:
    """修改材料已送达: the second review's time limit starts (lhasa §11)."""
    received = today_in_shanghai(at)
    limit = time_limit(policy, calendar, case.jurisdiction, Clock.SECOND_REVIEW, received)
    case.resubmit(received_on=received, limit=limit)


def overdue(case: ReviewCase, policy: PolicyRegistry) -> ReviewOverdue | None:
    """The announcement of the case's passed time limit, once (None when none runs)."""
    if case.clock is None or case.due_on is None:
        return None
    clock = Clock(case.clock)
    case.overdue_notified = True
    return ReviewOverdue(
        project_id=case.project_id,
        jurisdiction=case.jurisdiction,
        case_id=case.id,
        clock=clock.name.lower(),
        due_on=case.due_on,
        articles=clock_articles(policy, case.jurisdiction, clock),
    )
