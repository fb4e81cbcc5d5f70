"""Review's settings."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    service: str = "review"
    port: int = Field(default=8002, validation_alias="GOVIT_REVIEW_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_REVIEW_DATABASE_URL")
