"""The audit trail of a batch kept whole: each part's changes fixed without a flush (capture)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine
from sqlalchemy.orm import Session, registry

from shared.audit_trail import AuditTrail, start

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String(8), primary_key=True),
    Column("colour", String(16), nullable=False),
    Column("count", Integer, nullable=False),
)


class Thing:
    def __init__(self, id: str, colour: str, count: int = 1) -> None:
        self.id, self.colour, self.count = id, colour, count


registry(metadata=metadata).map_imperatively(Thing, things)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def logged(trail: AuditTrail) -> list[tuple[object, ...]]:
    return [(c.key, c.action, c.before, c.after, (c.actor or {}).get("id")) for c in trail.resolved()]


def part(trail: AuditTrail, session: Session, actor: str) -> None:
    assert trail.capture(session, {"id": actor})


def test_each_part_logs_only_its_own_changes_of_objects_an_earlier_part_captured(session: Session) -> None:
    trail = start(session)
    first, second = Thing("a", "red"), Thing("b", "blue")
    session.add_all([first, second])
    part(trail, session, "e1")
    part(trail, session, "e2")  # changes nothing: no entry
    first.count = 2
    part(trail, session, "e3")
    session.add(Thing("c", "green"))
    part(trail, session, "e4")
    assert logged(trail) == [
        (["a"], "insert", None, {"id": "a", "colour": "red", "count": 1}, "e1"),
        (["b"], "insert", None, {"id": "b", "colour": "blue", "count": 1}, "e1"),
        (["a"], "update", {"count": 1}, {"count": 2}, "e3"),
        (["c"], "insert", None, {"id": "c", "colour": "green", "count": 1}, "e4"),
    ]
    session.flush()  # what was captured is written as it stands; nothing is logged twice
    trail.flushing(session)
    assert len(logged(trail)) == 4


def test_a_captured_new_object_let_go_before_the_flush_is_logged_as_deleted(session: Session) -> None:
    trail = start(session)
    thing = Thing("a", "red")
    session.add(thing)
    part(trail, session, "e1")
    session.expunge(thing)
    part(trail, session, "e2")
    assert [(key, action, actor) for key, action, _, _, actor in logged(trail)] == [
        (["a"], "insert", "e1"),
        (["a"], "delete", "e2"),
    ]


def test_a_captured_row_deleted_by_a_later_part_is_logged_as_deleted_by_it(session: Session) -> None:
    session.add(Thing("a", "red"))
    session.commit()
    trail = start(session)
    thing = session.get(Thing, "a")
    assert thing is not None
    thing.count = 5
    part(trail, session, "e1")
    session.delete(thing)
    part(trail, session, "e2")
    assert logged(trail) == [
        (["a"], "update", {"count": 1}, {"count": 5}, "e1"),
        (["a"], "delete", {"id": "a", "colour": "red", "count": 5}, None, "e2"),
    ]
