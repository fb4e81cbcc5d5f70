"""Parameters of the oversight.* and security.* rules (整改、限制申报、密码、口令)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.policy.params.common import Params


class BreachBars(Params):
    predecessor_natures: tuple[str, ...] | None = None
    predecessor_kinds: tuple[str, ...] | None = None
    grounds: tuple[str, ...] | None = None
    natures: tuple[str, ...] | None = None


MeasureCode = Literal[
    "notify", "defer_plan", "defer_funds", "stop_om_funds", "suspend_construction", "terminate"
]


class Rectification(Params):
    """限期整改 and the measures its article lets the authority take when it is not met: each
    measure's code and its name in the regulation's own words (通报批评, 暂缓安排投资计划…)."""

    measures: dict[MeasureCode, str] | None = None
    concurrence: str | None = None  # the department the measures are taken together with (会同)


class Password(Params):
    min_length: int | None = Field(default=None, ge=1)
    min_classes: int | None = Field(default=None, ge=1, le=4)
    classes: tuple[Literal["digit", "upper", "lower", "special"], ...] | None = None
