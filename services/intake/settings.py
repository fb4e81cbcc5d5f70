"""Intake's settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service: str = "intake"
    port: int = Field(default=8001, validation_alias="GOVIT_INTAKE_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_INTAKE_DATABASE_URL")
    materials_dir: Path | None = Field(
        default=None,
        validation_alias="GOVIT_INTAKE_MATERIALS_DIR",
        description="uploaded declaration materials; default var/intake-materials",
    )
    max_upload_mib: int = Field(default=50, ge=1, validation_alias="GOVIT_INTAKE_MAX_UPLOAD_MIB")

    @property
    def materials_path(self) -> Path:
        return self.materials_dir or self.var_dir / "intake-materials"
