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


class Password(Params):
    min_length: int | None = Field(default=None, ge=1)
    min_classes: int | None = Field(default=None, ge=1, le=4)
    classes: tuple[Literal["digit", "upper", "lower", "special"], ...] | None = None
