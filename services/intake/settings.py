"""Intake's settings."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service: str = "intake"
    port: int = Field(default=8001, validation_alias="GOVIT_INTAKE_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_INTAKE_DATABASE_URL")
