"""Parameters of the acceptance.* rules (初验、试运行、验收、评价)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.policy.params.common import Day, Month, Months, Params, WorkingDays


class ApplyDeadline(Months):
    start_from: Literal["initial_acceptance", "completion"] | None = None
    extension_allowed: bool | None = None


class ArchivesRequired(Params):
    archive_acceptance_required: bool | None = None


class FinalAcceptance(Params):
    organizer: Literal["unit", "authority"] | None = None
    experts: bool | None = None
    authority_approval_required: bool | None = None
    may_delegate: bool | None = None


class InitialByUnit(Params):
    organizer: Literal["unit", "unspecified"] | None = None


class AcceptanceMaterials(Params):
    materials: tuple[str, ...] | None = None
    labels: dict[str, str] | None = None
    om_flexible: bool | None = None


class PostEvaluationWindow(WorkingDays):
    min_months: int | None = Field(default=None, ge=0)
    max_months: int | None = Field(default=None, ge=0)
    frequency: Literal["yearly"] | None = None


class ReportDeadline(WorkingDays):
    deadline_specified: bool | None = None


class SelfEvaluationDeadline(Params):
    deadline_specified: bool | None = None
    month: int | None = Month
    day: int | None = Day


class TrialRunMax(Params):
    years: int | None = Field(default=None, ge=1)


class TrialRunMin(Months):
    software_dev_months: int | None = Field(default=None, ge=0)
    after_initial_acceptance: bool | None = None
    before_initial_acceptance: bool | None = None
    duration_specified: bool | None = None
