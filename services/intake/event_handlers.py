"""Intake's handlers of the other stages' events: load the project the event is about, one domain
decision, commit. An event speaking for another jurisdiction than its project's is refused at
once (WrongJurisdiction → dead letter)."""

from __future__ import annotations

from datetime import date, timedelta

from services.intake.db import IntakeUnitOfWork
from services.intake.domain import Bar, Project, WrongJurisdiction, endings, evaluations, reviews
from shared.consume import HandlerContext, unprocessable_on
from shared.contracts import Event
from shared.contracts.acceptance import (
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    SecurityAttested,
)
from shared.contracts.procurement import TerminationRecommended
from shared.contracts.review import ReviewConcluded
from shared.db import utcnow
from shared.workdays import today_in_shanghai


async def _heard(uow: IntakeUnitOfWork, event: Event) -> Project | None:
    """The project the event is about, if intake knows it; an event speaking for another
    jurisdiction than the project's is refused (WrongJurisdiction, dead-lettered at once)."""
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is not None:
        project.hears(event)
    return project


@unprocessable_on(WrongJurisdiction)
async def record_review(uow: IntakeUnitOfWork, event: ReviewConcluded, ctx: HandlerContext) -> None:
    project = await _heard(uow, event)
    if project is not None:
        reviews.record_review(project, event, utcnow())


@unprocessable_on(WrongJurisdiction)
async def terminate(uow: IntakeUnitOfWork, event: TerminationRecommended, ctx: HandlerContext) -> None:
    project = await _heard(uow, event)
    if project is not None:
        recommended = endings.Recommendation(event.reason, event.articles, event.deadline, utcnow())
        endings.recommend_termination(project, recommended)


@unprocessable_on(WrongJurisdiction)
async def record_final_acceptance(
    uow: IntakeUnitOfWork, event: FinalAcceptanceConcluded, ctx: HandlerContext
) -> None:
    project = await _heard(uow, event)
    if project is not None:
        project.final_acceptance = "passed" if event.passed else "failed"
        project.record_decision(
            "final_acceptance", project.final_acceptance, "acceptance", utcnow(), note=str(event.concluded_on)
        )


async def _bar(uow: IntakeUnitOfWork, event: Event, bar: Bar | None, ground: str) -> None:
    """Impose the bar on the event's agency, or (None) lift the project's bar on that ground."""
    if bar is not None:
        await uow.bars.impose(bar)
    else:
        await uow.bars.lift(project_id=event.project_id, ground=ground, at=utcnow())


def _bar_of(event: DataSharingDecided | EvaluationRecorded | SecurityAttested, ground: str) -> Bar:
    return Bar.of(event, event.agency, ground, utcnow())


async def record_data_sharing(uow: IntakeUnitOfWork, event: DataSharingDecided, ctx: HandlerContext) -> None:
    unshared, duplicate = "data_not_shared", "duplicate_collection"
    bar = Bar.with_detail(_bar_of(event, unshared), event.reason)
    await _bar(uow, event, bar if event.decision != "confirmed" else None, unshared)
    bar = Bar.with_detail(_bar_of(event, duplicate), event.reason)
    await _bar(uow, event, bar if event.duplicate_collection else None, duplicate)


@unprocessable_on(WrongJurisdiction)
async def record_evaluation(uow: IntakeUnitOfWork, event: EvaluationRecorded, ctx: HandlerContext) -> None:
    # zhonglou §20, shexian §50: kept to be shown beside the agency's next declarations.
    project = await _heard(uow, event)
    if project is not None:
        project.evaluation = evaluations.latest(event, today_in_shanghai(ctx.now()))
    # zhonglou §21: the bar starts only once the rectification deadline has passed unfixed.
    ground = "evaluation_problems_unfixed"
    unfixed = bool(event.serious_problems) and not event.rectified
    due = event.rectification_due
    after_due: date | None = due + timedelta(days=1) if due is not None else None
    bar = Bar.with_detail(_bar_of(event, ground), "、".join(event.serious_problems), after_due)
    await _bar(uow, event, bar if unfixed else None, ground)


async def record_security(uow: IntakeUnitOfWork, event: SecurityAttested, ctx: HandlerContext) -> None:
    ground = "security_noncompliant" if event.attestation == "mlps" else "crypto_noncompliant"
    await _bar(uow, event, _bar_of(event, ground) if not event.compliant else None, ground)
