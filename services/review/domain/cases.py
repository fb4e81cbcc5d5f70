"""A review case (评审案件): one project at one stage, its panel, opinions and conclusion.

The rules (panel, conclusion, time limits, failures) are asked of the pack in domain.rules, the
draw is domain.drawing; the case keeps the outcome and refuses what its state does not allow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.review.domain.drawing import Avoidance, Candidate, Draw, Seat
from services.review.domain.errors import InvalidCaseState, NotOnPanel, ThirdPartyReviewMissing
from services.review.domain.records import Conclusion, Opinion, PanelSeat, Report, SeatState, Submission
from services.review.domain.rules import Clock, TimeLimit, Verdict
from shared.contracts import Event
from shared.contracts.review import ExpertReplaced, PanelDrawn, ReviewCaseOpened, ReviewConcluded
from shared.policy import Reason


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
    candidates: tuple[Candidate, ...] = ()  # the pool as drawn from
    seats: tuple[PanelSeat, ...] = ()
    declined: list[str] = field(default_factory=list)
    clock: str | None = None  # the running time limit (rules.Clock value)
    due_on: dt.date | None = None
    overdue_notified: bool = False
    verdict: str | None = None
    concluded_at: dt.datetime | None = None
    third_party_assessment: str = ""  # 第三方专业审查、造价评估 (shexian §21, bayingolin §9)
    reference: str | None = None  # what is reviewed: a change request, an acceptance application
    closed_reason: str | None = None  # why it was cancelled
    reports: tuple[Report, ...] = ()
    events: list[Event] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        submission: Submission,
        *,
        by: str,
        at: dt.datetime,
        received_on: dt.date,
        limit: TimeLimit | None,
    ) -> ReviewCase:
        case = cls(
            id=uuid.uuid4().hex,
            project_id=submission.project_id,
            jurisdiction=submission.jurisdiction,
            stage=submission.stage,
            agency=submission.agency,
            parties=list(submission.parties),
            status=CaseStatus.OPEN,
            opened_at=at,
            opened_by=by,
            received_on=received_on,
            reference=submission.reference,
        )
        case._run(limit)
        case.events.append(
            ReviewCaseOpened(
                project_id=case.project_id,
                jurisdiction=case.jurisdiction,
                case_id=case.id,
                stage=case.stage,
                reference=case.reference,
                due_on=case.due_on,
                articles=submission.articles,
            )
        )
        return case

    def _run(self, limit: TimeLimit | None) -> None:
        """The time limit now running (none: no limit runs)."""
        self.clock = limit.clock.value if limit else None
        self.due_on = limit.due_on if limit else None
        self.overdue_notified = False

    def set_parties(self, parties: Sequence[str]) -> None:
        """The contractor, 监理 and bidders to avoid; fixed once the panel is drawn."""
        if self.status is not CaseStatus.OPEN:
            raise InvalidCaseState("专家组已抽选，回避单位不能再修改")
        self.parties = sorted(set(parties))

    def attach_assessment(self, text: str) -> None:
        """第三方造价等专业评估 (bayingolin §9, shexian §21), for the panel to read."""
        if self.status in (CaseStatus.CONCLUDED, CaseStatus.CANCELLED):
            done = "评审已出结论" if self.status is CaseStatus.CONCLUDED else f"评审案件 {self.id} 已撤销"
            raise InvalidCaseState(f"{done}，不再接收第三方评估意见")
        self.third_party_assessment = text

    # -- the panel --------------------------------------------------------------------------------
    def seated(self) -> list[PanelSeat]:
        return [s for s in self.seats if s.seated]

    def avoidance(self) -> Avoidance:
        return Avoidance(
            organisations=frozenset([self.agency, *self.parties]),
            declined=frozenset(self.declined),
            seated=frozenset(s.expert_id for s in self.seated()),
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
        pool: Sequence[Candidate],
        articles: Sequence[str],
        third_party: Reason | None = None,
        method: str = "",
    ) -> None:
        if self.status is not CaseStatus.OPEN:
            raise InvalidCaseState(f"评审案件 {self.id} 已抽选专家组")
        self.check_third_party_review(third_party)
        self.seed = drawn.seed
        self.candidates = tuple(sorted(pool, key=lambda c: c.id))
        self.seats = tuple(PanelSeat.drawn(s) for s in drawn.seats)
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
                method=method,
            )
        )

    def seated_among(self, expert_ids: Collection[str]) -> str:
        """Which of a person's entries (one per pool) sits on this panel."""
        for seat in self.seated():
            if seat.expert_id in expert_ids:
                return seat.expert_id
        raise NotOnPanel(f"您不是评审案件 {self.id} 专家组的成员")

    def seat_of(self, expert_id: str) -> PanelSeat:
        for seat in self.seated():
            if seat.expert_id == expert_id:
                return seat
        raise NotOnPanel(f"您不是评审案件 {self.id} 专家组的成员")

    def leaving(self, expert_id: str) -> Seat:
        """The seat an expert gives up by declining (回避或无法参加)."""
        if self.status is not CaseStatus.PANEL_DRAWN:
            raise InvalidCaseState("只有评审进行中的案件可以谢绝")
        seat = self.seat_of(expert_id)
        if seat.opinion is not None:
            raise InvalidCaseState("已提交评审意见，不能再谢绝")
        return Seat(seat.expert_id, seat.specialty, seat.rank)

    def _put(self, seat: PanelSeat) -> None:
        """`seat` in place of its expert's seated one (a new tuple: the column is saved on change)."""
        self.seats = tuple(seat if s.expert_id == seat.expert_id and s.seated else s for s in self.seats)

    def replace(self, leaving: Seat, replacement: Seat) -> None:
        self._put(dataclasses.replace(self.seat_of(leaving.expert_id), state=SeatState.DECLINED))
        self.seats = (*self.seats, PanelSeat.drawn(replacement))
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
        self._put(dataclasses.replace(self.seat_of(expert_id), opinion=Opinion(score, verdict, comments)))

    def verdicts(self) -> list[Verdict] | None:
        """Every seated expert's verdict, or None while someone has not given one."""
        opinions = [s.opinion for s in self.seated()]
        if not all(opinions):
            return None
        return [o.verdict for o in opinions if o is not None]

    def conclude(self, conclusion: Conclusion, third_party: Reason | None = None) -> None:
        # A panel drawn before the assessment was required still waits for it (shexian §21).
        self.check_third_party_review(third_party)
        verdict, resubmission = conclusion.verdict, conclusion.resubmission
        self.verdict = verdict.value
        self.concluded_at = conclusion.at
        if verdict is not Verdict.PASS:
            self.failures += 1
        # Not passed: the agency revises and the panel reviews again, until the pack's limit
        # of failures asks for the materials to be redone from scratch (lhasa §11).
        self.status = CaseStatus.REVISING if conclusion.revising else CaseStatus.CONCLUDED
        self._run(conclusion.next_limit)
        self.events.append(
            ReviewConcluded(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                case_id=self.id,
                stage=self.stage,
                verdict=verdict.value,
                reference=self.reference,
                scores=tuple(s.opinion.score for s in self.seated() if s.opinion is not None),
                round=self.round,
                resubmission_required=resubmission is not None,
                articles=conclusion.articles + ((resubmission.rule,) if resubmission else ()),
                method=conclusion.method,
            )
        )

    def issue_report(self, document: str, *, on: dt.date, next_limit: TimeLimit | None) -> None:
        """出具评审报告（通过）或书面反馈评审意见（未通过）: ends the time limit for it, once per round."""
        if self.verdict is None or self.status not in (CaseStatus.CONCLUDED, CaseStatus.REVISING):
            raise InvalidCaseState("评审尚未出结论，不能出具评审报告或书面评审意见")
        if any(r.round == self.round for r in self.reports):
            raise InvalidCaseState(f"第 {self.round} 次评审的评审报告或书面评审意见已出具")
        self.reports = (*self.reports, Report(self.round, Verdict(self.verdict), document, on))
        if self.clock in WRITTEN_RESULT_CLOCKS:
            self._run(next_limit)

    def cancel(self, reason: str, at: dt.datetime) -> bool:
        """撤销: what the case reviews no longer stands; no opinion or conclusion is taken after.
        False when it was already concluded or cancelled."""
        if self.status in CLOSED:
            return False
        self.status = CaseStatus.CANCELLED
        self.closed_reason = reason
        self.concluded_at = at
        self._run(None)
        return True

    def stop_time_limit(self) -> bool:
        """What a concluded case reviewed no longer stands (the project was rejected, withdrawn or
        terminated): the report or written opinion it awaited is no longer owed on time (lhasa §11).
        The status and verdict stay; False when no time limit was running."""
        if self.status is not CaseStatus.CONCLUDED or self.clock is None:
            return False
        self._run(None)
        return True

    def settle(self, reason: str, at: dt.datetime) -> None:
        """What the case reviewed no longer stands: cancelled if still open, else its time limit stops."""
        if not self.cancel(reason, at):
            self.stop_time_limit()

    def resubmit(self, *, received_on: dt.date, limit: TimeLimit | None) -> None:
        """修改后再审: revised materials arrived; the same panel reviews them again."""
        if self.status is not CaseStatus.REVISING:
            raise InvalidCaseState("只有待修改的案件可以提交修改材料")
        if self.clock == Clock.FAIL_OPINION.value:  # the agency revises by the written opinion
            raise InvalidCaseState("书面评审意见尚未反馈，不能提交修改材料")
        self.round += 1
        self.received_on = received_on
        self.status = CaseStatus.PANEL_DRAWN
        self.verdict = None
        self.seats = tuple(dataclasses.replace(s, opinion=None) for s in self.seats)
        self._run(limit)
