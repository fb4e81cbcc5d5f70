"""What acceptance announces, each event citing the articles of the jurisdiction it applies in:
a late 初验, the final acceptance admitted and concluded, the acceptance report filed."""

from __future__ import annotations

import datetime as dt

import pytest

from services.acceptance.domain import (
    Application,
    DataSharing,
    InitialAcceptance,
    InvalidState,
    Pack,
    Project,
    Status,
    deadlines,
)
from services.acceptance.domain.final import admit, conclude, conclude_by_panel, file_report
from services.acceptance.domain.trial import record_initial
from shared.contracts.acceptance import (
    AcceptanceReportFiled,
    FinalAcceptanceApplied,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
)
from shared.contracts.review import ReviewConcluded
from shared.policy import load_registry
from shared.workdays import WorkingCalendar

POLICY = load_registry()
CALENDAR = WorkingCalendar()
COMPLETED = dt.date(2026, 3, 2)


def pack_on(day: dt.date) -> Pack:
    return Pack(POLICY, CALENDAR, dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC))


def built(j: str, **fields: object) -> Project:
    defaults: dict[str, object] = {
        "id": "p1",
        "agency": "单位",
        "title": "平台",
        "kind": "construction",
        "software_fen": 0,
        "status": Status.COMPLETED,
        "completed_on": COMPLETED,
    }
    return Project(jurisdiction=j, **{**defaults, **fields})  # type: ignore[arg-type]


def applied(j: str) -> Project:
    """A project whose final-acceptance application awaits the authority."""
    application = Application(
        id="a1",
        round=1,
        status="submitted",
        materials={},
        archives_accepted=True,
        submitted_on=dt.date(2026, 9, 1),
        submitted_by="单位",
    )
    return built(
        j,
        status=Status.APPLIED,
        applications=(application,),
        initial=InitialAcceptance(dt.date(2026, 3, 10), passed=True),
        data_sharing=DataSharing("confirmed"),
    )


def test_shexian_39_initial_acceptance_after_three_months_is_kept_marked_late_and_cited() -> None:
    """shexian §39: 项目建设完成后，三个月内由建设单位自行组织初验."""
    project = built("shexian")
    (limit,) = [
        d for d in deadlines(project, pack_on(dt.date(2026, 5, 1))) if d.deadline == "initial_acceptance"
    ]
    assert (limit.due_on, limit.state, limit.articles) == (dt.date(2026, 6, 2), "running", ("shexian §39",))
    on_time = built("shexian")
    record_initial(
        on_time, pack_on(dt.date(2026, 6, 2)), held_on=dt.date(2026, 6, 2), passed=True, findings="", by="u"
    )
    assert on_time.initial is not None and not on_time.initial.late
    record_initial(
        project, pack_on(dt.date(2026, 6, 3)), held_on=dt.date(2026, 6, 3), passed=True, findings="", by="u"
    )
    (event,) = project.events
    assert isinstance(event, InitialAcceptanceRecorded) and event.late
    assert event.articles == ("shexian §39",) and [n.articles for n in event.notes] == [("shexian §39",)]
    assert project.initial is not None and project.initial.late
    # zhonglou §18 sets no time for 初验 after completion: never late there.
    zhonglou = built("zhonglou")
    record_initial(
        zhonglou, pack_on(dt.date(2026, 9, 1)), held_on=dt.date(2026, 9, 1), passed=True, findings="", by="u"
    )
    assert zhonglou.initial is not None and not zhonglou.initial.late
    assert zhonglou.events[-1].articles == ("zhonglou §18",)


def panel(project: Project, verdict: str) -> ReviewConcluded:
    return ReviewConcluded(
        project_id=project.id,
        jurisdiction=project.jurisdiction,
        case_id="c1",
        stage="acceptance",
        verdict=verdict,
    )


@pytest.mark.parametrize(
    "j, admitted, failed",
    [
        ("zhonglou", ("zhonglou §18",), ("zhonglou §18", "zhonglou §19")),
        (
            "bayingolin",
            ("bayingolin §26", "bayingolin §28"),
            ("bayingolin §26", "bayingolin §28", "bayingolin §25"),
        ),
    ],
)
def test_a_failed_panel_cites_that_the_project_is_not_put_into_use(
    j: str, admitted: tuple[str, ...], failed: tuple[str, ...]
) -> None:
    """zhonglou §18–19 and bayingolin §25–28: experts conclude; a project failing its acceptance
    is not put into use and is rectified, its conclusion citing the article that says so."""
    project = applied(j)
    pack = pack_on(dt.date(2026, 9, 30))
    admit(project, pack, admit=True, reason="", by="局")
    event = project.events[-1]
    assert isinstance(event, FinalAcceptanceApplied) and event.experts and event.articles == admitted
    with pytest.raises(InvalidState, match="专家组"):
        conclude(project, pack, passed=False, items=("整改",), due=None, by="局")
    conclude_by_panel(project, pack, panel(project, "fail"))
    concluded = project.events[-1]
    assert isinstance(concluded, FinalAcceptanceConcluded) and not concluded.passed
    assert concluded.articles == failed and project.status is Status.RECTIFYING


def test_lhasa_17_the_authority_organises_the_acceptance_and_concludes_it() -> None:
    """lhasa §17: 项目审批部门应当及时组织验收或委托验收 — no expert panel named; §20: the report is filed."""
    project = applied("lhasa")
    pack = pack_on(dt.date(2026, 9, 30))
    admit(project, pack, admit=True, reason="", by="局")
    event = project.events[-1]
    assert (
        isinstance(event, FinalAcceptanceApplied) and not event.experts and event.articles == ("lhasa §17",)
    )
    conclude(project, pack, passed=True, items=(), due=None, by="局")
    concluded = project.events[-1]
    assert isinstance(concluded, FinalAcceptanceConcluded) and concluded.passed
    assert concluded.articles == ("lhasa §17",) and concluded.report_due_on is None


@pytest.mark.parametrize(
    "j, due_on, articles",
    [
        ("shexian", None, ("shexian §39",)),  # 验收报告等材料报项目审批部门备案
        ("lhasa", None, ("lhasa §20",)),  # 项目总结报告、项目验收合格意见报市经信局备案
        ("bayingolin", dt.date(2026, 10, 13), ("bayingolin §29",)),  # 七个工作日内
    ],
)
def test_the_acceptance_report_is_filed_citing_the_article_that_asks_for_it(
    j: str, due_on: dt.date | None, articles: tuple[str, ...]
) -> None:
    accepted = dt.date(2026, 9, 28)
    project = built(j, status=Status.ACCEPTED, accepted_on=accepted, report_due_on=due_on)
    file_report(project, pack_on(dt.date(2026, 10, 13)), "验收报告〔2026〕1号", "单位")
    (event,) = project.events
    assert isinstance(event, AcceptanceReportFiled)
    assert (event.due_on, event.late, event.articles) == (due_on, False, articles)
