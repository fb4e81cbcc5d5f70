"""Parameters of the intake.* rules (申报、年度计划、批复)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.policy.conditions import Condition, Requirement, Signoff
from shared.policy.params.common import Day, Month, Params


class AnnualDeadline(Params):
    month: int | None = Month
    day: int | None = Day
    late_plan_year_offset: int | None = Field(default=None, ge=1)


class ApprovalPath(Params):
    om_no_further_approval: bool | None = None
    design_approval: Condition | None = None  # the projects whose 可研 approval a 初步设计 approval follows


class Signoffs(Params):
    signoffs: tuple[Signoff, ...] | None = None
    labels: dict[str, str] | None = None


class MonthlyPrereview(Params):
    default_plan_year_offset: int | None = Field(default=None, ge=0)
    week_of_month: int | None = Field(default=None, ge=1, le=5)
    iso_weekday: int | None = Field(default=None, ge=1, le=7)


class MachineRoom(Params):
    # where a non-secret system may be deployed, if the article lists the places (xunyang §11)
    allowed_deployments: (
        tuple[Literal["gov_machine_room", "gov_cloud", "gov_extranet", "other"], ...] | None
    ) = None


class NoSplitting(Params):
    title_similarity: float | None = Field(default=None, gt=0, le=1)
    content_similarity: float | None = Field(default=None, gt=0, le=1)
    thresholds_fen: tuple[int, ...] | None = None


class OmWindow(Params):
    quarter: int | None = Field(default=None, ge=1, le=4)


class RefuseWithoutReview(Params):
    conditions: tuple[str, ...] | None = None
    labels: dict[str, str] | None = None
    secret_exempt: bool | None = None


class FundsFromAbove(Params):
    timing: Literal["before_implementation", "at_declaration"] | None = None


class RequiredMaterials(Params):
    requirements: tuple[Requirement, ...] | None = None
    labels: dict[str, str] | None = None
