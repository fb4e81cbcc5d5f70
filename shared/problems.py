"""RFC 9457 problem details: every refusal is application/problem+json with a stable code."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import is_transient
from shared.idempotency import IdempotencyKeyReused
from shared.policy import Reason

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


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


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON)


def install(app: FastAPI, errors: dict[type[Exception], int]) -> None:
    """Register problem+json handlers; `errors` maps a service's domain errors to HTTP statuses.

    A domain error has `code` (stable, English), its message (Chinese) and optional `reasons`.
    """

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(Problem(exc.status_code, code, str(exc.detail)), request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        problem = Problem(
            422, "invalid_request", "请求参数不合法", f"{len(errors)} 处参数错误", errors=errors
        )
        return problem_response(problem, request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            log.warning("%s %s: infrastructure unavailable: %r", request.method, request.url.path, exc)
            problem = Problem(
                503, "service_unavailable", "服务暂时不可用，请稍后重试", "数据库或消息服务暂不可达"
            )
            response = problem_response(problem, request)
            response.headers["Retry-After"] = "5"
            return response
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(
            Problem(500, "internal_error", "服务内部错误", "请求未能完成，未保存任何更改"), request
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)

    handled: dict[type[Exception], int] = {IdempotencyKeyReused: 422, **errors}
    for error_type, status in handled.items():

        async def on_domain(request: Request, exc: Exception, status: int = status) -> JSONResponse:
            problem = Problem(
                status,
                getattr(exc, "code", "domain_error"),
                getattr(exc, "title", None) or str(exc),
                str(exc),
                reasons=getattr(exc, "reasons", ()),
            )
            return problem_response(problem, request)

        app.add_exception_handler(error_type, on_domain)
