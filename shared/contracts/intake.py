"""Events produced by the intake service (申报、形式审查、年度计划、批复)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Agency, Citation, Event, Title
from shared.money import Fen

Kind = Literal["construction", "operation", "service"]
Nature = Literal["new", "continued", "renovation", "expansion", "upgrade"]


class ProjectDeclared(Event):
    """项目申报 — an agency submitted its declaration for a plan year."""

    type: Literal["govit.intake.project_declared.v1"] = "govit.intake.project_declared.v1"
    agency: Agency
    title: Title
    kind: Kind
    amount_fen: Fen = Field(description="投资估算, integer fen")
    classified: bool = Field(default=False, description="涉密项目")
    nature: Nature = Field(default="new", description="建设性质: 新建/续建/改建/扩建/升级")
    software_fen: Fen = Field(default=0, description="软件开发部分估算, integer fen")
    plan_year: int | None = Field(default=None, description="申报的计划年度")
    off_plan: bool = Field(default=False, description="计划外紧急项目")
    predecessor_id: str | None = Field(default=None, description="升级、扩建或运维所针对的原项目")
    notes: tuple[Citation, ...] = Field(default=(), description="申报时依条款作出的说明（如顺延年度）")

    summary: ClassVar[str] = "项目已申报"


class ProjectScreened(Event):
    """形式审查 — the authority screened a declaration: accepted, or refused with every reason."""

    type: Literal["govit.intake.project_screened.v1"] = "govit.intake.project_screened.v1"
    agency: Agency
    accepted: bool
    kind: Kind | None = Field(
        default=None, description="项目类别：评审按类别进入评审阶段 (bayingolin §9、§10)"
    )
    reasons: tuple[Citation, ...] = Field(default=(), description="不予受理的理由，各注条款")
    flags: tuple[Citation, ...] = Field(
        default=(), description="提请主管部门注意的情形（如疑似拆分申报 shexian §12），不构成拒绝"
    )

    summary: ClassVar[str] = "项目已形式审查"


class ProjectIncludedInPlan(Event):
    """列入年度计划 — the authority published the year's plan with this project at a rank."""

    type: Literal["govit.intake.project_included_in_plan.v1"] = "govit.intake.project_included_in_plan.v1"
    plan_year: int
    rank: int = Field(ge=1)
    plan_document: str = Field(description="计划下达文号")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目已列入年度计划"


class ProjectApproved(Event):
    """项目批复 — the authority approved the project; funds may now be arranged (zhonglou §13)."""

    type: Literal["govit.intake.project_approved.v1"] = "govit.intake.project_approved.v1"
    agency: Agency | None = None
    approved_amount_fen: Fen = Field(description="批复金额, integer fen")
    plan_year: int
    approval_number: str | None = Field(default=None, description="批复文号")
    approved_scope: str | None = Field(default=None, description="批复建设内容")
    off_plan: bool = Field(default=False, description="经计划外紧急程序批复")
    articles: tuple[str, ...] = Field(default=(), description="批复所依据的条款")
    design_approval_required: bool = Field(
        default=False, description="此为可研批复，还须报批初步设计（shexian §20(一)）；建设资金待初步设计批复"
    )

    summary: ClassVar[str] = "项目已批复"


class DesignApproved(Event):
    """初步设计批复 — the second approval after the 可研 one where the text asks for it (shexian §20(一))."""

    type: Literal["govit.intake.design_approved.v1"] = "govit.intake.design_approved.v1"
    approval_number: str = Field(description="初步设计批复文号")
    approved_amount_fen: Fen = Field(description="批复概算, integer fen")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "初步设计已批复"


class ProjectRejected(Event):
    """不予批复 — the authority refused to approve the project."""

    type: Literal["govit.intake.project_rejected.v1"] = "govit.intake.project_rejected.v1"
    reason: str

    summary: ClassVar[str] = "项目不予批复"
    outcome: ClassVar[str] = "不予批复"  # what became of the project, for other services to say


class ProjectWithdrawn(Event):
    """撤回申报 — the agency withdrew its declaration before approval."""

    type: Literal["govit.intake.project_withdrawn.v1"] = "govit.intake.project_withdrawn.v1"
    reason: str

    summary: ClassVar[str] = "项目已撤回"
    outcome: ClassVar[str] = "撤回"  # what became of the project, for other services to say


class ProjectTerminated(Event):
    """项目终止 — the authority terminated an approved project (e.g. no contract or no start in time)."""

    type: Literal["govit.intake.project_terminated.v1"] = "govit.intake.project_terminated.v1"
    reason: str
    articles: tuple[str, ...] = ()
    document_ref: str | None = Field(default=None, description="终止决定的文号")

    summary: ClassVar[str] = "项目已终止"
    outcome: ClassVar[str] = "终止"  # what became of the project, for other services to say


