"""Procurement's one error hierarchy: everything the domain raises."""

from __future__ import annotations

from shared.errors import DomainError


class ProcurementError(DomainError):
    """Base of procurement's refusals; `code` is stable, the message is for people."""

    code = "procurement_error"
    title = "采购与建设操作被拒绝"


class ProjectNotFound(ProcurementError):
    code = "project_not_found"
    title = "项目不存在"


class PurchaseNotFound(ProcurementError):
    code = "purchase_not_found"
    title = "计划外采购不存在"


class ChangeNotFound(ProcurementError):
    code = "change_not_found"
    title = "变更申请不存在"


class RuleViolation(ProcurementError):
    code = "procurement_rule_violation"
    title = "不符合项目管理办法的规定"


class InvalidState(ProcurementError):
    code = "invalid_state"
    title = "项目当前状态不允许此操作"


class EventMismatch(ProcurementError):
    """An event about a project that says it is of another jurisdiction: no redelivery makes it fit."""

    code = "event_project_mismatch"
    title = "事件与项目不符"


class ExceptionNotAllowed(ProcurementError):
    """An exception the article does not allow: no such refusal, or one it does not qualify with 原则上."""

    code = "exception_not_allowed"
    title = "不能作出例外"
