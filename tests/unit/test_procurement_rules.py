"""Procurement's rules as pure functions: change paths, supervision, filing limits and deadlines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.procurement.domain import (
    ChangeFigures,
    Due,
    Facts,
    Ground,
    Path,
    ProcurementError,
    deadline_message,
    deadlines,
    filing_due,
    route_change,
    security_test_required,
    split_milestones,
    supervision_required,
)
from shared.policy import PolicyRegistry, load_registry
from shared.workdays import WorkingCalendar

POLICY = load_registry()
CALENDAR = WorkingCalendar()
WAN = 1_000_000  # 1万元 in fen


def route(j: str, **kw: object) -> tuple[Path, tuple[str, ...], list[str]]:
    args: dict[str, object] = {
        "approved_fen": 100 * WAN,
        "prior_overrun_fen": 0,
        "prior_adjusted_fen": 0,
        "total_delta_fen": 0,
        "adjustment_fen": 0,
        "goal_changed": False,
        "ground": Ground.OPTIMISATION,
        **kw,
    }
    r = route_change(POLICY, j, ChangeFigures(**args))  # type: ignore[arg-type]
    return r.path, r.approvers, [a for reason in r.reasons for a in reason.articles] or list(r.articles)


@pytest.mark.parametrize("j, article", [("shexian", "shexian §38"), ("lhasa", "lhasa §16")])
def test_a_unit_files_an_adjustment_within_15_percent_and_the_total_with_a_listed_ground(
    j: str, article: str
) -> None:
    assert route(j, adjustment_fen=15 * WAN) == (Path.FILE, (), [article])
    path, approvers, cited = route(j, adjustment_fen=15 * WAN + 1)
    assert (path, approvers, cited) == (Path.APPROVAL, ("authority",), [article])
    assert route(j, adjustment_fen=WAN, ground=None)[0] is Path.APPROVAL
    assert route(j, adjustment_fen=WAN, goal_changed=True)[0] is Path.APPROVAL
    assert route(j, adjustment_fen=WAN, total_delta_fen=1)[0] is Path.APPROVAL


def test_lhasa_adds_up_the_absolute_adjustments_shexian_looks_at_each_change() -> None:
    earlier = {"prior_adjusted_fen": 10 * WAN, "adjustment_fen": 10 * WAN}
    assert route("lhasa", **earlier)[0] is Path.APPROVAL
    assert route("shexian", **earlier)[0] is Path.FILE


def test_zhonglou_sends_major_changes_and_overruns_to_approval_and_10_percent_over_to_reapproval() -> None:
    assert route("zhonglou", total_delta_fen=9 * WAN) == (Path.APPROVAL, ("authority",), ["zhonglou §14"])
    assert route("zhonglou", total_delta_fen=10 * WAN)[0] is Path.REAPPROVAL  # 10%（含）
    assert route("zhonglou", prior_overrun_fen=6 * WAN, total_delta_fen=4 * WAN)[0] is Path.REAPPROVAL
    assert route("zhonglou", total_delta_fen=-20 * WAN)[0] is Path.FILE  # a cut, not major: recorded
    assert route("zhonglou", total_delta_fen=-20 * WAN, major=True)[0] is Path.APPROVAL


def test_bayingolin_needs_the_authority_and_finance_and_xunyang_the_authority() -> None:
    assert route("bayingolin", adjustment_fen=1) == (
        Path.APPROVAL,
        ("authority", "finance"),
        ["bayingolin §22"],
    )
    # xunyang §15: the approved content is kept strictly; no change is merely filed.
    assert route("xunyang", total_delta_fen=50 * WAN) == (Path.APPROVAL, ("authority",), ["xunyang §15"])


@pytest.mark.parametrize(
    "j, below, at",
    [("zhonglou", 30 * WAN - 1, 30 * WAN), ("bayingolin", 100 * WAN - 1, 100 * WAN), ("shexian", None, 1)],
)
def test_supervision_follows_each_packs_threshold(j: str, below: int | None, at: int) -> None:
    if below is not None:
        assert not supervision_required(POLICY, j, below)
    assert supervision_required(POLICY, j, at)


def test_zhonglou_wants_a_security_test_of_developed_software_only() -> None:
    assert security_test_required(POLICY, "zhonglou", 1)
    assert not security_test_required(POLICY, "zhonglou", 0)
    assert not security_test_required(POLICY, "shexian", 10 * WAN)


def test_bayingolin_files_contracts_within_7_working_days_across_national_day() -> None:
    # 2026-09-28 signed: 9/29, 9/30, 10/8, 10/9, 10/10 (调休 Saturday), 10/12, 10/13.
    assert filing_due(POLICY, CALENDAR, "bayingolin", dt.date(2026, 9, 28)) == dt.date(2026, 10, 13)
    assert filing_due(POLICY, CALENDAR, "shexian", dt.date(2026, 9, 28)) is None  # §31: filing, no limit


def test_a_limit_on_a_rest_day_ends_on_the_next_working_day() -> None:
    assert CALENDAR.last_day(dt.date(2026, 10, 1)) == dt.date(2026, 10, 8)
    assert CALENDAR.last_day(dt.date(2026, 10, 10)) == dt.date(2026, 10, 10)  # 调休 working Saturday


def by_key(found: list[Due]) -> dict[str, Due]:
    return {d.key: d for d in found}


def test_bayingolin_plan_deadlines_run_from_the_plan_and_the_contract_one_recommends_termination() -> None:
    facts = Facts(jurisdiction="bayingolin", plan_issued_on=dt.date(2026, 3, 16))
    found = by_key(deadlines(POLICY, CALENDAR, facts, dt.date(2026, 7, 28)))
    assert found["implementation_plan"].due_on == dt.date(2026, 4, 16)
    assert found["start"].due_on == dt.date(2026, 4, 16) and not found["start"].terminate
    assert found["contract"].due_on == dt.date(2026, 7, 16) and found["contract"].terminate
    assert all(d.missed(dt.date(2026, 7, 28)) for d in found.values())
    assert not found["contract"].missed(dt.date(2026, 7, 16))  # the last day itself is in time
    signed = Facts(
        jurisdiction="bayingolin", plan_issued_on=dt.date(2026, 3, 16), contract_signed_on=dt.date(2026, 5, 1)
    )
    assert by_key(deadlines(POLICY, CALENDAR, signed, dt.date(2026, 7, 20)))["contract"].met


def test_bayingolin_starts_implementation_with_its_plan_or_procurement_zhonglou_only_substantively() -> None:
    """bayingolin §16 启动实施 within a month, while §21 gives the contract four months: the
    implementation plan or procurement begun counts; zhonglou §17's 实质性启动 needs a
    construction contract or construction."""
    plan = dt.date(2026, 3, 16)
    for started in (
        {"implementation_plan_on": dt.date(2026, 4, 10)},
        {"procurement_started_on": dt.date(2026, 4, 16)},
        {"contract_signed_on": dt.date(2026, 4, 1)},
    ):
        facts = Facts(jurisdiction="bayingolin", plan_issued_on=plan, **started)  # type: ignore[arg-type]
        assert by_key(deadlines(POLICY, CALENDAR, facts, dt.date(2026, 5, 1)))["start"].met, started
    late = Facts(jurisdiction="bayingolin", plan_issued_on=plan, procurement_started_on=dt.date(2026, 4, 17))
    start = by_key(deadlines(POLICY, CALENDAR, late, dt.date(2026, 5, 1)))["start"]
    assert not start.met
    said = deadline_message(POLICY, "bayingolin", start)
    assert "启动实施（报送实施方案、启动采购、签订施工合同或开工）" in said
    begun = dt.date(2026, 3, 10)
    zhonglou = Facts(jurisdiction="zhonglou", approved_on=dt.date(2026, 3, 2), procurement_started_on=begun)
    start = by_key(deadlines(POLICY, CALENDAR, zhonglou, dt.date(2026, 7, 1)))["start"]
    assert not start.met and "实质性启动（签订施工合同或开工）" in deadline_message(POLICY, "zhonglou", start)


def with_filing_limit(working_days: int) -> PolicyRegistry:
    """The packs with bayingolin's §18 filing limit set to another number of working days."""
    pack = POLICY["bayingolin"]
    filing = pack.rule("procurement.contract_filing")
    rules = {
        **pack.rules,
        "procurement.contract_filing": filing.model_copy(update={"params": {"working_days": working_days}}),
    }
    packs = {code: POLICY[code] for code in POLICY.codes}
    return PolicyRegistry({**packs, "bayingolin": pack.model_copy(update={"rules": rules})})


