"""Events produced by the procurement service (采购、合同备案、监理、建设、变更)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.deadlines import PROVISIONAL_NOTE, DeadlineMoved
from shared.contracts.envelope import Agency, Citation, Event, Title
from shared.money import Fen

ContractRole = Literal["design", "construction", "supervision"]  # 设计、承建（实施）、监理
MilestoneStage = Literal[
    "signing",  # 合同签订后（预付款）
    "progress",  # 建设进度节点
    "completion",  # 竣工
    "initial_acceptance",  # 初验
    "final_acceptance",  # 终验
    "warranty",  # 质保期满
]
ReportKind = Literal["implementation_plan", "progress", "delay"]
DeadlineKind = Literal[
    "implementation_plan", "contract", "start", "progress", "delay", "purchase_filing"  # 计划外采购备案
]
ChangePath = Literal["file", "approval", "reapproval"]
ChangeStatus = Literal["filed", "pending", "approved", "rejected"]


class Milestone(BaseModel):
    """A payment node of a contract: its share and the amount in fen, and when it falls due."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    stage: MilestoneStage
    share_percent: str = Field(description="付款比例（百分数，十进制字符串，如 '30' 或 '12.5'）")
    amount_fen: Fen


class RequirementsReviewed(Event):
    """采购需求审核 — the authority approved or returned the procurement requirements (shexian §29)."""

    type: Literal["govit.procurement.requirements_reviewed.v1"] = "govit.procurement.requirements_reviewed.v1"
    agency: Agency
    approved: bool
    comment: str = ""
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "采购需求已审核"


class TenderRecorded(Event):
    """采购结果 — how the project was procured, who bid and who won."""

    type: Literal["govit.procurement.tender_recorded.v1"] = "govit.procurement.tender_recorded.v1"
    agency: Agency
    tender_id: str
    method: str
    winner: str
    amount_fen: Fen
    bidders: int = Field(ge=0)
    awarded_on: date

    summary: ClassVar[str] = "采购结果已记录"


class ContractFiled(Event):
    """合同备案 — a design, construction or supervision contract with its payment milestones.

    Funding pays against the milestones (the construction contracts alone bound the final payment);
    `late` marks a filing after the pack's limit (bayingolin §18: 7 working days from signing), with
    the citation in `notes`.
    """

    type: Literal["govit.procurement.contract_filed.v1"] = "govit.procurement.contract_filed.v1"
    agency: Agency
    contract_id: str
    role: ContractRole
    counterparty: str
    credit_code: str = Field(description="统一社会信用代码")
    amount_fen: Fen
    signed_on: date
    filed_on: date
    filing_due_on: date | None = None
    filing_due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    late: bool = False
    ip_to_government: bool = Field(default=False, description="成果及知识产权归政府所有条款 (shexian §40)")
    milestones: tuple[Milestone, ...] = ()
    notes: tuple[Citation, ...] = ()
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "合同已备案"


class ConstructionStarted(Event):
    """开工 — construction started with its 监理 in place (lhasa §13), or without by the authority's
    exception where the article says 原则上 (shexian §30)."""

    type: Literal["govit.procurement.construction_started.v1"] = "govit.procurement.construction_started.v1"
    agency: Agency
    started_on: date
    supervisor: str | None = None
    exceptions: tuple[Citation, ...] = Field(
        default=(), description="主管部门依“原则上”条款作出的例外（如不实行监理 shexian §30），注理由、文号"
    )
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目已开工"


class ProgressReported(Event):
    """实施方案、进度报告或逾期说明 (bayingolin §16, §20; shexian §35; xunyang §17; lhasa §18)."""

    type: Literal["govit.procurement.progress_reported.v1"] = "govit.procurement.progress_reported.v1"
    agency: Agency
    kind: ReportKind
    period: str | None = Field(default=None, description="报告期，如 2026Q3 或 2026")
    submitted_on: date
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "已报送实施进度"


