"""Which fact may set a gate: its producer's numbering and its place in the stream, never its time.

Pure tests of funding's GateState.admits (the rule the handlers apply to every gate event).
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.funding.domain import FactOrder, GateFact, GateState

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


def fact(order: FactOrder, event_id: str, by: str | None = None) -> GateFact:
    return GateFact(
        event_id=event_id,
        event_type="govit.acceptance.data_sharing_decided.v1",
        time=datetime(2026, 3, 2, tzinfo=UTC),
        order=order,
        recorded_by=by,
        document_ref="歙数〔2026〕9号" if by else None,
    )


def test_a_gate_records_the_fact_that_moves_it_and_keeps_still_for_an_older_one() -> None:
    state = GateState(project_id="p", gate="data_sharing", open=False)
    assert state.record(True, fact(FactOrder(ACCEPTANCE, 2, 10), "e2"), decision="confirmed")
    assert (state.open, state.event_id, state.event_source) == (True, "e2", ACCEPTANCE)
    # The producer's older event (1) arriving later moves nothing, whatever it says.
    assert not state.record(False, fact(FactOrder(ACCEPTANCE, 1, 11), "e1"), decision="revoked")
    assert (state.open, state.event_id, state.detail) == (True, "e2", {"decision": "confirmed"})


def test_who_recorded_a_gate_by_hand_speaks_only_until_the_next_fact() -> None:
    state = GateState(project_id="p", gate="data_sharing", open=True)
    assert state.record(
        False, fact(FactOrder(BY_HAND, None, 10, by_hand=True), "m1", by="数据局"), reason="撤销"
    )
    assert state.detail == {"reason": "撤销", "recorded_by": "数据局", "document_ref": "歙数〔2026〕9号"}
    assert state.record(True, fact(FactOrder(ACCEPTANCE, 3, 11), "e3"), decision="confirmed")
    assert state.detail == {"reason": "撤销", "decision": "confirmed"}  # the last event speaks
