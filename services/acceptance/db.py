"""Acceptance's tables and unit of work."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.db import UnitOfWork

metadata = MetaData()


class AcceptanceUnitOfWork(UnitOfWork):
    async def __aenter__(self) -> AcceptanceUnitOfWork:
        await super().__aenter__()
        return self
