"""Chinese labels beside every status and gate code, and 元 strings beside amounts in fen."""

from __future__ import annotations

import typing
from enum import StrEnum

import pytest
from fastapi import FastAPI

from services.acceptance.main import create_app as create_acceptance
from services.acceptance.views import ProjectOut as AcceptanceProject
from services.funding.domain import DisbursementStatus, Gate
from services.funding.main import create_app as create_funding
from services.funding.views import SettlementOut
from services.intake.main import create_app as create_intake
from services.procurement.main import create_app as create_procurement
from services.review.main import create_app as create_review
from shared.labels import LABELS, Readable, label, register
from shared.money import yuan_text

APPS = [create_intake, create_review, create_procurement, create_acceptance, create_funding]


def _readables() -> list[type[Readable]]:
    found: list[type[Readable]] = []
    todo: list[type[Readable]] = [Readable]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found[1:]


def _request_or_problem(schema: str) -> bool:
    return schema == "Problem" or schema.endswith("In") or schema.startswith("Body_")


@pytest.fixture(scope="module")
def openapis() -> list[dict[str, typing.Any]]:
    apps: list[FastAPI] = [create() for create in APPS]  # importing the services registers their tables
    return [app.openapi() for app in apps]


def test_every_value_of_every_labelled_enum_has_a_chinese_label(openapis: object) -> None:
    assert {DisbursementStatus, Gate} <= LABELS.keys()
    for enum, table in LABELS.items():
        for member in enum:
            text = table.get(member.value, "")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), f"{enum.__qualname__}.{member.name}"


def test_a_table_missing_a_value_is_refused_when_registered() -> None:
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(ValueError, match="blue"):
        register(Colour, {Colour.RED: "红"})


def test_every_status_state_or_gate_code_in_a_response_has_its_label(
    openapis: list[dict[str, typing.Any]],
) -> None:
    # A response schema field named like a code people read, or typed as an enum, has *_label beside it.
    codes = {"status", "state", "gate", "verdict"}
    unlabelled = []
    for openapi in openapis:
        for name, schema in openapi["components"]["schemas"].items():
            properties = schema.get("properties", {})
            if _request_or_problem(name):
                continue
            for field in properties:
                if field in codes and f"{field}_label" not in properties:
                    unlabelled.append(f"{name}.{field}")
    assert unlabelled == []
    for cls in _readables():
        for field_name, field in cls.model_fields.items():
            kind = field.annotation
            options = typing.get_args(kind) or (kind,)
            for option in options:
                if isinstance(option, type) and issubclass(option, StrEnum) and field_name in codes:
                    assert option in LABELS, f"{cls.__qualname__}.{field_name}: {option.__qualname__}"


def test_every_amount_in_fen_in_a_response_has_its_yuan_string(openapis: list[dict[str, typing.Any]]) -> None:
    missing = []
    for openapi in openapis:
        for name, schema in openapi["components"]["schemas"].items():
            properties = schema.get("properties", {})
            if _request_or_problem(name):
                continue
            for field, definition in properties.items():
                integer = definition.get("type") == "integer" or {"type": "integer"} in definition.get(
                    "anyOf", []
                )
                if field.endswith("_fen") and integer and field[:-4] + "_yuan" not in properties:
                    missing.append(f"{name}.{field}")
    assert missing == []


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "0.00 元"),
        (1, "0.01 元"),
        (99, "0.99 元"),
        (100, "1.00 元"),
        (120_000_000, "1,200,000.00 元"),
        (10**15, "10,000,000,000,000.00 元"),
        (
            10**30 + 7,
            "10,000,000,000,000,000,000,000,000,000.07 元",
        ),  # past float's and Decimal's default precision
        (-1, "-0.01 元"),
        (-123_456_789, "-1,234,567.89 元"),
    ],
)
def test_amounts_in_fen_read_as_yuan_exactly(fen: int, shown: str) -> None:
    assert yuan_text(fen) == shown


def test_a_response_carries_labels_and_yuan_next_to_the_codes_and_fen() -> None:
    import datetime as dt

    settlement = SettlementOut(
        final_cost_fen=9_007_199_254_740_993,  # 2^53 + 1: a float would lose the last fen
        settled_on=dt.date(2026, 6, 1),
        released_fen=1,
        surplus_fen=0,
        to_return_fen=0,
        route=None,
        review_due_on=None,
        by="财政局",
    ).model_dump(mode="json")
    keys = list(settlement)
    assert keys.index("final_cost_yuan") == keys.index("final_cost_fen") + 1
    assert settlement["final_cost_yuan"] == "90,071,992,547,409.93 元"
    assert settlement["released_yuan"] == "0.01 元"
    assert settlement["surplus_yuan"] == "0.00 元"

    project = AcceptanceProject(
        id="p",
        jurisdiction="zhonglou",
        agency="a",
        title="t",
        kind="construction",
        status="rectifying",
        completed_on=None,
        accepted_on=None,
        closed_reason=None,
    ).model_dump(mode="json")
    assert project["status"] == "rectifying"
    assert project["status_label"] == "验收未通过，整改中"
    assert label(Gate, None) is None
    assert label(Gate, "no_such_gate") == "no_such_gate"