def test_bayingolin_recommends_termination_only_once_a_contract_signed_on_the_last_day_could_be_filed() -> (
    None
):
    # Plan issued 3/16: the contract is due 7/16 (§21). One signed that day is known only when filed,
    # within 7 working days (§18): 7/17, 7/20–7/24, 7/27. Until then the deadline still runs.
    facts = Facts(jurisdiction="bayingolin", plan_issued_on=dt.date(2026, 3, 16))
    contract = by_key(deadlines(POLICY, CALENDAR, facts, dt.date(2026, 7, 28)))["contract"]
    assert contract.due_on == dt.date(2026, 7, 16) and contract.filing_until == dt.date(2026, 7, 27)
    assert not contract.missed(dt.date(2026, 7, 17)) and not contract.missed(dt.date(2026, 7, 27))
    assert contract.missed(dt.date(2026, 7, 28)) and contract.terminate
    assert "2026-07-27" in deadline_message(POLICY, "bayingolin", contract)
    # The window is the pack's filing limit, counted on the working calendar: 3 days end on 7/21.
    shorter = by_key(deadlines(with_filing_limit(3), CALENDAR, facts, dt.date(2026, 7, 28)))["contract"]
    assert shorter.filing_until == dt.date(2026, 7, 21) and shorter.missed(dt.date(2026, 7, 22))


