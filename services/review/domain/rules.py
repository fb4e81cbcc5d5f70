"""Review rules asked of the pack: panel composition, the conclusion, time limits, repeated failure.

- Panels (shexian §7, zhonglou §11, bayingolin §9, lhasa §11): size and required specialties
  per review stage, from `review.panel` (the regulations name the panel, not its size; the
  sizes in the packs are the authority's settings and are documented as such).
- Conclusion (`review.conclusion`): the majority of the panel's verdicts; without a majority
  for pass or fail the submission is to be revised.
- Time limits in working days (lhasa §11): first review 5 days after the materials arrive;
  report (pass) or written opinion (not passed) 2 days after the conclusion; revision 3 days
  after the written opinion (after the conclusion where the pack sets no opinion limit);
  second review 3 days after the revised materials arrive.
- Two failed reviews of one submission → the materials are redone from scratch (lhasa §11).
- Third-party review (shexian §21, bayingolin §9): at the stages `review.method` lists, the
  assessment is on the case before the panel is drawn (shexian §21: 第三方审查 first), or before
  the experts give their opinions where the pack says so (bayingolin §9: it assists the experts);
  no panel concludes without it there; elsewhere it is optional.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.review.domain.drawing import PanelSpec
from shared.policy import SUITE_DEFAULT, PolicyError, PolicyRegistry, Reason
from shared.workdays import Deadline, WorkingCalendar


class Verdict(StrEnum):
    PASS = "pass"  # 通过
    REVISE = "revise"  # 修改后再审
    FAIL = "fail"  # 不通过


class Clock(StrEnum):
    """Which time limit runs, named after the rule that sets it."""

    FIRST_REVIEW = "review.first_review_deadline"
    PASS_REPORT = "review.pass_report_deadline"
    FAIL_OPINION = "review.fail_opinion_deadline"
    REVISION = "review.revision_deadline"
    SECOND_REVIEW = "review.second_review_deadline"


@dataclass(frozen=True)
class TimeLimit:
    """A running time limit: which one, and the last day it is met."""

    clock: Clock
    due_on: dt.date


def has_panels(policy: PolicyRegistry, jurisdiction: str) -> bool:
    """Whether the jurisdiction's reviews are by an expert panel at all (xunyang §8: not)."""
    return policy.rule(jurisdiction, "review.panel").applies


def panel_articles(policy: PolicyRegistry, jurisdiction: str) -> tuple[str, ...]:
    """The articles behind a panel: its size and specialties, and the random draw where written."""
    draw = policy.rule(jurisdiction, "review.random_draw")
    cited = policy.rule(jurisdiction, "review.panel").articles + (draw.articles if draw.applies else ())
    return tuple(dict.fromkeys(cited))


def draw_method(policy: PolicyRegistry, jurisdiction: str) -> str:
    """How the panel was formed, and on what footing: 抽选 is written only where the pack cites it
    (shexian §7); elsewhere the random draw, like 回避 everywhere, is the suite's default. The pool
    drawn from is the article's where the pack cites one (zhonglou §4, shexian §7)."""
    draw = policy.rule(jurisdiction, "review.random_draw")
    avoidance = f"执行回避（申报、承建、监理、投标单位的专家不入选；{SUITE_DEFAULT}）"
    formed = f"随机抽选专家组：{draw.summary}" if draw.applies else "随机抽选专家组"
    return f"{formed}（{draw.cited}）；{pool_basis(policy, jurisdiction)}；{avoidance}"


def pool_basis(policy: PolicyRegistry, jurisdiction: str) -> str:
    """The pool the panel is drawn from and its footing (`review.expert_pool`): the article where the
    pack cites one, else the jurisdiction's own pool as the suite's default."""
    rule = policy.rule(jurisdiction, "review.expert_pool")
    pool = policy.expert_pool(jurisdiction)
    named = "本辖区专家库" if pool == jurisdiction else f"{pool} 专家库"
    return f"专家库：{rule.summary if rule.applies else named}（{rule.cited}）"


def conclusion_method(policy: PolicyRegistry, jurisdiction: str) -> str:
    """How the conclusion is reached, and on what footing: the pack's rule with its article, or
    the majority as the suite's default where no rule applies."""
    rule = policy.rule(jurisdiction, "review.conclusion")
    default = "评审结论按专家组多数意见形成，无多数意见的修改后再审"
    return f"{rule.summary if rule.applies else default}（{rule.cited}）"


def conclusion_articles(policy: PolicyRegistry, jurisdiction: str) -> tuple[str, ...]:
    """The articles the conclusion is cited with: none where the pack's rule does not apply."""
    rule = policy.rule(jurisdiction, "review.conclusion")
    return rule.articles if rule.applies else ()


def clock_articles(policy: PolicyRegistry, jurisdiction: str, clock: Clock) -> tuple[str, ...]:
    return policy.rule(jurisdiction, clock.value).articles


