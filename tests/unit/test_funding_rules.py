"""Funding's domain rules, pure: the caps, the O&M calendar, whom an event speaks for, and the
typed records stored as the JSON they always were — no servers needed."""

from __future__ import annotations

import datetime as dt

import pytest

from services.funding.domain import (
    Ask,
    Contract,
    FactOrder,
    FundedProject,
    Gate,
    GateState,
    Ledger,
    OmAsk,
    PaymentKind,
    Refused,
    WrongJurisdiction,
    basis_for,
    closed_reasons,
    needs,
    om_bases,
    om_refusals,
    required_for,
    within_limits,
)
from services.funding.domain.contracts import PaymentNode
from services.funding.domain.gates import GateOrdering
from services.funding.domain.projects import Settlement
from shared.contracts.acceptance import DataSharingDecided
from shared.policy import Reason, load_registry

POLICY = load_registry()


def project(jurisdiction: str = "zhonglou", approved_fen: int | None = 100) -> FundedProject:
    return FundedProject(
        id="p1",
        jurisdiction=jurisdiction,
        agency="a",
        title="平台",
        declared_amount_fen=120,
        approved=approved_fen is not None,
        approved_amount_fen=approved_fen,
    )


def contract(amount_fen: int = 80) -> Contract:
    nodes = (PaymentNode("竣工款", "completion", "50", 40), PaymentNode("尾款", "final_acceptance", "50", 40))
    return Contract("c1", "p1", "construction", "乙公司", amount_fen, nodes)


def test_a_request_beyond_the_approved_total_is_refused_with_the_article() -> None:
    ask = Ask(PaymentKind.CONSTRUCTION, 20, "进度款", "u")
    assert within_limits(POLICY, project(), ask, Ledger(committed_fen=80)) is None
    with pytest.raises(Refused) as refused:
        within_limits(POLICY, project(), ask, Ledger(committed_fen=81))
    (reason,) = refused.value.reasons
    assert reason.code == "exceeds_approved_total" and reason.articles == ("zhonglou §13",)
    assert "批复总投资 100 分" in reason.message


@pytest.mark.parametrize(
    ("jurisdiction", "approval", "plan"),
    [
        # shexian §15, bayingolin §15: 未纳入计划的项目不予审批、不予安排资金，不得未批先建
        ("shexian", ("shexian §15",), ("shexian §15",)),
        ("bayingolin", ("bayingolin §15",), ("bayingolin §15",)),
        # xunyang §8: 立项、可研批复后纳入年度投资计划，区财政局据此安排资金; §9: 未纳入的原则上不予同意建设
        ("xunyang", ("xunyang §8",), ("xunyang §8", "xunyang §9")),
        # lhasa §7: 市财政局根据审定结果安排预算; §6: 未纳入规划或实施方案的原则上不予审批
        ("lhasa", ("lhasa §7",), ("lhasa §6", "lhasa §7")),
    ],
)
def test_money_waits_for_the_approval_and_the_plan_each_by_its_article(
    jurisdiction: str, approval: tuple[str, ...], plan: tuple[str, ...]
) -> None:
    today = dt.date(2026, 8, 3)
    wanted = needs(POLICY, jurisdiction, PaymentKind.CONSTRUCTION)
    held = {r.code: r for r in closed_reasons(POLICY, jurisdiction, wanted, {}, today)}
    assert held["gate_closed:approval"].articles == approval
    assert held["gate_closed:plan"].articles == plan
    assert "项目尚未批复" in held["gate_closed:approval"].message
    assert "项目尚未列入年度计划" in held["gate_closed:plan"].message
    opened = {g: GateState("p1", g, True) for g in ("approval", "plan")}
    assert not {r.code for r in closed_reasons(POLICY, jurisdiction, wanted, opened, today)} & {
        "gate_closed:approval",
        "gate_closed:plan",
    }
    assert required_for(POLICY, jurisdiction)[Gate.APPROVAL]["construction"] == list(approval)
    # The approved total caps the money, on the article that funds a project on its approval.
    with pytest.raises(Refused) as refused:
        within_limits(
            POLICY, project(jurisdiction), Ask(PaymentKind.CONSTRUCTION, 101, "进度款", "u"), Ledger(0)
        )
    assert refused.value.reasons[0].articles == approval