def test_zhonglou_start_runs_three_months_from_the_reviews_pass_but_not_before_the_approval() -> None:
    def start_of(approved_on: dt.date | None) -> list[dt.date]:
        facts = Facts(jurisdiction="zhonglou", review_passed_on=dt.date(2026, 7, 1), approved_on=approved_on)
        return [
            d.due_on for d in deadlines(POLICY, CALENDAR, facts, dt.date(2026, 10, 9)) if d.kind == "start"
        ]

    # zhonglou §13: nothing may start before the approval, so §17's clock does not run without it.
    assert start_of(None) == []
    # Approved before the pass: three months from the pass; 10/1 is National Day → 10/8.
    assert start_of(dt.date(2026, 6, 20)) == [dt.date(2026, 10, 8)]
    # Approved after it: from the approval (2026-10-10 is a working Saturday).
    assert start_of(dt.date(2026, 7, 10)) == [dt.date(2026, 10, 10)]
    facts = Facts(
        jurisdiction="zhonglou", review_passed_on=dt.date(2026, 7, 1), approved_on=dt.date(2026, 6, 20)
    )
    (start,) = [d for d in deadlines(POLICY, CALENDAR, facts, dt.date(2026, 10, 9)) if d.kind == "start"]
    assert start.terminate and start.missed(dt.date(2026, 10, 9))
    assert [
        d.kind for d in deadlines(POLICY, CALENDAR, Facts(jurisdiction="lhasa"), dt.date(2027, 1, 1))
    ] == []


