"""How a project's intake ends before or after approval: 不予批复, withdrawal, termination.

A missed start or contract deadline only recommends termination: the articles say 原则上
(zhonglou §17, bayingolin §21), so the authority decides — terminate, extend to a date, or keep
the project going — and records its decision with its document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.intake.domain.errors import InvalidTransition, TerminationDecisionInvalid
from services.intake.domain.kinds import WITHDRAWABLE, ProjectStatus
from services.intake.domain.projects import Project
from shared.contracts.intake import ProjectRejected, ProjectTerminated, ProjectWithdrawn, TerminationDecided


def reject(project: Project, *, reason: str, by: str, at: datetime) -> None:
    """不予批复."""
    if project.status is ProjectStatus.REJECTED:
        return
    project.require({ProjectStatus.DECLARED, ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN}, "不予批复")
    project.status = ProjectStatus.REJECTED
    project.closed_reason = reason
    project.record_decision("rejection", "rejected", by, at, note=reason)
    project.events.append(
        ProjectRejected(project_id=project.id, jurisdiction=project.jurisdiction, reason=reason)
    )


def withdraw(project: Project, *, reason: str, by: str, at: datetime) -> None:
    if project.status is ProjectStatus.WITHDRAWN:
        return
    project.require(WITHDRAWABLE, "撤回（已批复的项目须走终止程序）")
    announced = project.status is not ProjectStatus.DRAFT
    project.status = ProjectStatus.WITHDRAWN
    project.closed_reason = reason
    project.record_decision("withdrawal", "withdrawn", by, at, note=reason)
    if announced:
        project.events.append(
            ProjectWithdrawn(project_id=project.id, jurisdiction=project.jurisdiction, reason=reason)
        )


def terminate(
    project: Project,
    *,
    reason: str,
    articles: Sequence[str],
    by: str,
    at: datetime,
    document_ref: str | None = None,
) -> bool:
    """终止 by the authority's decision; projects not yet under way are left alone."""
    if project.status not in {ProjectStatus.IN_PLAN, ProjectStatus.APPROVED}:
        return False
    project.status = ProjectStatus.TERMINATED
    project.closed_reason = reason
    project.record_decision("termination", "terminated", by, at, note=document_ref or reason)
    project.events.append(
        ProjectTerminated(
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            reason=reason,
            articles=tuple(articles),
            document_ref=document_ref,
        )
    )
    return True


# -- 原则上终止: the deadline recommends, the authority decides ---------------------------------------

DECISIONS = {"terminate": "终止", "extend": "延期", "keep": "继续实施"}


@dataclass(frozen=True)
class Recommendation:
    """建议终止 from a missed deadline (zhonglou §17, bayingolin §21 say 原则上终止: a person decides)."""

    reason: str
    articles: Sequence[str]
    deadline: str | None
    at: datetime


@dataclass(frozen=True)
class TerminationDecision:
    """The authority's decision on a recommendation, with its document."""

    decision: str  # terminate | extend | keep
    document_ref: str
    reason: str
    by: str
    until: date | None = None


def recommend_termination(project: Project, rec: Recommendation) -> bool:
    """Record the recommendation for the authority; nothing ends by itself. A redelivery of one
    already recorded, or one for a project not under way, changes nothing."""
    if project.status not in {ProjectStatus.IN_PLAN, ProjectStatus.APPROVED}:
        return False
    current = project.termination or {}
    if current.get("deadline") == rec.deadline and current.get("decision") in (None, "terminate"):
        return False
    project.termination = {
        "reason": rec.reason,
        "articles": list(rec.articles),
        "deadline": rec.deadline,
        "recommended_at": rec.at.isoformat(),
        "decision": None,
    }
    project.termination_state = "pending"
    project.record_decision("termination_recommended", "pending", "procurement", rec.at, note=rec.reason)
    return True


def decide_termination(project: Project, d: TerminationDecision, at: datetime, today: date) -> bool:
    """终止、延期 (to a date) or 继续实施, recorded with its document. The same decision again is
    no change; another decision on a decided recommendation is refused."""
    rec = project.termination
    if rec is None:
        raise InvalidTransition(f"项目 {project.id} 没有待决定的终止建议")
    if rec.get("decision") is not None:
        if (rec["decision"], rec.get("document_ref")) == (d.decision, d.document_ref):
            return False
        said = DECISIONS.get(rec["decision"], rec["decision"])
        raise InvalidTransition(f"终止建议已决定为{said}（{rec.get('document_ref')}）")
    _check_decision(d, today)
    articles = tuple(rec.get("articles", ()))
    project.termination = {
        **rec,
        "decision": d.decision,
        "document_ref": d.document_ref,
        "decision_reason": d.reason,
        "until": d.until.isoformat() if d.until else None,
        "decided_by": d.by,
        "decided_at": at.isoformat(),
    }
    project.termination_state = d.decision
    if d.decision == "terminate":
        return terminate(
            project,
            reason=d.reason or rec["reason"],
            articles=articles,
            by=d.by,
            at=at,
            document_ref=d.document_ref,
        )
    project.record_decision(
        "termination_decision", d.decision, d.by, at, note=f"{d.document_ref}：{d.reason}"
    )
    project.events.append(
        TerminationDecided(
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            decision=d.decision,
            deadline=rec.get("deadline"),
            until=d.until,
            reason=d.reason,
            document_ref=d.document_ref,
            articles=articles,
        )
    )
    return True


def _check_decision(d: TerminationDecision, today: date) -> None:
    if d.decision not in DECISIONS:
        raise TerminationDecisionInvalid(f"决定须为 {'、'.join(DECISIONS)} 之一")
    if not d.document_ref.strip():
        raise TerminationDecisionInvalid("终止建议的决定须注明文号")
    if d.decision != "terminate" and not d.reason.strip():
        raise TerminationDecisionInvalid(f"{DECISIONS[d.decision]}须写明理由")
    if d.decision == "extend" and (d.until is None or d.until <= today):
        raise TerminationDecisionInvalid("延期须给出今天以后的日期（until）")
