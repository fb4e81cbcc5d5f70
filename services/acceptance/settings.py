"""Acceptance's settings."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class AcceptanceSettings(ServiceSettings):
    service: str = "acceptance"
    port: int = Field(default=8004, validation_alias="GOVIT_ACCEPTANCE_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_ACCEPTANCE_DATABASE_URL")