def test_progress_reports_are_due_each_quarter_in_bayingolin_and_each_year_in_shexian() -> None:
    started = {
        "contract_signed_on": dt.date(2026, 2, 10),
        "reports": {("progress", "2026Q1"): dt.date(2026, 3, 20)},
    }
    quarters = [
        d
        for d in deadlines(
            POLICY, CALENDAR, Facts(jurisdiction="bayingolin", **started), dt.date(2026, 11, 25)
        )
        if d.kind == "progress"
    ]
    assert [(d.period, d.met) for d in quarters] == [("2026Q1", True), ("2026Q2", False), ("2026Q3", False)]
    assert quarters[2].due_on == dt.date(2026, 9, 30)
    years = [
        d
        for d in deadlines(POLICY, CALENDAR, Facts(jurisdiction="shexian", **started), dt.date(2027, 1, 5))
        if d.kind == "progress"
    ]
    assert [(d.period, d.due_on) for d in years] == [("2026", dt.date(2026, 12, 31))]


def test_lhasa_reports_a_delay_beyond_half_the_contract_period_zhonglou_any_delay() -> None:
    period = (dt.date(2026, 1, 1), dt.date(2026, 5, 1))  # 120 days
    lhasa = Facts(jurisdiction="lhasa", contract_signed_on=dt.date(2026, 1, 1), contract_period=period)
    (delay,) = [d for d in deadlines(POLICY, CALENDAR, lhasa, dt.date(2026, 9, 1)) if d.kind == "delay"]
    assert delay.due_on == dt.date(2026, 6, 30) and delay.missed(dt.date(2026, 7, 1))
    zhonglou = Facts(jurisdiction="zhonglou", contract_signed_on=dt.date(2026, 1, 1), contract_period=period)
    (late,) = [d for d in deadlines(POLICY, CALENDAR, zhonglou, dt.date(2026, 9, 1)) if d.kind == "delay"]
    assert late.due_on == dt.date(2026, 5, 1)
    done = Facts(jurisdiction="lhasa", contract_period=period, completed_on=dt.date(2026, 8, 1))
    assert [d for d in deadlines(POLICY, CALENDAR, done, dt.date(2026, 9, 1)) if d.kind == "delay"] == []


@pytest.mark.parametrize(
    "jurisdiction, article, said",
    [
        ("zhonglou", "zhonglou §17", "向区政府办公室（区大数据管理局）上报情况说明"),
        ("bayingolin", "bayingolin §21", "向州数字化发展局、州财政局书面报告"),
    ],
)
def test_a_project_not_finished_in_its_contract_period_owes_the_report_its_article_asks_for(
    jurisdiction: str, article: str, said: str
) -> None:
    """zhonglou §17 (不能按期完成…上报情况说明) and bayingolin §21 (不能按期完成…书面报告): due when the
    contract period ends without completion; they ask for the report, not for rectification."""
    period = (dt.date(2026, 1, 1), dt.date(2026, 5, 1))
    facts = Facts(jurisdiction=jurisdiction, contract_signed_on=dt.date(2026, 1, 1), contract_period=period)
    (delay,) = [d for d in deadlines(POLICY, CALENDAR, facts, dt.date(2026, 9, 1)) if d.kind == "delay"]
    assert delay.rule == "procurement.delay_report" and delay.due_on == dt.date(2026, 5, 1)
    assert not delay.missed(dt.date(2026, 5, 1)) and delay.missed(dt.date(2026, 5, 2))
    message = deadline_message(POLICY, jurisdiction, delay)
    assert said in message and message.endswith(f"（{article}）") and "整改" not in message
    reported = Facts(
        jurisdiction=jurisdiction,
        contract_signed_on=dt.date(2026, 1, 1),
        contract_period=period,
        reports={("delay", None): dt.date(2026, 5, 6)},
    )
    (owed,) = [d for d in deadlines(POLICY, CALENDAR, reported, dt.date(2026, 9, 1)) if d.kind == "delay"]
    assert owed.met


def test_milestone_amounts_are_whole_fen_and_add_up_to_the_contract() -> None:
    parts = split_milestones(
        1_000_001,
        [
            ("预付", "signing", Decimal("30")),
            ("初验", "initial_acceptance", Decimal("33.33")),
            ("终验", "final_acceptance", Decimal("36.67")),
        ],
    )
    assert [p.amount_fen for p in parts] == [300_000, 333_300, 366_701]
    assert sum(p.amount_fen for p in parts) == 1_000_001
    with pytest.raises(ProcurementError):
        split_milestones(100, [("全部", "completion", Decimal("99"))])


