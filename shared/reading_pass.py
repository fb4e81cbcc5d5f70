"""阅卷凭证: an expert's pass to read the materials of the project their panel reviews.

Who sits on a panel is review's to know and is not announced (the panel's names stay out of the
events); the materials are intake's. So review, for an expert seated on a case, signs a short-lived
pass naming the expert, the project and its jurisdiction; intake lets the holder of that pass and
of the expert's own token (the same `sub`) read that project's materials and nothing else. The
pass is a JWT under a key of the two services (GOVIT_READING_PASS_KEY), with an audience of its
own: it is never a bearer token, and no bearer token is a pass.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import jwt
from pydantic import BaseModel

from shared.auth import Principal, Role
from shared.problems import Problem
from shared.settings import ServiceSettings

AUDIENCE = "govit-reading-pass"
HEADER = "X-Govit-Reading-Pass"


class ReadingPass(BaseModel):
    """What a pass lets its holder read: one project's materials, for one review case."""

    sub: str
    project_id: str
    jurisdiction: str
    case_id: str
    expires_at: datetime


def _key(settings: ServiceSettings) -> bytes:
    if settings.reading_pass_key is not None:
        return settings.reading_pass_key.get_secret_value().encode()
    audit = settings.audit_key.get_secret_value().encode()
    return hmac.new(audit, b"govit reading pass v1", hashlib.sha256).digest()


def issue(
    settings: ServiceSettings, who: str, *, project_id: str, jurisdiction: str, case_id: str
) -> ReadingPass:
    """A pass for `who` (the expert's token `sub`), valid for the configured time; `token()` signs it."""
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=settings.reading_pass_seconds)
    return ReadingPass(
        sub=who, project_id=project_id, jurisdiction=jurisdiction, case_id=case_id, expires_at=expires
    )


def token(settings: ServiceSettings, granted: ReadingPass) -> str:
    claims = {
        "sub": granted.sub,
        "aud": AUDIENCE,
        "project_id": granted.project_id,
        "jurisdiction": granted.jurisdiction,
        "case_id": granted.case_id,
        "exp": granted.expires_at,
    }
    return jwt.encode(claims, _key(settings), algorithm="HS256")


def check(settings: ServiceSettings, presented: str | None, who: Principal, project_id: str) -> ReadingPass:
    """The pass an expert presents with their own token, for this project; 403 otherwise."""
    if presented is None:
        raise Problem(
            403, "reading_pass_required", "专家阅卷须持评审服务签发的阅卷凭证", f"请求头 {HEADER} 缺失"
        )
    try:
        claims = jwt.decode(
            presented,
            _key(settings),
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "sub"]},
        )
        granted = ReadingPass.model_validate(claims | {"expires_at": claims["exp"]})
    except (jwt.PyJWTError, ValueError) as exc:
        raise Problem(403, "reading_pass_invalid", "阅卷凭证无效或已过期", str(exc)) from exc
    if who.role is not Role.EXPERT or granted.sub != who.sub:
        raise Problem(403, "reading_pass_invalid", "阅卷凭证不属于当前登录的专家", "凭证只供其签发对象使用")
    who.check_jurisdiction(granted.jurisdiction)  # an expert acting for another jurisdiction: 403
    if granted.project_id != project_id:
        raise Problem(
            403, "reading_pass_invalid", "阅卷凭证不适用于此项目", f"凭证所对应的项目：{granted.project_id}"
        )
    return granted