def test_a_milestone_is_paid_within_its_node_and_the_final_within_the_contract() -> None:
    ask = Ask(PaymentKind.MILESTONE, 40, "竣工款", "u", contract_id="c1", milestone="竣工款")
    ledger = Ledger(committed_fen=0, construction=(contract(),), contract=contract())
    assert within_limits(POLICY, project(), ask, ledger) == "completion"
    with pytest.raises(Refused, match="将超过合同约定"):
        within_limits(
            POLICY, project(), ask, Ledger(0, (contract(),), contract=contract(), on_milestone_fen=1)
        )
    with pytest.raises(Refused, match="没有付款节点「预付款」"):
        within_limits(POLICY, project(), Ask(PaymentKind.MILESTONE, 1, "x", "u", "k", "c1", "预付款"), ledger)
    final = Ask(PaymentKind.FINAL, 41, "尾款", "u")
    with pytest.raises(Refused, match="尚无备案的施工合同"):
        within_limits(POLICY, project(), final, Ledger(committed_fen=0))
    taken = Ledger(0, (contract(),), on_construction_fen=40)
    assert taken.contract_room == 40
    with pytest.raises(Refused, match="余额 40 分"):
        within_limits(POLICY, project(), final, taken)


def test_bayingolin_takes_o_and_m_applications_in_the_third_quarter_for_the_next_year() -> None:
    funded = project("bayingolin")
    app = OmAsk(amount_fen=10, budget_year=2027, purpose="运维", by="u")
    codes = {r.code for r in om_refusals(POLICY, funded, {}, app, dt.date(2026, 3, 2))}
    assert "om_outside_window" in codes
    codes = {r.code for r in om_refusals(POLICY, funded, {}, app, dt.date(2026, 8, 3))}
    assert not {"om_outside_window", "om_wrong_year"} & codes
    later = OmAsk(amount_fen=10, budget_year=2028, purpose="运维", by="u")
    assert "om_wrong_year" in {r.code for r in om_refusals(POLICY, funded, {}, later, dt.date(2026, 8, 3))}


def test_lhasa_wants_the_free_period_end_and_an_evaluation_report() -> None:
    funded = project("lhasa")
    app = OmAsk(amount_fen=10, budget_year=2027, purpose="运维", by="u")
    codes = {r.code for r in om_refusals(POLICY, funded, {}, app, dt.date(2026, 3, 2))}
    assert {"om_free_period_missing", "om_evaluation_report_missing"} <= codes
    late = OmAsk(10, 2027, "运维", "u", free_maintenance_ends_on=dt.date(2027, 3, 1))
    assert "om_application_late" in {
        r.code for r in om_refusals(POLICY, funded, {}, late, dt.date(2026, 9, 1))
    }


def test_an_event_speaks_about_a_project_only_for_the_projects_jurisdiction() -> None:
    funded = project("lhasa")
    funded.hears(DataSharingDecided(project_id="p1", jurisdiction="lhasa", agency="a", decision="confirmed"))
    with pytest.raises(WrongJurisdiction, match="shexian"):
        funded.hears(
            DataSharingDecided(project_id="p1", jurisdiction="shexian", agency="a", decision="confirmed")
        )


