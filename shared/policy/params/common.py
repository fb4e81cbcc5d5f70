"""Parameter shapes several rules share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Payment = Literal["construction", "milestone", "final", "om"]
Month = Field(default=None, ge=1, le=12)
Day = Field(default=None, ge=1, le=31)


class Params(BaseModel):
    """No parameters but the one every rule may have: `in_principle`, where the article says
    原则上 — its refusal is the suite's recommendation, and the deciding person may make an
    exception with a reason and a document (Rule.in_principle)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_principle: bool | None = None


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
