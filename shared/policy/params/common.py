"""Parameter shapes several rules share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Payment = Literal["construction", "milestone", "final", "om"]
Month = Field(default=None, ge=1, le=12)
Day = Field(default=None, ge=1, le=31)


class Params(BaseModel):
    """No parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Effect(Params):
    """A rule that is either a gate (the default) or 重要依据 shown to the deciders (`basis`)."""

    effect: Literal["gate", "basis"] | None = None


class Months(Params):
    months: int | None = Field(default=None, ge=0)


class WorkingDays(Params):
    working_days: int | None = Field(default=None, ge=1)


class Threshold(Params):
    amount_fen: int | None = Field(default=None, ge=0)
    inclusive: bool | None = None


class MaxCount(Params):
    max_count: int | None = Field(default=None, ge=1)


class PaymentKinds(Params):
    kinds: tuple[Payment, ...] | None = None


class Years(Params):
    years: int | None = Field(default=None, ge=0)
