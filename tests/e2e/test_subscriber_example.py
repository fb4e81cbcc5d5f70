"""The example subscriber from docs/SUBSCRIBING.md runs against a real stream: filtered, deduplicated."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

from shared.contracts import encode, subject_for
from shared.contracts.intake import ProjectDeclared, ProjectWithdrawn
from tests.conftest import real_bus, unique

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "subscriber.py"


async def test_the_example_subscriber_filters_by_jurisdiction_and_handles_each_event_once(
    nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    async with real_bus(nats_url, isolation) as bus:
        mine, other = unique("p"), unique("p")
        declared = ProjectDeclared(
            project_id=mine,
            jurisdiction="shexian",
            agency="歙县教育局",
            title="平台",
            kind="construction",
            amount_fen=100,
        )
        event_id = str(uuid.uuid4())
        raw = encode(declared, source="/govit/intake", event_id=event_id)
        await bus.publish(subject_for(bus.prefix, declared), raw, {"Nats-Msg-Id": event_id})
        # The same event again (republished after the duplicate window): a new message, the same id.
        await bus.publish(subject_for(bus.prefix, declared), raw, {"Nats-Msg-Id": event_id + "-again"})
        elsewhere = ProjectDeclared(
            project_id=other,
            jurisdiction="lhasa",
            agency="市教育局",
            title="平台",
            kind="construction",
            amount_fen=100,
        )
        await bus.publish(subject_for(bus.prefix, elsewhere), encode(elsewhere, source="/govit/intake"), {})
        withdrawn = ProjectWithdrawn(project_id=mine, jurisdiction="shexian", reason="并入他项")
        await bus.publish(subject_for(bus.prefix, withdrawn), encode(withdrawn, source="/govit/intake"), {})

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE),
            "--url",
            nats_url,
            "--stream",
            isolation["stream"],
            "--prefix",
            isolation["subject_prefix"],
            "--jurisdiction",
            "shexian",
            "--durable",
            "example",
            "--seen",
            str(tmp_path / "seen"),
            "--idle",
            "2",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        # Started again, the durable consumer goes on from where it was: nothing is handled twice.
        again = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE),
            "--url",
            nats_url,
            "--stream",
            isolation["stream"],
            "--prefix",
            isolation["subject_prefix"],
            "--jurisdiction",
            "shexian",
            "--durable",
            "example",
            "--idle",
            "1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        second, _ = await asyncio.wait_for(again.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert second.decode().strip() == ""
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert [(e["type"], e["project"]) for e in lines] == [
        ("govit.intake.project_declared.v1", mine),
        ("govit.intake.project_withdrawn.v1", mine),
    ]
    assert lines[0]["id"] == event_id
    assert (tmp_path / "seen").read_text().split() == [e["id"] for e in lines]
