"""年度计划申报周期 as pure rules: plan years, deadlines and pre-review dates per jurisdiction."""

from __future__ import annotations

import datetime as dt

import pytest

from services.intake.domain.cycle import plan_cycle, review_batch
from shared.policy import load_registry

POLICY = load_registry()


def cycle(
    jurisdiction: str, today: dt.date, kind: str = "construction", **kw: object
) -> tuple[int, set[str]]:
    result = plan_cycle(
        POLICY,
        jurisdiction,
        kind=kind,
        off_plan=bool(kw.get("off_plan", False)),
        requested=kw.get("requested"),  # type: ignore[arg-type]
        today=today,
    )
    return result.plan_year, {r.rule for r in result.refusals}


def test_zhonglou_and_xunyang_close_next_years_plan_on_september_30() -> None:
    for jurisdiction, article in (("zhonglou", "zhonglou §6"), ("xunyang", "xunyang §7")):
        assert cycle(jurisdiction, dt.date(2026, 9, 30)) == (2027, set())
        assert cycle(jurisdiction, dt.date(2026, 10, 1)) == (2027, {article})
        assert cycle(jurisdiction, dt.date(2026, 10, 1), requested=2028) == (2028, set())
        # This year's plan is closed except by the emergency path.
        assert cycle(jurisdiction, dt.date(2026, 3, 1), requested=2026)[1] == {article}
        assert cycle(jurisdiction, dt.date(2026, 10, 1), off_plan=True) == (2026, set())


def test_lhasa_rolls_late_declarations_into_the_year_after_next() -> None:
    on_time = plan_cycle(
        POLICY, "lhasa", kind="service", off_plan=False, requested=None, today=dt.date(2026, 8, 31)
    )
    assert (on_time.plan_year, on_time.notes) == (2027, ())
    late = plan_cycle(
        POLICY, "lhasa", kind="service", off_plan=False, requested=None, today=dt.date(2026, 9, 1)
    )
    assert late.plan_year == 2028 and not late.refusals
    assert late.notes[0].rule == "lhasa §7" and "2028" in late.notes[0].message


def test_lhasa_pre_reviews_on_the_fourth_thursday_and_bayingolin_monthly() -> None:
    assert review_batch(POLICY, "lhasa", dt.date(2026, 11, 2)) == "2026-11-26"
    assert review_batch(POLICY, "lhasa", dt.date(2026, 11, 26)) == "2026-11-26"
    assert review_batch(POLICY, "lhasa", dt.date(2026, 11, 27)) == "2026-12-24"
    assert review_batch(POLICY, "lhasa", dt.date(2026, 12, 25)) == "2027-01-28"
    assert review_batch(POLICY, "bayingolin", dt.date(2026, 12, 25)) == "2026-12"
    assert review_batch(POLICY, "zhonglou", dt.date(2026, 12, 25)) is None


def test_bayingolin_takes_om_declarations_in_the_third_quarter_only() -> None:
    assert cycle("bayingolin", dt.date(2026, 7, 1), kind="operation") == (2027, set())
    assert cycle("bayingolin", dt.date(2026, 9, 30), kind="operation") == (2027, set())
    assert cycle("bayingolin", dt.date(2026, 10, 1), kind="operation")[1] == {"bayingolin §10"}
    assert cycle("bayingolin", dt.date(2026, 6, 30), kind="operation")[1] == {"bayingolin §10"}
    # Build and service projects any time, for the current year (bayingolin §9).
    assert cycle("bayingolin", dt.date(2026, 11, 20)) == (2026, set())
    assert cycle("bayingolin", dt.date(2026, 11, 20), requested=2027) == (2027, set())
    assert cycle("shexian", dt.date(2026, 11, 20), kind="operation") == (2027, set())


