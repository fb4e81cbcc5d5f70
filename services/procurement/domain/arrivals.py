"""What intake's and review's events do to a project as procurement sees it."""

from __future__ import annotations

import datetime as dt

from services.procurement.domain.changes import Change
from services.procurement.domain.project import Project
from services.procurement.domain.status import Status
from shared.contracts.intake import ProjectDeclared, ProjectRecorded
from shared.contracts.review import ReviewConcluded
from shared.policy import PolicyRegistry


def declared(event: ProjectDeclared | ProjectRecorded, at: dt.datetime) -> Project:
    """A project first known: declared to intake, or 上级资金项目报备 (zhonglou §10) with its kind and
    software share (zhonglou §15's security test, bayingolin §14)."""
    return Project(
        id=event.project_id,
        jurisdiction=event.jurisdiction,
        agency=event.agency,
        title=event.title,
        kind=event.kind,
        declared_fen=event.amount_fen,
        software_fen=event.software_fen,
        status=Status.DECLARED,
        created_at=at,
    )


def reviewed_changes(waiting: list[Change], event: ReviewConcluded) -> list[Change]:
    """The change an expert review concluded on: the one the case names; from an older producer
    without it, the oldest waiting. Each gets the review's verdict."""
    matched = [c for c in waiting if c.id == event.reference] if event.reference else waiting[:1]
    for change in matched:
        change.review = event.verdict
    return matched


def review_starts_clock(policy: PolicyRegistry, event: ReviewConcluded) -> bool:
    """A pass of a review stage the pack counts from (zhonglou §17's start deadline)."""
    rule = policy.rule(event.jurisdiction, "funding.expert_review_required")
    stages = rule.params.get("stages", []) if rule.applies else []
    return event.verdict == "pass" and event.stage in stages
