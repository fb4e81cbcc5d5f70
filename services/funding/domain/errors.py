"""Funding's one error hierarchy: everything its domain raises."""

from __future__ import annotations

from shared.errors import DomainError


class FundingError(DomainError):
    code = "funding_error"
    title = "资金操作被拒绝"


class ProjectNotFound(FundingError):
    code = "project_not_found"
    title = "资金系统中无此项目"


class DisbursementNotFound(FundingError):
    code = "disbursement_not_found"
    title = "拨付申请不存在"


class Refused(FundingError):
    code = "funding_refused"
    title = "不符合拨付条件"


class InvalidState(FundingError):
    code = "invalid_state"
    title = "当前状态不允许此操作"


class WrongJurisdiction(FundingError):
    """An event about a project that speaks for another jurisdiction than the project's."""

    code = "wrong_jurisdiction"
    title = "事件所属辖区与项目不符"
