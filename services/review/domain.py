"""Review's domain: the expert pool (专家库) and review cases with their panels and opinions.

The rules (panel composition, conclusion, time limits, repeated failure) are asked of the pack
by the handlers through services.review.rules; the draw itself is services.review.drawing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.review.drawing import Avoidance, Candidate, Draw, ExpertStatus, Seat
from services.review.rules import Clock, Verdict
from shared.contracts import Event
from shared.contracts.review import ExpertReplaced, PanelDrawn, ReviewCaseOpened, ReviewConcluded
from shared.errors import DomainError
from shared.policy import Reason


class ReviewError(DomainError):
    """Base of review's refusals; `code` is stable, the message is for people."""

    code = "review_error"
    title = "评审操作被拒绝"


class ExpertNotFound(ReviewError):
    code = "expert_not_found"
    title = "专家不存在"


class CaseNotFound(ReviewError):
    code = "case_not_found"
    title = "评审案件不存在"


class InvalidCaseState(ReviewError):
    code = "invalid_case_state"
    title = "评审案件当前状态不允许此操作"


class ThirdPartyReviewMissing(InvalidCaseState):
    code = "third_party_review_missing"
    title = "尚未附第三方专业审查意见"


class NotOnPanel(ReviewError):
    code = "not_on_panel"
    title = "您不是本案专家组成员"


class CaseStatus(StrEnum):
    OPEN = "open"  # 已立案，待抽选
    PANEL_DRAWN = "panel_drawn"  # 专家组已抽选，评审中
    CONCLUDED = "concluded"  # 已出结论
    REVISING = "revising"  # 修改后再审，等待修改材料
    CANCELLED = "cancelled"  # 已撤销: what it reviewed was withdrawn, rejected or terminated


#: A case in these states takes no more work.
CLOSED = (CaseStatus.CONCLUDED, CaseStatus.CANCELLED)

#: The time limits that end when the report or the written opinion is issued (lhasa §11).
WRITTEN_RESULT_CLOCKS = (Clock.PASS_REPORT.value, Clock.FAIL_OPINION.value)


@dataclass(eq=False)
class Expert:
    """专家库中的一名专家."""

    id: str
    name: str
    employer: str
    title: str
    specialties: list[str]
    status: ExpertStatus
    status_reason: str
    created_at: dt.datetime
    pool: str  # the 专家库 registered in; status and blacklisting hold in this pool only
    subject: str | None = None  # the `sub` of the expert's token, to show them their cases

    def candidate(self) -> Candidate:
        return Candidate(self.id, self.employer, frozenset(self.specialties), self.status)

    def set_status(self, status: ExpertStatus, reason: str) -> None:
        if status is ExpertStatus.BLACKLISTED and not reason.strip():
            raise ReviewError("列入失信名单须写明原因 (lhasa §22、xunyang §25)")
        self.status, self.status_reason = status, reason