def test_the_typed_records_are_stored_as_the_json_they_always_were() -> None:
    settled = Settlement(90, dt.date(2026, 5, 6), 80, 10, 0, "finance_review", dt.date(2026, 7, 31), "财政局")
    stored = settled.stored()
    assert stored == {
        "final_cost_fen": 90,
        "settled_on": "2026-05-06",
        "released_fen": 80,
        "surplus_fen": 10,
        "to_return_fen": 0,
        "route": "finance_review",
        "review_due_on": "2026-07-31",
        "by": "财政局",
    }
    assert Settlement.from_stored(stored) == settled
    node = PaymentNode("尾款", "final_acceptance", "12.5", 40)
    assert node.stored() == {
        "name": "尾款",
        "stage": "final_acceptance",
        "share_percent": "12.5",
        "amount_fen": 40,
    }
    assert PaymentNode.from_stored(node.stored()) == node
    state = GateState(project_id="p", gate="data_sharing", open=True)
    state.note(FactOrder("/govit/acceptance", 3, 17))
    assert state.ordering is not None
    assert state.ordering.stored() == {"sources": {"/govit/acceptance": 3}, "place": [17, 0]}
    assert GateOrdering.from_stored(state.ordering.stored()) == state.ordering


def test_data_sharing_is_a_gate_in_shexian_a_basis_in_bayingolin_and_nothing_in_lhasa() -> None:
    app = OmAsk(amount_fen=10, budget_year=2027, purpose="运维", by="u")
    today = dt.date(2026, 8, 3)

    def sharing(jurisdiction: str, gates: dict[str, GateState]) -> tuple[set[str], list[str]]:
        funded = project(jurisdiction)
        refused = {r.code for r in om_refusals(POLICY, funded, gates, app, today) if "data_sharing" in r.code}
        return refused, [
            b.message for b in om_bases(POLICY, jurisdiction, gates) if b.code == "basis:data_sharing"
        ]

    # shexian §39, §44(一): unconfirmed sharing withholds O&M funds.
    assert sharing("shexian", {}) == ({"gate_closed:data_sharing"}, [])
    # bayingolin §13: 重要依据 — shown with the decision, never a refusal.
    refused, bases = sharing("bayingolin", {})
    assert refused == set()
    assert bases == [
        "数据共享情况：尚无主管部门的确认记录。"
        "信息资源共享的完整性、时效性是确定运行维护经费的重要依据（bayingolin §13）"
    ]
    revoked = GateState("p1", "data_sharing", False, detail={"decision": "revoked", "reason": "目录未更新"})
    refused, bases = sharing("bayingolin", {"data_sharing": revoked})
    assert refused == set() and bases[0].startswith("数据共享情况：主管部门已撤销确认（目录未更新）")
    # lhasa §19 says nothing of O&M funds and data sharing.
    assert sharing("lhasa", {}) == (set(), [])
    assert basis_for(POLICY, "bayingolin")[Gate.DATA_SHARING] == {"om": ["bayingolin §13"]}
    assert basis_for(POLICY, "shexian")[Gate.DATA_SHARING] == {}


def test_zhonglou_28_withholds_om_funds_only_from_systems_found_unshared() -> None:
    app = OmAsk(amount_fen=10, budget_year=2027, purpose="运维", by="u")
    funded = project("zhonglou")
    codes = {r.code for r in om_refusals(POLICY, funded, {}, app, dt.date(2026, 8, 3))}
    assert "gate_closed:data_sharing" not in codes  # no confirmation step in zhonglou
    unshared = GateState("p1", "data_sharing", False, detail={"decision": "refused"})
    (reason,) = [
        r
        for r in om_refusals(POLICY, funded, {"data_sharing": unshared}, app, dt.date(2026, 8, 3))
        if r.code == "gate_closed:data_sharing"
    ]
    assert reason.articles == ("zhonglou §28",)


