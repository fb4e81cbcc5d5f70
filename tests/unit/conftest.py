"""The unit tier: domain rules, policy packs and the code's shape — no servers, no network.

`make test-fast` runs this tier alone, in seconds. A test here that opens a network connection
fails: it belongs in tests/service (one service, real NATS and databases) or tests/e2e.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a unit test opens no network connection: move it to tests/service")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
