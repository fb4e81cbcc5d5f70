"""Intake's request side: bodies, query parameters, and who acts (the dependencies that bundle
a command's unit of work, context and person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, cast

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from services.intake.db import IntakeUnitOfWork
from services.intake.domain import FundingSource, ProjectKind, ProjectNature, ProjectStatus
from services.intake.domain.facilities import Hardware, Network, NetworkLink
from services.intake.domain.screening import AgencyLevel, Deployment
from services.intake.storage import MaterialStore
from shared.auth import Principal, Role, require
from shared.consume import HandlerContext
from shared.deps import ContextDep, unit_of_work
from shared.examples import field_examples
from shared.money import Fen, PositiveFen
from shared.policy import PolicyRegistry
from shared.policy.principle import ExceptionIn, PrincipleException
from shared.problems import Problem


class RegisterAgencyIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            jurisdiction="zhonglou", name="区教育局", level="district", parent="区人民政府办公室"
        )
    )

    jurisdiction: str = Field(description="辖区代码", examples=["zhonglou"])
    name: str = Field(min_length=2, max_length=128, description="单位名称，与申报令牌的 agency 一致")
    level: AgencyLevel = Field(description="单位层级: prefecture/city/district/county/township")
    parent: str | None = Field(default=None, max_length=128, description="上级主管部门")


# The form of a material's upload (multipart/form-data).
MaterialKind = Annotated[
    str,
    Form(
        pattern=r"^[a-z_]+$",
        description="材料类型，见项目的 required_materials（如 zhonglou §6 的项目建议书）",
        examples=["project_proposal"],
    ),
]
MaterialFile = Annotated[
    UploadFile,
    File(
        description="材料文件：PDF、OFD、Word、WPS、Excel、图片或 ZIP，按内容识别格式",
        examples=["项目建议书.pdf"],
    ),
]


class AgencyDutiesIn(BaseModel):
    duties_unmet: bool = Field(
        description="未按时按要求完成迁移整合或违反政务信息资源共享管理办法 (zhonglou §8)"
    )
    duties_note: str = Field(default="", max_length=2000)


class DeclarationFields(BaseModel):
    title: str = Field(min_length=2, max_length=200, description="项目名称")
    kind: ProjectKind = Field(description="construction 建设类, operation 运维类, service 服务类")
    amount_fen: Fen = Field(description="投资估算（分）")
    classified: bool = Field(default=False, description="涉密项目")
    nature: ProjectNature = Field(default=ProjectNature.NEW, description="建设性质: 新建/续建/改建/扩建/升级")
    software_fen: Fen = Field(default=0, description="软件开发部分估算（分）")
    packaged_software: bool = Field(default=False, description="采购成品软件")
    simple: bool = Field(default=False, description="建设内容单一、技术方案简单 (lhasa §10)")
    summary: str = Field(default="", max_length=20000, description="主要建设内容")
    deployment: Deployment = Field(
        default=Deployment.GOV_CLOUD,
        description="部署: 政务机房/政务云/政务外网/其他/自建机房（新建、改扩建机房）",
    )
    deployment_explanation: str = Field(
        default="", max_length=5000, description="未部署在政务云或政务外网的情况说明"
    )
    xinchuang_compatible: bool = Field(default=True, description="支持信创适配")
    shares_data_with_platform: bool = Field(default=True, description="向政务数据共享交换平台提供数据")
    assigned_from_above: bool = Field(default=False, description="上级条线配发项目")
    data_sharing_items: list[str] = Field(default_factory=list, max_length=500, description="共享数据清单")
    security_plan: str = Field(default="", max_length=20000, description="网络安全解决方案概要")
    off_plan: bool = Field(default=False, description="计划外紧急项目")
    off_plan_reason: str = Field(default="", max_length=5000, description="计划外紧急项目的理由")
    funding_source: FundingSource = Field(
        default=FundingSource.LOCAL, description="local 本级, upper_level 上级统筹拨付"
    )
    upper_approval_ref: str = Field(default="", max_length=128, description="上级批复或资金下达文号")
    predecessor_id: str | None = Field(
        default=None, max_length=64, description="升级、扩建或运维所针对的原项目"
    )
    predecessor_acceptance_ref: str = Field(
        default="", max_length=128, description="原系统不在本系统中时，其竣工验收文号（由主管部门核实）"
    )
    requested_plan_year: int | None = Field(
        default=None, ge=2000, le=2100, description="申报的计划年度，默认下一年"
    )
    on_platform: bool = Field(
        default=True, description="依托辖区办法规定的一体化平台建设（如 shexian §10 全省一体化数据基础平台）"
    )
    off_platform_reason: str = Field(
        default="", max_length=5000, description="因特殊情况不能在平台上建设的说明"
    )
    network_links: dict[NetworkLink, Network] = Field(
        default_factory=dict,
        description="项目的网络连接及其依托的网络: vertical 本级与下级（区与街道）政务机关之间, "
        "horizontal 部门之间横向连接 → gov_extranet 电子政务外网, township_network “乡乡通”网络, "
        "gov_info_network 政务信息网, internet 互联网, department_network 部门自建网络",
    )
    leases_lines: bool = Field(default=False, description="自行开通（租用）线路或光纤")
    hardware: list[Hardware] = Field(
        default_factory=list,
        max_length=5,
        description="采购的硬件设备: network 网络设备, security 安全设备, server 服务器, "
        "storage 存储设备, other 其他",
    )
    hardware_secure_controllable: bool = Field(
        default=False, description="网络设备、安全设备、服务器、存储设备按照安全自主可控实施"
    )
    cybersecurity_review_ref: str = Field(
        default="", max_length=128, description="适用《网络安全审查办法》的，网络安全审查结论文号"
    )
    original_development: bool = Field(default=False, description="包含业务系统软件的原始开发")
    development_fees_separate: bool = Field(
        default=False, description="二次开发和实施费用单列（未列入软件采购费）"
    )


class DeclareProjectIn(DeclarationFields):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            jurisdiction="zhonglou",
            title="智慧教育平台",
            kind="construction",
            amount_fen=120_000_000,
            classified=False,
            nature="new",
            software_fen=80_000_000,
            packaged_software=False,
            simple=False,
            summary="建设全区中小学统一的教学资源与学籍管理平台",
            deployment="gov_cloud",
            deployment_explanation="",
            xinchuang_compatible=True,
            shares_data_with_platform=True,
            assigned_from_above=False,
            data_sharing_items=["学籍信息", "教师信息"],
            security_plan="按等保三级建设，部署在政务云安全资源池",
            off_plan=False,
            off_plan_reason="",
            funding_source="local",
            upper_approval_ref="",
            predecessor_id=None,
            predecessor_acceptance_ref="",
            requested_plan_year=2027,
            on_platform=True,
            off_platform_reason="",
            network_links={"vertical": "gov_extranet"},
            leases_lines=False,
            hardware=["server"],
            hardware_secure_controllable=True,
            cybersecurity_review_ref="",
            original_development=True,
            development_fees_separate=True,
        )
    )

    jurisdiction: str = Field(
        description="辖区代码: zhonglou, shexian, bayingolin, xunyang, lhasa", examples=["zhonglou"]
    )


# PATCH body: any subset of the declaration's fields (OpenAPI shows them all as optional).
_OPTIONAL: dict[str, Any] = {
    name: (cast(Any, f.annotation) | None, Field(default=None, description=f.description))
    for name, f in DeclarationFields.model_fields.items()
}
UpdateProjectIn: type[BaseModel] = create_model(
    "UpdateProjectIn",
    __doc__="修改草稿：只提交要改的字段",
    __config__=ConfigDict(extra="forbid"),
    **_OPTIONAL,
)
# What DeclarationFields needs to validate a partial update; these values themselves are never kept.
_REQUIRED_PLACEHOLDERS = {"title": "--", "kind": ProjectKind.SERVICE, "amount_fen": 0}


class ReasonIn(BaseModel):
    reason: str = Field(min_length=2, max_length=2000)


class SignoffIn(BaseModel):
    signoff: str = Field(pattern=r"^[a-z_]+$", description="见项目的 required_signoffs")
    document_ref: str = Field(min_length=2, max_length=128, description="审核意见或批文文号")


class ExceptionsIn(BaseModel):
    exceptions: list[ExceptionIn] = Field(
        default_factory=list,
        max_length=20,
        description="对“原则上”理由的例外（如 lhasa §7、shexian §15 未纳入年度计划），每项写明理由与文号",
    )

    def exceptions_by(self, who: str) -> tuple[PrincipleException, ...]:
        return tuple(e.made_by(who) for e in self.exceptions)


class ScreeningIn(ExceptionsIn):
    """形式审查; the exceptions the authority makes to 原则上 grounds."""


class ApproveProjectIn(ExceptionsIn):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            approval_number="钟发改〔2026〕45号",
            approved_amount_fen=110_000_000,
            approved_scope="建设教学资源与学籍管理平台，核减硬件采购",
            exceptions=[
                {
                    "code": "not_in_plan",
                    "reason": "防汛应急指挥系统，汛期前须上线",
                    "document_ref": "钟政办〔2026〕12号",
                }
            ],
        )
    )

    approval_number: str = Field(min_length=2, max_length=128, description="批复文号")
    approved_amount_fen: PositiveFen = Field(description="批复金额（分）")
    approved_scope: str = Field(
        default="", max_length=20000, description="批复建设内容，默认为申报的建设内容"
    )


class RankingIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=field_examples(ranking=["3f2a9c1e", "b71d04aa"]))

    ranking: list[str] = Field(max_length=2000, description="按优先顺序排列的项目 id")


class PublishPlanIn(ExceptionsIn):
    """下达; a further publication of a plan fixed 原则上 (zhonglou §9) carries the exception."""

    model_config = ConfigDict(json_schema_extra=field_examples(document="钟数据〔2026〕3号", exceptions=[]))

    document: str = Field(min_length=2, max_length=128, description="年度计划下达文号")


def changes_of(body: BaseModel) -> dict[str, Any]:
    """The fields a PATCH of a draft changes, each checked as the declaration checks it; a field
    that may not be empty sent as null is a 422 naming it."""
    given = body.model_dump(exclude_unset=True)
    nullable = {"predecessor_id", "requested_plan_year"}
    errors = [
        {"loc": ("body", k), "msg": "不能为空", "type": "missing"}
        for k, v in given.items()
        if v is None and k not in nullable
    ]
    if errors:
        raise RequestValidationError(errors)
    try:
        checked = DeclarationFields.model_validate({**_REQUIRED_PLACEHOLDERS, **given})
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    return checked.model_dump(include=set(given))


class ProjectFilter(BaseModel):
    """Which projects to list (query parameters)."""

    status: ProjectStatus | None = None
    jurisdiction: str | None = None
    agency: str | None = None
    kind: ProjectKind | None = None
    plan_year: int | None = Field(default=None, ge=2000, le=2100)
    termination: Literal["pending", "terminate", "extend", "keep"] | None = Field(
        default=None, description="终止建议：pending 待主管部门决定，或已作的决定"
    )
    q: str | None = Field(
        default=None, min_length=1, max_length=100, description="检索：项目名称或编号中含有此文字"
    )


class TerminationDecisionIn(BaseModel):
    """主管部门对终止建议的决定（原则上终止：zhonglou §17、bayingolin §21）."""

    decision: Literal["terminate", "extend", "keep"] = Field(description="终止、延期或继续实施")
    document_ref: str = Field(min_length=2, max_length=128, description="决定文号")
    reason: str = Field(default="", max_length=2000, description="理由（延期、继续实施时必填）")
    until: date | None = Field(default=None, description="延期至（decision=extend 时必填）")


UowDep = Annotated[IntakeUnitOfWork, Depends(unit_of_work(IntakeUnitOfWork))]

# Who may read: the agency (its own), the authority, finance and audit; experts see only
# the cases assigned to them, in the review service.
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.AUTHORITY, Role.FINANCE, Role.AUDITOR)]
ApplicantDep = Annotated[Principal, require(Role.APPLICANT)]
AuthorityDep = Annotated[Principal, require(Role.AUTHORITY)]


async def _store(request: Request) -> MaterialStore:
    store: MaterialStore = request.app.state.materials
    return store


StoreDep = Annotated[MaterialStore, Depends(_store)]


@dataclass(frozen=True)
class Acting:
    """A command's unit of work, context and the person giving it (one dependency)."""

    uow: IntakeUnitOfWork
    ctx: HandlerContext
    who: Principal


@dataclass(frozen=True)
class Uploading(Acting):
    store: MaterialStore


async def _authority_acts(uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Acting:
    return Acting(uow, ctx, who)


async def _uploading(uow: UowDep, ctx: ContextDep, who: ApplicantDep, store: StoreDep) -> Uploading:
    return Uploading(uow, ctx, who, store)


AuthorityActs = Annotated[Acting, Depends(_authority_acts)]
UploadDep = Annotated[Uploading, Depends(_uploading)]


def known(policy: PolicyRegistry, jurisdiction: str) -> str:
    if jurisdiction not in policy:
        raise Problem(
            422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {jurisdiction}", known=list(policy.codes)
        )
    return jurisdiction
