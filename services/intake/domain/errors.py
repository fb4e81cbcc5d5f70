"""Intake's refusals: one hierarchy under shared.errors.DomainError."""

from __future__ import annotations

from shared.errors import DomainError


class IntakeError(DomainError):
    """Base of intake's refusals; `code` is stable, the message is for people."""

    code = "intake_error"
    title = "申报操作被拒绝"


class ProjectNotFound(IntakeError):
    code = "project_not_found"
    title = "项目不存在"


class AgencyNotFound(IntakeError):
    code = "agency_not_found"
    title = "建设单位不存在"


class AgencyNotRegistered(IntakeError):
    code = "agency_not_registered"
    title = "建设单位未在主管部门登记"


class InvalidDeclaration(IntakeError):
    code = "invalid_declaration"
    title = "申报内容不合法"


class InvalidTransition(IntakeError):
    code = "invalid_transition"
    title = "项目当前状态不允许此操作"


class DeclarationRefused(IntakeError):
    """A rule of the jurisdiction forbids this declaration; `reasons` cite the articles."""

    code = "declaration_refused"
    title = "不予申报"


class ApprovalRefused(IntakeError):
    code = "approval_refused"
    title = "不符合批复条件"


class MaterialNotAccepted(IntakeError):
    code = "material_not_accepted"
    title = "材料不予接收"


class PlanError(IntakeError):
    code = "plan_invalid"
    title = "年度计划不合法"


class WrongJurisdiction(IntakeError):
    code = "wrong_jurisdiction"
    title = "事件所述辖区与项目不符"


class TerminationDecisionInvalid(IntakeError):
    code = "termination_decision_invalid"
    title = "终止建议的决定不完整"


class ExceptionNotAllowed(IntakeError):
    code = "exception_refused"
    title = "不能作出例外"


class OversightRefused(IntakeError):
    code = "oversight_refused"
    title = "整改或处理措施不符合办法规定"


class MeasurePremature(IntakeError):
    code = "measure_premature"
    title = "整改期限未届满，不能采取处理措施"
