"""Events produced by the intake service (申报、形式审查、年度计划、批复)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Event
from shared.money import Fen


class ProjectDeclared(Event):
    """项目申报 — an agency declared a project."""

    type: Literal["govit.intake.project_declared.v1"] = "govit.intake.project_declared.v1"
    agency: str
    title: str
    kind: Literal["construction", "operation", "service"]
    amount_fen: Fen = Field(description="投资估算, integer fen")
    classified: bool = Field(default=False, description="涉密项目")
    nature: Literal["new", "continued", "renovation", "expansion", "upgrade"] = Field(
        default="new", description="建设性质: 新建/续建/改建/扩建/升级"
    )
    software_fen: Fen = Field(default=0, description="软件开发部分估算, integer fen")

    summary: ClassVar[str] = "项目已申报"


class ProjectApproved(Event):
    """项目批复 — the authority approved the project; funds may now be arranged (zhonglou §13)."""

    type: Literal["govit.intake.project_approved.v1"] = "govit.intake.project_approved.v1"
    approved_amount_fen: Fen = Field(description="批复金额, integer fen")
    plan_year: int

    summary: ClassVar[str] = "项目已批复"