def test_zhonglou_28_the_deadline_binds_systems_in_use_on_it_and_never_a_classified_one() -> None:
    """zhonglou §28: 未于2023年9月底前…共享数据信息的系统(非涉密)，原则上下一年的维护经费一律不予核准."""
    from services.funding.domain.sharing import first_shared_on

    def refused(funded: FundedProject, gates: dict[str, GateState], year: int = 2024) -> dict[str, Reason]:
        app = OmAsk(amount_fen=10, budget_year=year, purpose="运维", by="u")
        return {r.code: r for r in om_refusals(POLICY, funded, gates, app, dt.date(2023, 11, 1))}

    accepted = {g: GateState("p1", g, True) for g in ("acceptance", "approval")}
    in_use = project("zhonglou")
    in_use.accepted_on = dt.date(2022, 6, 1)
    never = refused(in_use, accepted)["om_not_shared_by_deadline"]
    assert never.articles == ("zhonglou §28",) and never.in_principle
    assert (
        "2022-06-01" in never.message
        and "2023-09-30" in never.message
        and "尚无共享确认记录" in never.message
    )

    def shared(on: dt.date) -> dict[str, GateState]:
        confirmed = first_shared_on(None, "confirmed", on)
        return {
            **accepted,
            "data_sharing": GateState("p1", "data_sharing", True, detail={"shared_on": confirmed}),
        }

    assert (
        "至 2023-10-08 方经确认共享"
        in refused(in_use, shared(dt.date(2023, 10, 8)))["om_not_shared_by_deadline"].message
    )
    assert refused(in_use, shared(dt.date(2023, 9, 30))) == {}
    # The year of the deadline itself is not 下一年; a system put into use after the day is not bound by it.
    assert "om_not_shared_by_deadline" not in refused(in_use, accepted, year=2023)
    later = project("zhonglou")
    later.accepted_on = dt.date(2023, 10, 1)
    assert refused(later, accepted) == {}
    # (非涉密): a classified system meets neither the deadline nor a refused sharing decision.
    secret = project("zhonglou")
    secret.accepted_on, secret.classified = dt.date(2022, 6, 1), True
    unshared = {
        **accepted,
        "data_sharing": GateState("p1", "data_sharing", False, detail={"decision": "refused"}),
    }
    assert refused(secret, unshared) == {}
    in_use.accepted_on = dt.date(2023, 10, 1)
    assert set(refused(in_use, unshared)) == {"gate_closed:data_sharing"}
    # Other packs name no day; shexian's gate still binds a classified system (§44(一) has no such limit).
    shexian = project("shexian")
    shexian.accepted_on, shexian.classified = dt.date(2022, 6, 1), True
    assert "gate_closed:data_sharing" in refused(shexian, accepted)


def test_the_first_confirmation_is_the_day_the_data_was_shared() -> None:
    from services.funding.domain.sharing import first_shared_on, shared_on

    def state(on: str | None) -> GateState:
        return GateState("p1", "data_sharing", True, detail={"shared_on": on} if on else {})

    assert first_shared_on(None, "refused", dt.date(2023, 9, 1)) is None
    assert first_shared_on(None, "confirmed", dt.date(2023, 9, 1)) == "2023-09-01"
    assert first_shared_on(state("2023-09-01"), "confirmed", dt.date(2024, 1, 1)) == "2023-09-01"
    assert first_shared_on(state("2023-09-01"), "revoked", dt.date(2024, 1, 1)) == "2023-09-01"
    assert first_shared_on(state("2024-01-01"), "confirmed", dt.date(2023, 9, 1)) == "2023-09-01"
    assert shared_on(state(None)) is None


def test_shexian_44_3_binds_only_projects_that_are_not_classified() -> None:
    """shexian §44(三): 未纳入…全生命周期管理系统的非涉密项目，原则上不予安排运行维护经费."""
    from services.funding.domain import ProjectNotFound
    from services.funding.domain.om import unknown_project

    public = unknown_project(POLICY, "shexian", "nowhere")
    assert isinstance(public, Refused) and public.reasons[0].articles == ("shexian §44(三)",)
    secret = unknown_project(POLICY, "shexian", "nowhere", classified=True)
    assert isinstance(secret, ProjectNotFound) and not isinstance(secret, Refused)
    assert "涉密项目按国家有关保密规定管理" in str(secret) and "shexian §44(三)" in str(secret)
    assert isinstance(unknown_project(POLICY, "zhonglou", "nowhere", classified=True), ProjectNotFound)


