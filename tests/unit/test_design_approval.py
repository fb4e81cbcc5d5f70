"""shexian §20(一): two approvals for new and upgraded projects of 500万 and more — the 可研, then the
初步设计 — and the construction money waits for the second (pure domain, no servers)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.funding.domain import Gate, PaymentKind, needs
from services.intake.domain import ApprovalRefused, InvalidTransition, Project, ProjectKind, ProjectStatus
from services.intake.domain.design import DesignTerms, approve_design, required
from services.intake.domain.kinds import ProjectNature
from services.intake.domain.reviews import record_review
from services.review.domain.opening import after_feasibility
from shared.contracts.intake import DesignApproved, ProjectApproved
from shared.contracts.review import ReviewConcluded
from shared.policy import load_registry

POLICY = load_registry()
AT = dt.datetime(2026, 7, 1, 2, tzinfo=dt.UTC)
WAN = 1_000_000


def project(amount_wan: int, nature: ProjectNature = ProjectNature.NEW, *, off_plan: bool = False) -> Project:
    return Project(
        id="p1",
        jurisdiction="shexian",
        agency="歙县教育局",
        title="智慧教育",
        kind=ProjectKind.CONSTRUCTION,
        amount_fen=amount_wan * WAN,
        classified=False,
        status=ProjectStatus.APPROVED,
        declared_at=AT,
        declared_by="u",
        created_at=AT,
        nature=nature,
        off_plan=off_plan,
        plan_year=2027,
        approved_amount_fen=amount_wan * WAN,
    )


def test_which_projects_are_approved_twice_follows_the_text() -> None:
    assert required(POLICY, project(500), 500 * WAN)
    assert required(POLICY, project(600, ProjectNature.UPGRADE), 600 * WAN)
    assert not required(POLICY, project(499), 499 * WAN)
    assert required(POLICY, project(499), 520 * WAN)  # approved above the line: the larger amount
    assert not required(POLICY, project(600, ProjectNature.CONTINUED), 600 * WAN)  # 新建、升级类 only
    assert not required(POLICY, project(600, off_plan=True), 600 * WAN)  # §20(二): may be combined
    for other in ("zhonglou", "bayingolin", "xunyang", "lhasa"):
        p = project(900)
        p.jurisdiction = other
        assert not required(POLICY, p, 900 * WAN)


def _reviewed(p: Project, verdict: str = "pass") -> None:
    event = ReviewConcluded(
        project_id=p.id,
        jurisdiction=p.jurisdiction,
        case_id="c2",
        stage="preliminary_design",
        verdict=verdict,
    )
    record_review(p, event, AT)


def test_the_design_approval_wants_its_material_and_its_review_then_revises_the_total() -> None:
    p = project(600)
    with pytest.raises(InvalidTransition):
        approve_design(POLICY, p, DesignTerms("初设〔2026〕1号", None), {}, "局", AT)  # none awaited
    p.design_approval = {"required": True}
    with pytest.raises(ApprovalRefused) as refused:
        approve_design(POLICY, p, DesignTerms("初设〔2026〕1号", None), {}, "局", AT)
    assert [r.code for r in refused.value.reasons] == [
        "material_missing:preliminary_design",
        "review_not_passed",
    ]
    _reviewed(p)
    assert p.reviews["preliminary_design"] == "pass"
    approve_design(POLICY, p, DesignTerms("初设〔2026〕1号", 580 * WAN), {"preliminary_design": 1}, "局", AT)
    (event,) = p.events
    assert isinstance(event, DesignApproved)
    assert event.approved_amount_fen == 580 * WAN == p.approved_amount_fen
    assert event.articles == ("shexian §18", "shexian §20")
    approve_design(POLICY, p, DesignTerms("初设〔2026〕1号", 580 * WAN), {"preliminary_design": 1}, "局", AT)
    assert len(p.events) == 1  # a retry
    with pytest.raises(InvalidTransition):
        approve_design(POLICY, p, DesignTerms("初设〔2026〕2号", None), {"preliminary_design": 1}, "局", AT)


def test_construction_money_waits_for_the_design_gate_where_the_pack_has_two_approvals() -> None:
    def gates(jurisdiction: str, kind: PaymentKind) -> set[Gate]:
        return {n.gate for n in needs(POLICY, jurisdiction, kind)}

    assert Gate.DESIGN_APPROVAL in gates("shexian", PaymentKind.CONSTRUCTION)
    assert Gate.DESIGN_APPROVAL in gates("shexian", PaymentKind.FINAL)
    assert Gate.DESIGN_APPROVAL not in gates("shexian", PaymentKind.PREPARATORY)
    assert Gate.DESIGN_APPROVAL not in gates("zhonglou", PaymentKind.CONSTRUCTION)


def test_the_feasibility_approval_opens_the_design_review() -> None:
    approved = ProjectApproved(
        project_id="p1",
        jurisdiction="shexian",
        agency="歙县教育局",
        approved_amount_fen=600 * WAN,
        plan_year=2027,
        approval_number="可研〔2026〕1号",
        design_approval_required=True,
    )
    submission = after_feasibility(POLICY, approved)
    assert submission is not None and submission.stage == "preliminary_design"
    assert after_feasibility(POLICY, approved.model_copy(update={"design_approval_required": False})) is None
