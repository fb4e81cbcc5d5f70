"""Conditions and items the packs' rules are written in: which projects a requirement or a
sign-off applies to (kind, amount, software share, packaged software, simple project, off-plan,
built off the shared platform, hardware procured)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Stage(StrEnum):
    DECLARATION = "declaration"  # 申报时提交
    APPROVAL = "approval"  # 审批（论证、可研、初设）时提交
    DESIGN_APPROVAL = "design_approval"  # 可研批复后报批初步设计时提交 (shexian §20(一))


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the conditions look at."""

    kind: str
    amount_fen: int
    software_fen: int = 0
    classified: bool = False
    packaged_software: bool = False
    simple: bool = False
    off_plan: bool = False
    nature: str = "new"
    off_platform: bool = False  # not built on the shared platform (shexian §10)
    not_sharing: bool = False  # declared unable to share its data (shexian §44)
    hardware: bool = False  # its implementation procures hardware equipment (bayingolin §17)

    @classmethod
    def of(cls, project: Any) -> ProjectFacts:
        """From anything with the project's attributes (the aggregate or a read model)."""
        return cls(
            kind=str(project.kind),
            amount_fen=project.amount_fen,
            software_fen=project.software_fen,
            classified=project.classified,
            packaged_software=project.packaged_software,
            simple=project.simple,
            off_plan=getattr(project, "off_plan", False),
            nature=str(getattr(project, "nature", "new")),
            off_platform=not getattr(project, "on_platform", True),
            not_sharing=not getattr(project, "shares_data_with_platform", True),
            hardware=bool(getattr(project, "hardware", ())),
        )

    def at_amount(self, amount_fen: int) -> ProjectFacts:
        """The same project at another amount (an approval above the declared one)."""
        return replace(self, amount_fen=amount_fen)

    def as_approved(self, approved_amount_fen: int | None) -> ProjectFacts:
        """The project at the larger of its declared and its approved amount.

        Approving more than was declared does not escape a threshold (shexian §20(一), §24, §25
        and the like in other packs): approval checks, and the checklist shows, the larger one.
        """
        return self.at_amount(max(self.amount_fen, approved_amount_fen or 0))


class Condition(BaseModel):
    """All given clauses must hold (min inclusive, below exclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: tuple[str, ...] | None = None
    min_amount_fen: int | None = None
    below_amount_fen: int | None = None
    min_software_fen: int | None = None
    packaged_software: bool | None = None
    simple: bool | None = None
    off_plan: bool | None = None
    natures: tuple[str, ...] | None = None  # 新建、续建、改建、扩建、升级
    off_platform: bool | None = None
    not_sharing: bool | None = None
    hardware: bool | None = None

    def holds(self, facts: ProjectFacts) -> bool:
        checks = (
            self.kinds is None or facts.kind in self.kinds,
            self.min_amount_fen is None or facts.amount_fen >= self.min_amount_fen,
            self.below_amount_fen is None or facts.amount_fen < self.below_amount_fen,
            self.min_software_fen is None or facts.software_fen >= self.min_software_fen,
            self.packaged_software is None or facts.packaged_software == self.packaged_software,
            self.simple is None or facts.simple == self.simple,
            self.off_plan is None or facts.off_plan == self.off_plan,
            self.natures is None or facts.nature in self.natures,
            self.off_platform is None or facts.off_platform == self.off_platform,
            self.not_sharing is None or facts.not_sharing == self.not_sharing,
            self.hardware is None or facts.hardware == self.hardware,
        )
        return all(checks)


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    material: str = Field(pattern=r"^[a-z_]+$")
    stage: Stage
    article: str
    when: Condition = Condition()
    unless: Condition | None = None
    exempt_classified: bool = False
    min_count: int = Field(default=1, ge=1)
    #: The pack's rule that asks for the material where it is another than intake.required_materials
    #: (a 必备条件 of its own, intake.data_catalog_mandatory): asked only while that rule applies.
    rule: str | None = Field(default=None, pattern=r"^[a-z_]+\.[a-z_]+$")

    def applies_to(self, facts: ProjectFacts) -> bool:
        if self.exempt_classified and facts.classified:
            return False  # 涉密项目除外
        if self.unless is not None and self.unless.holds(facts):
            return False
        return self.when.holds(facts)


class Signoff(BaseModel):
    """An approval or filing by another body (上级审核、政府审定、备案审核…) with its document:
    one that must precede 批复 (`before: approval`, the default), or one the article places
    later, before the project's procurement (`before: procurement`, bayingolin §17)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signoff: str = Field(pattern=r"^[a-z_]+$")
    article: str
    when: Condition = Condition()
    before: Literal["approval", "procurement"] = "approval"
