"""AsyncAPI 3.0 document and JSON Schemas generated from the event catalog."""

from __future__ import annotations

import inspect
import json
from typing import Any

import yaml
from pydantic import BaseModel

from shared.contracts.audit import PRODUCERS, AuditAnchored
from shared.contracts.catalog import EVENTS
from shared.contracts.envelope import CONTENT_TYPE, SEQUENCE, SEQUENCE_DIGITS, format_sequence
from shared.policy.pack import JURISDICTIONS


def _type_of(model: type[BaseModel]) -> str:
    return str(model.model_fields["type"].default)


def event_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of one event's `data` (the CloudEvents envelope's payload)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema["properties"].pop("type", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "type"]
    schema["description"] = (model.__doc__ or "").strip()
    return schema


def envelope_schema(model: type[BaseModel]) -> dict[str, Any]:
    event_type = _type_of(model)
    if model is AuditAnchored:  # about a service, not a project
        return {
            "type": "object",
            "description": f"CloudEvents 1.0 structured envelope of {event_type}",
            "required": ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"],
            "properties": {
                "specversion": {"const": "1.0"},
                "id": {"type": "string", "description": "audit-<service>-<n>-<hash>; also the Nats-Msg-Id"},
                "source": {"type": "string", "examples": ["/govit/funding"]},
                "type": {"const": event_type},
                "time": {"type": "string", "format": "date-time"},
                "subject": {"type": "string", "enum": list(PRODUCERS), "description": "the service"},
                "datacontenttype": {"const": "application/json"},
                "data": {"$ref": f"#/components/schemas/{model.__name__}"},
            },
        }
    return {
        "type": "object",
        "description": f"CloudEvents 1.0 structured envelope of {event_type}",
        "required": ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "event id; also the Nats-Msg-Id header"},
            "source": {"type": "string", "examples": ["/govit/intake"]},
            "type": {"const": event_type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "project id"},
            "datacontenttype": {"const": "application/json"},
            "jurisdiction": {"type": "string", "enum": list(JURISDICTIONS)},
            SEQUENCE: {
                "type": "string",
                "pattern": f"^[0-9]{{1,{SEQUENCE_DIGITS}}}$",
                "examples": [format_sequence(42)],
                "description": (
                    "CloudEvents sequence extension: the producer's number for this event among its "
                    "events about the same project (1, 2, 3 … in commit order; zero-padded so that "
                    "strings order as numbers). Consumers order one source's facts by it, never by "
                    "`time`; every govit service sets it, other systems may."
                ),
            },
            "data": {"$ref": f"#/components/schemas/{model.__name__}"},
        },
    }


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for model in EVENTS:
        event_type = _type_of(model)
        _, service, name, version = event_type.split(".")
        channel_id = f"{service}.{name}.{version}"
        message_name = model.__name__
        channels[channel_id] = {
            "address": f"govit.events.{{jurisdiction}}.{{projectId}}.{service}.{name}.{version}",
            "title": event_type,
            "parameters": {
                "jurisdiction": {"enum": list(JURISDICTIONS), "description": "辖区代码"},
                "projectId": {"description": "项目编号"},
            },
            "messages": {message_name: {"$ref": f"#/components/messages/{message_name}"}},
        }
        operations[f"send{message_name}"] = {
            "action": "send",
            "title": f"{service} publishes {event_type}",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message_name}"}],
        }
        messages[message_name] = {
            "name": event_type,
            "title": getattr(model, "summary", "") or message_name,
            "summary": (model.__doc__ or "").strip(),
            "contentType": CONTENT_TYPE,
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {"type": "string", "description": "= CloudEvents id; JetStream dedup"},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                },
            },
            "payload": {"$ref": f"#/components/schemas/{message_name}Envelope"},
        }
        data = event_schema(model)
        schemas.update(data.pop("$defs", {}))
        schemas[message_name] = data
        schemas[f"{message_name}Envelope"] = envelope_schema(model)
    _add_anchor(channels, operations, messages, schemas)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "govit lifecycle events",
            "version": "0.1.0",
            "description": (
                "政务信息化项目全生命周期事件。Every event is a CloudEvents 1.0 structured JSON message on "
                "the JetStream stream GOVIT. Subscribe to one region with `govit.events.<jurisdiction>.>` "
                "or to one project with `govit.events.*.<projectId>.>`. Order: each producer numbers "
                "its events per project in the `sequence` extension attribute; a consumer applies a "
                "fact about a gate only when it is newer than the one that set it (by that number for "
                "the same source, by the place in the stream between sources), never by `time`, and "
                "dead-letters an event dated more than GOVIT_FUTURE_EVENT_ALLOWANCE_SECONDS (default "
                "300) ahead of its clock (FutureDated). "
                "Each service also publishes the "
                "head of its audit chain, keyed, on `govit.audit.<service>.anchored.v1` (auditors hold "
                "the database against these anchors with `govit audit verify`)."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:4222", "protocol": "nats", "description": "govit up"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _add_anchor(
    channels: dict[str, Any], operations: dict[str, Any], messages: dict[str, Any], schemas: dict[str, Any]
) -> None:
    """The service-level channel: each service's audit anchors (shared.audit_anchor)."""
    model, event_type = AuditAnchored, _type_of(AuditAnchored)
    name = model.__name__
    channels["audit.anchored.v1"] = {
        "address": "govit.audit.{service}.anchored.v1",
        "title": event_type,
        "parameters": {"service": {"enum": list(PRODUCERS), "description": "发布锚点的服务"}},
        "messages": {name: {"$ref": f"#/components/messages/{name}"}},
    }
    operations[f"send{name}"] = {
        "action": "send",
        "title": f"every service publishes {event_type} now and then and at shutdown",
        "channel": {"$ref": "#/channels/audit.anchored.v1"},
        "messages": [{"$ref": f"#/channels/audit.anchored.v1/messages/{name}"}],
    }
    messages[name] = {
        "name": event_type,
        "title": model.summary,
        "summary": inspect.cleandoc(model.__doc__ or ""),
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {"Nats-Msg-Id": {"type": "string", "description": "= CloudEvents id"}},
        },
        "payload": {"$ref": f"#/components/schemas/{name}Envelope"},
    }
    schemas[name] = event_schema(model) | {"description": inspect.cleandoc(model.__doc__ or "")}
    schemas[f"{name}Envelope"] = envelope_schema(model)


def render_documents() -> dict[str, str]:
    """Relative path under docs/ → file content, deterministic."""
    files = {
        "asyncapi.yaml": yaml.safe_dump(document(), allow_unicode=True, sort_keys=False, width=100),
    }
    documented: tuple[type[BaseModel], ...] = (*EVENTS, AuditAnchored)
    for model in documented:
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": _type_of(model),
            **envelope_schema(model),
        }
        data = event_schema(model)
        defs = data.pop("$defs", {})
        schema["properties"]["data"] = data
        if defs:
            schema["$defs"] = defs
        text = json.dumps(schema, ensure_ascii=False, indent=2).replace("#/components/schemas/", "#/$defs/")
        files[f"schemas/{_type_of(model)}.json"] = text + "\n"
    return files
