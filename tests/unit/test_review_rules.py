"""Review's rules as pure functions: reproducible draws with avoidance, conclusions, time limits."""

from __future__ import annotations

import datetime as dt

import pytest

from services.review.domain import (
    CaseStatus,
    Conclusion,
    Expert,
    InsufficientPool,
    InvalidCaseState,
    Opinion,
    Registration,
    ReviewCase,
    Submission,
    ThirdPartyReviewMissing,
)
from services.review.domain.conclusions import give_opinion
from services.review.domain.drawing import (
    Avoidance,
    Candidate,
    ExpertStatus,
    PanelSpec,
    draw,
    ranking,
    replace,
)
from services.review.domain.panels import draw_panel
from services.review.domain.rules import (
    Clock,
    Verdict,
    after_conclusion,
    conclude,
    due,
    must_resubmit,
    overdue_reason,
    panel_spec,
    screening_review,
    third_party_review,
)
from shared.contracts.review import PanelDrawn, ReviewConcluded
from shared.policy import PolicyError, load_registry
from shared.workdays import WorkingCalendar

POLICY = load_registry()
CALENDAR = WorkingCalendar()


def pool(n: int = 12) -> list[Candidate]:
    specialties = ["software", "network", "security", "cost", "data", "archives"]
    return [
        Candidate(id=f"e{i:02d}", employer=f"单位{i % 5}", specialties=frozenset({specialties[i % 6]}))
        for i in range(n)
    ]


SPEC = PanelSpec(size=5, specialties={"software": 1, "security": 1, "cost": 1})


def test_the_same_seed_and_pool_give_the_same_panel_and_an_auditor_can_recompute_it() -> None:
    first = draw("seed-1", pool(), SPEC, Avoidance())
    again = draw("seed-1", list(reversed(pool())), SPEC, Avoidance())
    assert first == again
    assert first.candidates == tuple(sorted(c.id for c in pool()))
    # The ranks are the SHA-256 order of the seed and the ids: recomputable without this code.
    order = ranking("seed-1", first.candidates)
    assert [s.rank for s in first.seats if s.specialty is None] == sorted(
        order.index(s.expert_id) + 1 for s in first.seats if s.specialty is None
    )
    panels = {
        tuple(s.expert_id for s in draw(f"seed-{n}", pool(), SPEC, Avoidance()).seats) for n in range(8)
    }
    assert len(panels) > 1, "different seeds draw different panels"


def test_required_specialties_are_seated_first() -> None:
    panel = draw("s", pool(), SPEC, Avoidance())
    by_specialty = {s.specialty: s.expert_id for s in panel.seats if s.specialty}
    experts = {c.id: c for c in pool()}
    assert set(by_specialty) == {"software", "security", "cost"}
    assert all(name in experts[e].specialties for name, e in by_specialty.items())
    assert len({s.expert_id for s in panel.seats}) == 5


def test_an_expert_with_two_specialties_does_not_leave_a_seat_empty() -> None:
    # X has both; Y only a. A greedy fill giving X to "a" would leave "b" short.
    both = Candidate("x", "甲", frozenset({"a", "b"}))
    only_a = Candidate("y", "乙", frozenset({"a"}))
    for seed in (f"s{n}" for n in range(20)):
        panel = draw(seed, [both, only_a], PanelSpec(size=2, specialties={"a": 1, "b": 1}), Avoidance())
        assert {(s.expert_id, s.specialty) for s in panel.seats} == {("x", "b"), ("y", "a")}


def test_avoidance_keeps_out_the_parties_the_blacklisted_and_those_who_declined() -> None:
    experts = [
        *pool(),
        Candidate("bad", "单位9", frozenset({"software"}), ExpertStatus.BLACKLISTED),
        Candidate("away", "单位9", frozenset({"software"}), ExpertStatus.SUSPENDED),
    ]
    avoid = Avoidance(organisations=frozenset({"单位0", "单位1"}), declined=frozenset({"e02"}))
    for n in range(10):
        panel = draw(f"s{n}", experts, PanelSpec(size=5), avoid)
        chosen = {s.expert_id for s in panel.seats}
        employers = {c.employer for c in experts if c.id in chosen}
        assert not employers & {"单位0", "单位1"}
        assert not chosen & {"bad", "away", "e02"}