def test_a_deadline_the_authority_extended_runs_to_the_new_day_and_is_missed_anew() -> None:
    # bayingolin §21: 原则上终止 — the authority extended the contract deadline to 2026-09-30.
    plan = dt.date(2026, 3, 16)
    facts = Facts(
        jurisdiction="bayingolin", plan_issued_on=plan, extensions={"contract": dt.date(2026, 9, 30)}
    )
    contract = by_key(deadlines(POLICY, CALENDAR, facts, dt.date(2026, 8, 1)))["contract@2026-09-30"]
    assert contract.due_on == dt.date(2026, 9, 30) and not contract.missed(dt.date(2026, 9, 30))
    assert contract.missed(dt.date(2026, 10, 8)) and contract.terminate
    signed = Facts(
        jurisdiction="bayingolin",
        plan_issued_on=plan,
        contract_signed_on=dt.date(2026, 9, 1),
        extensions={"contract": dt.date(2026, 9, 30)},
    )
    assert by_key(deadlines(POLICY, CALENDAR, signed, dt.date(2026, 10, 8)))["contract@2026-09-30"].met


def test_supervision_is_required_from_each_packs_amount_with_its_article() -> None:
    from services.procurement.domain.construction import SUPERVISION, supervision_required

    for jurisdiction, below, article in (
        ("zhonglou", 30 * WAN, "zhonglou §15"),  # 30万元（含）以上
        ("bayingolin", 100 * WAN, "bayingolin §19"),  # 100万元（含）以上, below it encouraged
        ("shexian", 0, "shexian §30"),  # every project (原则上实行监理制)
        ("xunyang", 0, "xunyang §16"),  # every project
    ):
        assert supervision_required(POLICY, jurisdiction, below), jurisdiction
        assert POLICY.rule(jurisdiction, SUPERVISION).articles[0] == article
        if below:
            assert not supervision_required(POLICY, jurisdiction, below - 1), jurisdiction


def test_each_report_and_delay_deadline_cites_its_own_article() -> None:
    started = {"contract_signed_on": dt.date(2026, 2, 10)}
    for jurisdiction, article in (
        ("bayingolin", "bayingolin §20"),
        ("shexian", "shexian §35"),
        ("xunyang", "xunyang §17"),
    ):
        facts = Facts(jurisdiction=jurisdiction, **started)  # type: ignore[arg-type]
        due = next(d for d in deadlines(POLICY, CALENDAR, facts, dt.date(2027, 1, 5)) if d.kind == "progress")
        assert deadline_message(POLICY, jurisdiction, due).endswith(f"（{article}）"), jurisdiction
    period = (dt.date(2026, 1, 1), dt.date(2026, 5, 1))
    lhasa = Facts(jurisdiction="lhasa", contract_signed_on=dt.date(2026, 1, 1), contract_period=period)
    (delay,) = [d for d in deadlines(POLICY, CALENDAR, lhasa, dt.date(2026, 9, 1)) if d.kind == "delay"]
    assert "lhasa §18" in deadline_message(POLICY, "lhasa", delay)


def test_a_firm_on_xunyangs_list_is_refused_with_xunyang_25_and_zhonglou_keeps_no_list() -> None:
    from services.procurement.domain.errors import ProcurementError
    from services.procurement.domain.firms import Listing, blacklisted, check_listing, list_firm

    code = "91360400MA35XXXX1A"
    listing = Listing("xunyang", code, "某科技公司", True, "违反市场规则")
    check_listing(POLICY, listing)
    firm = list_firm(None, listing, dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    (refused,) = blacklisted(POLICY, firm, code, "某科技公司")
    assert refused.articles == ("xunyang §25",) and "已列入失信名单：违反市场规则" in refused.message
    with pytest.raises(ProcurementError, match="未规定企业失信名单"):
        check_listing(POLICY, Listing("zhonglou", code, "某科技公司", True, "x"))
