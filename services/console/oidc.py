"""Signing in with the agency's identity provider: OpenID Connect, authorization code with PKCE
(S256), through Authlib's Starlette client.

The access token the provider issues for the suite (a JWT whose audience is GOVIT_JWT_AUDIENCE,
its claims naming role, agency and jurisdiction) is what the console sends to the services. The
console checks it as they do (shared.auth.TokenIssuer with GOVIT_JWKS_URL) before anyone is signed
in, so a token the services would refuse never makes a session.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.render import render
from services.console.session import Person, back_to, sign_in
from services.console.settings import ConsoleSettings
from shared.problems import Problem

router = APIRouter()


def provider(settings: ConsoleSettings) -> StarletteOAuth2App | None:
    """The identity provider's client, or None where GOVIT_CONSOLE_OIDC_ISSUER is unset."""
    if settings.oidc_issuer is None:
        return None
    oauth = OAuth()
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    client: StarletteOAuth2App = oauth.register(
        "idp",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=secret,
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
    )
    return client


def _failed(request: Request, detail: str) -> HTMLResponse:
    return render(request, "error.html", status_code=401, title="统一身份认证未能登录", detail=detail)


@router.get("/signin/oidc", summary="统一身份认证登录")
async def begin(request: Request, after: str = "/projects") -> Response:
    client: StarletteOAuth2App | None = request.app.state.oidc
    if client is None:
        return render(request, "error.html", status_code=404, title="未配置统一身份认证")
    request.session["after"] = after
    extra: dict[str, Any] = {}
    if request.app.state.settings.oidc_resource:
        extra["resource"] = request.app.state.settings.oidc_resource
    redirect: Response = await client.authorize_redirect(
        request, str(request.url_for("oidc_callback")), **extra
    )
    return redirect


@router.get("/signin/callback", name="oidc_callback", summary="统一身份认证回调")
async def callback(request: Request) -> Response:
    client: StarletteOAuth2App | None = request.app.state.oidc
    if client is None:
        return render(request, "error.html", status_code=404, title="未配置统一身份认证")
    try:
        answered = await client.authorize_access_token(request)
    except OAuthError as exc:
        return _failed(request, f"身份提供方拒绝或登录已过期：{exc.error}。请重新登录。")
    token = answered.get("access_token", "")
    try:
        principal = request.app.state.tokens.verify(token)
    except Problem as exc:
        return _failed(request, f"身份提供方签发的令牌不能用于本系统：{exc.detail or exc.title}")
    claims = answered.get("userinfo") or {}
    after = request.session.pop("after", "/projects")
    person = Person(
        token=token,
        role=principal.role.value,
        sub=principal.sub,
        name=str(claims.get("name") or principal.name or principal.sub),
        agency=principal.agency,
        jurisdictions=tuple(sorted(principal.jurisdictions)),
    )
    sign_in(request, person)
    return RedirectResponse(back_to(after), status_code=303)
