"""Events produced by the acceptance service (验收、数据共享确认、评价、安全测评)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.deadlines import PROVISIONAL_NOTE, DeadlineMoved
from shared.contracts.envelope import Agency, Citation, Event


class FinalAcceptanceConcluded(Event):
    """终验结论 — the final acceptance of a project passed or failed."""

    type: Literal["govit.acceptance.final_acceptance_concluded.v1"] = (
        "govit.acceptance.final_acceptance_concluded.v1"
    )
    agency: Agency
    passed: bool
    concluded_on: date
    application_id: str | None = None
    round: int = Field(default=1, description="第几次申请终验（整改后重新申请为第2次…）")
    rectification_items: tuple[str, ...] = Field(default=(), description="整改事项（未通过时）")
    rectification_due: date | None = Field(default=None, description="整改期限（未通过时）")
    report_due_on: date | None = Field(default=None, description="验收报告报送期限 (bayingolin §29)")
    report_due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "终验已出结论"


class DataSharingDecided(Event):
    """数据共享确认 — the authority confirmed, refused or revoked the project's data sharing."""

    type: Literal["govit.acceptance.data_sharing_decided.v1"] = "govit.acceptance.data_sharing_decided.v1"
    agency: Agency
    decision: Literal["confirmed", "refused", "revoked"]
    duplicate_collection: bool = Field(default=False, description="重复采集数据")
    reason: str = ""
    shared_on: date | None = Field(
        default=None,
        description="数据已共享之日（确认此前已共享的，如在用系统，可注明；未注明以确认之日计）",
    )
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "数据共享确认结果"


class EvaluationRecorded(Event):
    """绩效评价 — an evaluation's result: serious problems found, and whether they were fixed."""

    type: Literal["govit.acceptance.evaluation_recorded.v1"] = "govit.acceptance.evaluation_recorded.v1"
    agency: Agency
    evaluation: Literal["self", "post", "first_year"]
    evaluation_id: str | None = Field(default=None, description="评价记录编号（整改后以同一编号再次发出）")
    serious_problems: tuple[str, ...] = Field(default=(), description="严重问题")
    rectified: bool = Field(default=False, description="严重问题已整改到位")
    rectification_due: date | None = Field(
        default=None, description="整改期限；逾期仍未整改才构成限制 (zhonglou §21)，未给出即视为已逾期"
    )
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "评价结果已记录"


EVALUATION_KINDS = {"self": "绩效自评", "post": "后评价", "first_year": "验收一年后的项目评价"}


def evaluation_sentence(
    evaluation: str, recorded_on: str, serious_problems: Sequence[str], rectified: bool
) -> str:
    """An evaluation's result in one sentence, as it is shown beside a decision it is a basis for."""
    said = f"最近一次{EVALUATION_KINDS.get(evaluation, evaluation)}（{recorded_on}）"
    if not serious_problems:
        return f"{said}未发现严重问题"
    fixed = "已整改到位" if rectified else "尚未整改到位"
    return f"{said}发现严重问题 {len(serious_problems)} 项（{'、'.join(serious_problems)}），{fixed}"


class SecurityAttested(Event):
    """等保测评 / 密评 — a security attestation and whether the system complies."""

    type: Literal["govit.acceptance.security_attested.v1"] = "govit.acceptance.security_attested.v1"
    agency: Agency
    attestation: Literal["mlps", "crypto"] = Field(description="mlps 等保测评, crypto 密码应用安全性评估")
    compliant: bool
    valid_until: date | None = None
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "安全测评结果"


class FinalAcceptanceApplied(Event):
    """终验申请已受理 — the authority admitted the application; an expert panel is to be drawn."""

    type: Literal["govit.acceptance.final_acceptance_applied.v1"] = (
        "govit.acceptance.final_acceptance_applied.v1"
    )
    agency: Agency
    application_id: str
    round: int = 1
    parties: tuple[str, ...] = Field(default=(), description="承建、监理单位（评审回避）")
    experts: bool = Field(default=True, description="由专家组评审（评审服务立案）")
    notes: tuple[Citation, ...] = Field(default=(), description="逾期申请等依条款作出的说明")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "终验申请已受理"


class PostEvaluationDue(Event):
    """后评价到期 — the project's post-evaluation by experts is due (shexian §43, lhasa §22, zhonglou §20)."""

    type: Literal["govit.acceptance.post_evaluation_due.v1"] = "govit.acceptance.post_evaluation_due.v1"
    agency: Agency
    due_on: date
    due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    parties: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "后评价到期"


class InitialAcceptanceRecorded(Event):
    """初验 — the agency's initial acceptance with its date and findings (shexian §39: within 3 months)."""

    type: Literal["govit.acceptance.initial_acceptance_recorded.v1"] = (
        "govit.acceptance.initial_acceptance_recorded.v1"
    )
    agency: Agency
    held_on: date
    passed: bool
    late: bool = False
    notes: tuple[Citation, ...] = ()
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "初验已记录"


class TrialRunRecorded(Event):
    """试运行 — a trial run started or ended (shexian §39, bayingolin §27)."""

    type: Literal["govit.acceptance.trial_run_recorded.v1"] = "govit.acceptance.trial_run_recorded.v1"
    agency: Agency
    started_on: date
    ended_on: date | None = None
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "试运行已记录"


class AuditReportFiled(Event):
    """审计报告 — an audit report is on file; xunyang §20 pays nothing without one."""

    type: Literal["govit.acceptance.audit_report_filed.v1"] = "govit.acceptance.audit_report_filed.v1"
    agency: Agency
    reference: str = Field(description="审计报告文号")
    issued_on: date
    auditor: str = ""

    summary: ClassVar[str] = "审计报告已报送"


class AcceptanceReportFiled(Event):
    """验收报告备案 — filed after a passed acceptance (bayingolin §29: 7 working days; shexian §39,
    lhasa §20)."""

    type: Literal["govit.acceptance.acceptance_report_filed.v1"] = (
        "govit.acceptance.acceptance_report_filed.v1"
    )
    agency: Agency
    reference: str
    filed_on: date
    due_on: date | None = None
    due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    late: bool = False
    notes: tuple[Citation, ...] = ()
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "验收报告已备案"


class AcceptanceDeadlineMoved(DeadlineMoved):
    """验收期限变动 — a newly loaded holiday notice moved an open time limit of the project:
    `deadline` is initial_acceptance, application_opens, application, acceptance_report,
    post_evaluation_opens or post_evaluation."""

    type: Literal["govit.acceptance.deadline_moved.v1"] = "govit.acceptance.deadline_moved.v1"

    summary: ClassVar[str] = "验收期限已变动"
