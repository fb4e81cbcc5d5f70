"""What responses say to people beside the codes and integers machines read.

- A Chinese label beside each stable code of a status or gate: `status` → `status_label`. One
  table per enum, registered here by the service that owns the enum; registering a table that
  misses a value of its enum fails at import, so a new status cannot ship without its label.
- A 元 string beside each amount in fen: `amount_fen` → `amount_yuan`, "1,200,000.00 元"
  (thousands separated, two decimals, computed with Decimal from the integer; the `*_fen` field
  stays the amount of record).

Response schemas get both by deriving from `Readable`; the OpenAPI shows the added members.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, GetJsonSchemaHandler, SerializerFunctionWrapHandler, model_serializer
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

from shared.money import yuan_text

E = TypeVar("E", bound=StrEnum)

#: The label table of each labelled enum.
LABELS: dict[type[StrEnum], Mapping[str, str]] = {}

LABEL_SUFFIX = "_label"
FEN_SUFFIX = "_fen"
YUAN_SUFFIX = "_yuan"


def register(enum: type[E], table: Mapping[E, str]) -> None:
    """Make `table` the Chinese labels of `enum`'s values; every value must have one."""
    missing = [member.value for member in enum if member not in table]
    if missing:
        raise ValueError(f"{enum.__qualname__}: no Chinese label for {', '.join(missing)}")
    LABELS[enum] = {str(member.value): text for member, text in table.items()}


def label(enum: type[StrEnum], code: str | None) -> str | None:
    """The label of `code` in `enum`'s table; the code itself for a value the table does not know."""
    if code is None:
        return None
    return LABELS.get(enum, {}).get(str(code), str(code))


class Readable(BaseModel):
    """A response schema people read: adds `*_label` beside labelled codes and `*_yuan` beside
    `*_fen` integers. A field whose type is a plain str names its enum in `labelled`."""

    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {}

    @model_serializer(mode="wrap")
    def _readable(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        enums, amounts = _extras(type(self))
        shown: dict[str, Any] = {}
        for name, value in data.items():
            shown[name] = value
            if name in enums:
                shown[name + LABEL_SUFFIX] = label(enums[name], value)
            elif name in amounts:
                shown[amounts[name]] = None if value is None else yuan_text(value)
        return shown

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: cs.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The fields' own schema (the wrap serializer's return type says nothing about them).
        fields = {key: value for key, value in core_schema.items() if key != "serialization"}
        schema = handler(typing.cast(cs.CoreSchema, fields))
        if handler.mode != "serialization":
            return schema
        target = handler.resolve_ref_schema(schema)
        properties: dict[str, Any] = {}
        enums, amounts = _extras(cls)
        for name, definition in target.get("properties", {}).items():
            properties[name] = definition
            if name in enums:
                properties[name + LABEL_SUFFIX] = _string(f"{name} 的中文名称", _never_none(cls, name))
            elif name in amounts:
                properties[amounts[name]] = _string(
                    f'{name} 以元计，供人阅读，如 "1,200,000.00 元"；以 {name} 为准',
                    _never_none(cls, name),
                )
        target["properties"] = properties
        target["required"] = [*target.get("required", []), *_always(cls, enums, amounts)]
        return schema


def _string(description: str, always: bool) -> dict[str, Any]:
    kind: dict[str, Any] = {"type": "string"} if always else {"anyOf": [{"type": "string"}, {"type": "null"}]}
    return {**kind, "description": description}


def _never_none(cls: type[Readable], name: str) -> bool:
    field = cls.model_fields.get(name)
    return field is not None and type(None) not in typing.get_args(field.annotation)


def _always(cls: type[Readable], enums: Mapping[str, Any], amounts: Mapping[str, str]) -> list[str]:
    """The added members present in every response: those beside a field that is."""
    required = [n for n, f in cls.model_fields.items() if f.is_required()]
    return [n + LABEL_SUFFIX for n in enums if n in required] + [amounts[n] for n in amounts if n in required]


@cache
def _extras(cls: type[Readable]) -> tuple[dict[str, type[StrEnum]], dict[str, str]]:
    """The schema's labelled fields (name → enum) and its amounts (name → name of its 元 string)."""
    enums: dict[str, type[StrEnum]] = dict(cls.labelled)
    amounts: dict[str, str] = {}
    for name, field in cls.model_fields.items():
        annotation = _unoptional(field.annotation)
        if isinstance(annotation, type) and issubclass(annotation, StrEnum) and annotation in LABELS:
            enums.setdefault(name, annotation)
        elif annotation is int and name.endswith(FEN_SUFFIX):
            amounts[name] = name[: -len(FEN_SUFFIX)] + YUAN_SUFFIX
    return enums, amounts


def _unoptional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


class DeadlineState(StrEnum):
    """Where a time limit stands today (procurement's and acceptance's deadlines)."""

    RUNNING = "running"
    OPEN = "open"
    MET = "met"
    MISSED = "missed"


class FilingState(StrEnum):
    """备案 of a purchase: filed, its limit still running, or missed (procurement)."""

    FILED = "filed"
    RUNNING = "running"
    MISSED = "missed"


register(
    DeadlineState,
    {
        DeadlineState.RUNNING: "期限未到",
        DeadlineState.OPEN: "已到可办理之日，尚未办理",
        DeadlineState.MET: "已按期办理",
        DeadlineState.MISSED: "已逾期",
    },
)
register(
    FilingState,
    {FilingState.FILED: "已备案", FilingState.RUNNING: "备案期限未到", FilingState.MISSED: "逾期未备案"},
)
