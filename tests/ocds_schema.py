"""Validation against the OCDS 1.1 core schemas kept in tests/fixtures/ocds (see SOURCE.md there),
offline, formats (uri, date-time) included."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import simplejson
from jsonschema import Draft4Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "fixtures" / "ocds"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


@cache
def package_validator() -> Draft4Validator:
    package, release = schema("release-package-schema.json"), schema("release-schema.json")
    named = package["properties"]["releases"]["items"]["$ref"]
    resource = Resource.from_contents(release)
    registry: Registry[Any] = Registry().with_resources([(named, resource), (release["id"], resource)])
    return Draft4Validator(package, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def problems(package: dict[str, Any] | str | bytes) -> list[str]:
    """Every way the package (as built, or as sent) departs from the schema, as `path: message`."""
    text = package if isinstance(package, str | bytes) else simplejson.dumps(package, use_decimal=True)
    plain = json.loads(text)  # as a reader parses it
    found = package_validator().iter_errors(plain)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found)


def parsed(text: str | bytes) -> dict[str, Any]:
    """A package as JSON, its numbers as exact decimals."""
    loaded: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return loaded
