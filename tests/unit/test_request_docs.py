"""Every field of the main requests is described in Chinese, with an example, in the OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from services.acceptance.main import create_app as create_acceptance
from services.funding.main import create_app as create_funding
from services.intake.main import create_app as create_intake
from services.procurement.main import create_app as create_procurement
from services.review.main import create_app as create_review

# The requests people write most: declaration, agencies, materials, plans, approval (intake);
# disbursements (funding); cases and opinions (review); tenders, contracts, changes, purchases
# (procurement); initial and final acceptance (acceptance); facts recorded by hand (every service).
MAIN_REQUESTS: dict[str, tuple[Callable[[], FastAPI], tuple[str, ...]]] = {
    "intake": (
        create_intake,
        (
            "RegisterAgencyIn",
            "DeclareProjectIn",
            "Body_upload_material",
            "RankingIn",
            "PublishPlanIn",
            "ApproveProjectIn",
            "ManualEventIn",
        ),
    ),
    "funding": (create_funding, ("RequestDisbursementIn", "ManualEventIn")),
    "review": (create_review, ("ExpertIn", "OpenCaseIn", "OpinionIn", "ReportIn", "ManualEventIn")),
    "procurement": (
        create_procurement,
        ("TenderIn", "ContractIn", "ChangeIn", "CompletionIn", "PurchaseIn", "ManualEventIn"),
    ),
    "acceptance": (
        create_acceptance,
        ("InitialIn", "AttestationIn", "ApplicationIn", "ConclusionIn", "ReportIn", "ManualEventIn"),
    ),
}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _schema(components: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    found = [key for key in components if key == name or key.startswith(name + "_")]
    assert found, f"no schema {name} among {sorted(components)}"
    return found[0], components[found[0]]


def _fields(
    components: dict[str, Any], name: str, schema: dict[str, Any], seen: set[str]
) -> Iterator[tuple[str, Any]]:
    """Each property of the schema and of the schemas it refers to (nested requests)."""
    for field, definition in schema.get("properties", {}).items():
        yield f"{name}.{field}", definition
        for ref in _refs(definition):
            target = ref.rsplit("/", 1)[-1]
            if target not in seen and "properties" in components.get(target, {}):
                seen.add(target)
                yield from _fields(components, target, components[target], seen)


def _refs(definition: Any) -> Iterator[str]:
    if isinstance(definition, dict):
        for key, value in definition.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(definition, list):
        for item in definition:
            yield from _refs(item)


@pytest.mark.parametrize("service", sorted(MAIN_REQUESTS))
def test_every_field_of_the_main_requests_has_a_chinese_description_and_an_example(service: str) -> None:
    create, names = MAIN_REQUESTS[service]
    components = create().openapi()["components"]["schemas"]
    lacking = []
    for name in names:
        full, schema = _schema(components, name)
        for where, definition in _fields(components, full, schema, {full}):
            if not _chinese(definition.get("description", "")):
                lacking.append(f"{where}: no Chinese description")
            if not definition.get("examples") and "example" not in definition:
                lacking.append(f"{where}: no example")
    assert lacking == [], "\n".join(lacking)


def _models() -> list[type[BaseModel]]:
    from services.acceptance import schemas as acceptance
    from services.funding import schemas as funding
    from services.intake import schemas as intake
    from services.procurement import schemas as procurement
    from services.review import schemas as review
    from shared.manual import ManualEventIn

    modules = (acceptance, funding, intake, procurement, review)
    found = [ManualEventIn]
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return [model for model in found if model.model_config.get("json_schema_extra")]


@pytest.mark.parametrize("model", _models(), ids=lambda m: f"{m.__module__.split('.')[-2]}.{m.__name__}")
def test_the_example_of_a_request_is_a_valid_request(model: type[BaseModel]) -> None:
    for example in model.model_json_schema()["examples"]:
        model.model_validate_json(json.dumps(example))
