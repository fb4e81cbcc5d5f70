"""The console's settings: where the five services answer, which of them this region deployed,
and how people sign in."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from shared.settings import ServiceSettings

#: the five services, in the order of a project's life, and the port each listens on by default
BACKENDS: dict[str, int] = {
    "intake": 8001,
    "review": 8002,
    "procurement": 8003,
    "acceptance": 8004,
    "funding": 8005,
}
DEFAULT_SESSION_SECRET = "govit-console-development-session-secret-00"


def default_url(service: str) -> str:
    """The service on this machine, on the port `GOVIT_<SERVICE>_PORT` gives it (as `govit up` starts it)."""
    port = os.environ.get(f"GOVIT_{service.upper()}_PORT") or BACKENDS[service]
    return f"http://127.0.0.1:{port}"


class ConsoleSettings(ServiceSettings):
    service: str = "console"
    port: int = Field(default=8000, validation_alias="GOVIT_CONSOLE_PORT")
    deployed: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(BACKENDS),
        validation_alias="GOVIT_CONSOLE_SERVICES",
        description="the services this region runs (comma-separated, e.g. funding,acceptance); the "
        "pages of the others say the service is not deployed",
    )
    urls: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="GOVIT_CONSOLE_URLS",
        description='where each service answers, as JSON, e.g. {"intake": "http://intake:8001"}; '
        "a service not named is on this machine at its default port",
    )
    session_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_SESSION_SECRET),
        validation_alias="GOVIT_CONSOLE_SESSION_SECRET",
        description="signs the session cookie and the forms' CSRF tokens (32 characters or more in "
        "production)",
    )
    session_hours: float = Field(default=8, gt=0, le=24, validation_alias="GOVIT_CONSOLE_SESSION_HOURS")
    page_size: int = Field(default=20, ge=5, le=100, validation_alias="GOVIT_CONSOLE_PAGE_SIZE")
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        validation_alias="GOVIT_CONSOLE_MAX_UPLOAD_BYTES",
        description="the largest material a person may upload through the console (intake's own limit)",
    )
    timeout_seconds: float = Field(default=10, gt=0, validation_alias="GOVIT_CONSOLE_TIMEOUT_SECONDS")

    oidc_issuer: str | None = Field(
        default=None,
        validation_alias="GOVIT_CONSOLE_OIDC_ISSUER",
        description="the identity provider (OpenID Connect issuer URL); set, people sign in there",
    )
    oidc_client_id: str = Field(default="govit-console", validation_alias="GOVIT_CONSOLE_OIDC_CLIENT_ID")
    oidc_client_secret: SecretStr | None = Field(
        default=None, validation_alias="GOVIT_CONSOLE_OIDC_CLIENT_SECRET"
    )
    oidc_scope: str = Field(default="openid profile", validation_alias="GOVIT_CONSOLE_OIDC_SCOPE")
    oidc_resource: str | None = Field(
        default=None,
        validation_alias="GOVIT_CONSOLE_OIDC_RESOURCE",
        description="the resource indicator (RFC 8707) asked for, where the provider issues access tokens "
        "for the suite by resource, e.g. urn:govit:api",
    )

    @field_validator("deployed", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):  # funding,acceptance or a JSON list
            text = value.strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [v.strip() for v in text.split(",") if v.strip()]
            )
        return value

    @model_validator(mode="after")
    def _known_services(self) -> ConsoleSettings:
        unknown = sorted({*self.deployed, *self.urls} - set(BACKENDS))
        if unknown:
            raise ValueError(f"unknown services {unknown}; the console knows {', '.join(BACKENDS)}")
        return self

    @model_validator(mode="after")
    def _session_secret_in_production(self) -> ConsoleSettings:
        secret = self.session_secret.get_secret_value()
        if self.environment == "production" and (secret == DEFAULT_SESSION_SECRET or len(secret) < 32):
            raise ValueError(
                "GOVIT_CONSOLE_SESSION_SECRET must be a secret of at least 32 characters in production"
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_audit_key_in_production(self) -> ConsoleSettings:
        # The console writes no audit chain: the audit key stays with the five (and the auditors).
        return self

    def url(self, service: str) -> str | None:
        """Where the service answers; None where this region did not deploy it."""
        if service not in self.deployed:
            return None
        return self.urls.get(service) or default_url(service)
