"""Examples of request fields for the OpenAPI, given once per request."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from pydantic.config import JsonDict


def field_examples(**values: Any) -> Callable[[JsonDict, type[Any]], None]:
    """`json_schema_extra` of a request: each named field shows its example, and the request the
    whole. A name that is not a field fails when the OpenAPI is built."""

    def extra(schema: JsonDict, cls: type[Any]) -> None:
        properties = typing.cast(dict[str, dict[str, Any]], schema["properties"])
        for name, value in values.items():
            properties[name].setdefault("examples", [value])
        schema["examples"] = [values]

    return extra