class DeadlineMissed(Event):
    """期限已过 — a deadline that runs by itself passed unmet; `terminate` when the pack says to stop."""

    type: Literal["govit.procurement.deadline_missed.v1"] = "govit.procurement.deadline_missed.v1"
    agency: Agency
    deadline: DeadlineKind
    period: str | None = None
    due_on: date
    due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    terminate: bool = False
    message: str = ""
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "期限已过"


class TerminationRecommended(Event):
    """建议终止 — a start or contract deadline passed (zhonglou §17, bayingolin §21)."""

    type: Literal["govit.procurement.termination_recommended.v1"] = (
        "govit.procurement.termination_recommended.v1"
    )
    reason: str
    articles: tuple[str, ...] = ()
    deadline: str | None = Field(default=None, description="错过的期限（start、contract）")

    summary: ClassVar[str] = "项目建议终止"


class ChangeRecorded(Event):
    """变更 — a change request and its path (备案、审批、重新立项), then the decision on it."""

    type: Literal["govit.procurement.change_recorded.v1"] = "govit.procurement.change_recorded.v1"
    agency: Agency
    change_id: str
    status: ChangeStatus
    path: ChangePath
    total_delta_fen: int = Field(description="对批复总投资的增减（分，可为负）")
    adjustment_fen: Fen = Field(description="资金调整数额（分）")
    approved_total_fen: Fen = Field(description="变更生效后（或当前）的批复总投资（分）")
    approvers: tuple[str, ...] = ()
    reasons: tuple[Citation, ...] = Field(default=(), description="为何走此路径，各注条款")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目变更"


class ChangeReviewRequested(Event):
    """变更评审 — a change over the pack's tolerance needs an expert review (zhonglou §14, shexian §38)."""

    type: Literal["govit.procurement.change_review_requested.v1"] = (
        "govit.procurement.change_review_requested.v1"
    )
    agency: Agency
    change_id: str
    parties: tuple[str, ...] = Field(default=(), description="承建、监理单位（评审回避）")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "变更需专家评审"


class PurchaseFiled(Event):
    """计划外采购备案 — a department filed the materials of a purchase made outside the annual plan
    (lhasa §10: 办公区域网络改造、安防和办公设备采购等, within a month of the procurement). `project_id`
    is the purchase's own id: it is no project of the plan. `late` marks a filing after the limit,
    with the citation in `notes`."""

    type: Literal["govit.procurement.purchase_filed.v1"] = "govit.procurement.purchase_filed.v1"
    agency: Agency
    title: Title
    category: str = Field(description="采购类别（办法所列，如 network_renovation 办公区域网络改造）")
    amount_fen: Fen
    supplier: str = Field(description="供应商")
    credit_code: str = Field(description="供应商统一社会信用代码")
    procured_on: date = Field(description="采购完成日期")
    filed_on: date
    filing_due_on: date
    late: bool = False
    notes: tuple[Citation, ...] = ()
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "计划外采购已备案"


class ConstructionCompleted(Event):
    """竣工 — construction completed; acceptance starts from here."""

    type: Literal["govit.procurement.construction_completed.v1"] = (
        "govit.procurement.construction_completed.v1"
    )
    agency: Agency
    completed_on: date
    contract_total_fen: Fen = Field(description="已备案施工合同金额合计（分）")
    approved_total_fen: Fen = Field(description="批复总投资（含已生效变更，分）")
    contractors: tuple[str, ...] = ()
    supervisor: str | None = None
    security_test_report: str | None = Field(default=None, description="应用软件安全评测报告 (zhonglou §15)")
    exceptions: tuple[Citation, ...] = Field(
        default=(), description="主管部门依“原则上”条款作出的例外（如不实行监理 shexian §30），注理由、文号"
    )
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目已竣工"


class ProcurementDeadlineMoved(DeadlineMoved):
    """期限变动 — a newly loaded holiday notice moved an open deadline of the project: `deadline` is
    implementation_plan, contract, start, progress (`reference` the period) or delay."""

    type: Literal["govit.procurement.deadline_moved.v1"] = "govit.procurement.deadline_moved.v1"

    summary: ClassVar[str] = "期限已变动"
