"""Bearer JWT authentication: roles and agency claims, development tokens, OIDC/JWKS ready."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
import jwt.types
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from shared import audit
from shared.problems import Problem
from shared.settings import GovitSettings


class Role(StrEnum):
    APPLICANT = "applicant"  # 建设单位
    AUTHORITY = "authority"  # 主管部门（数据资源局 / 大数据管理局）
    EXPERT = "expert"  # 评审专家
    FINANCE = "finance"  # 财政局
    AUDITOR = "auditor"  # 审计
    ADMIN = "admin"


class Principal(BaseModel):
    """Who is calling: subject, role, and for applicants the agency they act for."""

    model_config = ConfigDict(frozen=True)

    sub: str
    role: Role
    agency: str | None = None
    name: str | None = None

    @property
    def acting_for(self) -> str | None:
        """The agency an applicant acts for; the other roles (admin) act on any project."""
        return self.agency if self.role is Role.APPLICANT else None

    def may_see_agency(self, agency: str) -> bool:
        """Applicants see only their own agency's projects; the other roles see all they are given."""
        return self.role is not Role.APPLICANT or self.agency == agency


class TokenIssuer:
    """Signs and verifies tokens with the shared secret, or verifies with the IdP's JWKS."""

    def __init__(self, settings: GovitSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None

    def issue(
        self,
        *,
        sub: str,
        role: Role,
        agency: str | None = None,
        name: str | None = None,
        ttl: timedelta = timedelta(hours=8),
    ) -> str:
        if role is Role.APPLICANT and not agency:
            raise ValueError("an applicant token needs an agency")
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": sub,
            "role": role.value,
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
        }
        if agency:
            claims["agency"] = agency
        if name:
            claims["name"] = name
        return jwt.encode(claims, self.settings.jwt_secret.get_secret_value(), algorithm="HS256")

    def verify(self, token: str) -> Principal:
        options: jwt.types.Options = {"require": ["exp", "sub", "role"]}
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256", "ES256"],
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options=options,
                )
            else:
                claims = jwt.decode(
                    token,
                    self.settings.jwt_secret.get_secret_value(),
                    algorithms=["HS256"],
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options=options,
                )
            _check_lifetime(claims, self.settings.jwt_max_ttl_seconds)
            principal = Principal.model_validate(claims)
        except (jwt.PyJWTError, ValidationError) as exc:
            raise Problem(401, "invalid_token", "身份令牌无效或已过期", str(exc)) from exc
        if principal.role is Role.APPLICANT and not principal.agency:
            raise Problem(401, "invalid_token", "身份令牌无效", "申报单位令牌缺少 agency 声明")
        return principal


def _check_lifetime(claims: dict[str, Any], max_ttl: int) -> None:
    """`exp` a number (PyJWT also takes a numeric string) no further ahead than `max_ttl` seconds:
    a token that never expires in practice (exp 10^20) is refused, however well signed."""
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise jwt.InvalidTokenError("exp must be a number (NumericDate)")
    if exp - datetime.now(UTC).timestamp() > max_ttl:
        raise jwt.InvalidTokenError(f"exp lies more than {max_ttl} s ahead (GOVIT_JWT_MAX_TTL_SECONDS)")


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise Problem(401, "unauthenticated", "需要身份认证", "请求缺少 Bearer 令牌")
    issuer: TokenIssuer = request.app.state.tokens
    if issuer._jwks is not None:
        principal = await asyncio.to_thread(issuer.verify, credentials.credentials)
    else:
        principal = issuer.verify(credentials.credentials)
    # What this request changes is written to the audit log under this name.
    audit.current_actor.set(principal.model_dump(mode="json", exclude_none=True) | {"kind": "user"})
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Any:
    """A dependency admitting only the given roles (admin is always admitted)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles and principal.role is not Role.ADMIN:
            allowed = "、".join(r.value for r in roles)
            raise Problem(403, "forbidden_role", "无权执行此操作", f"此操作仅限角色: {allowed}")
        return principal

    check.roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the authorization matrix test
    return Depends(check)
