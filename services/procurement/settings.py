"""Procurement's settings."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class ProcurementSettings(ServiceSettings):
    service: str = "procurement"
    port: int = Field(default=8003, validation_alias="GOVIT_PROCUREMENT_PORT")
    database_url: str | None = Field(default=None, validation_alias="GOVIT_PROCUREMENT_DATABASE_URL")
    ocid_prefix: str = Field(
        default="ocds-govit",
        pattern=r"^ocds-[A-Za-z0-9]+$",
        validation_alias="GOVIT_PROCUREMENT_OCID_PREFIX",
        description="OCDS 发布者前缀：向 Open Contracting Partnership 登记的 ocds-xxxxxx；默认值仅供开发",
    )
    ocds_license: str | None = Field(
        default=None,
        validation_alias="GOVIT_PROCUREMENT_OCDS_LICENSE",
        description="OCDS 发布包所用的数据许可（URL），如 https://creativecommons.org/licenses/by/4.0/",
    )
