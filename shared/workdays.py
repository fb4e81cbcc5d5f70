"""Working days (工作日) in Asia/Shanghai: chinesecalendar, plus holiday notices loaded as data.

chinesecalendar knows the State Council's notices up to the year it was released for. For a
later year the authority loads that year's notice (`govit calendar load`); until then a day
counts by weekends alone and every deadline reaching into that year is provisional (暂定).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, model_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")


class HolidayPeriod(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> HolidayPeriod:
        if self.end < self.start:
            raise ValueError(f"{self.name}: end {self.end} is before start {self.start}")
        return self


class HolidayNotice(BaseModel):
    """一年的节假日安排通知: holidays, and the weekend days that are working days (调休上班)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2000, le=2100)
    source: str = Field(
        min_length=4, description="the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知"
    )
    holidays: tuple[HolidayPeriod, ...]
    workdays: tuple[dt.date, ...] = Field(default=(), description="调休上班的周末")

    @model_validator(mode="after")
    def _within_year(self) -> HolidayNotice:
        for p in self.holidays:
            if p.start.year != self.year and p.end.year != self.year:
                raise ValueError(f"holiday {p.name} lies outside {self.year}")
        for d in self.workdays:
            if d.weekday() < 5:
                raise ValueError(f"{d} is a weekday; only weekend days can be adjusted working days")
        return self

    def holiday_dates(self) -> set[dt.date]:
        days: set[dt.date] = set()
        for p in self.holidays:
            day = p.start
            while day <= p.end:
                days.add(day)
                day += dt.timedelta(days=1)
        return days


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline date; provisional (暂定) when a year on the way has no holiday notice yet."""

    date: dt.date
    provisional: bool

    def label(self) -> str:
        return f"{self.date.isoformat()}（暂定）" if self.provisional else self.date.isoformat()


def _package_years() -> range:
    try:
        last = max(d.year for d in chinese_calendar.holidays)
        first = min(d.year for d in chinese_calendar.holidays)
    except (AttributeError, ValueError):  # pragma: no cover - package layout changed
        return range(2004, 2027)
    return range(first, last + 1)


class WorkingCalendar:
    """Decides working days from chinesecalendar and loaded notices, weekends alone otherwise."""

    def __init__(self, notices: dict[int, HolidayNotice] | None = None) -> None:
        self.package_years = _package_years()
        self.notices = dict(notices or {})
        self._holidays = {y: n.holiday_dates() for y, n in self.notices.items()}
        self._workdays = {y: set(n.workdays) for y, n in self.notices.items()}

    @classmethod
    def from_dir(cls, directory: Path) -> WorkingCalendar:
        notices: dict[int, HolidayNotice] = {}
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                notice = read_notice(path)
                notices[notice.year] = notice
        return cls(notices)

    def known(self, year: int) -> bool:
        """Whether the year's official arrangement is known (package or loaded notice)."""
        return year in self.notices or year in self.package_years

    def is_workday(self, day: dt.date) -> bool:
        if day.year in self.notices:  # a loaded notice overrides the package
            if day in self._workdays[day.year]:
                return True
            return day.weekday() < 5 and day not in self._holidays[day.year]
        if day.year in self.package_years:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> Deadline:
        """The date `days` working days after `start` (start itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, counted, provisional = start, 0, not self.known(start.year)
        while counted < days:
            day += dt.timedelta(days=1)
            provisional = provisional or not self.known(day.year)
            if self.is_workday(day):
                counted += 1
        return Deadline(day, provisional)

    def last_day(self, day: dt.date) -> dt.date:
        """A limit counted in days or months that ends on a rest day ends on the next working day."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def dated(self, day: dt.date) -> str:
        """A due date as people read it: （暂定） after one in a year this calendar does not know."""
        return Deadline(day, not self.known(day.year)).label()

    def working_days_between(self, start: dt.date, end: dt.date) -> tuple[int, bool]:
        """Working days after start up to and including end, and whether that count is provisional."""
        count, provisional, day = 0, False, start
        while day < end:
            day += dt.timedelta(days=1)
            provisional = provisional or not self.known(day.year)
            count += self.is_workday(day)
        return count, provisional


def months_after(start: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (the month's last day when it has no such day)."""
    return start + relativedelta(months=months)


def today_in_shanghai(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(SHANGHAI).date()


def read_notice(path: Path) -> HolidayNotice:
    return HolidayNotice.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_notice(source: Path, directory: Path) -> HolidayNotice:
    """Validate a notice file and store it as <directory>/<year>.yaml, replacing an earlier one."""
    notice = read_notice(source)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{notice.year}.yaml"
    tmp = target.with_suffix(".yaml.tmp")
    tmp.write_text(
        yaml.safe_dump(notice.model_dump(mode="json"), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    tmp.replace(target)
    return notice


# -- the process's calendar, for saying whether a date shown to people is provisional -----------------

_INSTALLED: list[WorkingCalendar] = []


def install_calendar(calendar: WorkingCalendar) -> None:
    """The calendar the process runs by (the app factory installs the one its settings name)."""
    _INSTALLED[:] = [calendar]


def installed_calendar() -> WorkingCalendar:
    """The calendar the process runs by (a bare one until the app factory installs its own)."""
    if not _INSTALLED:
        _INSTALLED.append(WorkingCalendar())
    return _INSTALLED[0]


def is_provisional(day: dt.date | None) -> bool:
    """暂定: a due date in a year the installed calendar has no holiday arrangement for — loading the
    year's notice (`govit calendar load`) may move it."""
    if day is None:
        return False
    return not installed_calendar().known(day.year)


def dated(day: dt.date) -> str:
    """A due date as people read it: （暂定） after one whose year has no holiday arrangement yet."""
    return Deadline(day, is_provisional(day)).label()


def changed_years(old: WorkingCalendar, new: WorkingCalendar) -> tuple[int, ...]:
    """The years whose holiday arrangement differs between two calendars (a notice loaded,
    replaced or removed)."""
    years = set(old.notices) | set(new.notices)
    return tuple(sorted(y for y in years if old.notices.get(y) != new.notices.get(y)))
