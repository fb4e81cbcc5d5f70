"""The event contracts: CloudEvents envelope, catalog decoding, subjects, generated documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.bus import subject_matches
from shared.contracts import (
    InvalidEventData,
    MalformedEnvelope,
    UnknownEventType,
    decode,
    encode,
    subject_for,
    type_filter,
)
from shared.contracts.asyncapi import render_documents
from shared.contracts.intake import ProjectApproved, ProjectDeclared

DECLARED = ProjectDeclared(
    project_id="p1",
    jurisdiction="shexian",
    agency="县教育局",
    title="智慧校园",
    kind="construction",
    amount_fen=5_000_000_00,
)


def test_an_event_survives_the_cloudevents_envelope() -> None:
    raw = encode(DECLARED, source="/govit/intake", event_id="e-1")
    document = json.loads(raw)
    assert document["specversion"] == "1.0"
    assert document["type"] == "govit.intake.project_declared.v1"
    assert document["subject"] == "p1" and document["jurisdiction"] == "shexian"
    assert "type" not in document["data"]
    envelope = decode(raw)
    assert envelope.id == "e-1" and envelope.source == "/govit/intake"
    assert envelope.data == DECLARED
    assert envelope.time.tzinfo is not None


def test_readers_ignore_fields_they_do_not_know() -> None:
    document = json.loads(encode(DECLARED, source="/x"))
    document["data"]["added_in_a_later_release"] = True
    assert decode(json.dumps(document).encode()).data == DECLARED


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda d: d.update(type="govit.intake.unheard_of.v1"), UnknownEventType),
        (lambda d: d["data"].update(amount_fen="很多"), InvalidEventData),
        (lambda d: d["data"].pop("agency"), InvalidEventData),
        (lambda d: d.update(subject="another-project"), InvalidEventData),
        (lambda d: d.pop("id"), MalformedEnvelope),
        (lambda d: d.update(specversion="0.3"), MalformedEnvelope),
    ],
)
def test_undeliverable_messages_are_named_by_what_is_wrong(mutate, error) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(encode(DECLARED, source="/x"))
    mutate(document)
    with pytest.raises(error):
        decode(json.dumps(document).encode())


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"a": 1}'])
def test_garbage_is_a_malformed_envelope(raw: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        decode(raw)


def test_subjects_let_a_subscriber_filter_by_region_project_or_type() -> None:
    subject = subject_for("govit", DECLARED)
    assert subject == "govit.events.shexian.p1.intake.project_declared.v1"
    assert subject_matches("govit.events.shexian.>", subject)
    assert subject_matches("govit.events.*.p1.>", subject)
    assert subject_matches(type_filter("govit", DECLARED.type), subject)
    assert not subject_matches("govit.events.lhasa.>", subject)
    assert not subject_matches(type_filter("govit", ProjectApproved.model_fields["type"].default), subject)


def test_the_committed_asyncapi_and_schemas_match_the_catalog() -> None:
    docs = Path(__file__).parents[2] / "docs"
    documents = render_documents()
    committed_schemas = {f"schemas/{p.name}" for p in (docs / "schemas").glob("*.json")}
    assert committed_schemas == {p for p in documents if p.startswith("schemas/")}, "run `make asyncapi`"
    for path, text in documents.items():
        committed = docs / path
        assert committed.is_file(), f"docs/{path} is missing: run `make asyncapi`"
        assert committed.read_text(encoding="utf-8") == text, f"docs/{path} drifted: run `make asyncapi`"