class TerminationDecided(Event):
    """终止建议的决定 — the authority, not the deadline, decides (原则上: zhonglou §17, bayingolin §21):
    extend the deadline to a date, or keep the project going. A decision to terminate is
    ProjectTerminated."""

    type: Literal["govit.intake.termination_decided.v1"] = "govit.intake.termination_decided.v1"
    decision: Literal["extend", "keep"]
    deadline: str | None = Field(default=None, description="建议所依据的期限（如 start、contract）")
    until: date | None = Field(default=None, description="延期至（Asia/Shanghai 日期）")
    reason: str
    document_ref: str = Field(description="决定文号")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "终止建议已决定"


# The events after which a project goes no further (其后不再建设、验收或拨付).
Closing = ProjectRejected | ProjectWithdrawn | ProjectTerminated


class ProjectRecorded(Event):
    """上级资金项目报备 — a project funded from above was reported before it starts (zhonglou §10)."""

    type: Literal["govit.intake.project_recorded.v1"] = "govit.intake.project_recorded.v1"
    agency: Agency
    title: Title
    amount_fen: Fen
    upper_approval_ref: str = Field(description="上级批复或资金下达文号")
    articles: tuple[str, ...] = ()
    kind: Kind = Field(default="construction", description="项目类别（试运行期限、运维等按此办理）")
    software_fen: Fen = Field(default=0, description="软件开发部分, integer fen（安全测评、试运行期限按此）")
    classified: bool = Field(default=False, description="涉密项目")

    summary: ClassVar[str] = "上级资金项目已报备"


# -- 监督整改 (zhonglou §21, shexian §49, lhasa §18) ---------------------------------------------

Measure = Literal["notify", "defer_plan", "defer_funds", "stop_om_funds", "suspend_construction", "terminate"]


class RectificationOrdered(Event):
    """责令限期整改 — the authority ordered the agency to fix what was found, by a date."""

    type: Literal["govit.intake.rectification_ordered.v1"] = "govit.intake.rectification_ordered.v1"
    order_id: str
    finding: str = Field(description="发现的问题")
    items: tuple[str, ...] = Field(default=(), description="整改事项")
    due_on: date = Field(description="整改期限（Asia/Shanghai 日期）")
    document_ref: str = Field(description="整改通知文号")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "已责令限期整改"


class RectificationReviewed(Event):
    """整改情况认定 — the rectification met the requirements, or still does not (the ground for a measure)."""

    type: Literal["govit.intake.rectification_reviewed.v1"] = "govit.intake.rectification_reviewed.v1"
    order_id: str
    compliant: bool = Field(description="整改到位；false 为整改后仍不符合要求")
    document_ref: str
    note: str = ""
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "整改情况已认定"


class OversightMeasureTaken(Event):
    """处理措施 — on a rectification overdue or still not met, the authority took a measure its
    regulation lists: 通报, 暂缓安排计划或资金, 停止发放运维经费, 暂停建设, 终止 (终止 is also
    announced as ProjectTerminated)."""

    type: Literal["govit.intake.oversight_measure_taken.v1"] = "govit.intake.oversight_measure_taken.v1"
    order_id: str
    measure_id: str
    measure: Measure
    label: str = Field(description="措施名称，依本辖区办法的用语")
    document_ref: str = Field(description="处理决定文号")
    concurrence_ref: str | None = Field(
        default=None, description="会同部门的文号（lhasa §18 会同资金安排部门）"
    )
    reason: str = ""
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "已采取处理措施"


class OversightMeasureLifted(Event):
    """处理措施解除 — a lasting measure (暂缓、暂停、停止发放) lifted by the authority's document."""

    type: Literal["govit.intake.oversight_measure_lifted.v1"] = "govit.intake.oversight_measure_lifted.v1"
    order_id: str
    measure_id: str
    measure: Measure
    label: str
    document_ref: str
    reason: str = ""
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "处理措施已解除"


def measures_in_force(
    held: Mapping[str, Mapping[str, Any]], event: OversightMeasureTaken | OversightMeasureLifted
) -> dict[str, dict[str, Any]]:
    """The measures holding something once `event` is heard, by measure id: a measure taken holds
    by its name, document and articles until the same measure is lifted; again is no change."""
    measures = {k: dict(v) for k, v in held.items()}
    if isinstance(event, OversightMeasureLifted):
        measures.pop(event.measure_id, None)
    else:
        measures[event.measure_id] = {
            "label": event.label,
            "document_ref": event.document_ref,
            "articles": list(event.articles),
        }
    return measures
