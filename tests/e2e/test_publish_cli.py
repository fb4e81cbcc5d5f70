"""`govit publish`: a documented event from the command line, checked first, stored by JetStream.

The command runs as a process, the way a system without a NATS client would call it; what it
published is read back from the test's own stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.aio.msg import Msg

from shared.bus import JetStreamBus
from shared.contracts import CATALOG, decode
from tests.conftest import on_the_stream, real_bus

ROOT = Path(__file__).resolve().parents[2]
APPROVED = "govit.intake.project_approved.v1"


def approval(project_id: str = "cli-p1", **fields: Any) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "jurisdiction": "shexian",
        "approved_amount_fen": 120_000_000,
        "plan_year": 2027,
        "approval_number": "歙发改〔2027〕12号",
        **fields,
    }


async def govit_publish(
    nats_url: str, isolation: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": isolation["stream"],
        "GOVIT_SUBJECT_PREFIX": isolation["subject_prefix"],
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "govit.cli", "publish", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def stored(bus: JetStreamBus) -> list[Msg]:
    """Every message on the test's stream, read with a pull subscription."""
    return await on_the_stream(bus, f"{bus.prefix}.>")


async def test_a_valid_event_is_stored_with_its_source_id_time_subject_and_data(
    nats_url: str, isolation: dict[str, str]
) -> None:
    event_id = str(uuid.uuid4())
    async with real_bus(nats_url, isolation) as bus:
        done = await govit_publish(
            nats_url,
            isolation,
            APPROVED,
            json.dumps(approval(), ensure_ascii=False),
            "--source",
            "urn:example:oa-system",
            "--id",
            event_id,
            "--time",
            "2027-03-01T09:30:00+08:00",
            "--sequence",
            "7",
        )
        assert done.returncode == 0, done.stderr
        subject = f"{isolation['subject_prefix']}.events.shexian.cli-p1.intake.project_approved.v1"
        assert subject in done.stdout
        assert event_id in done.stdout
        # The command cannot see the services' settings; it says what they will accept.
        assert "GOVIT_TRUSTED_SOURCES" in done.stderr
        assert "urn:example:oa-system" in done.stderr

        [message] = await stored(bus)
    assert message.subject == subject
    assert (message.headers or {})["Nats-Msg-Id"] == event_id
    envelope = decode(message.data)
    assert envelope.id == event_id
    assert envelope.source == "urn:example:oa-system"
    assert envelope.type == APPROVED
    assert envelope.subject == "cli-p1"
    assert envelope.time == datetime(2027, 3, 1, 1, 30, tzinfo=UTC)
    assert envelope.sequence == 7  # the system's own numbering, carried as the sequence extension
    assert envelope.data == CATALOG[APPROVED].model_validate(approval())


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(
            [APPROVED, json.dumps({"project_id": "cli-p1", "jurisdiction": "shexian", "plan_year": 2027})],
            ["approved_amount_fen", "Field required"],
            id="missing-field",
        ),
        pytest.param(
            [APPROVED, json.dumps(approval(approved_amount_fen="一百万", plan_year=[2027]))],
            ["approved_amount_fen", "valid integer", "plan_year"],
            id="wrong-types",
        ),
        pytest.param(
            [APPROVED, json.dumps(approval(jurisdiction="She Xian"))],
            ["jurisdiction", "pattern"],
            id="malformed-jurisdiction",
        ),
        pytest.param(
            [APPROVED, json.dumps(approval(jurisdiction="atlantis"))],
            ["jurisdiction", "no policy pack for 'atlantis'"],
            id="jurisdiction-without-policy",
        ),
        pytest.param(
            [APPROVED, json.dumps(approval(project_id="a.b"))],
            ["project_id", "pattern"],
            id="project-id-unsafe-in-a-subject",
        ),
        pytest.param(
            [APPROVED, json.dumps(approval(approval_numbr="x"))],
            ["approval_numbr", "not a field of"],
            id="field-not-in-the-schema",
        ),
        pytest.param(
            [
                "govit.intake.project_screened.v1",
                json.dumps(
                    {
                        "project_id": "cli-p1",
                        "jurisdiction": "shexian",
                        "agency": "县数据资源局",
                        "accepted": False,
                        "reasons": [{"rule": "shexian §13"}],
                    }
                ),
            ],
            ["reasons[0].code", "Field required"],
            id="nested-field",
        ),
        pytest.param([APPROVED, "[1, 2]"], ["JSON object"], id="not-an-object"),
        pytest.param([APPROVED, "{'project_id': 1}"], ["not JSON"], id="not-json"),
        pytest.param(
            [APPROVED, json.dumps(approval()), "--time", "2027-03-01T09:30:00"],
            ["--time", "offset"],
            id="time-without-offset",
        ),
        pytest.param([APPROVED, json.dumps(approval()), "--id", "two words"], ["--id"], id="id-with-a-space"),
        pytest.param(
            [APPROVED, json.dumps(approval()), "--source", "/govit/intake"],
            ["/govit/intake", "own source"],
            id="speaking-as-a-govit-service",
        ),
        pytest.param(
            [APPROVED, json.dumps(approval()), "--source", "/govit/funding"],
            ["/govit/funding", "own source"],
            id="speaking-as-another-govit-service",
        ),
    ],
)
async def test_what_does_not_validate_is_refused_with_each_error_and_nothing_is_published(
    nats_url: str, isolation: dict[str, str], args: list[str], named: list[str]
) -> None:
    async with real_bus(nats_url, isolation) as bus:
        done = await govit_publish(nats_url, isolation, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        for fragment in named:
            assert fragment in done.stderr
        assert done.stdout == ""
        assert await stored(bus) == []


async def test_every_error_is_listed_at_once(nats_url: str, isolation: dict[str, str]) -> None:
    data = {"project_id": "cli-p1", "jurisdiction": "atlantis", "approved_amount_fen": -1}
    async with real_bus(nats_url, isolation) as bus:
        done = await govit_publish(nats_url, isolation, APPROVED, json.dumps(data))
        assert done.returncode == 2
        problems = [line.strip() for line in done.stderr.splitlines() if line.startswith("  ")]
        assert sorted(p.split(":")[0] for p in problems) == [
            "approved_amount_fen",
            "jurisdiction",
            "plan_year",
        ]
        assert await stored(bus) == []


async def test_an_unknown_type_is_refused_with_close_matches(
    nats_url: str, isolation: dict[str, str]
) -> None:
    async with real_bus(nats_url, isolation) as bus:
        done = await govit_publish(nats_url, isolation, "govit.intake.project_aproved.v1", "{}")
        assert done.returncode == 2
        assert "unknown event type 'govit.intake.project_aproved.v1'" in done.stderr
        assert APPROVED in done.stderr
        assert "govit publish --list" in done.stderr
        short = await govit_publish(nats_url, isolation, "funding.budget_opened", "{}")
        assert short.returncode == 2
        assert "govit.funding.budget_opened.v1" in short.stderr
        assert await stored(bus) == []


async def test_list_prints_every_documented_type(nats_url: str, isolation: dict[str, str]) -> None:
    done = await govit_publish(nats_url, isolation, "--list")
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert listed == list(CATALOG)


async def test_data_from_a_file_and_from_stdin(
    nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "approval.json"
    path.write_text(json.dumps(approval("cli-file"), ensure_ascii=False), encoding="utf-8")
    async with real_bus(nats_url, isolation) as bus:
        from_file = await govit_publish(nats_url, isolation, APPROVED, f"@{path}")
        assert from_file.returncode == 0, from_file.stderr
        from_stdin = await govit_publish(
            nats_url, isolation, APPROVED, "-", stdin=json.dumps(approval("cli-stdin"), ensure_ascii=False)
        )
        assert from_stdin.returncode == 0, from_stdin.stderr
        missing = await govit_publish(nats_url, isolation, APPROVED, f"@{tmp_path / 'absent.json'}")
        assert missing.returncode == 2
        assert "absent.json" in missing.stderr

        envelopes = [decode(m.data) for m in await stored(bus)]
    assert [e.subject for e in envelopes] == ["cli-file", "cli-stdin"]
    for envelope in envelopes:
        assert envelope.source == "urn:govit:cli"  # the default
        assert uuid.UUID(envelope.id)  # a new UUID when --id is not given
        assert envelope.data.model_dump()["approval_number"] == "歙发改〔2027〕12号"
    assert envelopes[0].id != envelopes[1].id


async def test_the_same_id_twice_is_stored_once(nats_url: str, isolation: dict[str, str]) -> None:
    event_id = str(uuid.uuid4())
    data = json.dumps(approval())
    async with real_bus(nats_url, isolation) as bus:
        first = await govit_publish(nats_url, isolation, APPROVED, data, "--id", event_id)
        again = await govit_publish(nats_url, isolation, APPROVED, data, "--id", event_id)
        assert first.returncode == 0, first.stderr
        assert again.returncode == 0, again.stderr
        assert "already there" in again.stdout
        [message] = await stored(bus)
    assert decode(message.data).id == event_id


async def test_no_stream_to_store_it_fails_with_exit_1(nats_url: str, isolation: dict[str, str]) -> None:
    # No real_bus: the test's stream was never created.
    done = await govit_publish(nats_url, isolation, APPROVED, json.dumps(approval()))
    assert done.returncode == 1
    assert "not published" in done.stderr
    assert isolation["stream"] in done.stderr
    assert "is it the suite's?" in done.stderr and "Traceback" not in done.stderr
    assert f"NATS {nats_url}" in done.stderr.splitlines()[0]  # which broker it tried, and why


async def test_unreachable_nats_fails_with_exit_1(isolation: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    url = f"nats://127.0.0.1:{port}"
    done = await govit_publish(url, isolation, APPROVED, json.dumps(approval()))
    assert done.returncode == 1
    assert f"NATS is unreachable at {url}" in done.stderr
    assert "Traceback" not in done.stderr
