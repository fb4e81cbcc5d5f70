"""Events review consumes, and its durable consumer's name."""

from __future__ import annotations

from shared.consume import EventHandler
from shared.contracts import Event

DURABLE = "review"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {}