def test_too_small_a_pool_is_an_error_naming_what_is_missing_never_a_short_panel() -> None:
    with pytest.raises(InsufficientPool) as refused:
        draw("s", pool(6), PanelSpec(size=5, specialties={"security": 2}), Avoidance())
    assert any("security" in s and "2" in s for s in refused.value.shortfalls)
    with pytest.raises(InsufficientPool) as small:
        draw("s", pool(4), PanelSpec(size=5), Avoidance())
    assert "5" in str(small.value)


def test_a_declining_expert_is_replaced_like_for_like_by_the_same_ranking() -> None:
    panel = draw("seed-r", pool(), SPEC, Avoidance())
    leaving = next(s for s in panel.seats if s.specialty == "security")
    others = frozenset(s.expert_id for s in panel.seats) - {leaving.expert_id}
    avoid = Avoidance(declined=frozenset({leaving.expert_id}), seated=others)
    seat = replace("seed-r", pool(), avoid, leaving)
    assert seat.specialty == "security" and seat.expert_id not in others | {leaving.expert_id}
    assert "security" in {c.id: c for c in pool()}[seat.expert_id].specialties
    assert replace("seed-r", pool(), avoid, leaving) == seat, "a replacement can be redrawn too"


def test_panels_come_from_the_pack_per_stage() -> None:
    assert panel_spec(POLICY, "shexian", "feasibility").size == 5
    assert panel_spec(POLICY, "zhonglou", "demonstration") == PanelSpec(size=3, specialties={"software": 1})
    with pytest.raises(PolicyError):
        panel_spec(POLICY, "xunyang", "feasibility")  # xunyang §8: a departmental first review


def test_the_majority_concludes_and_without_one_the_submission_is_revised() -> None:
    p, r, f = Verdict.PASS, Verdict.REVISE, Verdict.FAIL
    assert conclude(POLICY, "lhasa", [p, p, f]) is Verdict.PASS
    assert conclude(POLICY, "lhasa", [f, f, p, r, p]) is Verdict.REVISE
    assert conclude(POLICY, "lhasa", [f, f, f, p, p]) is Verdict.FAIL


def test_lhasa_time_limits_count_working_days_across_national_day_and_its_adjusted_saturday() -> None:
    # Materials arrive Tue 2026-09-29: Sep 30, (Oct 1–7 holiday), Oct 8, 9, Sat Oct 10 (调休), Oct 12.
    first = due(POLICY, CALENDAR, "lhasa", Clock.FIRST_REVIEW, dt.date(2026, 9, 29))
    assert first is not None and first.date == dt.date(2026, 10, 12) and not first.provisional
    report = due(POLICY, CALENDAR, "lhasa", Clock.PASS_REPORT, dt.date(2026, 10, 8))
    assert report is not None and report.date == dt.date(2026, 10, 10)
    assert overdue_reason(POLICY, "lhasa", Clock.FIRST_REVIEW, first, dt.date(2026, 10, 12)) is None
    late = overdue_reason(POLICY, "lhasa", Clock.FIRST_REVIEW, first, dt.date(2026, 10, 13))
    assert late is not None and late.rule == "lhasa §11" and "2026-10-12" in late.message
    # Other jurisdictions set no such limits.
    assert due(POLICY, CALENDAR, "shexian", Clock.FIRST_REVIEW, dt.date(2026, 9, 29)) is None


def test_a_lhasa_conclusion_starts_the_report_or_the_written_opinion_limit_first() -> None:
    on = dt.date(2026, 9, 29)  # Sep 30, then Oct 8 after National Day
    for verdict, revising, clock in [
        (Verdict.PASS, False, Clock.PASS_REPORT),
        (Verdict.REVISE, True, Clock.FAIL_OPINION),
        (Verdict.FAIL, True, Clock.FAIL_OPINION),
        (Verdict.FAIL, False, Clock.FAIL_OPINION),  # materials to be redone: the opinion is still owed
    ]:
        started = after_conclusion(POLICY, CALENDAR, "lhasa", verdict, revising=revising, on=on)
        assert started is not None and started[0] is clock and started[1].date == dt.date(2026, 10, 8)
    # Packs without these limits start none.
    assert after_conclusion(POLICY, CALENDAR, "zhonglou", Verdict.PASS, revising=False, on=on) is None
    assert after_conclusion(POLICY, CALENDAR, "zhonglou", Verdict.FAIL, revising=True, on=on) is None


