"""Which answer counts as a service's readiness, and ports chosen together are different."""

from __future__ import annotations

import httpx

from govit.devnats import free_ports
from govit.launch import ready_as


def test_only_the_named_services_200_counts_as_ready() -> None:
    ready = {"ready": True, "service": "intake", "checks": {}}
    assert ready_as(httpx.Response(200, json=ready), "intake")
    assert not ready_as(httpx.Response(200, json=ready), "review")
    assert not ready_as(httpx.Response(503, json=ready | {"ready": False}), "intake")
    assert not ready_as(httpx.Response(200, json={"status": "ok"}), "intake")
    assert not ready_as(httpx.Response(200, json=["intake"]), "intake")
    assert not ready_as(httpx.Response(200, text="<html>ready</html>"), "intake")


def test_with_a_pid_only_that_process_counts_not_a_replica_on_its_port() -> None:
    ready = {"ready": True, "service": "funding", "pid": 4242, "checks": {}}
    assert ready_as(httpx.Response(200, json=ready), "funding", 4242)
    assert not ready_as(httpx.Response(200, json=ready), "funding", 4243)
    assert not ready_as(httpx.Response(200, json=ready | {"pid": None}), "funding", 4242)


def test_ports_chosen_together_are_all_different() -> None:
    ports = free_ports(64)
    assert len(set(ports)) == 64
    assert all(1024 < port < 65536 for port in ports)
