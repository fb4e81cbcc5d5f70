"""Validation errors told in Chinese: one message per pydantic error type, filled from its `ctx`.

Keyed by pydantic's error `type` (a stable part of its API, kept in the problem's `errors[].type`)
rather than by its English wording, which changes between versions. Every type pydantic-core
defines has a message here (tests/unit/test_messages.py checks it against pydantic_core's
ErrorType); a type it adds later, or one of our own, falls back to a general message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WRONG_TYPE = "类型不正确，应为{what}"
_TYPES = {
    "model_type": "对象",
    "model_attributes_type": "对象",
    "dataclass_type": "对象",
    "dataclass_exact_type": "对象",
    "named_tuple_type": "数组",
    "dict_type": "对象",
    "frozen_dict_type": "对象",
    "ordered_dict_type": "对象",
    "counter_type": "对象",
    "mapping_type": "对象",
    "list_type": "数组",
    "deque_type": "数组",
    "tuple_type": "数组",
    "set_type": "数组",
    "frozen_set_type": "数组",
    "iterable_type": "数组",
    "string_type": "字符串",
    "bool_type": "布尔值（true 或 false）",
    "int_type": "整数",
    "float_type": "数字",
    "bytes_type": "字节串",
    "date_type": "日期（YYYY-MM-DD）",
    "time_type": "时间（HH:MM:SS）",
    "datetime_type": "带时区的时间（如 2026-06-15T10:00:00+08:00）",
    "time_delta_type": "时长",
    "url_type": "网址",
    "uuid_type": "UUID",
    "decimal_type": "十进制数",
    "fraction_type": "分数",
    "complex_type": "复数",
    "callable_type": "可调用对象",
    "json_type": "JSON 字符串",
    "arguments_type": "参数列表",
    "is_instance_of": "{class}",
    "is_subclass_of": "{class} 的子类",
}

MESSAGES: dict[str, str] = {
    **{error: _WRONG_TYPE.format(what=what) for error, what in _TYPES.items()},
    # Presence and shape
    "missing": "必填，未提供",
    "missing_argument": "必填，未提供",
    "missing_keyword_only_argument": "必填，未提供",
    "missing_positional_only_argument": "必填，未提供",
    "missing_sentinel_error": "必填，未提供",
    "extra_forbidden": "不接受此字段",
    "no_such_attribute": "不接受此字段",
    "unexpected_keyword_argument": "不接受此字段",
    "unexpected_positional_argument": "不接受此参数",
    "multiple_argument_values": "同一参数给出了多个值",
    "frozen_field": "此字段不可修改",
    "frozen_instance": "此对象不可修改",
    "invalid_key": "键不合法，应为字符串",
    "none_required": "应为空（null）",
    "default_factory_not_called": "默认值无法生成",
    "get_attribute_error": "读取字段出错：{error}",
    "needs_python_object": "须为对象，不接受 JSON 文本",
    "recursion_loop": "数据中有循环引用",
    "recursion_depth_exceeded": "嵌套层级过深",
    "ellipsis_error": "应为省略号（...）",
    # JSON
    "json_invalid": "不是合法的 JSON：{error}",
    # Numbers
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的整数倍",
    "finite_number": "应为有限的数（不接受 inf、nan）",
    "int_parsing": "应为整数，给出的值无法解析为整数",
    "int_parsing_size": "整数超出可处理的范围",
    "int_from_float": "应为整数，不接受小数（金额以分计）",
    "float_parsing": "应为数字，给出的值无法解析为数字",
    "bool_parsing": "应为布尔值（true 或 false），给出的值无法解析",
    "decimal_parsing": "应为十进制数，给出的值无法解析",
    "decimal_max_digits": "数字位数不得超过 {max_digits} 位",
    "decimal_max_places": "小数位数不得超过 {decimal_places} 位",
    "decimal_whole_digits": "整数部分不得超过 {whole_digits} 位",
    "fraction_parsing": "应为分数，给出的值无法解析",
    "complex_str_parsing": "应为复数，给出的值无法解析",
    # Lengths
    "too_short": "至少应有 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "string_too_short": "长度至少 {min_length} 个字符",
    "string_too_long": "长度不得超过 {max_length} 个字符",
    "bytes_too_short": "长度至少 {min_length} 字节",
    "bytes_too_long": "长度不得超过 {max_length} 字节",
    "string_pattern_mismatch": "格式不正确，应符合 {pattern}",
    "string_unicode": "应为合法的 Unicode 字符串",
    "string_not_ascii": "只能包含 ASCII 字符",
    "bytes_invalid_encoding": "编码不正确：{encoding_error}",
    "iteration_error": "无法逐项读取：{error}",
    "set_item_not_hashable": "集合中的项不可作为键",
    # Choices
    "enum": "取值不在允许的范围内，应为 {expected} 之一",
    "literal_error": "取值不在允许的范围内，应为 {expected} 之一",
    "union_tag_invalid": "类型标记 {tag} 不在允许的范围内，应为 {expected_tags} 之一",
    "union_tag_not_found": "缺少类型标记字段 {discriminator}",
    # Dates and times
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD（{error}）",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD（{error}）",
    "date_from_datetime_inexact": "应为日期，不带时刻",
    "date_past": "应为过去的日期",
    "date_future": "应为将来的日期",
    "time_parsing": "时间格式不正确，应为 HH:MM:SS（{error}）",
    "datetime_parsing": "时间格式不正确，应为 ISO 8601，如 2026-06-15T10:00:00+08:00（{error}）",
    "datetime_from_date_parsing": "时间格式不正确，应为 ISO 8601，如 2026-06-15T10:00:00+08:00（{error}）",
    "datetime_object_invalid": "时间不合法：{error}",
    "datetime_past": "应为过去的时间",
    "datetime_future": "应为将来的时间",
    "timezone_naive": "不应带时区",
    "timezone_aware": "应带时区，如 +08:00",
    "timezone_offset": "时区偏移应为 {tz_expected} 秒，给出 {tz_actual} 秒",
    "time_delta_parsing": "时长格式不正确（{error}）",
    # Identifiers and addresses
    "url_parsing": "网址格式不正确（{error}）",
    "url_syntax_violation": "网址格式不正确（{error}）",
    "url_too_long": "网址不得超过 {max_length} 个字符",
    "url_scheme": "网址协议应为 {expected_schemes}",
    "uuid_parsing": "UUID 格式不正确（{error}）",
    "uuid_version": "应为第 {expected_version} 版 UUID",
    # Our own checks: their message is already in Chinese
    "value_error": "{error}",
    "assertion_error": "{error}",
    "nul_character": "不得包含 NUL 字符（\\u0000）",
}

FALLBACK = "取值不合法"


def message(error_type: str, ctx: Mapping[str, Any] | None, english: str) -> str:
    """The Chinese message for one pydantic error; the message as given where our own code wrote it
    in Chinese; the general one where the type or its context is unknown (the original message is
    kept in the error's `msg_en`)."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in english):
        return english.removeprefix("Value error, ")  # ours, already in Chinese
    template = MESSAGES.get(error_type)
    if template is None:
        return FALLBACK
    values = {key: _shown(key, value) for key, value in (ctx or {}).items()}
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return FALLBACK


def _shown(key: str, value: Any) -> str:
    if key == "error" and isinstance(value, BaseException):
        return str(value)
    shown = str(value).strip()
    if key.startswith("expected"):
        shown = shown.replace(" or ", "、").replace(", ", "、")
    return shown


def field_title(openapi: Mapping[str, Any], path: str, method: str, loc: list[str | int]) -> str:
    """The Chinese name of the field at `loc` (["body", "amount_fen"], ["query", "limit"]) of an
    operation: its description in the OpenAPI, up to its first clause; "" where it has none."""
    operation = openapi.get("paths", {}).get(path, {}).get(method.lower(), {})
    if not loc or not operation:
        return ""
    where, rest = loc[0], loc[1:]
    if where != "body":
        for parameter in operation.get("parameters", []):
            if rest and parameter.get("in") == where and parameter.get("name") == rest[0]:
                return _short(parameter.get("description") or parameter.get("schema", {}).get("description"))
        return ""
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    media: dict[str, Any] = next(iter(content.values()), {})
    schema: Any = media.get("schema", {})
    for step in rest:
        schema = _step(openapi, schema, step)
        if schema is None:
            return ""
    return _short(_resolved(openapi, schema).get("description")) if rest else ""


def _resolved(openapi: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        described = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**openapi.get("components", {}).get("schemas", {}).get(name, {}), **described}
    return schema if isinstance(schema, dict) else {}


def _step(openapi: Mapping[str, Any], schema: Any, step: str | int) -> Any:
    schema = _resolved(openapi, schema)
    options = [schema, *(_resolved(openapi, s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))]
    for option in options:
        if isinstance(step, int) and "items" in option:
            return option["items"]
        if isinstance(step, str) and step in option.get("properties", {}):
            return option["properties"][step]
    return None


def _short(description: str | None) -> str:
    if not description:
        return ""
    for stop in ("；", "。", "：", "，", ": ", "\n"):
        description = description.split(stop, 1)[0]
    description = description.strip()
    return description if len(description) <= 40 else description[:40] + "…"


def dotted(loc: list[str | int]) -> str:
    """The field's path as people read it: body.items[0].amount_fen → items[0].amount_fen."""
    shown = ""
    for step in loc[1:] if loc and loc[0] == "body" else loc:
        shown += f"[{step}]" if isinstance(step, int) else (f".{step}" if shown else str(step))
    return shown or "请求体"


def field_error(error: Mapping[str, Any], title: str = "") -> dict[str, Any]:
    """One invalid field as `errors[]` shows it: where, its Chinese name, pydantic's type (stable)
    and the message in Chinese naming the field; the original message kept beside it."""
    loc = list(error["loc"])
    field = dotted(loc)
    named = f"{title}（{field}）" if title else field
    return {
        "loc": loc,
        "field": field,
        "title": title,
        "type": error["type"],
        "msg": f"{named}：{message(error['type'], error.get('ctx'), error['msg'])}",
        "msg_en": error["msg"],
    }
