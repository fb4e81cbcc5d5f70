"""What /metrics tells an operator, read from the running service, its database and JetStream:
payments held (funding), events parked in the dead-letter subject, the consumer's lag, the
outbox's oldest unpublished event, and the process itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.contracts.intake import ProjectDeclared
from tests.conftest import eventually
from tests.service.test_funding_service import WAN, Funding, about, declared, funding, send_dated, unit

# "acceptance" here is funding's gate of that name.
pytestmark = pytest.mark.services("funding", homonyms=("acceptance",))
__all__ = ["funding"]  # the fixture, shared with funding's service tests


async def samples(f: Funding) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await f.http.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), -1.0)


async def test_held_payments_are_counted_and_summed_by_jurisdiction(funding: Funding) -> None:
    f = funding
    xunyang = await declared(f, "xunyang")
    lhasa = await declared(f, "lhasa")
    for project, fen in ((xunyang, 3 * WAN), (xunyang, 2 * WAN), (lhasa, 7 * WAN)):
        held = await f.http.post(
            f"/projects/{project['id']}/disbursements",
            headers=unit(project),
            json={"amount_fen": fen, "purpose": "可行性研究报告编制", "kind": "preparatory"},
        )
        assert held.status_code == 202, held.text  # held until approval
    found = await samples(f)
    assert value(found, "govit_payments_held", jurisdiction="xunyang") == 2
    assert value(found, "govit_payments_held_fen", jurisdiction="xunyang") == 5 * WAN
    assert value(found, "govit_payments_held", jurisdiction="lhasa") == 1
    assert value(found, "govit_payments_held_fen", jurisdiction="lhasa") == 7 * WAN
    assert value(found, "process_resident_memory_bytes") > 0  # the process collector is registered
    assert value(found, "govit_outbox_oldest_age_seconds") >= 0


async def test_a_parked_event_and_the_consumer_lag_are_shown(funding: Funding) -> None:
    f = funding
    project = {"id": "p-untrusted", "jurisdiction": "xunyang", "agency": "某单位"}
    event = about(project, ProjectDeclared, title="平台", kind="construction", amount_fen=WAN)
    # A source funding does not trust for this type: dead-lettered with the reason, never applied.
    await send_dated(f, project, event, time=datetime.now(UTC), source="urn:gov:unknown:system")

    async def settled() -> bool:
        found = await samples(f)
        readings = [
            value(found, name, consumer="funding")
            for name in ("govit_dead_letters", "govit_consumer_pending", "govit_consumer_ack_pending")
        ]
        return readings == [1, 0, 0]

    # Parked, then (its delivery ended once the copy is parked) nothing waits for the consumer.
    await eventually(settled, timeout=30, interval=0.5, what="one event parked and no lag on /metrics")
