"""A change request on a project: routed by the pack, filed at once or left to its approvers."""

from __future__ import annotations

from collections.abc import Sequence

from services.procurement.domain.changes import (
    Change,
    ChangeFigures,
    ChangeRequest,
    ChangeState,
    Decision,
    Path,
    expert_review_wanted,
    route_change,
)
from services.procurement.domain.errors import InvalidState, ProcurementError
from services.procurement.domain.project import Project
from services.procurement.domain.records import Filing, new_id
from shared.policy import PolicyRegistry, citations


def request_change(
    policy: PolicyRegistry,
    project: Project,
    earlier: Sequence[Change],
    request: ChangeRequest,
    filing: Filing,
) -> Change:
    """A change request: its path from the pack; a change over tolerance goes to an expert review.
    Changes still awaiting their decision (of `earlier`) count as if they took effect."""
    if project.approved_fen is None:
        raise InvalidState("项目尚未批复，没有可变更的批复内容")
    pending = [c for c in earlier if c.status is ChangeState.PENDING]
    pending_delta = sum(c.total_delta_fen for c in pending)
    if project.total_fen + pending_delta + request.total_delta_fen < 0:
        raise ProcurementError("核减数额超过批复总投资")
    j = project.jurisdiction
    figures = ChangeFigures(
        approved_fen=project.approved_fen,
        prior_overrun_fen=project.overrun_fen + pending_delta,
        prior_adjusted_fen=project.adjusted_fen + sum(c.adjustment_fen for c in pending),
        total_delta_fen=request.total_delta_fen,
        adjustment_fen=request.adjustment_fen,
        goal_changed=request.goal_changed,
        ground=request.ground,
        major=request.major,
    )
    route = route_change(policy, j, figures)
    filed = route.path is Path.FILE
    change = Change(
        id=new_id(),
        project_id=project.id,
        jurisdiction=j,
        agency=project.agency,
        description=request.description,
        scope_effect=request.scope_effect,
        total_delta_fen=request.total_delta_fen,
        adjustment_fen=request.adjustment_fen,
        goal_changed=request.goal_changed,
        ground=request.ground.value if request.ground else None,
        path=route.path.value,
        approvers=list(route.approvers),
        decisions={},
        review="requested" if expert_review_wanted(policy, j, route) else None,
        status=ChangeState.FILED if filed else ChangeState.PENDING,
        reasons=list(citations(route.reasons)),
        articles=list(route.articles),
        requested_by=filing.by,
        requested_at=filing.at,
        decided_at=filing.at if filed else None,
        idempotency_key=filing.idempotency_key,
    )
    project.request_change(change)
    return change


def decide_change(project: Project, change: Change, role: str, decision: Decision) -> None:
    """The authority's (and in bayingolin §22 finance's) decision on a change awaiting approval."""
    project.decide_change(change, role, decision)