def test_two_failed_reviews_force_a_fresh_submission_in_lhasa() -> None:
    assert must_resubmit(POLICY, "lhasa", 1) is None
    reason = must_resubmit(POLICY, "lhasa", 2)
    assert reason is not None and reason.rule == "lhasa §11"
    assert must_resubmit(POLICY, "zhonglou", 5) is None


def test_shexian_has_a_third_party_review_the_approval_materials_before_the_experts() -> None:
    # shexian §21 names 建议书、可研、初步设计: the reviews leading to approval (§20).
    for stage in ("declaration", "demonstration", "feasibility", "preliminary_design"):
        reason = third_party_review(POLICY, "shexian", stage)
        assert reason is not None and reason.articles == ("shexian §21",) and "第三方" in reason.message
    for stage in ("change", "acceptance", "post_evaluation"):
        assert third_party_review(POLICY, "shexian", stage) is None
    # bayingolin §9 wants it to assist the experts: before their opinions, not before the draw.
    assert third_party_review(POLICY, "bayingolin", "declaration") is None
    # The others say nothing of one.
    for jurisdiction in ("zhonglou", "lhasa"):
        assert third_party_review(POLICY, jurisdiction, "feasibility") is None
        assert third_party_review(POLICY, jurisdiction, "feasibility", "opinion") is None


def test_bayingolin_brings_in_a_third_party_assessment_for_the_experts_of_build_and_service_reviews() -> None:
    """bayingolin §9: 建设和服务类项目评审会…引入软件造价等第三方专业评估，辅助专家开展评审工作. Its
    reviews (the declaration with its 可研, a 初步设计) want it before the experts' opinions; the
    O&M review of §10 (om_declaration), changes and acceptance do not."""
    for stage in ("declaration", "feasibility", "preliminary_design"):
        reason = third_party_review(POLICY, "bayingolin", stage, "opinion")
        assert reason is not None and reason.articles == ("bayingolin §9",), stage
        assert "第三方专业评估" in reason.message
    for stage in ("om_declaration", "change", "acceptance"):
        assert third_party_review(POLICY, "bayingolin", stage, "opinion") is None
    # A declaration is reviewed by its kind: O&M apart (bayingolin §10), build and service at §9's meeting.
    assert screening_review(POLICY, "bayingolin", "operation") == (
        "om_declaration",
        ("bayingolin §9", "bayingolin §10"),
    )
    for kind in ("construction", "service", None):
        assert (screening_review(POLICY, "bayingolin", kind) or ("",))[0] == "declaration", kind
    assert screening_review(POLICY, "shexian", "operation") == screening_review(POLICY, "shexian")


def shexian_feasibility_case() -> ReviewCase:
    """A shexian 可研 case, opened on Tue 2026-09-29 with no time limit."""
    return ReviewCase.open(
        Submission(project_id="p1", jurisdiction="shexian", stage="feasibility", agency="县局", parties=()),
        by="authority",
        at=dt.datetime(2026, 9, 29, 2, tzinfo=dt.UTC),
        received_on=dt.date(2026, 9, 29),
        limit=None,
    )


def test_a_shexian_panel_drawn_before_the_assessment_does_not_conclude_without_it() -> None:
    # A case whose panel was seated before the requirement: its last opinion cannot conclude it.
    required = third_party_review(POLICY, "shexian", "feasibility")
    case = shexian_feasibility_case()
    case.seat_panel(draw("seed-t", pool(), SPEC, Avoidance()), [], ())
    for seat in case.seats:
        case.record_opinion(seat.expert_id, score=80, verdict=Verdict.PASS, comments="方案可行")
    passing = Conclusion(
        Verdict.PASS,
        at=dt.datetime(2026, 9, 30, 2, tzinfo=dt.UTC),
        resubmission=None,
        next_limit=None,
        articles=(),
    )
    with pytest.raises(ThirdPartyReviewMissing) as refused:
        case.conclude(passing, third_party=required)
    assert "shexian §21" in str(refused.value) and case.verdict is None
    case.attach_assessment("某咨询公司 审查意见〔2026〕3号")
    case.conclude(passing, third_party=required)
    assert case.status is CaseStatus.CONCLUDED and case.verdict == "pass"


