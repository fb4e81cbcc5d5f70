"""Acceptance's refusals: one hierarchy, everything the domain raises."""

from __future__ import annotations

from shared.errors import DomainError


class AcceptanceError(DomainError):
    """Base of acceptance's refusals; `code` is stable, the message is for people."""

    code = "acceptance_error"
    title = "验收操作被拒绝"


class ProjectNotFound(AcceptanceError):
    code = "project_not_found"
    title = "项目不存在"


class EvaluationNotFound(AcceptanceError):
    code = "evaluation_not_found"
    title = "评价记录不存在"


class RuleViolation(AcceptanceError):
    code = "acceptance_rule_violation"
    title = "不符合项目管理办法的规定"


class InvalidState(AcceptanceError):
    code = "invalid_state"
    title = "项目当前状态不允许此操作"
