"""Events procurement consumes, and its durable consumer's name."""

from __future__ import annotations

from shared.consume import EventHandler
from shared.contracts import Event

DURABLE = "procurement"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {}
