"""Procurement's request bodies, and how each becomes the domain's terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.procurement.domain import ChangeRequest, ContractTerms, Ground, PurchaseTerms, Tender
from services.procurement.domain import Role as ContractRole
from shared.contracts.procurement import MilestoneStage
from shared.examples import field_examples
from shared.money import Fen, PositiveFen

CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
CreditCode = Annotated[str, Field(pattern=CREDIT_CODE, description="统一社会信用代码（18位）")]


TenderMethod = Literal[
    "public_tender",  # 公开招标
    "invited_tender",  # 邀请招标
    "competitive_negotiation",  # 竞争性谈判
    "competitive_consultation",  # 竞争性磋商
    "single_source",  # 单一来源
    "inquiry",  # 询价
    "framework",  # 框架协议
    "decentralized",  # 分散采购
]


class RequirementsIn(BaseModel):
    summary: str = Field(min_length=2, max_length=20000, description="采购需求（技术、商务要求，预算）")


class RequirementsReviewIn(BaseModel):
    approved: bool
    comment: str = Field(default="", max_length=5000)


class TenderIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            method="public_tender",
            announced_on="2026-07-01",
            awarded_on="2026-07-28",
            bidders=["某信息技术有限公司", "某软件股份有限公司"],
            winner="某信息技术有限公司",
            winner_credit_code="91540000MA6T00000X",
            amount_fen=98_000_000,
        )
    )

    method: TenderMethod = Field(
        description="采购方式：public_tender 公开招标, invited_tender 邀请招标, "
        "competitive_negotiation 竞争性谈判, competitive_consultation 竞争性磋商, "
        "single_source 单一来源, inquiry 询价, framework 框架协议, decentralized 分散采购"
    )
    announced_on: dt.date | None = Field(default=None, description="公告日期")
    awarded_on: dt.date = Field(description="中标（成交）日期")
    bidders: list[str] = Field(default_factory=list, max_length=200, description="投标（响应）单位")
    winner: str = Field(min_length=2, max_length=200, description="中标（成交）单位")
    winner_credit_code: CreditCode
    amount_fen: PositiveFen = Field(description="中标（成交）金额，分")

    def tender(self) -> Tender:
        return Tender(**{**self.model_dump(), "bidders": tuple(self.bidders)})


class MilestoneIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(name="初验合格", stage="initial_acceptance", share_percent="40")
    )

    name: str = Field(min_length=1, max_length=100, description="付款节点名称")
    stage: MilestoneStage = Field(description="付款条件所处阶段")
    share_percent: Decimal = Field(gt=0, le=100, decimal_places=2, description="付款比例（%）")


class ContractIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            role="construction",
            counterparty="某信息技术有限公司",
            credit_code="91540000MA6T00000X",
            amount_fen=98_000_000,
            signed_on="2026-08-05",
            starts_on="2026-08-10",
            ends_on="2027-06-30",
            milestones=[
                {"name": "合同签订", "stage": "signing", "share_percent": "30"},
                {"name": "初验合格", "stage": "initial_acceptance", "share_percent": "40"},
                {"name": "终验合格", "stage": "final_acceptance", "share_percent": "30"},
            ],
            ip_to_government=True,
        )
    )

    role: ContractRole = Field(description="design 设计, construction 承建（实施）, supervision 监理")
    counterparty: str = Field(min_length=2, max_length=200, description="乙方单位名称")
    credit_code: CreditCode
    amount_fen: PositiveFen = Field(description="合同金额，分")
    signed_on: dt.date = Field(description="合同签订日期")
    starts_on: dt.date | None = Field(default=None, description="合同工期起")
    ends_on: dt.date | None = Field(default=None, description="合同工期止")
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=50, description="付款节点，比例合计100%")
    ip_to_government: bool = Field(
        default=False, description="合同明确项目成果及知识产权归政府所有 (shexian §40)"
    )

    @model_validator(mode="after")
    def _period(self) -> ContractIn:
        if (self.starts_on is None) != (self.ends_on is None):
            raise ValueError("合同工期须同时给出起止日期")
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValueError("合同工期止须晚于起")
        if sum((m.share_percent for m in self.milestones), Decimal(0)) != 100:
            raise ValueError("付款节点比例合计须为100%")
        return self

    def terms(self) -> ContractTerms:
        return ContractTerms(
            role=self.role,
            counterparty=self.counterparty,
            credit_code=self.credit_code,
            amount_fen=self.amount_fen,
            signed_on=self.signed_on,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            milestones=[(m.name, m.stage, m.share_percent) for m in self.milestones],
            ip_to_government=self.ip_to_government,
        )


class StartIn(BaseModel):
    started_on: dt.date | None = Field(default=None, description="开工日期，默认今日")


class ReportIn(BaseModel):
    kind: Literal["implementation_plan", "progress", "delay"] = Field(
        description="implementation_plan 实施方案和进度计划, progress 进度或绩效报告, delay 逾期情况说明"
    )
    period: str | None = Field(default=None, max_length=8, description="报告期：季度 2026Q3 或年度 2026")
    summary: str = Field(min_length=2, max_length=20000)


class CompletionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(completed_on="2027-06-20", security_test_report="CSTC-2027-0612")
    )

    completed_on: dt.date | None = Field(default=None, description="竣工日期，默认今日")
    security_test_report: str | None = Field(
        default=None, max_length=500, description="应用软件安全评测报告编号 (zhonglou §15)"
    )


class ChangeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            description="因上级系统接口调整，增加统一身份认证对接",
            scope_effect="新增一项对接内容，规模不变",
            total_delta_fen=0,
            adjustment_fen=2_000_000,
            goal_changed=False,
            major=False,
            ground="policy",
        )
    )

    description: str = Field(min_length=2, max_length=20000, description="变更内容及理由")
    scope_effect: str = Field(min_length=2, max_length=20000, description="对建设内容、规模的影响")
    total_delta_fen: int = Field(
        strict=True, ge=-(10**15), le=10**15, description="对批复总投资的增减（分；超概算为正，核减为负）"
    )
    adjustment_fen: Fen = Field(description="资金调整数额（分）：在各建设内容之间调整的资金")
    goal_changed: bool = Field(default=False, description="建设目标是否改变")
    major: bool = Field(default=False, description="建设内容重大调整 (zhonglou §14)")
    ground: Ground | None = Field(
        default=None,
        description="可由建设单位自行调整的情形 (shexian §38, lhasa §16)：policy / optimisation / business",
    )

    def request(self) -> ChangeRequest:
        return ChangeRequest(**self.model_dump())


class DecisionIn(BaseModel):
    approve: bool
    comment: str = Field(default="", max_length=5000)
    approval_number: str | None = Field(default=None, max_length=100, description="重新立项的批复文号")


class FirmIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    blacklisted: bool
    reason: str = Field(default="", max_length=2000, description="列入失信名单的原因")


class PurchaseIn(BaseModel):
    """计划外采购 (lhasa §10：办公区域网络改造、安防和办公设备采购等), recorded once procured."""

    model_config = ConfigDict(
        json_schema_extra=field_examples(
            jurisdiction="lhasa",
            title="办公区域网络改造",
            category="network_renovation",
            amount_fen=1_500_000,
            supplier="某网络工程有限公司",
            credit_code="91540000MA6T00000X",
            procured_on="2026-09-10",
            materials="采购合同及验收单",
        )
    )

    jurisdiction: str = Field(pattern=r"^[a-z]{2,32}$", description="辖区代码")
    title: str = Field(min_length=2, max_length=200, description="采购事项")
    category: str = Field(
        min_length=2, max_length=32, description="采购类别，按办法所列：如 network_renovation、security"
    )
    amount_fen: PositiveFen = Field(description="采购金额，分")
    supplier: str = Field(min_length=2, max_length=200, description="供应商")
    credit_code: CreditCode
    procured_on: dt.date = Field(description="采购完成日期")
    materials: str | None = Field(
        default=None, min_length=2, max_length=20000, description="备案材料；同时给出即同时备案"
    )

    def terms(self, agency: str) -> PurchaseTerms:
        return PurchaseTerms(
            jurisdiction=self.jurisdiction,
            agency=agency,
            title=self.title,
            category=self.category,
            amount_fen=self.amount_fen,
            supplier=self.supplier,
            credit_code=self.credit_code,
            procured_on=self.procured_on,
        )


class PurchaseFilingIn(BaseModel):
    materials: str = Field(min_length=2, max_length=20000, description="备案材料")
