"""批复条件: the plan and the expert review an approval waits for, each refused by its own
article, and the articles the approval rests on (pure domain, no servers)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.intake.domain import ApprovalRefused, Project, ProjectKind, ProjectStatus
from services.intake.domain.approval import OnFile, approval_articles, approval_refusals, approve
from services.intake.domain.records import ApprovalTerms
from services.intake.domain.requirements import ProjectFacts, required_materials
from shared.contracts.intake import ProjectApproved
from shared.policy import load_registry

POLICY = load_registry()
AT = dt.datetime(2026, 7, 1, 2, tzinfo=dt.UTC)
AMOUNT = 200 * 1_000_000


def project(jurisdiction: str, status: ProjectStatus, **reviews: str) -> Project:
    return Project(
        id="p1",
        jurisdiction=jurisdiction,
        agency="某局",
        title="数据平台",
        kind=ProjectKind.CONSTRUCTION,
        amount_fen=AMOUNT,
        classified=False,
        status=status,
        declared_at=AT,
        declared_by="u",
        created_at=AT,
        plan_year=2027,
        reviews=dict(reviews),
    )


def everything(jurisdiction: str) -> dict[str, int]:
    """Every material the project could be asked for, each in the number asked."""
    facts = ProjectFacts(kind="construction", amount_fen=AMOUNT)
    return {m.material: m.min_count for m in required_materials(POLICY, jurisdiction, facts)}


def refused(p: Project) -> dict[str, tuple[tuple[str, ...], bool]]:
    reasons = approval_refusals(POLICY, p, everything(p.jurisdiction), frozenset())
    return {r.code: (r.articles, r.in_principle) for r in reasons}


def test_lhasa_approves_a_project_in_the_plan_once_its_review_passed() -> None:
    # lhasa §6: 未纳入发展规划或实施方案的项目，原则上不予审批; §7 the year's plan;
    # lhasa §11: 评审通过的，出具评审报告并下达批复文件.
    outside = project("lhasa", ProjectStatus.ACCEPTED)
    assert refused(outside) == {
        "not_in_plan": (("lhasa §6", "lhasa §7"), True),
        "review_not_passed": (("lhasa §11",), False),
    }
    revise = project("lhasa", ProjectStatus.IN_PLAN, feasibility="revise")
    assert refused(revise) == {"review_not_passed": (("lhasa §11",), False)}
    terms = ApprovalTerms("拉经信批〔2026〕3号", AMOUNT, "")
    with pytest.raises(ApprovalRefused):
        approve(POLICY, revise, terms, OnFile(everything("lhasa")), by="局", at=AT)
    passed = project("lhasa", ProjectStatus.IN_PLAN, feasibility="pass")
    assert refused(passed) == {}
    approve(POLICY, passed, terms, OnFile(everything("lhasa")), by="局", at=AT)
    (event,) = [e for e in passed.events if isinstance(e, ProjectApproved)]
    assert event.articles == ("lhasa §6", "lhasa §7", "lhasa §11")


def test_xunyang_approves_only_what_is_in_the_years_plan_and_asks_for_no_expert_review() -> None:
    # xunyang §8: 立项、可研批复后纳入年度投资计划; §9: 未纳入年度计划的项目，原则上不予同意建设.
    # xunyang §8 has the departments' 初审, not an expert review: none is waited for.
    outside = project("xunyang", ProjectStatus.ACCEPTED)
    assert refused(outside) == {"not_in_plan": (("xunyang §8", "xunyang §9"), True)}
    inside = project("xunyang", ProjectStatus.IN_PLAN)
    assert refused(inside) == {}
    assert approval_articles(POLICY, inside) == ("xunyang §8", "xunyang §9")
