"""暂定: a due date in a year without a holiday arrangement says so wherever it is shown."""

from __future__ import annotations

import datetime as dt

from services.acceptance.views import DeadlineOut as AcceptanceDeadline
from services.procurement.views import DeadlineOut as ProcurementDeadline
from shared.workdays import HolidayNotice, WorkingCalendar, install_calendar, is_provisional


def test_a_due_date_is_provisional_until_its_years_notice_is_loaded() -> None:
    bare = WorkingCalendar()
    year = max(bare.package_years) + 1  # the first year the holiday package does not know
    install_calendar(bare)
    try:
        assert not is_provisional(dt.date(year - 1, 12, 31)) and is_provisional(dt.date(year, 1, 4))
        assert not is_provisional(None)
        shown = ProcurementDeadline(
            deadline="contract",
            period=None,
            due_on=dt.date(year, 3, 1),
            state="running",
            terminate_on_breach=True,
            articles=["bayingolin §21"],
            message="…",
        )
        assert shown.model_dump()["provisional"] is True
        acceptance = AcceptanceDeadline(
            deadline="report", due_on=dt.date(year - 1, 6, 1), state="running", articles=[]
        )
        assert acceptance.model_dump()["provisional"] is False
        notice = HolidayNotice(year=year, source=f"国务院办公厅关于{year}年部分节假日安排的通知", holidays=())
        install_calendar(WorkingCalendar({year: notice}))
        assert not is_provisional(dt.date(year, 1, 4))
        assert shown.model_dump()["provisional"] is False
    finally:
        install_calendar(WorkingCalendar())
