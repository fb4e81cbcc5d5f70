"""原则上终止 as a recommendation the authority decides (pure domain, no servers)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.intake.domain import (
    InvalidTransition,
    Project,
    ProjectKind,
    ProjectStatus,
    TerminationDecisionInvalid,
)
from services.intake.domain.endings import (
    Recommendation,
    TerminationDecision,
    decide_termination,
    recommend_termination,
)
from shared.contracts.intake import ProjectTerminated, TerminationDecided

AT = dt.datetime(2026, 10, 9, 2, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 9)
MISSED = Recommendation(
    "未按期实质性启动（期限 2026-10-08），原则上终止实施、收回资金（zhonglou §17、zhonglou §13）",
    ("zhonglou §17", "zhonglou §13"),
    "start",
    AT,
)


def approved() -> Project:
    return Project(
        id="p1",
        jurisdiction="zhonglou",
        agency="区数据局",
        title="城市大脑",
        kind=ProjectKind.CONSTRUCTION,
        amount_fen=100,
        classified=False,
        status=ProjectStatus.APPROVED,
        declared_at=AT,
        declared_by="u",
        created_at=AT,
    )


def test_a_missed_deadline_recommends_and_nothing_ends_by_itself() -> None:
    project = approved()
    assert recommend_termination(project, MISSED)
    assert project.status is ProjectStatus.APPROVED and project.events == []
    assert project.termination_state == "pending"
    assert project.termination is not None and project.termination["articles"] == [
        "zhonglou §17",
        "zhonglou §13",
    ]
    assert not recommend_termination(project, MISSED)  # a redelivery changes nothing


def test_the_authority_terminates_with_its_document_and_only_then_the_project_ends() -> None:
    project = approved()
    recommend_termination(project, MISSED)
    decision = TerminationDecision("terminate", "钟政办〔2026〕9号", "", "局长")
    assert decide_termination(project, decision, AT, TODAY)
    assert project.status is ProjectStatus.TERMINATED
    (ended,) = project.events
    assert isinstance(ended, ProjectTerminated) and ended.document_ref == "钟政办〔2026〕9号"
    assert ended.articles == ("zhonglou §17", "zhonglou §13")
    assert not decide_termination(project, decision, AT, TODAY)  # the same decision again: no change
    with pytest.raises(InvalidTransition, match="已决定为终止"):
        decide_termination(project, TerminationDecision("keep", "另文", "继续", "局长"), AT, TODAY)


def test_extend_and_keep_are_decisions_with_reasons_and_the_project_goes_on() -> None:
    project = approved()
    recommend_termination(project, MISSED)
    with pytest.raises(TerminationDecisionInvalid, match="延期须给出今天以后的日期"):
        decide_termination(project, TerminationDecision("extend", "文", "设备到货延迟", "局长"), AT, TODAY)
    with pytest.raises(TerminationDecisionInvalid, match="须写明理由"):
        decide_termination(project, TerminationDecision("keep", "文", " ", "局长"), AT, TODAY)
    extend = TerminationDecision(
        "extend", "钟政办〔2026〕10号", "设备到货延迟", "局长", dt.date(2026, 12, 31)
    )
    assert decide_termination(project, extend, AT, TODAY)
    assert project.status is ProjectStatus.APPROVED and project.termination_state == "extend"
    (decided,) = project.events
    assert isinstance(decided, TerminationDecided)
    assert (decided.decision, decided.deadline, decided.until) == ("extend", "start", dt.date(2026, 12, 31))
    # The extended deadline missed again is a new recommendation for a new decision.
    again = Recommendation("延期后仍未启动", MISSED.articles, "start", AT)
    assert recommend_termination(project, again) and project.termination_state == "pending"


def test_there_is_nothing_to_decide_without_a_recommendation() -> None:
    with pytest.raises(InvalidTransition, match="没有待决定的终止建议"):
        decide_termination(approved(), TerminationDecision("terminate", "文", "", "局长"), AT, TODAY)