def test_a_cancelled_case_takes_no_third_party_assessment() -> None:
    # What the case reviewed was rejected or withdrawn: nothing is attached to it afterwards.
    case = shexian_feasibility_case()
    assert case.cancel("项目已撤回（单位撤回申报），评审终止", dt.datetime(2026, 9, 30, 2, tzinfo=dt.UTC))
    with pytest.raises(InvalidCaseState, match="已撤销"):
        case.attach_assessment("某咨询公司 审查意见〔2026〕3号")
    assert case.third_party_assessment == ""


def test_seats_reports_and_candidates_keep_their_stored_json_shape() -> None:
    # The cases table stores these as JSON lists; the typed records read and write the same JSON.
    from services.review.db import Candidates, Reports, Seats
    from services.review.domain import Opinion, PanelSeat, Report, SeatState
    from shared.audit import plain

    seated = {"expert_id": "e01", "specialty": "software", "rank": 3, "state": "seated"}
    opined = {
        "expert_id": "e02",
        "specialty": None,
        "rank": 1,
        "state": "seated",
        "opinion": {"score": 85, "verdict": "pass", "comments": "同意"},
    }
    declined = {"expert_id": "e03", "specialty": None, "rank": 2, "state": "declined"}
    seats = Seats().process_result_value([seated, opined, declined], None)
    assert seats[1] == PanelSeat("e02", None, 1, opinion=Opinion(85, Verdict.PASS, "同意"))
    assert seats[2].state is SeatState.DECLINED
    assert Seats().process_bind_param(seats, None) == [seated, opined, declined]
    report = {"round": 1, "verdict": "fail", "document": "评审意见〔2026〕1号", "issued_on": "2026-10-09"}
    [loaded] = Reports().process_result_value([report], None)
    assert loaded == Report(1, Verdict.FAIL, "评审意见〔2026〕1号", dt.date(2026, 10, 9))
    assert Reports().process_bind_param([loaded], None) == [report]
    candidate = {"id": "e01", "employer": "单位1", "specialties": ["cost", "software"], "status": "suspended"}
    [drawn_from] = Candidates().process_result_value([candidate], None)
    assert drawn_from == Candidate("e01", "单位1", frozenset({"software", "cost"}), ExpertStatus.SUSPENDED)
    assert Candidates().process_bind_param([drawn_from], None) == [candidate]
    # The audit log's before and after of a case row show the same JSON as the table.
    assert plain(seats) == [seated, opined, declined]
    assert plain((loaded,)) == [report] and plain((drawn_from,)) == [candidate]


def test_only_shexian_cites_an_article_for_the_random_draw_and_avoidance_is_the_suites_default() -> None:
    from services.review.domain.rules import draw_method, panel_articles
    from shared.policy import SUITE_DEFAULT

    shexian = draw_method(POLICY, "shexian")
    assert shexian.startswith("随机抽选专家组：根据工作需要及时从评审专家委员会抽选成立专家组（shexian §7）")
    assert "shexian §7" in panel_articles(POLICY, "shexian")
    for jurisdiction in ("zhonglou", "bayingolin", "xunyang", "lhasa"):
        said = draw_method(POLICY, jurisdiction)
        assert said.startswith(f"随机抽选专家组（{SUITE_DEFAULT}）；专家库："), said
        # The draw and the avoidance cite nothing; only zhonglou §4 names its pool.
        assert "§" not in said.replace("（zhonglou §4）", ""), said
        assert "shexian §7" not in panel_articles(POLICY, jurisdiction)
    assert f"执行回避（申报、承建、监理、投标单位的专家不入选；{SUITE_DEFAULT}）" in shexian


def test_a_panels_pool_cites_the_article_naming_it_or_says_it_is_the_suites_default() -> None:
    """shexian §7: 依托省、市数据资源管理部门组建的评审专家委员会 — the pool cited on every draw; zhonglou §4
    likewise (区政府办公室统一建立和管理政务信息化专家库). bayingolin and lhasa name no pool: their own
    pool is the suite's default."""
    from services.review.domain.rules import pool_basis
    from shared.policy import SUITE_DEFAULT

    shexian = pool_basis(POLICY, "shexian")
    assert shexian.startswith("专家库：依托省、市数据资源管理部门组建的评审专家委员会") and shexian.endswith(
        "（shexian §7）"
    )
    assert pool_basis(POLICY, "zhonglou").endswith(
        "统一建立和管理政务信息化专家库（本区专家库）（zhonglou §4）"
    )
    for jurisdiction in ("bayingolin", "lhasa"):
        assert pool_basis(POLICY, jurisdiction) == f"专家库：本辖区专家库（{SUITE_DEFAULT}）"
        assert POLICY.expert_pool(jurisdiction) == jurisdiction
    assert POLICY.expert_pool("shexian") == "shexian"


