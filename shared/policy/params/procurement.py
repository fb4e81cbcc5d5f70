"""Parameters of the procurement.* rules (采购、合同、建设、变更)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.policy.params.common import Day, Month, Months, Params, Threshold


class ChangeReapproval(Params):
    percent: int | None = Field(default=None, ge=0, le=100)
    approvers: tuple[Literal["authority", "finance"], ...] | None = None
    approvers_by_default: bool | None = None  # the article names no approver: the suite's default
    expert_review: bool | None = None
    inclusive: bool | None = None
    procedure_when: tuple[Literal["major", "overrun"], ...] | None = None


class ChangeWithinBudget(Params):
    percent: int | None = Field(default=None, ge=0, le=100)
    cumulative_absolute: bool | None = None


class ContractDeadline(Months):
    terminate_on_breach: bool | None = None
    await_filing: bool | None = None


class DelayReport(Params):
    percent: int | None = Field(default=None, ge=0, le=100)


class ProgressReporting(Params):
    frequency: Literal["quarterly", "yearly"] | None = None
    month: int | None = Month
    day: int | None = Day


StartedBy = Literal["implementation_plan", "procurement", "contract", "construction"]


class StartDeadline(Months):
    start_from: Literal["plan_issued", "review_passed"] | None = None
    not_before_approval: bool | None = None  # the clock waits for the approval (zhonglou §13)
    terminate_on_breach: bool | None = None
    started_by: (
        tuple[Literal["implementation_plan", "procurement", "contract", "construction"], ...] | None
    ) = None


class SupervisionRequired(Threshold):
    software_security_test: bool | None = None


class UnplannedPurchaseFiling(Months):
    """采购完成后若干月内备案 (lhasa §10): the months, and the kinds of purchase outside the plan
    (code → the article's words)."""

    categories: dict[str, str] | None = None