def test_finance_departs_from_lhasa_20_only_on_the_record_and_only_from_what_it_qualifies() -> None:
    from services.funding.domain import Disbursement, DisbursementStatus, FundingError, InvalidState
    from services.funding.domain.om import decide
    from services.funding.domain.om import grant_by_exception as grant
    from shared.policy.principle import PrincipleException

    funded = project("lhasa")
    funded.accepted_on = dt.date(2026, 3, 2)
    evaluated = {
        "evaluation": GateState("p1", "evaluation", True, detail={"evaluated": True}),
        "approval": GateState("p1", "approval", True),
    }
    at = dt.datetime(2026, 8, 3, 2, tzinfo=dt.UTC)
    app = OmAsk(10, 2027, "运维", "u", free_maintenance_ends_on=dt.date(2027, 12, 31))
    denied = decide(POLICY, funded, evaluated, app, at)
    assert denied.status is DisbursementStatus.REJECTED
    (grace,) = denied.reasons
    assert grace.code == "om_within_grace_years" and grace.in_principle  # lhasa §20: 原则上三年内
    with pytest.raises(FundingError, match="须写明理由并注明文号"):
        grant(denied, [PrincipleException(grace.code, "", "", "财政局")], at)
    with pytest.raises(FundingError, match="没有可作例外的理由"):
        grant(denied, [PrincipleException("gate_closed:plan", "急需", "文", "财政局")], at)
    exception = PrincipleException(grace.code, "核心系统故障须专项维护", "拉财〔2026〕12号", "财政局")
    grant(denied, [exception], at)
    assert denied.status is DisbursementStatus.RELEASED and denied.om_key == "p1:2027"
    (recorded,) = [b for b in denied.bases or [] if b["code"].startswith("exception:")]
    assert recorded["code"] == "exception:om_within_grace_years" and "拉财〔2026〕12号" in recorded["message"]
    assert denied.events[-1].approved and ("lhasa §20",) in [b.articles for b in denied.events[-1].bases]
    with pytest.raises(InvalidState):
        grant(denied, [exception], at)
    assert (
        isinstance(denied, Disbursement)
        and denied.decided_reason
        and "拉财〔2026〕12号" in denied.decided_reason
    )


def test_the_latest_evaluation_is_shown_with_the_om_decision_where_the_text_makes_it_a_basis() -> None:
    # zhonglou §20, shexian §50, lhasa §22: 重要依据 — shown, never a refusal by itself.
    latest = {
        "evaluation": "post",
        "recorded_on": "2027-06-10",
        "serious_problems": ["数据未共享"],
        "rectified": False,
    }
    evaluated = GateState("p1", "evaluation", True, detail={"evaluated": True, "latest": latest})
    for jurisdiction, article in (
        ("zhonglou", "zhonglou §20"),
        ("shexian", "shexian §50"),
        ("lhasa", "lhasa §22"),
    ):
        (basis,) = [
            b
            for b in om_bases(POLICY, jurisdiction, {"evaluation": evaluated})
            if b.code == "basis:evaluation"
        ]
        assert basis.articles == (article,)
        assert basis.message.startswith(
            "评价结果：最近一次后评价（2027-06-10）发现严重问题 1 项（数据未共享），尚未整改到位"
        )
        (none,) = [b for b in om_bases(POLICY, jurisdiction, {}) if b.code == "basis:evaluation"]
        assert none.message.startswith("评价结果：尚无评价记录")
        assert basis_for(POLICY, jurisdiction)[Gate.EVALUATION] == {"om": [article]}
    assert [b for b in om_bases(POLICY, "xunyang", {"evaluation": evaluated})] == []  # xunyang says nothing
