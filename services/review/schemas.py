"""Review's request bodies and query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from services.review.domain import CaseStatus, ExpertStatus, Verdict
from services.review.views import CaseFilter, ExpertFilter
from shared.contracts.review import ReviewStage


class ExpertIn(BaseModel):
    jurisdiction: str = Field(
        description="辖区代码：专家登记入该辖区所用的专家库（见政策包 review.expert_pool）",
        examples=["zhonglou"],
    )
    name: str = Field(min_length=2, max_length=64)
    employer: str = Field(min_length=2, max_length=128, description="工作单位（回避依据）")
    title: str = Field(default="", max_length=64, description="职称")
    specialties: list[str] = Field(
        min_length=1, max_length=10, description="software, network, security, data, cost, archives…"
    )
    subject: str | None = Field(default=None, max_length=128, description="专家登录令牌的 sub")


class ExpertStatusIn(BaseModel):
    status: ExpertStatus
    reason: str = Field(default="", max_length=2000, description="暂停或列入失信名单的原因")


class OpenCaseIn(BaseModel):
    project_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    jurisdiction: str = Field(description="辖区代码", examples=["zhonglou"])
    stage: ReviewStage
    agency: str = Field(min_length=2, max_length=128, description="申报单位（回避）")
    parties: list[str] = Field(
        default_factory=list, max_length=50, description="承建、监理、投标单位（回避）"
    )


class OpinionIn(BaseModel):
    score: int = Field(ge=0, le=100)
    verdict: Verdict = Field(description="pass 通过, revise 修改后再审, fail 不通过")
    comments: str = Field(min_length=2, max_length=20000, description="评审意见")


class PartiesIn(BaseModel):
    parties: list[str] = Field(max_length=50, description="承建、监理、投标单位（评审回避）")


class ReportIn(BaseModel):
    document: str = Field(
        min_length=2,
        max_length=2000,
        description="评审报告与批复文件（通过）或书面评审意见（未通过）的文号与要点",
    )


class AssessmentIn(BaseModel):
    text: str = Field(min_length=2, max_length=20000, description="第三方评估机构、报告文号与结论")


async def _expert_query(
    status: ExpertStatus | None = None,
    specialty: str | None = None,
    jurisdiction: Annotated[str | None, Query(description="只列该辖区所用的专家库")] = None,
) -> ExpertFilter:
    return ExpertFilter(status, specialty, jurisdiction)


async def _case_query(
    status: CaseStatus | None = None, jurisdiction: str | None = None, project_id: str | None = None
) -> CaseFilter:
    return CaseFilter(status, jurisdiction, project_id)


ExpertQuery = Annotated[ExpertFilter, Depends(_expert_query)]
CaseQuery = Annotated[CaseFilter, Depends(_case_query)]
