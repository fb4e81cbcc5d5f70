"""Review's request bodies and query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.review.domain import CaseStatus, ExpertStatus, Verdict
from services.review.views import CaseFilter, ExpertFilter
from shared.contracts.review import ReviewStage
from shared.examples import field_examples


class ExpertIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            jurisdiction="zhonglou",
            name="王明",
            employer="西藏大学信息科学技术学院",
            title="教授",
            specialties=["software", "security"],
            subject="expert-wangming",
        )
    )

    jurisdiction: str = Field(
        description="辖区代码：专家登记入该辖区所用的专家库（见政策包 review.expert_pool）",
        examples=["zhonglou"],
    )
    name: str = Field(min_length=2, max_length=64, description="专家姓名")
    employer: str = Field(min_length=2, max_length=128, description="工作单位（回避依据）")
    title: str = Field(default="", max_length=64, description="职称")
    specialties: list[str] = Field(
        min_length=1,
        max_length=10,
        description="专业：software 软件, network 网络, security 安全, data 数据, cost 造价, archives 档案…",
    )
    subject: str | None = Field(default=None, max_length=128, description="专家登录令牌的 sub")


class ExpertStatusIn(BaseModel):
    status: ExpertStatus
    reason: str = Field(default="", max_length=2000, description="暂停或列入失信名单的原因")


class OpenCaseIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            project_id="3f2a9c1e",
            jurisdiction="zhonglou",
            stage="feasibility",
            agency="区教育局",
            parties=["某信息技术有限公司"],
        )
    )

    project_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="受评审的项目 id")
    jurisdiction: str = Field(description="辖区代码", examples=["zhonglou"])
    stage: ReviewStage = Field(description="评审阶段，如 feasibility 可行性研究、preliminary_design 初步设计")
    agency: str = Field(min_length=2, max_length=128, description="申报单位（回避）")
    parties: list[str] = Field(
        default_factory=list, max_length=50, description="承建、监理、投标单位（回避）"
    )


class OpinionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(score=85, verdict="pass", comments="建设内容明确，投资测算基本合理")
    )

    score: int = Field(ge=0, le=100, description="评分（0–100）")
    verdict: Verdict = Field(description="pass 通过, revise 修改后再审, fail 不通过")
    comments: str = Field(min_length=2, max_length=20000, description="评审意见")


class PartiesIn(BaseModel):
    parties: list[str] = Field(max_length=50, description="承建、监理、投标单位（评审回避）")


class ReportIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(document="钟数据评〔2026〕15号：同意通过可研评审，核减服务器采购")
    )

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
