"""监督整改: orders, the measures each jurisdiction's article lists, and what holds while they last
(zhonglou §21, shexian §49, lhasa §18) — pure domain, no servers."""

from __future__ import annotations

import datetime as dt

import pytest

from services.funding.domain import Gate, GateState, PaymentKind, closed_reasons, needs, om_needs
from services.funding.domain.gates import measures_in_force
from services.intake.domain import (
    InvalidTransition,
    PlanError,
    Project,
    ProjectKind,
    ProjectStatus,
)
from services.intake.domain.errors import MeasurePremature, OversightRefused
from services.intake.domain.orders import Oversight
from services.intake.domain.oversight import (
    MeasureTerms,
    OrderTerms,
    Review,
    lift_measure,
    order_rectification,
    review_rectification,
    take_measure,
)
from services.intake.domain.plans import check_ranking
from services.procurement.domain import Status
from services.procurement.domain.project import Project as Procured
from services.procurement.domain.suspension import ConstructionSuspended, hear, not_suspended
from shared.contracts.intake import (
    OversightMeasureLifted,
    OversightMeasureTaken,
    ProjectTerminated,
    RectificationOrdered,
)
from shared.policy import load_registry

POLICY = load_registry()
AT = dt.datetime(2026, 7, 1, 2, tzinfo=dt.UTC)
TODAY = dt.date(2026, 7, 1)
DUE = dt.date(2026, 7, 31)
AFTER = dt.date(2026, 8, 3)


def project(jurisdiction: str, status: ProjectStatus = ProjectStatus.APPROVED) -> Project:
    return Project(
        id="p1",
        jurisdiction=jurisdiction,
        agency="某局",
        title="数据平台",
        kind=ProjectKind.CONSTRUCTION,
        amount_fen=100,
        classified=False,
        status=status,
        declared_at=AT,
        declared_by="u",
        created_at=AT,
        plan_year=2027,
    )


def ordered(jurisdiction: str, status: ProjectStatus = ProjectStatus.APPROVED) -> tuple[Project, str]:
    p = project(jurisdiction, status)
    order = order_rectification(
        POLICY, p, OrderTerms("未共享数据", ("共享",), DUE, "整改〔2026〕1号"), "局", AT, TODAY
    )
    return p, order.id


def measure(
    p: Project, order_id: str, code: str, today: dt.date = AFTER, concurrence: str | None = None
) -> None:
    terms = MeasureTerms(order_id, code, f"处理〔2026〕{code}", "逾期未整改", concurrence)
    take_measure(POLICY, p, terms, "局", AT, today)


def test_an_order_names_its_deadline_and_article_and_again_is_no_change() -> None:
    p, order_id = ordered("shexian")
    (event,) = p.events
    assert isinstance(event, RectificationOrdered)
    assert event.due_on == DUE and event.articles == ("shexian §49",)
    again = order_rectification(
        POLICY, p, OrderTerms("未共享数据", (), DUE, "整改〔2026〕1号"), "局", AT, TODAY
    )
    assert again.id == order_id and len(p.events) == 1
    with pytest.raises(OversightRefused, match="期限"):
        order_rectification(POLICY, p, OrderTerms("问题", (), TODAY, "整改〔2026〕2号"), "局", AT, TODAY)
    assert not POLICY.rule("bayingolin", "oversight.rectification").applies
    with pytest.raises(OversightRefused):
        ordered("bayingolin")


def test_no_measure_before_the_deadline_unless_the_rectification_was_found_not_met() -> None:
    p, order_id = ordered("shexian")
    with pytest.raises(MeasurePremature) as premature:
        measure(p, order_id, "defer_funds", today=DUE)
    assert premature.value.reasons[0].articles == ("shexian §49",)
    measure(p, order_id, "defer_funds", today=AFTER)
    assert Oversight.of(p.oversight).active("defer_funds")

    q, other = ordered("shexian")
    review_rectification(q, Review(other, False, "认定〔2026〕1号", "仍未共享"), "局", AT)
    measure(q, other, "notify", today=TODAY)  # 整改后仍不符合要求: no need to wait
    assert [e.measure for e in q.events if isinstance(e, OversightMeasureTaken)] == ["notify"]
    with pytest.raises(InvalidTransition):
        review_rectification(q, Review(other, True, "认定〔2026〕2号", ""), "局", AT)


def test_xunyang_orders_rectification_within_a_time_limit_and_lists_no_measure_after_it() -> None:
    # xunyang §20: 对不符合要求的项目，项目建设单位要限期整改 — the article stops there.
    p, order_id = ordered("xunyang")
    (event,) = p.events
    assert isinstance(event, RectificationOrdered)
    assert event.due_on == DUE and event.articles == ("xunyang §20",)
    (kept,) = Oversight.of(p.oversight).orders
    assert kept.articles == ("xunyang §20",)
    with pytest.raises(OversightRefused) as refused:
        measure(p, order_id, "notify")
    (reason,) = refused.value.reasons
    assert reason.code == "measure_not_provided" and reason.articles == ("xunyang §20",)
    assert "可采取：无" in reason.message


def test_each_jurisdiction_offers_the_measures_its_article_lists_by_its_own_words() -> None:
    z, order_id = ordered("zhonglou")
    with pytest.raises(OversightRefused) as refused:
        measure(z, order_id, "defer_funds")  # zhonglou §21 stops O&M funds; it does not defer all money
    assert refused.value.reasons[0].code == "measure_not_provided"
    measure(z, order_id, "stop_om_funds")
    (taken,) = [e for e in z.events if isinstance(e, OversightMeasureTaken)]
    assert taken.label == "停止发放运维经费" and taken.articles == ("zhonglou §21",)

    lhasa, lhasa_order = ordered("lhasa")
    with pytest.raises(OversightRefused) as alone:
        measure(lhasa, lhasa_order, "defer_funds")
    assert alone.value.reasons[0].code == "concurrence_required"  # 会同资金安排部门 (lhasa §18)
    measure(lhasa, lhasa_order, "defer_funds", concurrence="拉财〔2026〕1号")
    assert Oversight.of(lhasa.oversight).active("defer_funds")[0].label == "暂缓安排投资计划"


