"""A service started on a port another server holds does not take that server's answer for its
own: it is reported as not started when the port was given, and started on another port when the
port was only chosen as free (govit.launch)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govit import launch
from govit.devnats import free_port
from govit.launch import NotStarted, ready_as, start
from tests.servers import another_service

# "review": the name a stand-in server answers as, not the review service
pytestmark = [pytest.mark.slow, pytest.mark.services("intake", homonyms=("review",))]


@pytest.fixture(params=["review", "intake"])
def taken(request: pytest.FixtureRequest) -> Iterator[int]:
    """A port on which another server answers /readyz with 200: another service, or a replica of
    intake (another process)."""
    with another_service(str(request.param)) as port:
        yield port


def _env(tmp_path: Path, nats_url: str, isolation: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")} | {
        "GOVIT_ENVIRONMENT": "test",
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": isolation["stream"],
        "GOVIT_SUBJECT_PREFIX": isolation["subject_prefix"],
        "GOVIT_VAR_DIR": str(tmp_path / "var"),
        "GOVIT_INTAKE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}",
        "GOVIT_LOG_LEVEL": "WARNING",
    }


async def test_a_given_port_held_by_another_server_is_a_start_that_failed(
    taken: int, tmp_path: Path, nats_url: str, isolation: dict[str, str]
) -> None:
    with pytest.raises(NotStarted) as failed:
        await start("intake", _env(tmp_path, nats_url, isolation), tmp_path / "intake.log", port=taken)
    assert "intake exited while starting" in str(failed.value)
    assert launch.PORT_TAKEN in str(failed.value).lower()


async def test_a_free_port_taken_meanwhile_is_replaced_by_another(
    taken: int,
    tmp_path: Path,
    nats_url: str,
    isolation: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chosen = iter([taken])
    monkeypatch.setattr(launch, "free_port", lambda: next(chosen, None) or free_port())
    log = tmp_path / "intake.log"
    intake = await start("intake", _env(tmp_path, nats_url, isolation), log)
    try:
        assert not intake.url.endswith(f":{taken}")
        async with httpx.AsyncClient(base_url=intake.url) as client:
            assert ready_as(await client.get("/readyz"), "intake")
        assert launch.PORT_TAKEN in log.read_text().lower()  # the first try's
    finally:
        intake.stop()
