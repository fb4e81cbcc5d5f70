"""Intake's records beside the project: decisions, agencies, materials, sign-offs and bars."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from services.intake.domain.errors import InvalidTransition
from shared.contracts.envelope import Citation, Event
from shared.policy import Reason
from shared.policy.principle import PrincipleException


@dataclass(frozen=True)
class Entry:
    """One decision in a project's record: what, by whom, when, and the articles behind it."""

    action: str
    outcome: str
    by: str
    at: datetime
    note: str = ""
    reasons: tuple[Citation, ...] = ()


@dataclass(eq=False)
class Agency:
    """建设单位 registered by the authority: its level decides what it may declare (shexian §13)."""

    id: str
    jurisdiction: str
    name: str
    level: str
    parent: str | None
    created_at: datetime
    duties_unmet: bool = False  # 未完成迁移整合或数据共享义务 (zhonglou §8)
    duties_note: str = ""

    @staticmethod
    def registered_again(found: Agency, jurisdiction: str, level: str, parent: str | None) -> Agency:
        """The agency registered before under the same name, if it is the same one; names are
        unique in the whole suite, so a token's `agency` names one agency in one jurisdiction."""
        if found.jurisdiction != jurisdiction:
            raise InvalidTransition(
                f"{found.name} 已登记在 {found.jurisdiction}；同名单位请使用含地名的全称（如 歙县教育局）"
            )
        if (found.level, found.parent) != (level, parent):
            raise InvalidTransition(
                f"{jurisdiction} 已登记建设单位 {found.name}（{found.level}），请修改而非重复登记"
            )
        return found


@dataclass(frozen=True)
class Material:
    """一份申报材料: a stored upload and the material type it is declared as."""

    id: str
    project_id: str
    material: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class Signoff:
    """A recorded approval by another body (上级审核、政府审定…) with its document."""

    project_id: str
    signoff: str
    document_ref: str
    recorded_by: str
    recorded_at: datetime


@dataclass(eq=False)
class Bar:
    """A consequence from a later stage that bars an agency's new declarations while it lasts."""

    id: str
    jurisdiction: str
    agency: str
    ground: str
    source_project_id: str
    since: datetime
    detail: str = ""
    lifted_at: datetime | None = None
    effective_on: date | None = None  # bars after a missed rectification deadline start the day after

    @staticmethod
    def of(event: Event, agency: str, ground: str, since: datetime) -> Bar:
        """A bar on the event's agency for what it says of one of its projects."""
        return Bar(uuid.uuid4().hex, event.jurisdiction, agency, ground, event.project_id, since)

    @staticmethod
    def with_detail(bar: Bar, detail: str, effective_on: date | None = None) -> Bar:
        return replace(bar, detail=detail, effective_on=effective_on)


@dataclass(frozen=True)
class Judgement:
    """What the pack said of a submission (domain.submission): the plan year and batch, what
    forbids it, what the authority should know, and the articles if it is only recorded."""

    plan_year: int
    refusals: Sequence[Reason] = ()
    notes: Sequence[Reason] = ()
    flags: Sequence[Reason] = ()
    review_batch: str | None = None
    record_only: Sequence[str] = ()


@dataclass(frozen=True)
class ApprovalTerms:
    """批复: its document number, the approved amount and scope."""

    number: str
    amount_fen: int
    scope: str
    design_required: bool = False  # a 初步设计 approval follows this one (shexian §20(一))
    exceptions: tuple[PrincipleException, ...] = ()  # 原则上 refusals the authority departs from