def test_termination_as_a_measure_ends_the_project_with_the_document() -> None:
    p, order_id = ordered("shexian")
    measure(p, order_id, "terminate")
    assert p.status is ProjectStatus.TERMINATED
    (ended,) = [e for e in p.events if isinstance(e, ProjectTerminated)]
    assert ended.document_ref == "处理〔2026〕terminate" and ended.articles == ("shexian §49",)


def test_a_lasting_measure_holds_until_lifted_and_a_notice_cannot_be_lifted() -> None:
    p, order_id = ordered("shexian")
    measure(p, order_id, "defer_plan")
    measure(p, order_id, "notify")
    kept = Oversight.of(p.oversight)
    plan_held = kept.active("defer_plan")[0]
    notice = next(m for m in kept.measures if m.measure == "notify")
    with pytest.raises(InvalidTransition):
        lift_measure(p, notice.id, "解除〔2026〕1号", "", "局", AT)
    lift_measure(p, plan_held.id, "解除〔2026〕1号", "已整改", "局", AT)
    lift_measure(p, plan_held.id, "解除〔2026〕1号", "已整改", "局", AT)  # a retry
    assert not Oversight.of(p.oversight).active("defer_plan")
    assert len([e for e in p.events if isinstance(e, OversightMeasureLifted)]) == 1


def test_a_project_whose_plan_is_deferred_is_not_ranked_into_a_plan() -> None:
    p, order_id = ordered("shexian", ProjectStatus.ACCEPTED)
    measure(p, order_id, "defer_plan")
    with pytest.raises(PlanError, match=r"暂缓安排建设计划.*shexian §49"):
        check_ranking([p.id], {p.id: p}, "shexian", 2027)
    lift_measure(p, Oversight.of(p.oversight).active("defer_plan")[0].id, "解除〔2026〕1号", "", "局", AT)
    check_ranking([p.id], {p.id: p}, "shexian", 2027)


def _taken(jurisdiction: str, code: str, measure_id: str = "m1") -> OversightMeasureTaken:
    return OversightMeasureTaken(
        project_id="p1",
        jurisdiction=jurisdiction,
        order_id="o1",
        measure_id=measure_id,
        measure=code,  # type: ignore[arg-type]
        label="暂缓安排资金",
        document_ref="歙〔2026〕9号",
        articles=(f"{jurisdiction} §49",),
    )


def test_funding_holds_what_the_measure_names_where_the_article_provides_it() -> None:
    def gates(*wanted: object) -> set[Gate]:
        return {n.gate for n in wanted}  # type: ignore[attr-defined]

    assert Gate.FUNDS_DEFERRED in gates(*needs(POLICY, "shexian", PaymentKind.PREPARATORY))
    assert Gate.FUNDS_DEFERRED in gates(*om_needs(POLICY, "shexian"))
    assert Gate.FUNDS_DEFERRED not in gates(*needs(POLICY, "zhonglou", PaymentKind.CONSTRUCTION))
    assert Gate.OM_STOPPED in gates(*om_needs(POLICY, "zhonglou"))
    assert Gate.OM_STOPPED not in gates(*needs(POLICY, "zhonglou", PaymentKind.CONSTRUCTION))

    held = measures_in_force(None, _taken("shexian", "defer_funds"))
    state = GateState("p1", Gate.FUNDS_DEFERRED.value, False, detail={"measures": held})
    wanted = needs(POLICY, "shexian", PaymentKind.CONSTRUCTION)
    (reason,) = [
        r
        for r in closed_reasons(POLICY, "shexian", wanted, {"funds_deferred": state}, TODAY)
        if "funds" in r.code
    ]
    assert reason.articles == ("shexian §49",) and "歙〔2026〕9号" in reason.message
    lifted = OversightMeasureLifted(
        project_id="p1",
        jurisdiction="shexian",
        order_id="o1",
        measure_id="m1",
        measure="defer_funds",
        label="暂缓安排资金",
        document_ref="解除",
    )
    state.detail = {"measures": measures_in_force(state, lifted)}
    assert not [
        r
        for r in closed_reasons(POLICY, "shexian", wanted, {"funds_deferred": state}, TODAY)
        if "funds" in r.code
    ]


def test_procurement_records_no_start_or_completion_while_construction_is_suspended() -> None:
    p = Procured(
        id="p1", jurisdiction="shexian", agency="某局", title="平台", kind="construction",
        declared_fen=100, software_fen=0, status=Status.CONTRACTED,
    )  # fmt: skip
    not_suspended(p, "登记开工")
    hear(p, _taken("shexian", "suspend_construction", "m2"))
    hear(p, _taken("shexian", "defer_funds", "m3"))  # not procurement's
    with pytest.raises(ConstructionSuspended, match="shexian §49"):
        not_suspended(p, "登记开工")
    assert p.suspension is not None and list(p.suspension) == ["m2"]
    hear(
        p,
        OversightMeasureLifted(
            project_id="p1", jurisdiction="shexian", order_id="o1", measure_id="m2",
            measure="suspend_construction", label="暂停项目建设", document_ref="解除",
        ),
    )  # fmt: skip
    assert p.suspension is None
    not_suspended(p, "登记开工")
