"""The consumer's verdicts: what is retried, for how long, and what is dead-lettered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.intake import event_handlers as intake_handlers
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import Declaration, Project, ProjectKind
from services.intake.main import SPEC
from shared.bus import Ack, DeadLetter, Delivery, Retry
from shared.consume import EventDispatcher, HandlerContext, TrustedSources, Unprocessable, unprocessable_on
from shared.contracts import encode, subject_for
from shared.contracts.intake import ProjectDeclared
from shared.contracts.review import ReviewConcluded
from shared.db import create_engine, migrate
from shared.metrics import Metrics
from shared.policy import load_registry
from shared.settings import GovitSettings
from shared.workdays import WorkingCalendar

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EVENT = ProjectDeclared(
    project_id="p1", jurisdiction="xunyang", agency="区教育局", title="智慧校园", kind="service", amount_fen=1
)


@pytest.fixture
async def dispatcher_for(make_database: Any) -> Any:
    engine = create_engine(await make_database("intake"))
    await migrate(engine, Path(SPEC.migrations))
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def build(
        handler: Any, *, max_deliver: int = 3, trusted: TrustedSources | None = None
    ) -> EventDispatcher:
        return EventDispatcher(
            durable="test",
            subscriptions={ProjectDeclared: handler},
            uow_factory=lambda: IntakeUnitOfWork(sessions, source="/govit/intake", subject_prefix="govit"),
            context=HandlerContext(policy=load_registry(), calendar=WorkingCalendar()),
            max_deliver=max_deliver,
            metrics=Metrics("test"),
            prefix="govit",
            trusted=trusted or TrustedSources(),
        )

    yield build
    await engine.dispose()


def delivery(raw: bytes, attempt: int = 1, subject: str | None = None) -> Delivery:
    return Delivery(subject or subject_for("govit", EVENT), raw, {}, attempt, 1)


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_max_deliver(dispatcher_for: Any) -> None:
    async def broken(uow: Any, event: Any, ctx: Any) -> None:
        raise ValueError("a bug")

    dispatch = dispatcher_for(broken, max_deliver=3)
    raw = encode(EVENT, source="/govit/intake")
    assert isinstance(await dispatch(delivery(raw, attempt=1)), Retry)
    assert isinstance(await dispatch(delivery(raw, attempt=2)), Retry)
    verdict = await dispatch(delivery(raw, attempt=3))
    assert isinstance(verdict, DeadLetter) and "a bug" in verdict.reason


async def test_while_the_database_is_away_an_event_is_retried_beyond_max_deliver(dispatcher_for: Any) -> None:
    async def storage_down(uow: Any, event: Any, ctx: Any) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))

    dispatch = dispatcher_for(storage_down, max_deliver=3)
    verdict = await dispatch(delivery(encode(EVENT, source="/govit/intake"), attempt=50))
    assert isinstance(verdict, Retry) and verdict.delay > 0


async def test_an_unprocessable_event_is_dead_lettered_at_once(dispatcher_for: Any) -> None:
    async def refuse(uow: Any, event: Any, ctx: Any) -> None:
        raise Unprocessable("never")

    verdict = await dispatcher_for(refuse)(delivery(encode(EVENT, source="/govit/intake")))
    assert isinstance(verdict, DeadLetter)


async def test_a_handler_marks_which_of_its_errors_no_redelivery_cures(dispatcher_for: Any) -> None:
    class Invalid(Exception):
        pass

    class NotYet(Exception):
        pass

    @unprocessable_on(Invalid)
    async def invalid(uow: Any, event: Any, ctx: Any) -> None:
        raise Invalid("项目已关闭")

    @unprocessable_on(Invalid)
    async def not_yet(uow: Any, event: Any, ctx: Any) -> None:
        raise NotYet("项目尚未申报")

    raw = encode(EVENT, source="/govit/intake")
    verdict = await dispatcher_for(invalid)(delivery(raw))
    assert isinstance(verdict, DeadLetter) and verdict.reason == "Unprocessable: Invalid: 项目已关闭"
    assert isinstance(await dispatcher_for(not_yet)(delivery(raw)), Retry)


async def test_an_event_on_the_wrong_subject_or_of_an_unknown_jurisdiction_is_dead_lettered(
    dispatcher_for: Any,
) -> None:
    calls: list[Any] = []

    async def record(uow: Any, event: Any, ctx: Any) -> None:
        calls.append(event)

    dispatch = dispatcher_for(record)
    raw = encode(EVENT, source="/govit/intake")
    elsewhere = subject_for("govit", EVENT.model_copy(update={"project_id": "p2"}))
    assert isinstance(await dispatch(delivery(raw, subject=elsewhere)), DeadLetter)
    atlantis = json.loads(raw)
    atlantis["jurisdiction"] = atlantis["data"]["jurisdiction"] = "atlantis"
    forged = EVENT.model_copy(update={"jurisdiction": "atlantis"})
    verdict = await dispatch(delivery(json.dumps(atlantis).encode(), subject=subject_for("govit", forged)))
    assert isinstance(verdict, DeadLetter) and "atlantis" in verdict.reason
    assert calls == []


async def test_the_second_delivery_of_a_handled_event_changes_nothing(dispatcher_for: Any) -> None:
    calls: list[Any] = []

    async def record(uow: Any, event: Any, ctx: Any) -> None:
        calls.append(event)

    dispatch = dispatcher_for(record)
    raw = encode(EVENT, source="/govit/intake", event_id="once")
    assert isinstance(await dispatch(delivery(raw)), Ack)
    assert isinstance(await dispatch(delivery(raw, attempt=2)), Ack)
    assert calls == [EVENT]


async def test_an_event_is_believed_only_from_its_own_producer_or_a_configured_source(
    dispatcher_for: Any,
) -> None:
    handled: list[str] = []

    async def record(uow: Any, event: Any, ctx: Any) -> None:
        handled.append(ctx.envelope.source)

    platform = "urn:gov:xunyang:declaration-platform"
    dispatch = dispatcher_for(
        record, trusted=TrustedSources({"govit.intake.project_declared.v1": {platform: ["xunyang"]}})
    )
    forged = await dispatch(delivery(encode(EVENT, source="urn:somewhere:else", event_id="e1")))
    assert isinstance(forged, DeadLetter), forged
    assert "UntrustedSource" in forged.reason and "urn:somewhere:else" in forged.reason
    assert "/govit/intake" in forged.reason and platform in forged.reason  # what would be believed
    assert isinstance(await dispatch(delivery(encode(EVENT, source=platform, event_id="e2"))), Ack)
    assert isinstance(await dispatch(delivery(encode(EVENT, source="/govit/intake", event_id="e3"))), Ack)
    assert handled == [platform, "/govit/intake"]  # the untrusted one changed nothing

    anywhere = dispatcher_for(record, trusted=TrustedSources({"*": {"urn:gov:hub": ["*"]}}))
    assert isinstance(await anywhere(delivery(encode(EVENT, source="urn:gov:hub", event_id="e4"))), Ack)
    # The suite's other services are not producers of this type.
    assert isinstance(
        await anywhere(delivery(encode(EVENT, source="/govit/funding", event_id="e5"))), DeadLetter
    )


async def test_a_trusted_system_speaks_only_for_the_jurisdictions_named_for_it(dispatcher_for: Any) -> None:
    handled: list[str] = []

    async def record(uow: Any, event: Any, ctx: Any) -> None:
        handled.append(event.jurisdiction)

    platform = "urn:gov:xunyang:declaration-platform"
    dispatch = dispatcher_for(
        record, trusted=TrustedSources({"govit.intake.project_declared.v1": {platform: ["xunyang"]}})
    )
    # The same system, trusted for 浔阳区, declares a project of 拉萨市.
    lhasa = EVENT.model_copy(update={"jurisdiction": "lhasa", "project_id": "p9"})
    verdict = await dispatch(
        delivery(encode(lhasa, source=platform, event_id="x1"), subject=subject_for("govit", lhasa))
    )
    assert isinstance(verdict, DeadLetter), verdict
    assert "UntrustedSource" in verdict.reason and "'lhasa'" in verdict.reason and "xunyang" in verdict.reason
    assert isinstance(await dispatch(delivery(encode(EVENT, source=platform, event_id="x2"))), Ack)
    # The suite's own producer speaks for every jurisdiction.
    own = await dispatch(
        delivery(encode(lhasa, source="/govit/intake", event_id="x3"), subject=subject_for("govit", lhasa))
    )
    assert isinstance(own, Ack)
    assert handled == ["xunyang", "lhasa"]


async def test_an_event_dated_beyond_the_consumers_clock_is_dead_lettered(dispatcher_for: Any) -> None:
    handled: list[str] = []

    async def record(uow: Any, event: Any, ctx: Any) -> None:
        handled.append(ctx.envelope.id)

    dispatch = dispatcher_for(record)
    now = datetime.now(UTC)
    verdict = await dispatch(
        delivery(encode(EVENT, source="/govit/intake", event_id="f1", time=datetime(2099, 1, 1, tzinfo=UTC)))
    )
    assert isinstance(verdict, DeadLetter) and verdict.reason.startswith("FutureDated"), verdict
    assert "2099-01-01" in verdict.reason
    # Within the allowance (five minutes by default) a clock running a little fast is tolerated.
    slightly = encode(EVENT, source="/govit/intake", event_id="f2", time=now + timedelta(minutes=4))
    assert isinstance(await dispatch(delivery(slightly)), Ack)
    beyond = encode(EVENT, source="/govit/intake", event_id="f3", time=now + timedelta(minutes=6))
    assert isinstance(await dispatch(delivery(beyond)), DeadLetter)
    assert handled == ["f2"]


def test_trusted_sources_must_name_their_jurisdictions_and_never_the_suites_own() -> None:
    with pytest.raises(ValidationError, match="jurisdictions it may speak for"):
        GovitSettings(trusted_sources={"*": ["urn:gov:hub"]})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="suite's own source"):
        GovitSettings(trusted_sources={"*": {"/govit/intake": ["*"]}})
    with pytest.raises(ValidationError, match="name the jurisdictions"):
        GovitSettings(trusted_sources={"*": {"urn:gov:hub": []}})
    settings = GovitSettings(trusted_sources={"*": {"urn:gov:hub": ["lhasa"]}})
    assert settings.trusted_sources == {"*": {"urn:gov:hub": ["lhasa"]}}


async def test_intake_dead_letters_at_once_an_event_speaking_for_another_jurisdiction(
    make_database: Any,
) -> None:
    # A review conclusion naming shexian for a xunyang project would record a verdict the
    # project's own panel never gave; no redelivery cures it. One for a project intake does
    # not know is acknowledged and changes nothing, as before.
    engine = create_engine(await make_database("intake"))
    await migrate(engine, Path(SPEC.migrations))
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def uow() -> IntakeUnitOfWork:
        return IntakeUnitOfWork(sessions, source="/govit/intake", subject_prefix="govit")

    async with uow() as work:
        declared = Declaration(title="智慧校园", kind=ProjectKind.SERVICE, amount_fen=1)
        project = Project.draft(
            jurisdiction="xunyang", agency="区教育局", declaration=declared, by="u", at=NOW
        )
        work.projects.add(project)
        await work.commit()
    dispatch = EventDispatcher(
        durable="intake",
        subscriptions={ReviewConcluded: intake_handlers.record_review},
        uow_factory=uow,
        context=HandlerContext(policy=load_registry(), calendar=WorkingCalendar()),
        max_deliver=3,
        metrics=Metrics("test"),
        prefix="govit",
    )

    def concluded(project_id: str, jurisdiction: str) -> Delivery:
        event = ReviewConcluded(
            project_id=project_id,
            jurisdiction=jurisdiction,
            case_id="c1",
            stage="declaration",
            verdict="pass",
        )
        return Delivery(subject_for("govit", event), encode(event, source="/govit/review"), {}, 1, 1)

    verdict = await dispatch(concluded(project.id, "shexian"))
    assert isinstance(verdict, DeadLetter), verdict
    assert verdict.reason.startswith("Unprocessable: WrongJurisdiction: ") and "xunyang" in verdict.reason
    assert isinstance(await dispatch(concluded("unknown", "xunyang")), Ack)
    async with uow() as work:
        kept = await work.projects.get(project.id)
        assert kept is not None and kept.reviews == {}
    await engine.dispose()
