"""A project's lifecycle as one timeline: the events each service announced about it, merged.

Each service lists the events it raised about a project (GET /projects/{id}/events, oldest
first). The timeline puts them together by the time the service gave them; events of one service
at the same instant keep that service's own order (its sequence). Each entry says what happened,
the reason given, and the rules (articles) it was decided by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.console.backends import LABELS

ORDER = {name: n for n, name in enumerate(LABELS)}
#: the fields of an event that carry verdicts with their articles (shared.contracts.Citation)
CITATIONS = ("reasons", "closed_gates", "notes", "flags", "bases")
#: the fields of an event that say, in words, why or on what it happened
SAID = ("reason", "plan_document", "approval_number", "document_ref", "summary")


@dataclass(frozen=True)
class Moment:
    """One entry of the timeline."""

    time: datetime
    service: str
    summary: str
    sequence: int
    said: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.service]


def moment(service: str, event: Mapping[str, Any]) -> Moment:
    data: Mapping[str, Any] = event.get("data") or {}
    citations = [c for key in CITATIONS for c in data.get(key) or () if isinstance(c, Mapping)]
    cited = {a for c in citations for a in c.get("articles") or ()}
    return Moment(
        time=datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")),
        service=service,
        summary=str(event.get("summary") or event.get("type", "")),
        sequence=int(event.get("sequence") or 0),
        said=[str(data[key]) for key in SAID if isinstance(data.get(key), str) and data[key]],
        citations=[dict(c) for c in citations],
        articles=[a for a in data.get("articles") or () if a not in cited],
    )


def timeline(pages: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Moment]:
    """The events of every service's page (service, {"items": [...]}) in the order they happened."""
    moments = [moment(service, event) for service, page in pages for event in page.get("items") or ()]
    return sorted(moments, key=lambda m: (m.time, ORDER.get(m.service, len(ORDER)), m.sequence))