@dataclass(eq=False)
class ReviewCase:
    """一个评审案件: one project at one stage, its panel, opinions and conclusion."""

    id: str
    project_id: str
    jurisdiction: str
    stage: str
    agency: str
    parties: list[str]  # contractor, 监理, bidders — avoided with the agency
    status: CaseStatus
    opened_at: dt.datetime
    opened_by: str
    received_on: dt.date  # materials received (the time limits start here)
    round: int = 1
    failures: int = 0
    seed: str | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)  # the pool as drawn from
    seats: list[dict[str, Any]] = field(default_factory=list)  # expert_id, specialty, rank, state
    declined: list[str] = field(default_factory=list)
    clock: str | None = None  # the running time limit (rules.Clock value)
    due_on: dt.date | None = None
    overdue_notified: bool = False
    verdict: str | None = None
    concluded_at: dt.datetime | None = None
    third_party_assessment: str = ""  # 第三方专业审查、造价评估 (shexian §21, bayingolin §9)
    reference: str | None = None  # what is reviewed: a change request, an acceptance application
    closed_reason: str | None = None  # why it was cancelled
    reports: list[dict[str, Any]] = field(default_factory=list)  # round, verdict, document, issued_on
    events: list[Event] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        *,
        project_id: str,
        jurisdiction: str,
        stage: str,
        agency: str,
        parties: Sequence[str],
        by: str,
        at: dt.datetime,
        received_on: dt.date,
        clock: str | None,
        due_on: dt.date | None,
        articles: Sequence[str] = (),
        reference: str | None = None,
    ) -> ReviewCase:
        case = cls(
            id=uuid.uuid4().hex,
            project_id=project_id,
            jurisdiction=jurisdiction,
            stage=stage,
            agency=agency,
            parties=list(parties),
            status=CaseStatus.OPEN,
            opened_at=at,
            opened_by=by,
            received_on=received_on,
            clock=clock,
            due_on=due_on,
            reference=reference,
        )
        case.events.append(
            ReviewCaseOpened(
                project_id=project_id,
                jurisdiction=jurisdiction,
                case_id=case.id,
                stage=stage,
                reference=reference,
                due_on=due_on,
                articles=tuple(articles),
            )
        )
        return case

    def set_parties(self, parties: Sequence[str]) -> None:
        """The contractor, 监理 and bidders to avoid; fixed once the panel is drawn."""
        if self.status is not CaseStatus.OPEN:
            raise InvalidCaseState("专家组已抽选，回避单位不能再修改")
        self.parties = sorted(set(parties))

    def attach_assessment(self, text: str) -> None:
        """第三方造价等专业评估 (bayingolin §9, shexian §21), for the panel to read."""
        if self.status is CaseStatus.CONCLUDED:
            raise InvalidCaseState("评审已出结论")
        if self.status is CaseStatus.CANCELLED:
            raise InvalidCaseState(f"评审案件 {self.id} 已撤销，不再接收第三方评估意见")
        self.third_party_assessment = text

    # -- the panel --------------------------------------------------------------------------------
    def avoidance(self) -> Avoidance:
        seated = {s["expert_id"] for s in self.seats if s["state"] == "seated"}
        return Avoidance(
            organisations=frozenset([self.agency, *self.parties]),
            declined=frozenset(self.declined),
            seated=frozenset(seated),
        )

    def check_third_party_review(self, required: Reason | None) -> None:
        """第三方专业审查在先 (shexian §21): where the pack requires it for this stage, the panel is
        neither drawn nor concludes without the assessment on the case."""
        if required is not None and not self.third_party_assessment.strip():
            raise ThirdPartyReviewMissing(
                f"评审案件 {self.id} 尚未附第三方专业审查意见：{required.message}", [required]
            )

    def seat_panel(
        self,
        drawn: Draw,
        pool: Sequence[Expert],
        articles: Sequence[str],
        third_party: Reason | None = None,
    ) -> None:
        if self.status is not CaseStatus.OPEN:
            raise InvalidCaseState(f"评审案件 {self.id} 已抽选专家组")
        self.check_third_party_review(third_party)
        self.seed = drawn.seed
        self.candidates = [
            {
                "id": e.id,
                "employer": e.employer,
                "specialties": sorted(e.specialties),
                "status": e.status.value,
            }
            for e in sorted(pool, key=lambda e: e.id)
        ]
        self.seats = [_seat(s) for s in drawn.seats]
        self.status = CaseStatus.PANEL_DRAWN
        self.events.append(
            PanelDrawn(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                case_id=self.id,
                seed=drawn.seed,
                panel_size=len(drawn.seats),
                candidate_count=len(pool),
                articles=tuple(articles),
            )
        )

    def seated_among(self, expert_ids: Collection[str]) -> str:
        """Which of a person's entries (one per pool) sits on this panel."""
        for seat in self.seats:
            if seat["expert_id"] in expert_ids and seat["state"] == "seated":
                return str(seat["expert_id"])
        raise NotOnPanel(f"您不是评审案件 {self.id} 专家组的成员")

    def seat_of(self, expert_id: str) -> dict[str, Any]:
        for seat in self.seats:
            if seat["expert_id"] == expert_id and seat["state"] == "seated":
                return seat
        raise NotOnPanel(f"您不是评审案件 {self.id} 专家组的成员")

    def leaving(self, expert_id: str) -> Seat:
        """The seat an expert gives up by declining (回避或无法参加)."""
        if self.status is not CaseStatus.PANEL_DRAWN:
            raise InvalidCaseState("只有评审进行中的案件可以谢绝")
        seat = self.seat_of(expert_id)
        if seat.get("opinion"):
            raise InvalidCaseState("已提交评审意见，不能再谢绝")
        return Seat(seat["expert_id"], seat["specialty"], seat["rank"])

    def _update_seat(self, expert_id: str, **changes: Any) -> None:
        # New dicts, never in place: the JSON column is saved only when its value compares unequal.
        self.seats = [
            {**s, **changes} if s["expert_id"] == expert_id and s["state"] == "seated" else dict(s)
            for s in self.seats
        ]

    def replace(self, leaving: Seat, replacement: Seat) -> None:
        self._update_seat(leaving.expert_id, state="declined")
        self.seats = [*self.seats, _seat(replacement)]
        self.declined = [*self.declined, leaving.expert_id]
        self.events.append(
            ExpertReplaced(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                case_id=self.id,
                specialty=replacement.specialty,
            )
        )

    # -- opinions and the conclusion ------------------------------------------------------------
    def record_opinion(self, expert_id: str, *, score: int, verdict: Verdict, comments: str) -> None:
        if self.status is not CaseStatus.PANEL_DRAWN:
            raise InvalidCaseState(f"评审案件处于 {self.status.value} 状态，不接收评审意见")
        self.seat_of(expert_id)
        self._update_seat(expert_id, opinion={"score": score, "verdict": verdict.value, "comments": comments})

    def verdicts(self) -> list[Verdict] | None:
        """Every seated expert's verdict, or None while someone has not given one."""
        seated = [s for s in self.seats if s["state"] == "seated"]
        if not all(s.get("opinion") for s in seated):
            return None
        return [Verdict(s["opinion"]["verdict"]) for s in seated]

    def conclude(
        self,
        verdict: Verdict,
        *,
        at: dt.datetime,
        resubmission: Reason | None,
        next_clock: str | None,
        next_due: dt.date | None,
        articles: Sequence[str],
        third_party: Reason | None = None,
    ) -> None:
        # A panel drawn before the assessment was required still waits for it (shexian §21).
        self.check_third_party_review(third_party)
        self.verdict = verdict.value
        self.concluded_at = at
        if verdict is not Verdict.PASS:
            self.failures += 1
        # Not passed: the agency revises and the panel reviews again, until the pack's limit
        # of failures asks for the materials to be redone from scratch (lhasa §11).
        revising = verdict is not Verdict.PASS and resubmission is None
        self.status = CaseStatus.REVISING if revising else CaseStatus.CONCLUDED
        self.clock, self.due_on, self.overdue_notified = next_clock, next_due, False
        seated = [s for s in self.seats if s["state"] == "seated"]
        self.events.append(
            ReviewConcluded(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                case_id=self.id,
                stage=self.stage,
                verdict=verdict.value,
                reference=self.reference,
                scores=tuple(int(s["opinion"]["score"]) for s in seated),
                round=self.round,
                resubmission_required=resubmission is not None,
                articles=tuple(articles) + ((resubmission.rule,) if resubmission else ()),
            )
        )

    def issue_report(
        self, document: str, *, on: dt.date, next_clock: str | None, next_due: dt.date | None
    ) -> None:
        """出具评审报告（通过）或书面反馈评审意见（未通过）: ends the time limit for it, once per round."""
        if self.verdict is None or self.status not in (CaseStatus.CONCLUDED, CaseStatus.REVISING):
            raise InvalidCaseState("评审尚未出结论，不能出具评审报告或书面评审意见")
        if any(r["round"] == self.round for r in self.reports):
            raise InvalidCaseState(f"第 {self.round} 次评审的评审报告或书面评审意见已出具")
        issued = {
            "round": self.round,
            "verdict": self.verdict,
            "document": document,
            "issued_on": on.isoformat(),
        }
        self.reports = [*self.reports, issued]
        if self.clock in WRITTEN_RESULT_CLOCKS:
            self.clock, self.due_on, self.overdue_notified = next_clock, next_due, False

    def cancel(self, reason: str, at: dt.datetime) -> bool:
        """撤销: what the case reviews no longer stands; no opinion or conclusion is taken after.
        False when it was already concluded or cancelled."""
        if self.status in CLOSED:
            return False
        self.status = CaseStatus.CANCELLED
        self.closed_reason = reason
        self.concluded_at = at
        self.clock, self.due_on, self.overdue_notified = None, None, False
        return True

    def stop_time_limit(self) -> bool:
        """What a concluded case reviewed no longer stands (the project was rejected, withdrawn or
        terminated): the report or written opinion it awaited is no longer owed on time (lhasa §11).
        The status and verdict stay; False when no time limit was running."""
        if self.status is not CaseStatus.CONCLUDED or self.clock is None:
            return False
        self.clock, self.due_on, self.overdue_notified = None, None, False
        return True

    def resubmit(self, *, received_on: dt.date, clock: str | None, due_on: dt.date | None) -> None:
        """修改后再审: revised materials arrived; the same panel reviews them again."""
        if self.status is not CaseStatus.REVISING:
            raise InvalidCaseState("只有待修改的案件可以提交修改材料")
        if self.clock == Clock.FAIL_OPINION.value:  # the agency revises by the written opinion
            raise InvalidCaseState("书面评审意见尚未反馈，不能提交修改材料")
        self.round += 1
        self.received_on = received_on
        self.status = CaseStatus.PANEL_DRAWN
        self.verdict = None
        self.seats = [{k: v for k, v in s.items() if k != "opinion"} for s in self.seats]
        self.clock, self.due_on, self.overdue_notified = clock, due_on, False


def _seat(seat: Seat) -> dict[str, Any]:
    return {"expert_id": seat.expert_id, "specialty": seat.specialty, "rank": seat.rank, "state": "seated"}
