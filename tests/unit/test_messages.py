"""Validation messages in Chinese: every pydantic error type has one, filled from its context."""

from __future__ import annotations

import datetime as dt
import typing
from enum import StrEnum
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic_core.core_schema import ErrorType

from shared.messages import FALLBACK, MESSAGES, dotted, field_title, message
from shared.money import Fen


def test_every_error_type_pydantic_defines_has_a_chinese_message() -> None:
    missing = sorted(set(typing.get_args(ErrorType)) - set(MESSAGES))
    assert missing == [], f"no Chinese message for {missing}"
    for error_type, template in MESSAGES.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in template) or template == "{error}", error_type


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Sample(BaseModel):
    title: str = Field(min_length=2, max_length=5)
    amount_fen: Fen
    colour: Colour
    mode: Literal["a", "b"] = "a"
    on: dt.date | None = None
    at: dt.datetime | None = None
    items: Annotated[list[int], Field(max_length=2)] = []


def _errors(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return {str(e["loc"][0]): message(e["type"], e.get("ctx"), e["msg"]) for e in caught.value.errors()}


def test_messages_say_what_was_expected_with_the_limits_of_the_field() -> None:
    told = _errors(
        {
            "title": "x" * 6,
            "amount_fen": -1,
            "colour": "green",
            "mode": "c",
            "on": "2026-13-01",
            "at": "yesterday",
            "items": [1, 2, 3],
        }
    )
    assert told["title"] == "长度不得超过 5 个字符"
    assert told["amount_fen"] == "应不小于 0"
    assert told["colour"] == "取值不在允许的范围内，应为 'red'、'blue' 之一"
    assert told["mode"] == "取值不在允许的范围内，应为 'a'、'b' 之一"
    assert told["on"].startswith("日期格式不正确，应为 YYYY-MM-DD")
    assert told["at"].startswith("时间格式不正确，应为 ISO 8601")
    assert told["items"] == "至多 2 项"


def test_missing_wrong_type_and_too_short_are_told_apart() -> None:
    told = _errors({"title": "x", "amount_fen": "12", "colour": "red"})
    assert told["title"] == "长度至少 2 个字符"
    assert told["amount_fen"] == "类型不正确，应为整数"  # strict: a string is not an amount
    assert _errors({"amount_fen": 1, "colour": "red"})["title"] == "必填，未提供"


def test_a_message_our_code_wrote_in_chinese_is_kept() -> None:
    assert message("missing", None, "不能为空") == "不能为空"
    assert message("value_error", {"error": "x"}, "Value error, 合同工期止须晚于起") == "合同工期止须晚于起"


def test_an_unknown_type_or_context_falls_back_without_failing() -> None:
    assert message("some_future_type", None, "Something") == FALLBACK
    assert message("greater_than", {}, "Input should be greater than 0") == FALLBACK
    assert message("value_error", {"error": ValueError("合同工期止须晚于起")}, "") == "合同工期止须晚于起"


def test_a_field_is_named_by_its_description_found_through_references() -> None:
    openapi = {
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
                    },
                    "parameters": [{"in": "query", "name": "limit", "description": "每页条数"}],
                }
            }
        },
        "components": {
            "schemas": {
                "A": {
                    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/B"}}}
                },
                "B": {"properties": {"amount_fen": {"description": "金额（分）；不含税"}}},
            }
        },
    }
    assert field_title(openapi, "/x", "POST", ["body", "items", 0, "amount_fen"]) == "金额（分）"
    assert field_title(openapi, "/x", "POST", ["query", "limit"]) == "每页条数"
    assert field_title(openapi, "/x", "POST", ["body", "nothing"]) == ""
    assert dotted(["body", "items", 0, "amount_fen"]) == "items[0].amount_fen"
    assert dotted(["query", "limit"]) == "query.limit"
    assert dotted(["body"]) == "请求体"
