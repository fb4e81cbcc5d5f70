"""A holiday notice loaded while the services run: the watch picks it up, and each service moves
the open due dates it changes (and only those), announcing every move with 暂定 where it still is."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import yaml

from services.acceptance.domain import Pack
from services.acceptance.domain import Project as AcceptanceProject
from services.acceptance.domain import Status as AcceptanceStatus
from services.acceptance.domain.moved import move_deadlines as move_acceptance
from services.funding.domain.moved import move_review_due
from services.funding.domain.projects import FundedProject, Settlement
from services.procurement.domain.deadlines import Due, deadline_message
from services.procurement.domain.moved_deadlines import move_deadlines as move_procurement
from services.procurement.domain.project import Project as ProcurementProject
from services.procurement.domain.status import Status as ProcurementStatus
from services.review.domain import ReviewCase, Submission, opening
from services.review.domain.recompute import move_time_limit
from shared.calendar_watch import CalendarWatch
from shared.contracts.acceptance import AcceptanceDeadlineMoved, FinalAcceptanceConcluded
from shared.contracts.funding import FundingDeadlineMoved
from shared.contracts.procurement import DeadlineMissed, ProcurementDeadlineMoved
from shared.contracts.review import ReviewCaseOpened, ReviewDeadlineMoved
from shared.policy import load_registry
from shared.workdays import (
    HolidayNotice,
    HolidayPeriod,
    WorkingCalendar,
    changed_years,
    install_calendar,
    load_notice,
)

POLICY = load_registry()
YEAR = 2027  # beyond what the holiday package knows
# Test data, not the real arrangement: National Day week off, Friday 1 to Thursday 7 October.
NOTICE = HolidayNotice(
    year=YEAR,
    source="测试用节假日安排（示例）",
    holidays=(HolidayPeriod(name="国庆节", start=dt.date(YEAR, 10, 1), end=dt.date(YEAR, 10, 7)),),
)
BARE = WorkingCalendar()
LOADED = WorkingCalendar({YEAR: NOTICE})
CALENDARS = (BARE, LOADED)
YEARS = changed_years(BARE, LOADED)


def test_only_the_years_whose_arrangement_changed_are_named() -> None:
    assert YEARS == (YEAR,)
    assert changed_years(LOADED, WorkingCalendar({YEAR: NOTICE})) == ()
    assert not BARE.known(YEAR) and LOADED.known(YEAR)
    assert BARE.dated(dt.date(YEAR, 10, 5)) == f"{YEAR}-10-05（暂定）"
    assert LOADED.dated(dt.date(YEAR, 10, 5)) == f"{YEAR}-10-05"


# -- review: a running time limit is stored with the case ------------------------------------------


def lhasa_case(received: dt.datetime) -> ReviewCase:
    submission = Submission("p1", "lhasa", "feasibility", "市局")
    return opening.open_case(POLICY, BARE, submission, by="局", at=received)


def test_a_review_time_limit_across_the_new_holidays_moves_and_is_announced() -> None:
    # Received Tue 28 Sep: five working days by weekends alone end Tue 5 Oct (暂定); with the week
    # off they are 29, 30 Sep, 8, 11, 12 Oct.
    case = lhasa_case(dt.datetime(YEAR, 9, 28, 2, tzinfo=dt.UTC))
    opened = case.events[0]
    assert isinstance(opened, ReviewCaseOpened) and opened.due_on == dt.date(YEAR, 10, 5)
    case.events.clear()
    assert move_time_limit(case, POLICY, CALENDARS, YEARS)
    assert case.due_on == dt.date(YEAR, 10, 12)
    [moved] = case.events
    assert isinstance(moved, ReviewDeadlineMoved)
    assert (moved.previous_due_on, moved.due_on, moved.deadline) == (
        dt.date(YEAR, 10, 5),
        dt.date(YEAR, 10, 12),
        "first_review",
    )
    assert not moved.due_on_provisional and moved.years == (YEAR,) and moved.articles == ("lhasa §11",)
    assert f"{YEAR}-10-05" in moved.message and f"{YEAR}-10-12" in moved.message
    # Moved once: the stored day is now the new calendar's, so a retry or a replica leaves it.
    assert not move_time_limit(case, POLICY, CALENDARS, YEARS)


def test_a_review_time_limit_in_a_covered_year_stays() -> None:
    case = lhasa_case(dt.datetime(2026, 9, 28, 2, tzinfo=dt.UTC))
    before = case.due_on
    assert not move_time_limit(case, POLICY, CALENDARS, YEARS)
    assert case.due_on == before


def test_a_time_limit_clear_of_the_new_holidays_stays() -> None:
    case = lhasa_case(dt.datetime(YEAR, 6, 1, 2, tzinfo=dt.UTC))  # Tue 1 June: 8 June either way
    assert not move_time_limit(case, POLICY, CALENDARS, YEARS)
    assert case.due_on == dt.date(YEAR, 6, 8)


# -- procurement: deadlines worked out from the plan ------------------------------------------------


def bayingolin_project(plan_issued_on: dt.date) -> ProcurementProject:
    return ProcurementProject(
        id="p1",
        jurisdiction="bayingolin",
        agency="州局",
        title="平台",
        kind="construction",
        declared_fen=100,
        software_fen=0,
        status=ProcurementStatus.APPROVED,
        approved_fen=100,
        approved_on=plan_issued_on,
        plan_issued_on=plan_issued_on,
    )


def test_a_contract_deadline_on_a_new_holiday_moves_to_the_next_working_day_once() -> None:
    # bayingolin §21: four months from the plan, 1 June → Fri 1 October, now a holiday → 8 October.
    project = bayingolin_project(dt.date(YEAR, 6, 1))
    today = dt.date(YEAR, 6, 2)
    assert move_procurement(POLICY, CALENDARS, project, today, YEARS) == 1
    [moved] = project.events
    assert isinstance(moved, ProcurementDeadlineMoved)
    assert (moved.deadline, moved.previous_due_on, moved.due_on) == (
        "contract",
        dt.date(YEAR, 10, 1),
        dt.date(YEAR, 10, 8),
    )
    assert moved.articles == ("bayingolin §21",) and not moved.due_on_provisional
    assert move_procurement(POLICY, CALENDARS, project, today, YEARS) == 0  # announced once


def test_procurement_deadlines_in_a_covered_year_stay() -> None:
    project = bayingolin_project(dt.date(2026, 6, 1))
    assert move_procurement(POLICY, CALENDARS, project, dt.date(2026, 6, 2), YEARS) == 0
    assert project.events == []


def test_events_say_a_due_date_is_provisional_by_the_calendar_the_process_runs_by() -> None:
    fields = {"project_id": "p1", "jurisdiction": "bayingolin", "agency": "州局", "deadline": "contract"}
    install_calendar(BARE)
    try:
        assert DeadlineMissed(**fields, due_on=dt.date(YEAR, 10, 1)).due_on_provisional
        assert not DeadlineMissed(**fields, due_on=dt.date(2026, 10, 8)).due_on_provisional
        install_calendar(LOADED)  # the year's notice loaded: the same day is firm
        assert not DeadlineMissed(**fields, due_on=dt.date(YEAR, 10, 8)).due_on_provisional
        # A producer's flag travels with the event: a reader keeps it, whatever its own calendar.
        said = DeadlineMissed(**fields, due_on=dt.date(YEAR, 10, 8), due_on_provisional=True)
        assert DeadlineMissed.model_validate(said.model_dump(mode="json")).due_on_provisional
    finally:
        install_calendar(BARE)


def test_a_missed_deadline_message_says_暂定() -> None:
    due = Due("contract", "contract", "procurement.contract_deadline", dt.date(YEAR, 10, 1), False, True)
    install_calendar(BARE)
    try:
        assert f"期限 {YEAR}-10-01（暂定）" in deadline_message(POLICY, "bayingolin", due)
        install_calendar(LOADED)
        assert f"期限 {YEAR}-10-01）" in deadline_message(POLICY, "bayingolin", due)
    finally:
        install_calendar(BARE)


# -- acceptance: the report's due date is stored, the others worked out ------------------------------


def accepted(on: dt.date) -> AcceptanceProject:
    return AcceptanceProject(
        id="p1",
        jurisdiction="bayingolin",
        agency="州局",
        title="平台",
        kind="construction",
        software_fen=0,
        status=AcceptanceStatus.ACCEPTED,
        completed_on=on - dt.timedelta(days=120),
        accepted_on=on,
        report_due_on=BARE.add_working_days(on, 7).date,
    )


def test_the_acceptance_report_due_date_moves_with_the_notice() -> None:
    # bayingolin §29: seven working days from Tue 28 Sep — 7 Oct by weekends alone, 14 Oct now.
    project = accepted(dt.date(YEAR, 9, 28))
    assert project.report_due_on == dt.date(YEAR, 10, 7)
    packs = (
        Pack(POLICY, BARE, dt.datetime(YEAR, 9, 29, tzinfo=dt.UTC)),
        Pack(POLICY, LOADED, dt.datetime(YEAR, 9, 29, tzinfo=dt.UTC)),
    )
    assert move_acceptance(project, packs, YEARS) == 1
    assert project.report_due_on == dt.date(YEAR, 10, 14)
    [moved] = project.events
    assert isinstance(moved, AcceptanceDeadlineMoved) and moved.deadline == "acceptance_report"
    assert moved.articles == ("bayingolin §29",)
    assert move_acceptance(project, packs, YEARS) == 0


def test_an_acceptance_report_due_in_a_covered_year_stays() -> None:
    project = accepted(dt.date(2026, 9, 28))
    packs = (
        Pack(POLICY, BARE, dt.datetime(2026, 9, 29, tzinfo=dt.UTC)),
        Pack(POLICY, LOADED, dt.datetime(2026, 9, 29, tzinfo=dt.UTC)),
    )
    assert move_acceptance(project, packs, YEARS) == 0 and project.events == []


def test_the_conclusion_says_whether_the_report_due_date_is_provisional() -> None:
    install_calendar(BARE)
    event = FinalAcceptanceConcluded(
        project_id="p1",
        jurisdiction="bayingolin",
        agency="州局",
        passed=True,
        concluded_on=dt.date(YEAR, 9, 28),
        report_due_on=dt.date(YEAR, 10, 7),
    )
    assert event.report_due_on_provisional


# -- funding: the settlement's review due date (lhasa §21) ----------------------------------------


def settled(on: dt.date) -> FundedProject:
    project = FundedProject(
        id="p1",
        jurisdiction="lhasa",
        agency="市局",
        title="平台",
        declared_amount_fen=100,
        approved=True,
        approved_amount_fen=100,
    )
    project.settlement = Settlement(
        100, on, 100, 0, 0, "financial_review", BARE.last_day(on.replace(month=on.month + 2)), "财政局"
    )
    return project


def test_a_settlement_review_due_on_a_new_holiday_moves() -> None:
    project = settled(dt.date(YEAR, 8, 1))  # two months: Fri 1 Oct → 8 Oct
    assert move_review_due(POLICY, CALENDARS, project, YEARS)
    assert project.settlement is not None and project.settlement.review_due_on == dt.date(YEAR, 10, 8)
    [moved] = project.events
    assert isinstance(moved, FundingDeadlineMoved) and moved.previous_due_on == dt.date(YEAR, 10, 1)
    assert not move_review_due(POLICY, CALENDARS, project, YEARS)
    covered = settled(dt.date(2026, 8, 1))
    assert not move_review_due(POLICY, CALENDARS, covered, YEARS)


# -- the watch on the calendar directory ---------------------------------------------------------


def write_notice(directory: Path, tmp: Path) -> None:
    source = tmp / "notice.yaml"
    source.write_text(yaml.safe_dump(NOTICE.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    load_notice(source, directory)


async def test_the_watch_swaps_the_calendar_and_hands_both_to_the_service(tmp_path: Path) -> None:
    directory = tmp_path / "calendar"
    swapped: list[WorkingCalendar] = []
    handed: list[tuple[WorkingCalendar, WorkingCalendar]] = []

    async def recompute(old: WorkingCalendar, new: WorkingCalendar) -> None:
        handed.append((old, new))

    watch = CalendarWatch(directory, BARE, swapped.append, recompute)
    assert not await watch.look()  # nothing there yet
    write_notice(directory, tmp_path)
    assert await watch.look()
    [new] = swapped
    assert new.known(YEAR) and handed == [(BARE, new)]
    assert not await watch.look() and len(handed) == 1  # unchanged: nothing again


async def test_a_failed_recompute_is_tried_again_and_a_bad_notice_keeps_the_calendar(tmp_path: Path) -> None:
    directory = tmp_path / "calendar"
    failures = [RuntimeError("database away")]
    handed: list[WorkingCalendar] = []

    async def recompute(old: WorkingCalendar, new: WorkingCalendar) -> None:
        if failures:
            raise failures.pop()
        handed.append(old)

    watch = CalendarWatch(directory, BARE, lambda _: None, recompute)
    write_notice(directory, tmp_path)
    with pytest.raises(RuntimeError):
        await watch.look()
    assert watch.calendar.known(YEAR)  # the service already runs by the new calendar
    await watch.look()
    assert handed == [BARE]  # retried from the calendar the deadlines were settled by
    broken = directory / "2028.yaml"
    broken.write_text("year: 2028\nsource: x\n", encoding="utf-8")
    os.utime(broken)
    assert not await watch.look()
    assert watch.calendar.known(YEAR) and not watch.calendar.known(2028)


class _Record:
    """The settled calendar as a service's database keeps it (shared.calendar_store), in memory."""

    def __init__(self, calendar: WorkingCalendar | None = None) -> None:
        self.calendar = calendar
        self.saves = 0

    async def load(self) -> WorkingCalendar | None:
        return self.calendar

    async def save(self, calendar: WorkingCalendar, at: dt.datetime) -> None:
        self.calendar, self.saves = calendar, self.saves + 1


async def test_a_notice_loaded_while_the_service_was_stopped_is_settled_at_its_first_look(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "calendar"
    handed: list[tuple[WorkingCalendar, WorkingCalendar]] = []

    async def recompute(old: WorkingCalendar, new: WorkingCalendar) -> None:
        handed.append((old, new))

    # The first start records the calendar it runs by, and moves nothing.
    record = _Record()
    first = CalendarWatch(directory, BARE, lambda _: None, recompute, record)
    assert not await first.look()
    assert record.calendar is BARE and handed == []
    # Stopped; the notice is loaded; started again, by the new calendar from the start.
    write_notice(directory, tmp_path)
    started = WorkingCalendar.from_dir(directory)
    again = CalendarWatch(directory, started, lambda _: None, recompute, record)
    assert not await again.look()  # the directory is as it found it: no swap
    [(old, new)] = handed
    assert not old.known(YEAR) and new is started
    assert record.calendar is started and record.saves == 2
    # A third start finds the record equal to its calendar: nothing to move.
    third = CalendarWatch(directory, WorkingCalendar.from_dir(directory), lambda _: None, recompute, record)
    await third.look()
    assert len(handed) == 1 and record.saves == 2