def test_a_ranking_naming_a_project_twice_is_refused_before_the_plan_is_asked() -> None:
    from services.intake.domain import plans
    from services.intake.domain.errors import InvalidTransition, PlanError

    plans.check_distinct(["a", "b"])
    with pytest.raises(PlanError, match="重复"):
        plans.check_distinct(["a", "b", "a"])
    # A published shexian plan takes no new ranking (no article speaks of it: the suite's default);
    # bayingolin's is issued in batches (§9); zhonglou's is adjusted by exception (§9 原则上).
    with pytest.raises(InvalidTransition, match="本系统默认"):
        plans.may_rank(POLICY, plans.PlanState("shexian", 2027, published=True, document="歙政发〔2026〕1号"))
    plans.may_rank(POLICY, plans.PlanState("bayingolin", 2027, published=True, document="巴政发〔2026〕1号"))
    plans.may_rank(POLICY, plans.PlanState("zhonglou", 2027, published=True, document="钟政发〔2026〕1号"))


def test_zhonglou_adjusts_its_published_plan_only_by_exception() -> None:
    from services.intake.domain import plans
    from services.intake.domain.errors import ExceptionNotAllowed, InvalidTransition
    from shared.policy.principle import PrincipleException

    published = plans.PlanState("zhonglou", 2027, published=True, document="钟政发〔2026〕1号")
    with pytest.raises(InvalidTransition, match="原则上不予调整") as refused:
        plans.adjustment(POLICY, published, ())
    assert [(r.code, r.in_principle, r.articles) for r in refused.value.reasons] == [
        ("plan_fixed", True, ("zhonglou §9",))
    ]
    exception = PrincipleException("plan_fixed", "年中增补", "钟政纪〔2027〕9号", "authority")
    (made,) = plans.adjustment(POLICY, published, (exception,))
    assert made.code == "exception:plan_fixed" and "钟政纪〔2027〕9号" in made.message
    # A first publication, or bayingolin's next batch, has nothing to depart from.
    assert plans.adjustment(POLICY, plans.PlanState("zhonglou", 2028), ()) == []
    batch = plans.PlanState("bayingolin", 2027, published=True, document="巴政发〔2026〕1号")
    with pytest.raises(ExceptionNotAllowed):
        plans.adjustment(POLICY, batch, (exception,))


def test_xunyang_declares_a_project_funded_from_above_like_any_other_by_its_article() -> None:
    # xunyang §7: 属上级转移支付资金安排的信息化项目，项目建设使用单位在申报项目时应贯彻上述要求.
    from services.intake.domain import Project, ProjectKind, ProjectStatus
    from services.intake.domain.kinds import FundingSource
    from services.intake.domain.submission import Standing, judge

    at = dt.datetime(2026, 6, 15, 2, tzinfo=dt.UTC)

    def judged(jurisdiction: str, source: FundingSource) -> dict[str, tuple[tuple[str, ...], str]]:
        project = Project(
            id="p1",
            jurisdiction=jurisdiction,
            agency="区卫健局",
            title="全民健康信息平台",
            kind=ProjectKind.SERVICE,
            amount_fen=100,
            classified=False,
            status=ProjectStatus.DRAFT,
            declared_at=None,
            declared_by="u",
            created_at=at,
            funding_source=source,
            upper_approval_ref="赣财建〔2026〕8号",
        )
        said = judge(POLICY, project, Standing(), at.date())
        assert not said.refusals and not said.record_only  # declared, screened, planned as any other
        return {n.code: (n.articles, n.message) for n in said.notes}

    articles, message = judged("xunyang", FundingSource.UPPER_LEVEL)["upper_level_declared"]
    assert articles == ("xunyang §7",) and message.endswith("（xunyang §7）")
    assert "upper_level_declared" not in judged("xunyang", FundingSource.LOCAL)
    # lhasa's text says nothing of such projects: declaring them like any other is the suite's own.
    articles, message = judged("lhasa", FundingSource.UPPER_LEVEL)["upper_level_declared"]
    assert articles == () and "本系统默认，非办法条文" in message
