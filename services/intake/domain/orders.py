"""The records of 监督整改 kept on a project: rectification orders and the measures taken on them
(domain.oversight decides; these only hold and store what was decided)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.intake.domain.errors import InvalidTransition

# Measures that last until lifted; 通报 is a fact once made, 终止 is final.
LASTING = frozenset({"defer_plan", "defer_funds", "stop_om_funds", "suspend_construction"})


@dataclass(frozen=True)
class Order:
    """责令限期整改: what was found, what is to be fixed, by when, on which document."""

    id: str
    finding: str
    items: tuple[str, ...]
    due_on: date
    document_ref: str
    articles: tuple[str, ...]
    by: str
    at: datetime
    state: str = "open"  # open | rectified | unmet (整改后仍不符合要求)
    review: Mapping[str, str] = field(default_factory=dict)  # the authority's finding on the rectification

    def overdue(self, today: date) -> bool:
        return self.state == "open" and today > self.due_on

    def stored(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "finding": self.finding,
            "items": list(self.items),
            "due_on": self.due_on.isoformat(),
            "document_ref": self.document_ref,
            "articles": list(self.articles),
            "by": self.by,
            "at": self.at.isoformat(),
            "state": self.state,
            "review": dict(self.review),
        }

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> Order:
        return cls(
            id=d["id"],
            finding=d["finding"],
            items=tuple(d.get("items", ())),
            due_on=date.fromisoformat(d["due_on"]),
            document_ref=d["document_ref"],
            articles=tuple(d.get("articles", ())),
            by=d.get("by", ""),
            at=datetime.fromisoformat(d["at"]),
            state=d.get("state", "open"),
            review=dict(d.get("review", {})),
        )


@dataclass(frozen=True)
class Measure:
    """A measure the authority took on an order not met, with its document; lasting ones until
    lifted (`lifted` holds who lifted it, when and on which document)."""

    id: str
    order_id: str
    measure: str
    label: str
    document_ref: str
    reason: str
    articles: tuple[str, ...]
    by: str
    at: datetime
    concurrence_ref: str | None = None
    lifted: Mapping[str, str] | None = None

    @property
    def active(self) -> bool:
        return self.measure in LASTING and self.lifted is None

    def stored(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "measure": self.measure,
            "label": self.label,
            "document_ref": self.document_ref,
            "reason": self.reason,
            "articles": list(self.articles),
            "by": self.by,
            "at": self.at.isoformat(),
            "concurrence_ref": self.concurrence_ref,
            "lifted": dict(self.lifted) if self.lifted is not None else None,
        }

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> Measure:
        lifted = d.get("lifted")
        return cls(
            id=d["id"],
            order_id=d["order_id"],
            measure=d["measure"],
            label=d.get("label", d["measure"]),
            document_ref=d["document_ref"],
            reason=d.get("reason", ""),
            articles=tuple(d.get("articles", ())),
            by=d.get("by", ""),
            at=datetime.fromisoformat(d["at"]),
            concurrence_ref=d.get("concurrence_ref"),
            lifted=dict(lifted) if lifted is not None else None,
        )


@dataclass(frozen=True)
class Oversight:
    """A project's orders and measures, as stored on it."""

    orders: tuple[Order, ...] = ()
    measures: tuple[Measure, ...] = ()

    def order(self, order_id: str) -> Order:
        for order in self.orders:
            if order.id == order_id:
                return order
        raise InvalidTransition(f"没有整改通知 {order_id}")

    def measure(self, measure_id: str) -> Measure:
        for measure in self.measures:
            if measure.id == measure_id:
                return measure
        raise InvalidTransition(f"没有处理措施 {measure_id}")

    def active(self, measure: str) -> list[Measure]:
        return [m for m in self.measures if m.measure == measure and m.active]

    def stored(self) -> dict[str, Any]:
        return {"orders": [o.stored() for o in self.orders], "measures": [m.stored() for m in self.measures]}

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> Oversight:
        stored = stored or {}
        return cls(
            tuple(Order.from_stored(o) for o in stored.get("orders", ())),
            tuple(Measure.from_stored(m) for m in stored.get("measures", ())),
        )
