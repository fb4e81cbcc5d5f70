"""The bus warns of a lost NATS connection, and says nothing when it closes its own."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from govit.devnats import EmbeddedNats
from shared.bus import JetStreamBus


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "shared.bus" and r.levelno >= logging.WARNING]


async def test_closing_its_own_connection_warns_of_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="shared.bus")
    with EmbeddedNats(tmp_path / "nats") as server:
        bus = JetStreamBus(server.url, stream="CLOSE", prefix="close")
        await bus.connect(timeout=10)
        await bus.close()
        await asyncio.sleep(0.2)  # callbacks run on the loop after close returns
    assert _warnings(caplog) == []


async def test_losing_the_server_is_warned_of(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="shared.bus")
    server = EmbeddedNats(tmp_path / "nats").start()
    bus = JetStreamBus(server.url, stream="LOST", prefix="lost")
    try:
        await bus.connect(timeout=10)
        server.stop()
        for _ in range(50):
            if "NATS disconnected" in _warnings(caplog):
                break
            await asyncio.sleep(0.1)
        assert "NATS disconnected" in _warnings(caplog)
    finally:
        await bus.close()
        server.stop()
