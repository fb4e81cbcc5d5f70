"""Parameters of the acceptance.* rules (初验、试运行、验收、评价)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.policy.params.common import Day, Month, Months, Params


class ApplyDeadline(Months):
    start_from: Literal["initial_acceptance", "completion"] | None = None
    extension_allowed: bool | None = None


class ArchivesRequired(Params):
    archive_acceptance_required: bool | None = None


class FinalAcceptance(Params):
    experts: bool | None = None


class AcceptanceMaterials(Params):
    materials: tuple[str, ...] | None = None
    labels: dict[str, str] | None = None
    om_flexible: bool | None = None


class PostEvaluationWindow(Params):
    min_months: int | None = Field(default=None, ge=0)
    max_months: int | None = Field(default=None, ge=0)
    frequency: Literal["yearly"] | None = None


class SelfEvaluationDeadline(Params):
    month: int | None = Month
    day: int | None = Day


class TrialRunMax(Params):
    years: int | None = Field(default=None, ge=1)


class TrialRunMin(Months):
    software_dev_months: int | None = Field(default=None, ge=0)
    after_initial_acceptance: bool | None = None
    before_initial_acceptance: bool | None = None


class ClassifiedSystems(Params):
    # the lowest level of 保密行政管理部门 whose review counts (shexian §42: 市级以上)
    approver_min_level: Literal["city", "province", "national"] | None = None
