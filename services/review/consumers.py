"""Events review consumes, and its durable consumer's name."""

from __future__ import annotations

from services.review import handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.intake import ProjectScreened

DURABLE = "review"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectScreened: handlers.open_for_screened,
}
