"""Evaluations after the acceptance, asked of the pack.

Post-evaluation 12–24 months after acceptance (shexian §43, lhasa §22), the first-year evaluation
in the month after the first year (bayingolin §31), zhonglou §20's yearly expert post-evaluation
and self-evaluation by Nov 30; serious problems are rectified and the authority confirms it
(zhonglou §21).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.acceptance.domain.errors import AcceptanceError, EvaluationNotFound, InvalidState, RuleViolation
from services.acceptance.domain.outcomes import Evaluation
from services.acceptance.domain.project import Pack, Project, new_id
from services.acceptance.domain.records import notes_of
from shared.auth import Scope
from shared.contracts.acceptance import EvaluationRecorded, PostEvaluationDue
from shared.policy import SUITE_DEFAULT, PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, months_after

EVALUATION_RULES = {
    "self": "acceptance.self_evaluation_deadline",
    "post": "acceptance.post_evaluation_window",
    "first_year": "acceptance.post_evaluation_window",
}
WINDOW = "acceptance.post_evaluation_window"


@dataclass(frozen=True)
class Window:
    opens: dt.date
    closes: dt.date | None


def evaluation_window(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, accepted_on: dt.date
) -> Window | None:
    """When the post-evaluation (or bayingolin §31's first-year evaluation) is due."""
    rule = policy.rule(jurisdiction, WINDOW)
    if not rule.applies:
        return None
    if rule.params.get("frequency") == "yearly":  # zhonglou §20: every year, the first a year on
        return Window(months_after(accepted_on, 12), None)
    opens = months_after(accepted_on, int(rule.param("min_months")))
    closes = calendar.last_day(months_after(accepted_on, int(rule.param("max_months"))))
    return Window(opens, closes)


def self_evaluation_due(policy: PolicyRegistry, jurisdiction: str, year: int) -> dt.date | None:
    """zhonglou §20: the yearly self-evaluation by Nov 30."""
    rule = policy.rule(jurisdiction, "acceptance.self_evaluation_deadline")
    if not rule.applies or "month" not in rule.params:
        return None
    return dt.date(year, int(rule.params["month"]), int(rule.params["day"]))


@dataclass(frozen=True)
class EvaluationReport:
    """What an evaluation found, as its author reports it."""

    evaluation: str  # self | post | first_year
    period: str | None
    serious_problems: tuple[str, ...]
    rectified: bool
    rectification_due: dt.date | None
    summary: str


def may_report(report: EvaluationReport, scope: Scope) -> None:
    """Whether serious problems were fixed is the authority's to confirm — the suite's own rule:
    the articles (zhonglou §21, shexian §49, lhasa §18) order rectification but name no confirmer."""
    if scope.agency is not None and report.serious_problems and report.rectified:
        raise AcceptanceError(
            f"严重问题是否整改到位由主管部门确认（{SUITE_DEFAULT}），建设单位登记时不能自行标注"
        )


def _window_reasons(project: Project, pack: Pack, evaluation: str) -> tuple[list[Reason], list[Reason]]:
    """(refusals, notes): a post-evaluation only in the pack's window, a late one noted."""
    if evaluation not in ("post", "first_year"):
        return [], []
    if project.accepted_on is None:
        raise InvalidState("项目尚未通过终验，不能登记后评价")
    j, today, accepted_on = project.jurisdiction, pack.today, project.accepted_on
    window = evaluation_window(pack.policy, pack.calendar, j, accepted_on)
    refusals: list[Reason] = []
    notes: list[Reason] = []
    if window is not None and today < window.opens:
        refusals.append(
            pack.policy.refusal(
                j,
                WINDOW,
                "evaluation_too_early",
                f"项目于 {accepted_on.isoformat()} 通过验收，"
                f"{pack.calendar.dated(window.opens)} 起方可开展评价",
            )
        )
    if window is not None and window.closes is not None and today > window.closes:
        notes.append(
            pack.policy.refusal(
                j, WINDOW, "evaluation_late", f"评价应在 {pack.calendar.dated(window.closes)} 前完成，已逾期"
            )
        )
    return refusals, notes


def _articles(project: Project, pack: Pack, evaluation: str, serious: bool) -> tuple[str, ...]:
    articles = pack.articles(project.jurisdiction, EVALUATION_RULES[evaluation])
    if serious:
        return (*articles, *pack.articles(project.jurisdiction, "oversight.rectification"))
    return articles


def record_evaluation(project: Project, pack: Pack, report: EvaluationReport, by: str) -> Evaluation:
    """绩效自评、后评价 or first-year evaluation: post-evaluations only in the pack's window."""
    refusals, notes = _window_reasons(project, pack, report.evaluation)
    articles = _articles(project, pack, report.evaluation, bool(report.serious_problems))
    project.ensure_open()
    RuleViolation.refuse_if(refusals, "评价不予登记")
    if report.serious_problems and not report.rectified and report.rectification_due is None:
        raise AcceptanceError("发现严重问题的，须给出整改期限")
    record = Evaluation(
        id=new_id(),
        evaluation=report.evaluation,
        period=report.period,
        serious_problems=tuple(report.serious_problems),
        rectified=report.rectified or not report.serious_problems,
        rectification_due=report.rectification_due,
        summary=report.summary,
        recorded_on=pack.today,
        by=by,
        notes=notes_of(notes),
    )
    project.evaluations = (*project.evaluations, record)
    _evaluation_event(project, record, articles)
    return record


def rectify_evaluation(project: Project, pack: Pack, evaluation_id: str, by: str) -> Evaluation:
    """The authority confirms the problems an evaluation found are fixed (zhonglou §21)."""
    project.ensure_open()
    for i, record in enumerate(project.evaluations):
        if record.id == evaluation_id:
            if record.rectified:
                raise InvalidState("该评价发现的问题已整改到位")
            updated = dataclasses.replace(record, rectified=True, rectified_on=pack.today, rectified_by=by)
            project.evaluations = (*project.evaluations[:i], updated, *project.evaluations[i + 1 :])
            _evaluation_event(
                project, updated, pack.articles(project.jurisdiction, "oversight.rectification")
            )
            return updated
    raise EvaluationNotFound(f"评价 {evaluation_id} 不存在")


def _evaluation_event(project: Project, record: Evaluation, articles: Sequence[str]) -> None:
    project.emit(
        EvaluationRecorded,
        evaluation=record.evaluation,
        evaluation_id=record.id,
        serious_problems=record.serious_problems,
        rectified=record.rectified,
        rectification_due=record.rectification_due,
        articles=tuple(articles),
    )


def _opened(window: Window, today: dt.date) -> list[tuple[str, dt.date]]:
    """(notice key, day) of each evaluation the window has opened by today: one, or one a year."""
    if window.closes is not None:
        return [("post_evaluation", window.opens)] if today >= window.opens else []
    opens = [window.opens]
    while months_after(opens[-1], 12) <= today:
        opens.append(months_after(opens[-1], 12))
    return [(f"post_evaluation:{due.year}", due) for due in opens if today >= due]


def announce_post_evaluations(project: Project, pack: Pack) -> int:
    """Announce each post-evaluation whose window opened and was not announced yet (review opens
    its case); returns how many."""
    if project.accepted_on is None:
        return 0
    window = evaluation_window(pack.policy, pack.calendar, project.jurisdiction, project.accepted_on)
    if window is None:
        return 0
    fired = 0
    for key, due in _opened(window, pack.today):
        if key in project.notices:
            continue
        project.emit(
            PostEvaluationDue,
            due_on=due,
            parties=project.parties,
            articles=pack.articles(project.jurisdiction, WINDOW),
        )
        project.notices = [*project.notices, key]
        fired += 1
    return fired
