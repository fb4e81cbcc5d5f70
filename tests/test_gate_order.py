"""Which fact may set a gate: its producer's numbering and its place in the stream, never its time.

Pure tests of funding's GateState.admits (the rule the handlers apply to every gate event).
"""

from __future__ import annotations

from services.funding.domain import FactOrder, GateState

ACCEPTANCE = "/govit/acceptance"
PLATFORM = "urn:gov:shexian:sharing-platform"
BY_HAND = "urn:govit:funding:manual"


def gate_set_by(*orders: FactOrder) -> GateState:
    state = GateState(project_id="p", gate="data_sharing", open=True)
    for order in orders:
        assert state.admits(order), order
        state.note(order)
        state.event_source = order.source
    return state


def test_a_producers_older_event_never_undoes_its_newer_one_wherever_it_sits_in_the_stream() -> None:
    state = gate_set_by(FactOrder(ACCEPTANCE, 2, position=10))
    assert not state.admits(FactOrder(ACCEPTANCE, 1, position=11))  # arrives later, numbered earlier
    assert not state.admits(FactOrder(ACCEPTANCE, 2, position=40))  # the same event replayed
    assert not state.admits(FactOrder(ACCEPTANCE, 1, position=3))
    assert state.admits(FactOrder(ACCEPTANCE, 3, position=12))


def test_between_sources_the_later_place_in_the_stream_wins() -> None:
    state = gate_set_by(FactOrder(ACCEPTANCE, 7, position=20))
    assert not state.admits(FactOrder(PLATFORM, None, position=19))  # stored before the setter
    assert state.admits(FactOrder(PLATFORM, None, position=21))
    state = gate_set_by(FactOrder(ACCEPTANCE, 7, position=20), FactOrder(PLATFORM, None, position=21))
    # acceptance's next event is newer by its numbering but was stored before the platform's.
    assert not state.admits(FactOrder(ACCEPTANCE, 8, position=18))
    assert state.admits(FactOrder(ACCEPTANCE, 8, position=22))
    # acceptance's own older event stays refused even when stored later (the numbers it sent are kept).
    assert not state.admits(FactOrder(ACCEPTANCE, 6, position=30))


def test_a_record_by_hand_stands_after_everything_the_stream_held_when_it_was_made() -> None:
    state = gate_set_by(FactOrder(ACCEPTANCE, 5, position=9), FactOrder(BY_HAND, None, 9, by_hand=True))
    # A confirmation stored at or before position 9, delivered late (a retry), does not undo the record.
    assert not state.admits(FactOrder(ACCEPTANCE, 6, position=9))
    assert not state.admits(FactOrder(PLATFORM, None, position=8))
    # What the stream stores after the record is newer.
    assert state.admits(FactOrder(ACCEPTANCE, 6, position=10))
    # A second record by hand, with nothing stored in between, is newer than the first.
    assert state.admits(FactOrder(BY_HAND, None, 9, by_hand=True))
    assert state.admits(FactOrder(BY_HAND, None, 10, by_hand=True))


def test_the_time_an_event_claims_plays_no_part() -> None:
    fields = set(FactOrder.__dataclass_fields__)
    assert fields == {"source", "sequence", "position", "by_hand"}
