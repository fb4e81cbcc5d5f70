"""Procurement's settings."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class ProcurementSettings(ServiceSettings):
    service: str = "procurement"
    port: int = Field(default=8003, validation_alias="GOVIT_PROCUREMENT_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_PROCUREMENT_DATABASE_URL")
