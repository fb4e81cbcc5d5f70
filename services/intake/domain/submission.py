"""申报 — whether a declaration may be made now, and for which plan year: the plan calendar
(zhonglou §6, xunyang §7, lhasa §7, bayingolin §9/§10), the agency's bars from later stages
(zhonglou §21, shexian §44, lhasa §24), the earlier project it must name (bayingolin §25), the
projects funded and approved above that are only reported (zhonglou §10, bayingolin §14), the
reason a project is not built on the shared platform (shexian §10), and what looks like one
project split under a threshold (shexian §12, flagged, not refused)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from services.intake.domain import facilities, standing
from services.intake.domain.cycle import Cycle, plan_cycle
from services.intake.domain.errors import InvalidDeclaration
from services.intake.domain.kinds import FundingSource
from services.intake.domain.projects import Project
from services.intake.domain.records import Bar, Judgement
from shared.policy import SUITE_DEFAULT, PolicyRegistry, Reason


@dataclass(frozen=True)
class Standing:
    """What the agency's other records say when it submits: its bars in force, the earlier
    project it names (loaded by id), and its other live declarations."""

    bars: Sequence[Bar] = ()
    predecessor: Project | None = None
    siblings: Sequence[Project] = field(default_factory=tuple)


def _cycle(policy: PolicyRegistry, project: Project, today: date) -> tuple[Cycle, Sequence[str]]:
    """The plan cycle, and the articles when the project is only reported (funded from above)."""
    from_above = policy.rule(project.jurisdiction, FROM_ABOVE)
    upper = project.funding_source is FundingSource.UPPER_LEVEL
    if upper and from_above.applies and from_above.params.get("timing") == "before_implementation":
        return Cycle(plan_year=project.requested_plan_year or today.year), from_above.articles
    cycle = plan_cycle(
        policy,
        project.jurisdiction,
        kind=project.kind.value,
        off_plan=project.off_plan,
        requested=project.requested_plan_year,
        today=today,
    )
    if upper:
        cycle = replace(cycle, notes=(*cycle.notes, _declared_as_any(policy, project.jurisdiction)))
    return cycle, ()


FROM_ABOVE = "intake.report_funds_from_above"


def _declared_as_any(policy: PolicyRegistry, jurisdiction: str) -> Reason:
    """Why a project funded from above is declared like any other: its article (xunyang §7:
    申报时应贯彻上述要求), or where the text says nothing of such projects, the suite's default."""
    if policy.rule(jurisdiction, FROM_ABOVE).applies:
        detail = "属上级转移支付资金安排的项目，申报时同样须满足本级项目的申报要求"
        return policy.refusal(jurisdiction, FROM_ABOVE, "upper_level_declared", detail)
    message = f"上级资金安排的项目，按本级项目申报（{SUITE_DEFAULT}）"
    return Reason(code="upper_level_declared", rule="", articles=(), message=message)


def _predecessor(
    policy: PolicyRegistry, project: Project, predecessor: Project | None
) -> tuple[list[Reason], list[Reason]]:
    """Refusals and flags about the earlier project the declaration names, or fails to name."""
    j, ref = project.jurisdiction, project.predecessor_acceptance_ref
    needs_accepted = standing.needs_accepted_predecessor(policy, j, project.kind.value, project.nature.value)
    if not project.predecessor_id:
        if not needs_accepted:
            return [], []
        return standing.predecessor_unnamed(policy, j, ref), standing.predecessor_outside(policy, j, ref)
    # Only the agency's own earlier projects can be named (nor is another's state revealed).
    if predecessor is None or predecessor.jurisdiction != j or predecessor.agency != project.agency:
        raise InvalidDeclaration(f"predecessor_id: 本单位没有项目 {project.predecessor_id}")
    if not needs_accepted:
        return [], []
    return standing.predecessor_refusal(policy, j, predecessor, predecessor.final_acceptance), []


def plan_year(policy: PolicyRegistry, project: Project, today: date) -> int:
    """The plan year a declaration submitted today is for (its siblings are that year's)."""
    return _cycle(policy, project, today)[0].plan_year


def judge(policy: PolicyRegistry, project: Project, found: Standing, today: date) -> Judgement:
    """Everything the pack says of submitting this draft today, every refusal at once."""
    j = project.jurisdiction
    cycle, record_only = _cycle(policy, project, today)
    bars = standing.barred(policy, j, project.nature.value, found.bars, today)
    # A bar the article qualifies with 原则上 (zhonglou §21) goes to the authority's screening.
    refusals = [*cycle.refusals, *(b for b in bars if not b.in_principle)]
    refusals += facilities.platform_unexplained(policy, j, project.on_platform, project.off_platform_reason)
    more, flags = _predecessor(policy, project, found.predecessor)
    return Judgement(
        plan_year=cycle.plan_year,
        refusals=[*refusals, *more],
        notes=cycle.notes,
        flags=[
            *standing.likely_splits(policy, j, project, found.siblings),
            *flags,
            *(b for b in bars if b.in_principle),
        ],
        review_batch=cycle.review_batch,
        record_only=record_only,
    )
