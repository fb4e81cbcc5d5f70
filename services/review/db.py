"""Review's tables, mapping, repositories and unit of work.

The case's seats, candidates and reports are typed records in the domain and JSON lists in the
table, the same JSON as ever: the column types below convert on the way in and out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    event,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlalchemy.orm.attributes import instance_state

from services.review.domain import (
    CLOSED,
    Candidate,
    CaseStatus,
    Expert,
    ExpertStatus,
    PanelSeat,
    Report,
    ReviewCase,
)
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime

R = TypeVar("R")


class _Records(TypeDecorator[tuple[R, ...]], Generic[R]):
    """A JSON list of records: each stored by `stored`, read back by `loaded`."""

    impl = JSON
    cache_ok = True
    stored: Callable[[R], dict[str, Any]]
    loaded: Callable[[Mapping[str, Any]], R]

    def process_bind_param(self, value: Iterable[R] | None, dialect: Any) -> list[dict[str, Any]] | None:
        return None if value is None else [type(self).stored(r) for r in value]

    def process_result_value(self, value: list[dict[str, Any]] | None, dialect: Any) -> tuple[R, ...]:
        return tuple(type(self).loaded(r) for r in value or ())


class Seats(_Records[PanelSeat]):
    cache_ok = True
    stored = staticmethod(PanelSeat.stored)
    loaded = staticmethod(PanelSeat.from_stored)


class Candidates(_Records[Candidate]):
    cache_ok = True
    stored = staticmethod(Candidate.stored)
    loaded = staticmethod(Candidate.from_stored)


class Reports(_Records[Report]):
    cache_ok = True
    stored = staticmethod(Report.stored)
    loaded = staticmethod(Report.from_stored)


metadata = MetaData()
mapper = registry(metadata=metadata)

experts = Table(
    "experts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("employer", String(128), nullable=False, index=True),
    Column("title", String(64), nullable=False),
    Column("specialties", JSON, nullable=False),
    Column("status", Enum(ExpertStatus, native_enum=False, length=16), nullable=False, index=True),
    Column("status_reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("subject", String(128), nullable=True),
    # The pool (专家库) the expert is registered in; one person in two pools is two entries.
    Column("pool", String(32), nullable=False, index=True),
    UniqueConstraint("pool", "subject", name="uq_experts_pool_subject"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("parties", JSON, nullable=False),
    Column("status", Enum(CaseStatus, native_enum=False, length=16), nullable=False, index=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_by", String(128), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("round", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("seed", String(64), nullable=True),
    Column("candidates", Candidates, nullable=False),
    Column("seats", Seats, nullable=False),
    Column("declined", JSON, nullable=False),
    Column("clock", String(48), nullable=True),
    Column("due_on", Date, nullable=True, index=True),
    Column("overdue_notified", Boolean, nullable=False),
    Column("verdict", String(16), nullable=True),
    Column("concluded_at", UTCDateTime, nullable=True),
    Column("third_party_assessment", Text, nullable=False),
    Column("reference", String(64), nullable=True),
    Column("closed_reason", Text, nullable=True),
    Column("reports", Reports, nullable=False),
)

mapper.map_imperatively(Expert, experts)
mapper.map_imperatively(ReviewCase, cases)


@event.listens_for(ReviewCase, "load")
def _fresh_events(case: ReviewCase, _context: Any) -> None:
    case.events = []


class ExpertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, expert: Expert) -> None:
        self.session.add(expert)

    async def get(self, expert_id: str) -> Expert | None:
        return await self.session.get(Expert, expert_id, with_for_update=True)

    async def by_subject(self, pool: str, subject: str) -> Expert | None:
        found: Expert | None = await self.session.scalar(
            select(Expert).where(experts.c.pool == pool, experts.c.subject == subject)
        )
        return found

    async def pool(self, pool: str) -> list[Expert]:
        """Every expert of the pool, in id order (the draw records it as its candidate list)."""
        return list(
            await self.session.scalars(select(Expert).where(experts.c.pool == pool).order_by(experts.c.id))
        )


# open_for's two queries, built once (each event opening a case asks one of them)
_OPEN = select(ReviewCase).where(
    cases.c.project_id == bindparam("project_id"),
    cases.c.stage == bindparam("stage"),
    cases.c.status.not_in(CLOSED),
)
_OPEN_FOR_PROJECT = _OPEN.where(cases.c.reference.is_(None))
_OPEN_FOR_REFERENCE = _OPEN.where(cases.c.reference == bindparam("reference"))
# a consumer's batch: the open cases of its projects at once, kept in its read_ahead under this tag
_OPEN_CASES = "open cases"
_OPEN_OF_PROJECTS = (
    select(ReviewCase)
    .where(cases.c.project_id.in_(bindparam("projects", expanding=True)), cases.c.status.not_in(CLOSED))
    .order_by(cases.c.id)
)


class CaseRepository(AggregateRepository[ReviewCase]):
    model = ReviewCase

    async def preload(self, keys: Sequence[Any]) -> None:
        """The open cases of a consumer's batch of projects (`keys`), read at once: open_for then
        answers for these projects, with the cases the batch opens, without a statement."""
        wanted = sorted(set(keys))
        if not wanted:
            return
        for project_id in wanted:
            self.uow.read_ahead[(_OPEN_CASES, project_id)] = []
        for case in await self.session.scalars(_OPEN_OF_PROJECTS, {"projects": wanted}):
            self.uow.read_ahead[(_OPEN_CASES, case.project_id)].append(case)

    def add(self, aggregate: ReviewCase) -> None:
        super().add(aggregate)
        read = self.uow.read_ahead.get((_OPEN_CASES, aggregate.project_id))
        if read is not None:
            read.append(aggregate)

    async def open_for(self, project_id: str, stage: str, reference: str | None = None) -> ReviewCase | None:
        """The case still open for the project at the stage (and about the same change or application)."""
        read = self.uow.read_ahead.get((_OPEN_CASES, project_id))
        if read is not None:  # the batch's read, and what it opened since
            open_now = (c for c in read if c.status not in CLOSED and not instance_state(c).was_deleted)
            return next((c for c in open_now if c.stage == stage and c.reference == reference), None)
        params = {"project_id": project_id, "stage": stage}
        if reference is None:
            found: ReviewCase | None = await self.session.scalar(_OPEN_FOR_PROJECT, params)
        else:
            found = await self.session.scalar(_OPEN_FOR_REFERENCE, params | {"reference": reference})
        return found

    async def unsettled(self, project_id: str, reference: str | None = None) -> list[ReviewCase]:
        """The project's cases still awaiting something (about `reference` if given), locked: not yet
        concluded or cancelled, or concluded with a time limit still running (a report owed)."""
        query = select(ReviewCase).where(
            cases.c.project_id == project_id,
            cases.c.status != CaseStatus.CANCELLED,
            or_(cases.c.status != CaseStatus.CONCLUDED, cases.c.clock.is_not(None)),
        )
        if reference is not None:
            query = query.where(cases.c.reference == reference)
        return self.tracked(await self.session.scalars(query.order_by(cases.c.id).with_for_update()))

    async def running(self) -> list[str]:
        """The cases with a time limit running (not cancelled), by id."""
        query = select(cases.c.id).where(cases.c.clock.is_not(None), cases.c.status != CaseStatus.CANCELLED)
        return list(await self.session.scalars(query.order_by(cases.c.id)))

    async def past_due(self, today: dt.date, jurisdictions: frozenset[str] | None = None) -> list[ReviewCase]:
        """Cases past their time limit not yet notified (of these jurisdictions only, if given)."""
        query = select(ReviewCase).where(cases.c.due_on < today, cases.c.overdue_notified.is_(False))
        if jurisdictions is not None:
            query = query.where(cases.c.jurisdiction.in_(sorted(jurisdictions)))
        return self.tracked(await self.session.scalars(query.with_for_update(skip_locked=True)))


class ReviewUnitOfWork(UnitOfWork):
    read_with_batch = ("cases",)  # a consumer's batch reads its projects' open cases at once
    experts: ExpertRepository
    cases: CaseRepository

    async def __aenter__(self) -> ReviewUnitOfWork:
        await super().__aenter__()
        self.experts = ExpertRepository(self.session)
        self.cases = CaseRepository(self.session, self)
        return self
