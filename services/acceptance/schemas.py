"""Acceptance's request bodies."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.examples import field_examples


class InitialIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            held_on="2027-05-20", passed=True, findings="系统功能满足合同要求，同意初验"
        )
    )

    held_on: dt.date = Field(description="初验日期")
    passed: bool = Field(description="初验通过")
    findings: str = Field(min_length=2, max_length=20000, description="初验意见")


class TrialIn(BaseModel):
    started_on: dt.date | None = Field(default=None, description="试运行开始")
    ended_on: dt.date | None = Field(default=None, description="试运行结束")


class DataSharingIn(BaseModel):
    catalogue: list[str] = Field(min_length=1, max_length=500, description="数据资源目录")
    items: list[str] = Field(default_factory=list, max_length=500, description="共享的数据项")


class DataSharingDecisionIn(BaseModel):
    decision: Literal["confirmed", "refused", "revoked"]
    duplicate_collection: bool = Field(default=False, description="存在重复采集数据")
    reason: str = Field(default="", max_length=5000)


class AttestationIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            attestation="mlps",
            compliant=True,
            reference="DJCP-54010020270001",
            issued_on="2027-05-30",
            valid_until="2028-05-29",
            issuer="某网络安全测评中心",
            issuer_level=None,
        )
    )

    attestation: Literal["mlps", "crypto", "secrecy_assessment", "secrecy_approval"] = Field(
        description="mlps 等保测评, crypto 密码应用安全性评估; 涉密信息系统的 secrecy_assessment "
        "保密测评机构检测评估, secrecy_approval 保密行政管理部门审查 (shexian §42)"
    )
    compliant: bool = Field(description="合格")
    reference: str = Field(min_length=2, max_length=200, description="测评报告编号或审查合格证编号")
    issued_on: dt.date = Field(description="出具日期")
    valid_until: dt.date | None = Field(default=None, description="有效期至")
    issuer: str = Field(
        default="", max_length=200, description="出具机构：测评机构，或作出审查的保密行政管理部门"
    )
    issuer_level: Literal["county", "city", "province", "national"] | None = Field(
        default=None, description="审查部门的层级（secrecy_approval 必填）：县级、市级、省级、国家级"
    )


class AuditReportIn(BaseModel):
    reference: str = Field(min_length=2, max_length=200, description="审计报告文号")
    issued_on: dt.date
    auditor: str = Field(default="", max_length=200, description="审计机构")


class DelayIn(BaseModel):
    until: dt.date = Field(description="申请延期至")
    reason: str = Field(min_length=2, max_length=5000)


class DelayDecisionIn(BaseModel):
    approve: bool
    comment: str = Field(default="", max_length=5000)


class ApplicationIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            materials={"archives_acceptance": "钟档验〔2027〕6号", "audit_report": "钟审〔2027〕21号"},
            archives_accepted=False,
        )
    )

    materials: dict[str, str] = Field(
        default_factory=dict,
        description="验收材料：材料代码 → 文号或文件引用（见项目详情 required_materials）",
    )
    archives_accepted: bool = Field(
        default=False,
        deprecated=True,
        description="不再采用：档案验收以其意见文号证明，请在 materials.archives_acceptance 中填写 "
        "(shexian §41, bayingolin §25)",
    )


class AdmissionIn(BaseModel):
    admit: bool
    reason: str = Field(default="", max_length=5000, description="退回理由")


class ConclusionIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            passed=False, rectification_items=["补充系统运维手册"], rectification_due="2027-08-31"
        )
    )

    passed: bool = Field(description="终验通过")
    rectification_items: list[str] = Field(default_factory=list, max_length=200, description="整改事项")
    rectification_due: dt.date | None = Field(default=None, description="整改期限")


class RectificationIn(BaseModel):
    items: list[str] = Field(min_length=1, max_length=200)
    due_on: dt.date


class ReportIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=field_examples(reference="钟数据验〔2027〕8号"))

    reference: str = Field(min_length=2, max_length=200, description="验收报告文号")


class EvaluationIn(BaseModel):
    evaluation: Literal["self", "post", "first_year"] = Field(
        description="self 绩效自评 (zhonglou §20), post 后评价 (shexian §43, lhasa §22), "
        "first_year 验收一年后的项目评价 (bayingolin §31)"
    )
    period: str | None = Field(default=None, max_length=16, description="评价年度等")
    serious_problems: list[str] = Field(default_factory=list, max_length=200, description="发现的严重问题")
    rectified: bool = Field(default=False, description="严重问题已整改到位")
    rectification_due: dt.date | None = Field(default=None, description="整改期限")
    summary: str = Field(min_length=2, max_length=20000)
