"""What /metrics tells an operator, read from the running service, its database and JetStream:
payments held (funding), events parked in the dead-letter subject, the consumer's lag, the
outbox's oldest unpublished event, and the process itself."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
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


OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
DURATION = re.compile(r"^\d+[smhd]$")
SELECTED = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")  # a metric as promql-parser prints it
SCRAPED = {"up"}  # written by Prometheus itself, not by a service


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((OBSERVABILITY / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    board = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def metrics_named(expr: str) -> set[str]:
    """The metrics an expression selects; a ValueError if it is not PromQL."""
    return set(SELECTED.findall(str(promql_parser.parse(expr))))


def test_the_alert_rules_are_well_formed_and_cover_what_operators_watch() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "GovitServiceDown",
        "GovitConsumerStalled",
        "GovitDeadLettersGrowing",
        "GovitOutboxNotDraining",
    }
    for rule in rules:
        assert metrics_named(rule["expr"]), rule["alert"]
        assert DURATION.match(str(rule.get("for", "0s"))), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
    with pytest.raises(ValueError):
        metrics_named("sum(govit_dead_letters")  # the parser does refuse what is not PromQL


async def test_every_metric_the_rules_and_the_dashboard_use_is_exported(funding: Funding) -> None:
    used = set().union(*(metrics_named(q) for q in [r["expr"] for r in alert_rules()] + dashboard_queries()))
    project = await declared(funding, "xunyang")  # an event consumed, and a payment held:
    held = await funding.http.post(
        f"/projects/{project['id']}/disbursements",
        headers=unit(project),
        json={"amount_fen": WAN, "purpose": "可行性研究报告编制", "kind": "preparatory"},
    )
    assert held.status_code == 202, held.text
    exported = {name for name, _ in await samples(funding)}
    missing = used - exported - SCRAPED
    assert not missing, f"named in deploy/observability but not on /metrics: {sorted(missing)}"
