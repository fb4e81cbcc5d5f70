"""Funding's settings."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    service: str = "funding"
    port: int = Field(default=8005, validation_alias="GOVIT_FUNDING_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_FUNDING_DATABASE_URL")
