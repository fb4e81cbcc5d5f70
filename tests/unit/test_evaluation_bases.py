"""Evaluation results as 重要依据 for next year's investment (zhonglou §20, shexian §50) — shown with
the agency's declarations, never refusing; lhasa §22 names O&M funds only (pure domain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.intake.domain.evaluations import SHOWN_LIMIT, bases
from shared.policy import load_registry

POLICY = load_registry()


@dataclass
class System:
    id: str
    title: str
    evaluation: dict[str, Any] | None


def kept(on: str, problems: tuple[str, ...] = (), rectified: bool = False) -> dict[str, Any]:
    return {
        "evaluation": "post",
        "recorded_on": on,
        "serious_problems": list(problems),
        "rectified": rectified,
    }


def test_the_agencys_latest_results_are_shown_newest_first_where_the_article_names_investment() -> None:
    systems = [
        System("a", "旧系统", kept("2025-03-01")),
        System("b", "新系统", kept("2026-05-01", ("数据未共享",))),
        System("c", "未评价", None),
    ]
    (shown,) = bases(POLICY, "shexian", systems)
    assert shown.code == "basis:evaluation" and shown.articles == ("shexian §50",)
    assert shown.message.index("新系统") < shown.message.index("旧系统")
    assert "数据未共享" in shown.message and "尚未整改到位" in shown.message and "未评价" not in shown.message
    assert not shown.in_principle


def test_no_results_is_said_and_lhasa_shows_nothing_at_intake() -> None:
    (none,) = bases(POLICY, "zhonglou", [])
    assert "尚无评价记录" in none.message and none.articles == ("zhonglou §20",)
    assert bases(POLICY, "lhasa", [System("a", "系统", kept("2026-01-01"))]) == []
    assert bases(POLICY, "bayingolin", []) == []


def test_only_the_most_recent_few_are_listed() -> None:
    many = [System(str(i), f"系统{i:02d}", kept(f"2026-01-{i + 1:02d}")) for i in range(SHOWN_LIMIT + 3)]
    (shown,) = bases(POLICY, "zhonglou", many)
    assert shown.message.count("系统") == SHOWN_LIMIT
    assert f"系统{SHOWN_LIMIT + 2:02d}" in shown.message and "系统00" not in shown.message
