"""形式审查 of a submitted declaration: every ground of the pack at once (zhonglou §8, shexian §13,
lhasa §7, xunyang §11, lhasa §8, xunyang §12–13, lhasa §26, lhasa §11, the checklist), and
declarations that look split (shexian §12), flagged for the authority either way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.intake.domain import evaluations, standing
from services.intake.domain.errors import ExceptionNotAllowed, InvalidTransition
from services.intake.domain.kinds import ADMITTED, ProjectStatus
from services.intake.domain.projects import Project
from services.intake.domain.records import Agency, Bar
from services.intake.domain.screening import AgencyLevel, Declaration, screen
from shared.policy import PolicyRegistry
from shared.policy.principle import ExceptionRefused, PrincipleException, except_in_principle
from shared.workdays import today_in_shanghai


@dataclass(frozen=True)
class Surroundings:
    """What screening looks at besides the declaration: its agency (locked: lhasa §7 counts its
    declarations), the agency's bars, the files provided, and its other live declarations."""

    agency: Agency
    bars: Sequence[Bar] = ()
    materials: Mapping[str, int] = field(default_factory=dict)
    siblings: Sequence[Project] = ()
    evaluated: Sequence[Project] = ()  # the agency's projects with an evaluation (zhonglou §20)


def screened_already(project: Project) -> bool:
    """True for a retried screening; refuses a project not (or no longer) awaiting it."""
    if project.status is ProjectStatus.DECLARED:
        return False
    if project.status in (ProjectStatus.ACCEPTED, ProjectStatus.REJECTED):
        return True
    raise InvalidTransition(f"项目处于 {project.status.value} 状态，不能进行形式审查")


def _declaration(project: Project, around: Surroundings) -> Declaration:
    agency, bars = around.agency, around.bars
    return Declaration(
        jurisdiction=project.jurisdiction,
        facts=project.facts(),
        agency_level=AgencyLevel(agency.level),
        deployment=project.deployment,
        deployment_explained=bool(project.deployment_explanation.strip()),
        shares_data_with_platform=project.shares_data_with_platform,
        assigned_from_above=project.assigned_from_above,
        xinchuang_compatible=project.xinchuang_compatible,
        has_security_plan=bool(project.security_plan.strip()),
        agency_duties_unmet=agency.duties_unmet or any(b.ground == "data_not_shared" for b in bars),
        materials=dict(around.materials),
        other_declarations_this_year=sum(1 for s in around.siblings if s.status in ADMITTED),
        network_links=dict(project.network_links),
        leases_lines=project.leases_lines,
        hardware=tuple(project.hardware),
        hardware_secure_controllable=project.hardware_secure_controllable,
        original_development=project.original_development,
        development_fees_separate=project.development_fees_separate,
    )


def review(
    policy: PolicyRegistry,
    project: Project,
    around: Surroundings,
    *,
    by: str,
    at: datetime,
    exceptions: Sequence[PrincipleException] = (),
) -> None:
    """Screen the project: accepted, or refused with every reason — but for the 原则上 ones the
    authority departs from (lhasa §7, §11), recorded with its reason and document."""
    decision = screen(_declaration(project, around), policy)
    # 原则上 bars (zhonglou §21) are the authority's to decide here; the others refused submission.
    bars = standing.barred(
        policy, project.jurisdiction, project.nature.value, around.bars, today_in_shanghai(at)
    )
    recommended = [*decision.reasons, *(b for b in bars if b.in_principle)]
    try:
        standing_reasons, made = except_in_principle(recommended, exceptions)
    except ExceptionRefused as exc:
        raise ExceptionNotAllowed(str(exc)) from exc
    flags = standing.likely_splits(policy, project.jurisdiction, project, around.siblings)
    shown = evaluations.bases(policy, project.jurisdiction, around.evaluated)  # 重要依据, not a ground
    project.screen(reasons=standing_reasons, flags=[*flags, *made, *shown], by=by, at=at)
