"""Bearer JWT authentication: roles, jurisdiction and agency claims, the caller's scope, dev tokens.

Who may act on what is one concept, the Scope: the jurisdictions a token names (claim
`jurisdiction`, a code or a list of codes; GOVIT_JWT_JURISDICTION_CLAIM names another claim for
an OIDC provider) and, for an applicant, its one agency. Authority, finance, expert and auditor
tokens must name their jurisdictions; an applicant's is optional (its agency belongs to one
jurisdiction already) and enforced when given; admin spans every jurisdiction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
import jwt.types
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError, field_serializer

from shared import audit
from shared.policy.pack import JURISDICTIONS
from shared.problems import Problem
from shared.settings import GovitSettings


class Role(StrEnum):
    APPLICANT = "applicant"  # 建设单位
    AUTHORITY = "authority"  # 主管部门（数据资源局 / 大数据管理局）
    EXPERT = "expert"  # 评审专家
    FINANCE = "finance"  # 财政局
    AUDITOR = "auditor"  # 审计
    ADMIN = "admin"


#: Roles whose tokens must name the jurisdictions they act for.
SCOPED_ROLES = frozenset({Role.AUTHORITY, Role.FINANCE, Role.EXPERT, Role.AUDITOR})


@dataclass(frozen=True)
class Scope:
    """Whose projects, cases, plans and money a caller may act on and see.

    `jurisdictions` None is every jurisdiction (admin; the services' own event handlers and
    jobs); `agency` None is every agency of those jurisdictions, else an applicant's own.
    """

    jurisdictions: frozenset[str] | None = None
    agency: str | None = None

    def includes(self, jurisdiction: str) -> bool:
        """Whether the jurisdiction is one of the scope's (its agency aside)."""
        return self.jurisdictions is None or jurisdiction in self.jurisdictions

    def covers(self, jurisdiction: str, agency: str) -> bool:
        """Whether a thing of this jurisdiction and agency (a project, a case…) is within the scope."""
        return self.includes(jurisdiction) and (self.agency is None or self.agency == agency)


#: The scope of the services themselves: events and scheduled jobs act on every project.
EVERYWHERE = Scope()


class Principal(BaseModel):
    """Who is calling: subject, role, the jurisdictions they act for and, for applicants, the agency."""

    model_config = ConfigDict(frozen=True)

    sub: str
    role: Role
    agency: str | None = None
    name: str | None = None
    jurisdictions: frozenset[str] = frozenset()

    @field_serializer("jurisdictions")
    def _in_order(self, codes: frozenset[str]) -> list[str]:
        return sorted(codes)  # the audit log records the actor: the same caller, the same JSON

    @property
    def scope(self) -> Scope:
        """Admin spans everything; an applicant its agency (within its jurisdictions, if named);
        the other roles the jurisdictions their token names."""
        if self.role is Role.ADMIN:
            return EVERYWHERE
        if self.role is Role.APPLICANT:
            return Scope(self.jurisdictions or None, self.agency)
        return Scope(self.jurisdictions)

    def may_see(self, jurisdiction: str, agency: str) -> bool:
        return self.scope.covers(jurisdiction, agency)

    def check_jurisdiction(self, jurisdiction: str) -> str:
        """A jurisdiction named in the request (path, body, filter) must be the caller's: 403 otherwise."""
        if not self.scope.includes(jurisdiction):
            mine = "、".join(sorted(self.jurisdictions)) or "无"
            raise Problem(
                403,
                "forbidden_jurisdiction",
                "无权办理其他辖区的事项",
                f"令牌所属辖区：{mine}；请求涉及辖区：{jurisdiction}",
            )
        return jurisdiction


def jurisdiction_codes(value: Any) -> frozenset[str]:
    """The codes a `jurisdiction` claim names: one code or a list of codes, each one the suite knows."""
    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise ValueError("应为一个辖区代码或辖区代码的列表")
    unknown = sorted(set(codes) - set(JURISDICTIONS))
    if unknown:
        raise ValueError(f"未知的辖区代码：{'、'.join(unknown)}（已知：{'、'.join(JURISDICTIONS)}）")
    return frozenset(codes)


class TokenIssuer:
    """Signs and verifies tokens with the shared secret, or verifies with the IdP's JWKS."""

    #: A token verified is taken from memory for at most this long (never past its expiry): its
    #: caller's next requests skip the signature check; a key withdrawn from the IdP's JWKS stops
    #: its tokens within this time.
    REMEMBERED_SECONDS = 60.0
    REMEMBERED_AT_MOST = 4096  # tokens; then forgotten all at once

    def __init__(self, settings: GovitSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        self._verified: dict[str, tuple[Principal, float]] = {}  # token: (its caller, until when)

    def issue(
        self,
        *,
        sub: str,
        role: Role,
        agency: str | None = None,
        name: str | None = None,
        jurisdictions: Sequence[str] = (),
        ttl: timedelta = timedelta(hours=8),
    ) -> str:
        if role is Role.APPLICANT and not agency:
            raise ValueError("an applicant token needs an agency")
        if role in SCOPED_ROLES and not jurisdictions:
            raise ValueError(f"{role.value} 令牌须指明其所属辖区（jurisdiction）")
        codes = sorted(jurisdiction_codes(list(jurisdictions)))
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
        if codes:
            claims[self.settings.jwt_jurisdiction_claim] = codes[0] if len(codes) == 1 else codes
        return jwt.encode(claims, self.settings.jwt_secret.get_secret_value(), algorithm="HS256")

    def verify(self, token: str) -> Principal:
        now = time.time()
        remembered = self._verified.get(token)
        if remembered is not None and now < remembered[1]:
            return remembered[0]
        principal, expires = self._verify(token)
        if len(self._verified) >= self.REMEMBERED_AT_MOST:
            self._verified.clear()
        self._verified[token] = (principal, min(expires, now + self.REMEMBERED_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        """The caller the token names and when it expires (epoch seconds), its signature checked."""
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
            principal = self._principal(claims)
        except (jwt.PyJWTError, ValidationError) as exc:
            raise Problem(401, "invalid_token", "身份令牌无效或已过期", str(exc)) from exc
        if principal.role is Role.APPLICANT and not principal.agency:
            raise Problem(401, "invalid_token", "身份令牌无效", "申报单位令牌缺少 agency 声明")
        return principal, float(claims["exp"])

    def _principal(self, claims: dict[str, Any]) -> Principal:
        """The caller a verified token names, with the jurisdictions of the configured claim."""
        claim = self.settings.jwt_jurisdiction_claim
        raw = claims.get(claim)
        try:
            codes = frozenset[str]() if raw is None else jurisdiction_codes(raw)
        except ValueError as exc:
            raise Problem(401, "invalid_token", "身份令牌无效", f"{claim} 声明无效：{exc}") from exc
        principal = Principal.model_validate({**claims, "jurisdictions": codes})
        if principal.role in SCOPED_ROLES and not codes:
            raise Problem(
                401,
                "invalid_token",
                "身份令牌无效",
                f"主管部门、财政、专家和审计的令牌须以 {claim} 声明其所属辖区",
            )
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
