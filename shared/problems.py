"""RFC 9457 problem details: every refusal is application/problem+json with a stable code."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import messages
from shared.db import is_busy, is_transient
from shared.idempotency import IdempotencyKeyReused
from shared.policy import Reason

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_SCHEMAS = "#/components/schemas/"


class Problem(Exception):
    """An HTTP refusal; `reasons` carry rule citations when a regulation is the cause."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        reasons: Sequence[Reason] = (),
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.reasons = tuple(reasons)
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://govit.gov.cn/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.reasons:
            body["rule"] = self.reasons[0].rule
            body["reasons"] = [r.model_dump(mode="json") for r in self.reasons]
        body.update(self.extra)
        return body


class FieldError(BaseModel):
    """One invalid field of a request (422 invalid_request)."""

    loc: list[str | int] = Field(description="位置：body、query、path 起首，其后为字段路径")
    msg: str = Field(description="说明（中文），写明字段的中文名称和路径")
    type: str = Field(description="错误类型（pydantic 的错误码，英文，稳定），客户端据此判断")
    field: str = Field(default="", description="字段路径，如 items[0].amount_fen")
    title: str = Field(default="", description="字段的中文名称（取自接口说明）")
    msg_en: str = Field(default="", description="英文说明")


class ProblemDetails(BaseModel):
    """The body of every refusal, as the OpenAPI shows it; members not given are left out."""

    model_config = ConfigDict(title="Problem", extra="allow")

    type: str
    title: str = Field(description="说明（中文）")
    status: int
    code: str = Field(description="稳定的错误码（英文），客户端据此判断")
    detail: str = ""
    instance: str = Field(default="", description="请求的路径")
    rule: str = Field(default="", description="依据的办法（第一条理由的）")
    reasons: list[Reason] = Field(default_factory=list, description="依据的条款，每条理由一项")
    errors: list[FieldError] = Field(default_factory=list, description="invalid_request：每处参数错误")


_DESCRIPTIONS = {
    400: "请求体无法解析",
    401: "未认证：缺少令牌，或令牌无效、已过期",
    403: "无权执行此操作",
    404: "不存在，或不在调用者可见的范围内",
    409: "与当前状态或办法的规定冲突",
    413: "请求体超过上限（payload_too_large）",
    415: "文件内容不是可接收的格式，或与扩展名不符",
    422: "请求参数不合法，或被办法的规定拒绝",
    503: "暂不可用：数据库繁忙（database_busy）或数据库、消息服务不可达，请稍后重试",
}


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, "请求被拒绝"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": _SCHEMAS + "Problem"}}},
    }


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the refusals it gives beyond those every operation documents."""
    return {status: _problem(status) for status in statuses}


NOT_FOUND = problem_responses(404)
# A command on one record: it may not exist (or be another agency's), or its state may not allow it.
COMMAND = problem_responses(404, 409)


def _document(app: FastAPI) -> None:
    """Show in the OpenAPI the refusals the handlers installed here give on any operation: 401 and
    403 where a token is required, 400 and 413 where a body is read, and 422 as problem+json (not FastAPI's
    own body) where parameters are validated. What a route refuses beyond that, it declares itself."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = ProblemDetails.model_json_schema(ref_template=_SCHEMAS + "{model}", mode="serialization")
        for name, definition in problem.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["Problem"] = problem
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                if operation.get("security"):
                    responses.setdefault("401", _problem(401))
                    responses.setdefault("403", _problem(403))
                if "requestBody" in operation:
                    responses.setdefault("400", _problem(400))
                    responses.setdefault("413", _problem(413))
                if _fastapi_validation_error(responses.get("422")):
                    responses["422"] = _problem(422)
        for fastapi_own in ("HTTPValidationError", "ValidationError"):
            components.pop(fastapi_own, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _fastapi_validation_error(response: dict[str, Any] | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema")
    return bool(schema == {"$ref": _SCHEMAS + "HTTPValidationError"})


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON)


def unavailable(request: Request, exc: BaseException) -> JSONResponse:
    """503 for infrastructure trouble: the database busy with another writer, or unreachable."""
    log.warning("%s %s: infrastructure unavailable: %r", request.method, request.url.path, exc)
    if is_busy(exc):
        problem = Problem(
            503,
            "database_busy",
            "数据库繁忙，请稍后重试",
            "另一个写入正占用数据库，本次写入未能在时限内开始，未保存任何更改",
        )
    else:
        problem = Problem(
            503, "service_unavailable", "服务暂时不可用，请稍后重试", "数据库或消息服务暂不可达"
        )
    response = problem_response(problem, request)
    response.headers["Retry-After"] = "5"
    return response


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {
        400: "malformed_body",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
    }.get(exc.status_code, "http_error")
    return problem_response(Problem(exc.status_code, code, str(exc.detail)), request)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    unreadable = _unreadable(raw)
    if unreadable is not None:
        return problem_response(unreadable, request)
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    openapi = request.app.openapi()
    errors = [_field_error(e, openapi, path, request.method) for e in raw]
    problem = Problem(422, "invalid_request", "请求参数不合法", f"{len(errors)} 处参数错误", errors=errors)
    return problem_response(problem, request)


def _field_error(error: Any, openapi: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    loc = list(error["loc"])
    return messages.field_error({**error, "loc": loc}, messages.field_title(openapi, path, method, loc))


def _unreadable(errors: Sequence[Any]) -> Problem | None:
    """400 malformed_body for a body that is not JSON at all: cut short, not JSON, or sent with a
    content type that is not JSON where the operation reads a JSON object."""
    for error in errors:
        if error["type"] == "json_invalid":
            where = error["loc"][1] if len(error["loc"]) > 1 else "?"
            reason = (error.get("ctx") or {}).get("error", "")
            return Problem(
                400,
                "malformed_body",
                "请求体无法解析",
                f"请求体不是合法的 JSON（第 {where} 个字符处：{reason}），未保存任何内容",
            )
        if tuple(error["loc"]) == ("body",) and isinstance(error.get("input"), bytes):
            return Problem(
                400,
                "malformed_body",
                "请求体无法解析",
                "请求体应为 JSON（Content-Type: application/json），未保存任何内容",
            )
    return None


async def _on_database(request: Request, exc: Exception) -> JSONResponse:
    if not is_transient(exc):
        raise exc  # a fault, not the infrastructure: _on_unexpected logs it with its traceback
    return unavailable(request, exc)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_transient(exc):
        return unavailable(request, exc)
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(
        Problem(500, "internal_error", "服务内部错误", "请求未能完成，未保存任何更改"), request
    )


def _on_domain(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def answer(request: Request, exc: Exception) -> JSONResponse:
        problem = Problem(
            status,
            getattr(exc, "code", "domain_error"),
            getattr(exc, "title", None) or str(exc),
            str(exc),
            reasons=getattr(exc, "reasons", ()),
        )
        return problem_response(problem, request)

    return answer


def install(app: FastAPI, errors: dict[type[Exception], int]) -> None:
    """Register problem+json handlers; `errors` maps a service's domain errors to HTTP statuses.

    A domain error has `code` (stable, English), its message (Chinese) and optional `reasons`.
    """
    _document(app)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(Exception, _on_unexpected)
    # Answered here rather than by _on_unexpected, which runs in Starlette's outermost middleware
    # and raises the exception again after the response, so the server logs a traceback.
    for infrastructure in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(infrastructure, _on_database)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    handled: dict[type[Exception], int] = {IdempotencyKeyReused: 422, **errors}
    for error_type, status in handled.items():
        app.add_exception_handler(error_type, _on_domain(status))