def screening_review(
    policy: PolicyRegistry, jurisdiction: str, kind: str | None = None
) -> tuple[str, tuple[str, ...]] | None:
    """The review stage a declaration admitted by screening goes to first — by the project's kind
    where the pack reviews kinds apart (bayingolin §9, §10) — with the articles asking for it
    (`funding.expert_review_required`); None where the pack asks for no expert review."""
    rule = policy.rule(jurisdiction, "funding.expert_review_required")
    stages = rule.params.get("stages") if rule.applies else None
    if not stages:
        return None
    by_kind = rule.params.get("screening_stage_by_kind") or {}
    return str(by_kind.get(kind, stages[0])), rule.articles


def panel_spec(policy: PolicyRegistry, jurisdiction: str, stage: str) -> PanelSpec:
    rule = policy.rule(jurisdiction, "review.panel")
    if not rule.applies:
        raise PolicyError(f"{jurisdiction}: {rule.summary}")
    stages = rule.params.get("stages", {})
    chosen = stages.get(stage, rule.param("default"))
    return PanelSpec(size=int(chosen["size"]), specialties=dict(chosen.get("specialties", {})))


def conclude(policy: PolicyRegistry, jurisdiction: str, verdicts: Sequence[Verdict]) -> Verdict:
    """The panel's conclusion from every member's verdict."""
    if not verdicts:
        raise ValueError("no verdicts to conclude from")
    rule = policy.rule(jurisdiction, "review.conclusion")
    # Where no rule of the pack applies, the majority is the suite's default, and nothing is cited.
    method = rule.params.get("method", "majority") if rule.applies else "majority"
    counts = Counter(verdicts)
    if method == "unanimous":
        return (
            Verdict.PASS
            if counts[Verdict.PASS] == len(verdicts)
            else (Verdict.FAIL if counts[Verdict.FAIL] * 2 > len(verdicts) else Verdict.REVISE)
        )
    if counts[Verdict.PASS] * 2 > len(verdicts):
        return Verdict.PASS
    if counts[Verdict.FAIL] * 2 > len(verdicts):
        return Verdict.FAIL
    return Verdict.REVISE


def due(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, clock: Clock, start: dt.date
) -> Deadline | None:
    """When the time limit ends, counted in working days from `start`; None where the pack sets none."""
    rule = policy.rule(jurisdiction, clock.value)
    if not rule.applies:
        return None
    return calendar.add_working_days(start, int(rule.param("working_days")))


def time_limit(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, clock: Clock, start: dt.date
) -> TimeLimit | None:
    """The time limit `clock` started on `start`; None where the pack sets none."""
    deadline = due(policy, calendar, jurisdiction, clock, start)
    return TimeLimit(clock, deadline.date) if deadline is not None else None


def after_conclusion(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    jurisdiction: str,
    verdict: Verdict,
    *,
    revising: bool,
    on: dt.date,
) -> tuple[Clock, Deadline] | None:
    """The time limit a conclusion starts: the report for a pass, the written opinion otherwise
    (lhasa §11); where the pack sets no opinion limit, a revision's own limit starts at once."""
    first = Clock.PASS_REPORT if verdict is Verdict.PASS else Clock.FAIL_OPINION
    for clock in (first, Clock.REVISION) if revising else (first,):
        deadline = due(policy, calendar, jurisdiction, clock, on)
        if deadline is not None:
            return clock, deadline
    return None


def overdue_reason(
    policy: PolicyRegistry, jurisdiction: str, clock: Clock, deadline: Deadline, today: dt.date
) -> Reason | None:
    """A reason citing the article when `today` is past the deadline."""
    if today <= deadline.date:
        return None
    detail = f"已超过期限 {deadline.label()}"
    return policy.refusal(jurisdiction, clock.value, f"overdue:{clock.name.lower()}", detail)


def must_resubmit(policy: PolicyRegistry, jurisdiction: str, failures: int) -> Reason | None:
    """After the pack's number of failed reviews, the materials must be redone (lhasa §11)."""
    rule = policy.rule(jurisdiction, "review.max_failures")
    if not rule.applies or failures < int(rule.param("max_count")):
        return None
    detail = f"本次送审材料已 {failures} 次评审未通过，须重新编制评审材料"
    return policy.refusal(jurisdiction, "review.max_failures", "resubmission_required", detail)


#: The steps of a review, in order, at which the third-party assessment may be required.
STEPS = ("draw", "opinion")


def third_party_review(
    policy: PolicyRegistry, jurisdiction: str, stage: str, step: str = "draw"
) -> Reason | None:
    """Why the case waits at `step` (the draw; the experts' opinions and the conclusion) for the
    third-party assessment, or None where the pack does not require it by then: shexian §21 before
    the draw, bayingolin §9 before the experts' opinions (the assessment assists them)."""
    rule = policy.rule(jurisdiction, "review.method")
    if not rule.applies or stage not in rule.params.get("third_party_review_stages", ()):
        return None
    before = str(rule.params.get("third_party_review_before", "draw"))
    if STEPS.index(step) < STEPS.index(before):
        return None
    detail = (
        "须先委托第三方机构开展专业审查，附上第三方专业审查意见后，方可组织专家论证评审并出具结论"
        if before == "draw"
        else "须引入第三方专业评估（如软件造价评估），附上评估意见后，专家方可出具评审意见和结论"
    )
    return policy.refusal(jurisdiction, "review.method", "third_party_review_missing", detail)