def test_zhonglou_keeps_its_own_pool_as_zhonglou_4_says_the_authority_does() -> None:
    assert POLICY.expert_pool("zhonglou") == "zhonglou"
    assert POLICY.rule("zhonglou", "review.expert_pool").articles == ("zhonglou §4",)
    assert POLICY.sharing_pool("zhonglou") == frozenset({"zhonglou"})


def registered(jurisdiction: str, n: int = 9) -> list[Expert]:
    """A pool of `n` experts of the jurisdiction, each of another employer, specialties in turn."""
    specialties = ("software", "network", "security", "cost", "archives")
    return [
        Expert.register(
            Registration(f"专家{i}", f"单位{i}", "高级工程师", (specialties[i % len(specialties)],)),
            pool=POLICY.expert_pool(jurisdiction),
            at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        )
        for i in range(n)
    ]


def opened(jurisdiction: str, stage: str) -> ReviewCase:
    return ReviewCase.open(
        Submission(project_id="p1", jurisdiction=jurisdiction, stage=stage, agency="县局", reference="r1"),
        by="authority",
        at=dt.datetime(2026, 9, 29, 2, tzinfo=dt.UTC),
        received_on=dt.date(2026, 9, 29),
        limit=None,
    )


def test_shexian_draws_its_panel_from_the_committee_with_the_packs_size_and_specialties() -> None:
    """shexian §7: 依托省、市数据资源管理部门组建的评审专家委员会，根据工作需要及时抽选成立专家组 — the
    panel of the 可研 review as the pack sets it, its articles and the pool it is drawn from."""
    case = opened("shexian", "feasibility")
    case.attach_assessment("某咨询公司 审查意见〔2026〕3号")  # shexian §21 before the draw
    draw_panel(case, registered("shexian"), POLICY, "seed-s")
    (drawn,) = [e for e in case.events if isinstance(e, PanelDrawn)]
    assert drawn.panel_size == 5 and drawn.articles == ("shexian §7",)
    assert {s.specialty for s in case.seated()} >= {"software", "network", "security", "cost"}
    assert "专家库：依托省、市数据资源管理部门组建的评审专家委员会" in drawn.method
    assert drawn.method.startswith(
        "随机抽选专家组：根据工作需要及时从评审专家委员会抽选成立专家组（shexian §7）"
    )


@pytest.mark.parametrize(
    "jurisdiction, article",
    [
        ("zhonglou", "zhonglou §11"),
        ("shexian", "shexian §7"),
        ("bayingolin", "bayingolin §9"),
        ("lhasa", "lhasa §11"),
    ],
)
def test_the_panels_conclusion_is_by_the_packs_method_and_cites_its_article(
    jurisdiction: str, article: str
) -> None:
    """The conclusion is the majority the pack sets (zhonglou §11, shexian §7, bayingolin §9,
    lhasa §11 name the panel's review, the authority the method), cited on the concluded event."""
    case = opened(jurisdiction, "change")
    draw_panel(case, registered(jurisdiction), POLICY, "seed-c")
    at = dt.datetime(2026, 9, 30, 2, tzinfo=dt.UTC)
    for seat, verdict in zip(case.seated(), (Verdict.PASS, Verdict.FAIL, Verdict.PASS), strict=True):
        give_opinion(case, {seat.expert_id}, Opinion(80, verdict, "意见"), POLICY, CALENDAR, at)
    (concluded,) = [e for e in case.events if isinstance(e, ReviewConcluded)]
    assert concluded.verdict == "pass" and concluded.articles == (article,)
    assert concluded.method.endswith(f"（{article}）") and "多数意见" in concluded.method


def test_where_no_rule_sets_how_a_panel_concludes_the_majority_is_the_suites_default() -> None:
    from services.review.domain.rules import conclusion_articles, conclusion_method

    # xunyang's text sets no method (xunyang §20 has the authority organise the acceptance).
    assert not POLICY.rule("xunyang", "review.conclusion").applies
    assert conclusion_articles(POLICY, "xunyang") == ()
    assert conclusion_method(POLICY, "xunyang").endswith("（本系统默认，非办法条文）")
