"""期限变动: what every service announces when a newly loaded holiday notice moves an open due date.

Each service publishes its own type (govit.<service>.deadline_moved.v1) with these fields; the
due dates it announces are counted in working days or end on the next working day, so a year's
holiday arrangement (`govit calendar load`) can move them.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.contracts.envelope import Agency, Event

#: The description of every `<due date>_provisional` flag beside a due date in an event.
PROVISIONAL_NOTE = (
    "暂定：期限所在年度尚未加载节假日安排通知（govit calendar load），加载后可能变动；"
    "未给出时按接收方的日历判断"
)


class DeadlineMoved(Event):
    """A due date moved because the holiday arrangement of a year it depends on changed."""

    agency: Agency | None = None
    deadline: str = Field(
        description="which due date: the time limit (review first_review, pass_report …), the "
        "project deadline (procurement contract, start, progress …, acceptance application, "
        "acceptance_report …) or funding settlement_review"
    )
    reference: str | None = Field(
        default=None, description="what it belongs to: the review case, the report period, etc."
    )
    previous_due_on: date = Field(description="the due date before the notice was loaded")
    due_on: date = Field(description="the due date now")
    due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    years: tuple[int, ...] = Field(default=(), description="the years whose holiday arrangement changed")
    message: str = ""
    articles: tuple[str, ...] = ()


def moved_message(what: str, previous: str, now: str, years: tuple[int, ...]) -> str:
    """The sentence people read: which due date moved, from when to when, and why."""
    notice = "、".join(f"{y}年" for y in years)
    return f"{what}期限因{notice}节假日安排调整，由 {previous} 变更为 {now}"
