"""Parameters of the funding.* rules (拨付、运维经费、结算)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from shared.policy.params.common import Day, Effect, Month, Months, Params, PaymentKinds, Threshold


class AcceptanceRequired(PaymentKinds):
    defer_after_failure: bool | None = None


class ApprovalRequired(Params):
    exempt_preparatory: bool | None = None


class EvaluationDrivesFunding(Effect):
    """What the evaluations' results are a basis for: O&M funds (`om`), next year's investment
    in construction (`construction`)."""

    informs: tuple[Literal["om", "construction"], ...] | None = None


class ExpertReviewRequired(Params):
    stages: tuple[str, ...] | None = None
    # The stage a declaration admitted by screening is reviewed at, by the project's kind, where
    # it is not the first of `stages` (bayingolin §10: O&M projects are reviewed apart from §9's).
    screening_stage_by_kind: dict[Literal["construction", "operation", "service"], str] | None = None


class OmApplicationDeadline(Params):
    quarter: int | None = Field(default=None, ge=1, le=4)
    month: int | None = Month
    day: int | None = Day
    years_before_free_period_end: int | None = Field(default=None, ge=0)
    evaluation_report_required: bool | None = None


class OmCryptoSecurity(Params):
    attestation_required: bool | None = None


class OmDataSharing(Effect):
    authority_confirmation: bool | None = None
    duplicate_collection_blocks: bool | None = None
    # systems in use on this day that had not shared their data by it (zhonglou §28)
    shared_by: dt.date | None = None
    secret_exempt: bool | None = None  # the article speaks of 非涉密 systems only


class OmLifecycleSystem(Params):
    secret_exempt: bool | None = None  # the article speaks of 非涉密 projects only


class PlanRequired(Params):
    issued_in_batches: bool | None = None


class SettlementAudit(Months, Threshold):
    after_acceptance: bool | None = None
    at_or_below: Literal["financial_review", "audit"] | None = None
    above: Literal["financial_review", "audit"] | None = None
    reviewer: Literal["self_or_third_party"] | None = None
