"""Funding's request bodies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.funding.domain import PaymentKind
from shared.examples import field_examples
from shared.money import Fen, PositiveFen
from shared.policy.principle import ExceptionIn, PrincipleException


class RequestDisbursementIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            amount_fen=30_000_000,
            purpose="支付承建单位初验节点款",
            kind="milestone",
            contract_id="c-8d2f61",
            milestone="初验合格",
        )
    )

    amount_fen: PositiveFen = Field(description="拨付金额（分）")
    purpose: str = Field(min_length=2, max_length=200, description="用途")
    kind: PaymentKind = Field(
        default=PaymentKind.CONSTRUCTION,
        description="preparatory 前期工作费用, construction 建设资金, milestone 合同付款节点, final 尾款",
    )
    contract_id: str | None = Field(default=None, max_length=64, description="备案合同（milestone）")
    milestone: str | None = Field(default=None, max_length=100, description="付款节点名称（milestone）")

    @model_validator(mode="after")
    def _milestone(self) -> RequestDisbursementIn:
        if self.kind is PaymentKind.MILESTONE and not (self.contract_id and self.milestone):
            raise ValueError("合同付款须给出 contract_id 和 milestone")
        return self


class OmApplicationIn(BaseModel):
    amount_fen: PositiveFen = Field(description="申请运维经费（分）")
    budget_year: int = Field(ge=2000, le=2100, description="经费年度")
    purpose: str = Field(default="运行维护", min_length=2, max_length=200)
    free_maintenance_ends_on: dt.date | None = Field(
        default=None, description="免运维服务期截止日期 (lhasa §27)"
    )
    classified: bool = Field(
        default=False,
        description="涉密项目：资金系统中没有的项目由申请人说明；未纳入全生命周期管理系统不予安排"
        "运维经费的规定只适用于非涉密项目 (shexian §44(三))",
    )


class OmExceptionIn(BaseModel):
    exceptions: list[ExceptionIn] = Field(min_length=1, max_length=20)

    def made_by(self, who: str) -> tuple[PrincipleException, ...]:
        return tuple(e.made_by(who) for e in self.exceptions)


class SettlementIn(BaseModel):
    final_cost_fen: Fen = Field(description="结算金额（分）")
    settled_on: dt.date


class ReclaimDoneIn(BaseModel):
    returned_fen: Fen = Field(description="实际收回（分）")
