"""Evaluation results as 重要依据 for the next year's investment (zhonglou §20 年度项目评价结果作为
下一年度安排项目投资和运行维护经费的重要依据; shexian §50): shown beside the screening of an
agency's declarations and in the plan's ranking, never a ground of refusal. Where the pack
names only the O&M funds (lhasa §22), nothing is shown here; funding shows it there.

Intake keeps each project's latest evaluation as acceptance announces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from shared.contracts.acceptance import EvaluationRecorded, evaluation_sentence
from shared.policy import PolicyRegistry, Reason

RULE = "funding.evaluation_drives_funding"
SHOWN_LIMIT = 5  # the agency's most recently evaluated projects shown


class Evaluated(Protocol):
    id: str
    title: str
    evaluation: dict[str, Any] | None


def latest(event: EvaluationRecorded, on: date) -> dict[str, Any]:
    """What intake keeps of an evaluation: which, when, its serious problems, whether fixed."""
    return {
        "evaluation": event.evaluation,
        "recorded_on": on.isoformat(),
        "serious_problems": list(event.serious_problems),
        "rectified": event.rectified,
    }


def informs_investment(policy: PolicyRegistry, jurisdiction: str) -> bool:
    rule = policy.rule(jurisdiction, RULE)
    return rule.is_basis and "construction" in (rule.params.get("informs") or ())


def bases(policy: PolicyRegistry, jurisdiction: str, evaluated: Iterable[Evaluated]) -> list[Reason]:
    """The agency's evaluation results, one 重要依据 beside the decision (none where the pack's
    article does not make them a basis for investment)."""
    if not informs_investment(policy, jurisdiction):
        return []
    done = [p for p in evaluated if p.evaluation]
    done.sort(key=lambda p: str((p.evaluation or {}).get("recorded_on", "")), reverse=True)
    said = [f"「{p.title}」{_sentence(p.evaluation or {})}" for p in done[:SHOWN_LIMIT]] or [
        "本单位已建项目尚无评价记录"
    ]
    facts = "本单位项目评价结果：" + "；".join(said)
    return [policy.basis(jurisdiction, RULE, "basis:evaluation", facts)]


def _sentence(kept: dict[str, Any]) -> str:
    problems = kept.get("serious_problems") or []
    return evaluation_sentence(
        str(kept["evaluation"]), str(kept["recorded_on"]), problems, bool(kept.get("rectified"))
    )
