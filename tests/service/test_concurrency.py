"""Races between a request and the event that changes what it depends on, on both databases."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.funding import commands, event_handlers, handlers
from services.funding.db import FundingUnitOfWork, ProjectRepository, disbursements
from services.funding.domain import FundedProject, PaymentKind
from services.funding.main import SPEC
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.contracts.intake import ProjectApproved
from shared.db import create_engine, migrate, utcnow
from shared.policy import load_registry
from shared.workdays import WorkingCalendar


async def test_a_request_racing_the_approval_is_released_not_left_held(make_database: Any) -> None:
    # A request reads the project (not yet approved); before it commits, the approval event
    # is handled. Whatever the interleaving, the request must not stay held for ever.
    engine = create_engine(await make_database("funding"))
    await migrate(engine, Path(SPEC.migrations))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    policy = load_registry()
    context = HandlerContext(policy=policy, calendar=WorkingCalendar())
    project_id = uuid.uuid4().hex

    def uow() -> FundingUnitOfWork:
        return FundingUnitOfWork(sessions, source="/test", subject_prefix="t")

    async with uow() as setup:
        setup.projects.add(
            FundedProject(
                id=project_id, jurisdiction="shexian", agency="a", title="项目", declared_amount_fen=100
            )
        )
        await setup.commit()

    async def approve() -> None:
        async with uow() as u:
            await u.claim(f"approved-{project_id}", ProjectApproved.model_fields["type"].default, "funding")
            event = ProjectApproved(
                project_id=project_id, jurisdiction="shexian", approved_amount_fen=100, plan_year=2027
            )
            await event_handlers.open_approval_gate(u, event, context)
            await u.commit()

    approval: list[asyncio.Task[None]] = []

    class Racing(FundingUnitOfWork):
        async def __aenter__(self) -> Racing:
            await super().__aenter__()

            async def get_then_let_approval_run(project_id: str, *, for_update: bool = False) -> Any:
                project = await ProjectRepository.get(self.projects, project_id, for_update=for_update)
                approval.append(asyncio.create_task(approve()))
                await asyncio.wait(approval, timeout=1)  # in time if nothing serialises the two
                return project

            self.projects.get = get_then_let_approval_run  # type: ignore[method-assign,assignment]
            return self

    item, _ = await handlers.request_disbursement(
        Racing(sessions, source="/test", subject_prefix="t"),
        commands.RequestDisbursement(
            project_id=project_id,
            kind=PaymentKind.CONSTRUCTION,
            amount_fen=10,
            purpose="首付",
            by="u",
            scope=Scope(frozenset({"shexian"}), "a"),
        ),
        HandlerContext(policy=policy, calendar=WorkingCalendar(), now=utcnow),
    )
    await asyncio.wait_for(approval[0], 20)
    async with sessions() as session:
        status = await session.scalar(select(disbursements.c.status).where(disbursements.c.id == item.id))
    await engine.dispose()
    assert status == "released"
