"""Who is signed in, and the forms' CSRF tokens.

The session is a signed cookie (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax, Secure in
production) holding the person's token for the services and a random nonce. Every form carries
the nonce signed with a timestamp (itsdangerous, as Flask-WTF does); a POST without a valid one,
from this session, is refused before the page does anything.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from itsdangerous import BadData, URLSafeTimedSerializer

from shared.auth import Role

ROLE_LABELS = {
    Role.APPLICANT: "建设单位",
    Role.AUTHORITY: "主管部门",
    Role.EXPERT: "评审专家",
    Role.FINANCE: "财政部门",
    Role.AUDITOR: "审计",
    Role.ADMIN: "系统管理员",
}
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Person:
    """The signed-in person: the token the services see, and what the pages show of it."""

    token: str
    role: str
    sub: str
    name: str
    agency: str | None
    jurisdictions: tuple[str, ...]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(Role(self.role), self.role)

    def is_(self, *roles: Role) -> bool:
        return Role(self.role) in roles


class SignInRequired(Exception):
    """No one is signed in: the page sends the browser to sign in, and back afterwards."""

    def __init__(self, after: str) -> None:
        super().__init__(after)
        self.after = after


class CsrfRejected(Exception):
    """A form came without this session's token, or with an expired one."""


def back_to(after: str | None) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    if (
        not after
        or not after.startswith("/")
        or after.startswith("//")
        or "\\" in after
        or urlsplit(after).netloc
    ):
        return "/projects"
    return after


def person_of(request: Request) -> Person | None:
    stored = request.session.get("person")
    if not stored:
        return None
    return Person(**{**stored, "jurisdictions": tuple(stored["jurisdictions"])})


def sign_in(request: Request, person: Person) -> None:
    request.session.clear()  # a new session: no nonce or page state carried over from before
    request.session["person"] = asdict(person) | {"jurisdictions": list(person.jurisdictions)}


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request) -> Person:
    person = person_of(request)
    if person is None:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return person


PersonDep = Annotated[Person, Depends(signed_in)]


def _serializer(request: Request) -> URLSafeTimedSerializer:
    settings = request.app.state.settings
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt="govit-console-csrf")


def csrf_token(request: Request) -> str:
    """This session's token for a form (the same nonce, freshly signed)."""
    nonce = request.session.get("csrf")
    if nonce is None:
        nonce = request.session["csrf"] = secrets.token_urlsafe(32)
    token: str = _serializer(request).dumps(nonce)
    return token


async def check_csrf(request: Request) -> None:
    """A dependency of every page router: an unsafe method must carry this session's form token."""
    if request.method not in UNSAFE:
        return
    sent = (await request.form()).get(CSRF_FIELD)
    nonce = request.session.get("csrf")
    if not isinstance(sent, str) or nonce is None:
        raise CsrfRejected
    max_age = int(request.app.state.settings.session_hours * 3600)
    try:
        signed = _serializer(request).loads(sent, max_age=max_age)
    except BadData:
        raise CsrfRejected from None
    if not hmac.compare_digest(str(signed), nonce):
        raise CsrfRejected
