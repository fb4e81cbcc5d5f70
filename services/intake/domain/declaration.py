"""What an agency says of its project (申报内容), checked as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.intake.domain.errors import InvalidDeclaration
from services.intake.domain.facilities import BuildProfile
from services.intake.domain.kinds import FundingSource, ProjectKind, ProjectNature
from services.intake.domain.screening import Deployment


@dataclass
class Declaration(BuildProfile):
    """What an agency says of its project; all of it may change while the project is a draft.
    How it is built (platform, networks, hardware, software costs) is its BuildProfile."""

    title: str
    kind: ProjectKind
    amount_fen: int
    classified: bool = False
    nature: ProjectNature = ProjectNature.NEW
    software_fen: int = 0
    packaged_software: bool = False
    simple: bool = False
    summary: str = ""  # 建设内容
    deployment: Deployment = Deployment.GOV_CLOUD
    deployment_explanation: str = ""
    xinchuang_compatible: bool = True
    shares_data_with_platform: bool = True
    assigned_from_above: bool = False  # 上级条线配发
    data_sharing_items: list[str] = field(default_factory=list)
    security_plan: str = ""
    off_plan: bool = False
    off_plan_reason: str = ""
    funding_source: FundingSource = FundingSource.LOCAL
    upper_approval_ref: str = ""
    predecessor_id: str | None = None
    predecessor_acceptance_ref: str = ""  # 原系统验收文号, for a system older than this record
    requested_plan_year: int | None = None

    def check(self) -> None:
        if self.amount_fen < 0 or not 0 <= self.software_fen <= self.amount_fen:
            raise InvalidDeclaration("软件开发部分估算不得为负，也不得超过投资估算")
        if self.off_plan and not self.off_plan_reason.strip():
            raise InvalidDeclaration("计划外紧急项目须说明理由（off_plan_reason）")
        if self.funding_source is FundingSource.UPPER_LEVEL and not self.upper_approval_ref.strip():
            raise InvalidDeclaration("上级资金项目须填写上级批复或资金下达文号（upper_approval_ref）")


DECLARATION_FIELDS = tuple(Declaration.__dataclass_fields__)
