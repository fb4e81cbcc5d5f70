"""Parameters of the intake.* rules (申报、年度计划、批复)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


class SharedPlatform(Signoffs):
    # the platform projects are built on (shexian §10 全省一体化数据基础平台); the exception's
    # review and approval are the sign-offs, `when: {off_platform: true}`
    platform: str | None = None


Network = Literal["gov_extranet", "township_network", "gov_info_network", "internet", "department_network"]
HardwareCategory = Literal["network", "security", "server", "storage", "other"]


class NetworkLinkRule(BaseModel):
    """A link between government bodies (vertical 本级与下级, horizontal 部门之间), the networks it
    must run on, whether leasing lines or fibre for it is forbidden, and the article saying so."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    link: Literal["vertical", "horizontal"]
    networks: tuple[Network, ...] = Field(min_length=1)
    article: str
    no_leased_lines: bool = False
    summary: str


class DesignatedNetwork(Params):
    links: tuple[NetworkLinkRule, ...] | None = None
    secret_exempt: bool | None = None


class SecureEquipment(Params):
    categories: tuple[HardwareCategory, ...] | None = None  # procured equipment that must be 安全自主可控


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
