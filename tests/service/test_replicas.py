"""Replicas of one service share its durable consumer: two `govit serve funding` processes on one
PostgreSQL database and one stream handle every event once between them (deploy/: horizontal scaling)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.consume import suite_source
from shared.contracts import encode, subject_for
from shared.contracts.intake import ProjectDeclared
from tests.conftest import eventually, real_bus
from tests.processes import serving

pytestmark = [pytest.mark.slow, pytest.mark.services("funding")]

EVENTS = 200
REPLICAS = 2


async def consumed(url: str) -> dict[str, float]:
    """This process's govit_events_consumed_total of the funding consumer, by outcome."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        text = (await client.get("/metrics")).text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "govit_events_consumed"
        for sample in family.samples
        if sample.name == "govit_events_consumed_total" and sample.labels.get("consumer") == "funding"
    }


async def test_two_replicas_share_the_durable_consumer_and_handle_each_event_once(
    backend: str,
    make_database: Callable[[str], Any],
    nats_url: str,
    isolation: dict[str, str],
    tmp_path: Path,
) -> None:
    if backend == "sqlite":
        pytest.skip("replicas share one PostgreSQL database; a SQLite file is one process's")
    database: str = await make_database("funding")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")} | {
        "GOVIT_ENVIRONMENT": "test",
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": isolation["stream"],
        "GOVIT_SUBJECT_PREFIX": isolation["subject_prefix"],
        "GOVIT_VAR_DIR": str(tmp_path / "var"),
        "GOVIT_FUNDING_DATABASE_URL": database,
        "GOVIT_LOG_LEVEL": "WARNING",
    }
    tag = uuid.uuid4().hex[:8]
    projects = [f"r{i}-{tag}" for i in range(EVENTS)]
    event_ids: list[str] = []

    async with real_bus(nats_url, isolation) as bus, serving(env, tmp_path, ["funding"] * REPLICAS) as served:
        urls = [s.url for s in served]
        # Both replicas are bound to the consumer before the first event is published.
        for i, project in enumerate(projects):
            event = ProjectDeclared(
                project_id=project,
                jurisdiction="zhonglou",
                agency=f"局{i % 7}",
                title="副本测试项目",
                kind="construction",
                amount_fen=100_000_000,
            )
            event_ids.append(str(uuid.uuid4()))
            body = encode(event, source=suite_source(event.type), event_id=event_ids[-1])
            await bus.publish(subject_for(bus.prefix, event), body, {"Nats-Msg-Id": event_ids[-1]})

        js = bus.nc.jetstream()

        async def settled() -> bool:
            info = await js.consumer_info(isolation["stream"], "funding")
            return (
                info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.consumer_seq >= EVENTS
            )

        await eventually(
            settled, timeout=30, interval=0.2, what=f"funding's replicas to handle {EVENTS} events"
        )
        info = await js.consumer_info(isolation["stream"], "funding")
        by_replica = [await consumed(url) for url in urls]

    # The broker delivered each event once, to one replica or the other, and none again.
    assert info.delivered.consumer_seq == EVENTS
    assert info.num_redelivered == 0
    # Each replica handled some, and together exactly the events: no event was handled twice.
    acked = [outcomes.get("ack", 0) for outcomes in by_replica]
    assert all(n > 0 for n in acked), f"each replica takes a share of the events: {acked}"
    assert sum(acked) == EVENTS
    assert all(set(outcomes) <= {"ack"} for outcomes in by_replica), by_replica

    conn = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        recorded = await conn.fetch("SELECT id FROM projects WHERE id = ANY($1::text[])", projects)
        inbox = await conn.fetch("SELECT event_id FROM inbox WHERE consumer = 'funding'")
    finally:
        await conn.close()
    assert sorted(r["id"] for r in recorded) == sorted(projects)  # every project recorded, once
    assert sorted(r["event_id"] for r in inbox) == sorted(event_ids)  # one inbox row per event
