"""Events funding consumes, and its durable consumer's name."""

from __future__ import annotations

from services.funding import handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.intake import ProjectApproved, ProjectDeclared

DURABLE = "funding"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectDeclared: handlers.record_declared_project,
    ProjectApproved: handlers.open_approval_gate,
}
