"""Review's tables and unit of work."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.db import UnitOfWork

metadata = MetaData()


class ReviewUnitOfWork(UnitOfWork):
    async def __aenter__(self) -> ReviewUnitOfWork:
        await super().__aenter__()
        return self
