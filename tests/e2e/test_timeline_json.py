"""`govit timeline --json`: each line a structured CloudEvents 1.0 event, as a subscriber reads them.

The events are published on the test's own stream of the real NATS; the command runs as a process
and each line it prints is held to a JSON Schema of the CloudEvents 1.0 JSON format (spec.md
§3 Context Attributes, json-format.md §2-3) plus what every event of the suite carries.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from shared.contracts import CATALOG
from shared.contracts.envelope import encode, parse_sequence, subject_for
from tests.conftest import real_bus

ROOT = Path(__file__).resolve().parents[2]
APPROVED = "govit.intake.project_approved.v1"

_TIME = (  # RFC 3339 date-time (CloudEvents 1.0 Timestamp)
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_TEXT = {"type": "string", "minLength": 1}

#: CloudEvents 1.0 in structured JSON: the REQUIRED context attributes, the OPTIONAL ones with their
#: types, extension attributes named by the spec's rule (lower-case ASCII letters and digits, at most
#: 20), `data` as JSON since datacontenttype is application/json; and what the suite's events carry.
CLOUDEVENT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": _TEXT,
        "source": {**_TEXT, "format": "uri-reference"},
        "type": _TEXT,
        "subject": _TEXT,
        "time": {"type": "string", "pattern": _TIME},
        "datacontenttype": {"const": "application/json"},
        "dataschema": {**_TEXT, "format": "uri"},
        "data": {"type": "object"},
        "jurisdiction": _TEXT,
        "sequence": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "propertyNames": {"pattern": "^([a-z0-9]{1,20}|data_base64)$"},
    "not": {"required": ["data_base64"]},  # data and data_base64 are mutually exclusive
}


def approval(project_id: str, number: str) -> Any:
    return CATALOG[APPROVED].model_validate(
        {
            "project_id": project_id,
            "jurisdiction": "shexian",
            "approved_amount_fen": 120_000_000,
            "plan_year": 2027,
            "approval_number": number,
        }
    )


def test_the_schema_rejects_what_is_not_a_cloudevent() -> None:
    """The schema is able to fail: each of these breaks one rule of the format."""
    good = json.loads(encode(approval("p", "歙发改〔2027〕1号"), source="urn:x", sequence=3))
    validator = Draft7Validator(CLOUDEVENT_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(good)) == []
    broken = [
        {k: v for k, v in good.items() if k != "specversion"},
        {**good, "specversion": "0.3"},
        {**good, "time": "2027-03-01 09:30"},
        {**good, "Jurisdiction": "shexian"},
        {**good, "data_base64": "e30="},
        {k: v for k, v in good.items() if k != "id"},
    ]
    for document in broken:
        assert list(validator.iter_errors(document)), document


async def test_timeline_json_lines_are_cloudevents_of_the_project_in_order(
    nats_url: str, isolation: dict[str, str]
) -> None:
    project = f"tl-{uuid.uuid4().hex[:8]}"
    sent = [
        (approval(project, "歙发改〔2027〕12号"), str(uuid.uuid4()), 1),
        (approval(project, "歙发改〔2027〕13号"), str(uuid.uuid4()), None),
        (approval("another-project", "歙发改〔2027〕14号"), str(uuid.uuid4()), 1),
    ]
    when = datetime(2027, 3, 1, 1, 30, tzinfo=UTC)
    async with real_bus(nats_url, isolation) as bus:
        for event, event_id, sequence in sent:
            raw = encode(event, source="/govit/intake", event_id=event_id, time=when, sequence=sequence)
            await bus.publish(subject_for(bus.prefix, event), raw, {"Nats-Msg-Id": event_id})
        env = {
            **os.environ,
            "GOVIT_NATS_URL": nats_url,
            "GOVIT_STREAM": isolation["stream"],
            "GOVIT_SUBJECT_PREFIX": isolation["subject_prefix"],
        }
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "govit.cli", "timeline", project, "--json"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert "NATS disconnected" not in done.stderr  # the command closed its own connection
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    validator = Draft7Validator(CLOUDEVENT_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    documents = [json.loads(line) for line in lines]
    for document in documents:
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], document
    assert [d["id"] for d in documents] == [sent[0][1], sent[1][1]]
    assert all(d["subject"] == project and d["jurisdiction"] == "shexian" for d in documents)
    assert all(d["type"] == APPROVED and d["source"] == "/govit/intake" for d in documents)
    assert datetime.fromisoformat(documents[0]["time"]) == when
    assert parse_sequence(documents[0]["sequence"]) == 1
    assert "sequence" not in documents[1]
    assert documents[1]["data"]["approval_number"] == "歙发改〔2027〕13号"
    assert CATALOG[APPROVED].model_validate({**documents[0]["data"], "type": APPROVED}) == sent[0][0]
