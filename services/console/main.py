"""The console's composition root: a FastAPI app of server-rendered pages over the five services.

It holds no business data and no database: what a page shows is what the services answer to the
signed-in person. `govit serve console` runs it (port 8000); `govit up` starts it after the five.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from services.console import declare, expert, metrics, oidc, oversight, pages, signin, workbench
from services.console.backends import Backends
from services.console.render import HERE, render
from services.console.session import CsrfRejected, SignInRequired, person_of
from services.console.settings import ConsoleSettings
from shared.auth import TokenIssuer
from shared.messages import dotted, message
from shared.policy import load_registry

#: no script, style or frame from anywhere but the console itself
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(
    settings: ConsoleSettings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,  # the console keeps no time: pages show the services'
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.backends.close()

    app = FastAPI(
        title="govit console — 政务信息化项目管理",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    measured = metrics.ConsoleMetrics()
    app.state.backends = Backends(settings, transport, observe=measured.observe)
    app.state.policy = load_registry(settings.policy_dir)
    app.state.tokens = TokenIssuer(settings)
    app.state.oidc = oidc.provider(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie="govit_console",
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.environment == "production",
    )

    @app.middleware("http")
    async def secured(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    metrics.install(app, measured)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(signin.router)
    app.include_router(oidc.router)
    app.include_router(pages.router)
    app.include_router(declare.router)
    app.include_router(workbench.router)
    app.include_router(expert.router)
    app.include_router(oversight.router)

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/projects" if person_of(request) else "/signin", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, Any]:
        # ready without the five: a page says which of them does not answer
        return {"status": "ready", "service": "console", "pid": os.getpid(), "deployed": settings.deployed}

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(f"/signin?after={quote(exc.after, safe='/')}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        said = [
            f"{dotted(list(e['loc']))}：{message(e['type'], e.get('ctx'), e['msg'])}" for e in exc.errors()
        ]
        detail = "；".join(said) + "。请返回修改后重新提交。"
        return render(request, "error.html", status_code=422, title="提交的内容有误", detail=detail)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> HTMLResponse:
        return render(
            request,
            "error.html",
            status_code=403,
            title="表单已失效",
            detail="页面停留过久或已在别处退出登录，请返回、刷新页面后重新提交。",
        )

    return app
