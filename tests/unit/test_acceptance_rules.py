"""Acceptance's rules as pure functions: windows, trial runs, preconditions and evaluations."""

from __future__ import annotations

import datetime as dt

import pytest

from services.acceptance import domain
from services.acceptance.domain import DataSharing, InitialAcceptance, Project, Status, application_checks
from shared.policy import load_registry
from shared.workdays import WorkingCalendar

POLICY = load_registry()
CALENDAR = WorkingCalendar()


@pytest.mark.parametrize(
    "j, software_fen, months",
    [("bayingolin", 1, 3), ("bayingolin", 0, 1), ("shexian", 1, 1), ("xunyang", 0, 0), ("zhonglou", 0, None)],
)
def test_trial_run_lengths_follow_each_pack(j: str, software_fen: int, months: int | None) -> None:
    assert domain.trial_months(POLICY, j, software_fen) == months


def test_windows_run_from_completion_or_from_initial_acceptance() -> None:
    completed, initial = dt.date(2026, 3, 2), dt.date(2026, 4, 1)
    assert domain.initial_due(POLICY, CALENDAR, "shexian", completed) == dt.date(2026, 6, 2)
    assert domain.initial_due(POLICY, CALENDAR, "zhonglou", completed) is None
    shexian = domain.application_due(POLICY, CALENDAR, "shexian", completed, initial)
    assert shexian == domain.ApplicationDue(dt.date(2026, 9, 2), extension_allowed=True)
    lhasa = domain.application_due(POLICY, CALENDAR, "lhasa", completed, initial)
    assert lhasa == domain.ApplicationDue(
        dt.date(2026, 10, 8), extension_allowed=False
    )  # 10/1 is National Day
    assert domain.application_due(POLICY, CALENDAR, "lhasa", completed, None) is None
    assert domain.earliest_application(POLICY, CALENDAR, "zhonglou", initial) == dt.date(2026, 7, 1)
    assert domain.trial_limit(POLICY, "bayingolin", dt.date(2026, 2, 28)) == dt.date(2027, 2, 28)


def test_materials_and_the_om_exemption() -> None:
    assert list(domain.materials(POLICY, "shexian", "construction")) == [
        "construction_summary",
        "financial_report",
        "audit_report",
        "supervision_report",
        "security_risk_assessment",
        "crypto_assessment_report",
    ]
    assert domain.materials(POLICY, "shexian", "operation") == {}  # 运维类项目可据实提供
    assert list(domain.materials(POLICY, "xunyang", "operation")) == [
        "unit_materials",
        "contractor_materials",
        "supervisor_materials",
    ]
    assert domain.materials(POLICY, "lhasa", "construction") == {}


def test_the_report_and_evaluation_windows() -> None:
    accepted = dt.date(2026, 9, 28)
    assert domain.report_due(POLICY, CALENDAR, "bayingolin", accepted) == dt.date(2026, 10, 13)
    assert domain.report_due(POLICY, CALENDAR, "shexian", accepted) is None
    assert domain.evaluation_window(POLICY, CALENDAR, "shexian", accepted) == domain.Window(
        dt.date(2027, 9, 28), dt.date(2028, 9, 28)
    )
    bayingolin = domain.evaluation_window(POLICY, CALENDAR, "bayingolin", accepted)
    assert bayingolin is not None and bayingolin.opens == dt.date(2027, 9, 28)
    assert bayingolin.closes is not None and bayingolin.closes >= dt.date(2027, 10, 28)
    assert domain.evaluation_window(POLICY, CALENDAR, "zhonglou", accepted) == domain.Window(
        dt.date(2027, 9, 28), None
    )
    assert domain.evaluation_window(POLICY, CALENDAR, "xunyang", accepted) is None


def built(j: str, **fields: object) -> Project:
    defaults: dict[str, object] = {
        "id": "p1",
        "agency": "单位",
        "title": "平台",
        "kind": "construction",
        "software_fen": 0,
        "status": Status.COMPLETED,
        "completed_on": dt.date(2026, 3, 2),
    }
    return Project(jurisdiction=j, **{**defaults, **fields})  # type: ignore[arg-type]


def codes(
    j: str, project: Project, today: dt.date, **kw: object
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    refusals, notes = application_checks(
        POLICY,
        CALENDAR,
        project,
        materials=kw.get("materials", {}),  # type: ignore[arg-type]
        today=today,
    )
    return {r.code: r.articles for r in refusals}, [n.code for n in notes]


def test_shexian_gives_every_unmet_precondition_at_once_with_its_article() -> None:
    refused, notes = codes("shexian", built("shexian"), dt.date(2026, 4, 1))
    assert refused == {
        "initial_acceptance_missing": ("shexian §39",),
        "trial_run_missing": ("shexian §39",),
        "data_sharing_unconfirmed": ("shexian §39", "shexian §44(一)"),
        "archives_not_accepted": ("shexian §41",),
        "materials_missing": ("shexian §39",),
    }
    assert notes == []


def test_each_pack_asks_for_its_own_initial_acceptance_and_materials() -> None:
    """zhonglou §18 (初验 by the unit, 验收资料 attached), xunyang §19 (初步验收 after a trial run,
    materials from the unit, contractor and 监理), lhasa §17 (the application follows a passed
    初验, no materials named); bayingolin's text names no 初验."""
    today = dt.date(2026, 9, 30)
    assert codes("zhonglou", built("zhonglou"), today) == (
        {"initial_acceptance_missing": ("zhonglou §18",), "materials_missing": ("zhonglou §18",)},
        [],
    )
    assert codes("xunyang", built("xunyang"), today) == (
        {
            "initial_acceptance_missing": ("xunyang §19",),
            "trial_run_missing": ("xunyang §19",),
            "materials_missing": ("xunyang §19",),
        },
        [],
    )
    assert (
        "建设单位验收材料、承建单位验收材料、监理单位验收材料"
        in refused_messages(built("xunyang"), today)["materials_missing"]
    )
    assert codes("lhasa", built("lhasa"), today) == ({"initial_acceptance_missing": ("lhasa §17",)}, [])
    bayingolin = built("bayingolin", trial_started_on=dt.date(2026, 3, 10))
    assert "initial_acceptance_missing" not in codes("bayingolin", bayingolin, today)[0]


ARCHIVES = {"archives_acceptance": "档验〔2026〕1号"}  # 档案验收意见 (bayingolin §25)


def test_bayingolin_software_runs_three_months_and_a_trial_over_a_year_is_noted() -> None:
    project = built("bayingolin", software_fen=10, trial_started_on=dt.date(2026, 3, 10))
    refused, _ = codes("bayingolin", project, dt.date(2026, 5, 10), materials=ARCHIVES)
    assert refused["trial_run_too_short"] == ("bayingolin §27",)
    refused, notes = codes("bayingolin", project, dt.date(2027, 3, 11), materials=ARCHIVES)
    assert "trial_run_too_short" not in refused and notes == ["trial_run_over_a_year", "basis:data_sharing"]
    # bayingolin §25, §27: 试运行至完成验收不得超过一年, noted for the deciders on the day after.
    _, noted = application_checks(POLICY, CALENDAR, project, materials=ARCHIVES, today=dt.date(2027, 3, 11))
    assert noted[0].articles == ("bayingolin §25", "bayingolin §27")
    _, noted = application_checks(POLICY, CALENDAR, project, materials=ARCHIVES, today=dt.date(2027, 3, 10))
    assert [n.code for n in noted] == ["basis:data_sharing"]


def test_lhasa_late_application_is_noted_not_refused_and_zhonglou_waits_three_months() -> None:
    lhasa = built("lhasa", initial=InitialAcceptance(dt.date(2026, 3, 10), passed=True))
    # lhasa §19 asks for no confirmation of data sharing before acceptance.
    refused, notes = codes("lhasa", lhasa, dt.date(2026, 9, 30))
    assert refused == {} and notes == ["application_late"]
    # lhasa §17: 初步验收通过后六个月内 — the late application is noted with its article, and not
    # on the last day of the six months.
    _, (late,) = application_checks(POLICY, CALENDAR, lhasa, materials={}, today=dt.date(2026, 9, 30))
    assert late.articles == ("lhasa §17",) and "2026-09-10" in late.message
    assert codes("lhasa", lhasa, dt.date(2026, 9, 10)) == ({}, [])
    zhonglou = built("zhonglou", initial=InitialAcceptance(dt.date(2026, 3, 10), passed=True))
    materials = {"construction_acceptance_documents": "资料汇编"}
    refused, _ = codes("zhonglou", zhonglou, dt.date(2026, 6, 9), materials=materials)
    assert refused == {"application_too_early": ("zhonglou §18",)}
    assert codes("zhonglou", zhonglou, dt.date(2026, 6, 10), materials=materials) == ({}, [])


def test_records_keep_the_json_they_were_stored_as() -> None:
    """The typed records read and write the database's JSON unchanged, keys that come with a
    decision or a conclusion only once it was made."""
    submitted = {
        "id": "a1",
        "round": 1,
        "status": "submitted",
        "materials": {"archives_acceptance": "档验〔2026〕1号"},
        "archives_accepted": True,
        "submitted_on": "2026-06-01",
        "submitted_by": "单位",
        "notes": [
            {"code": "application_late", "rule": "lhasa §17", "articles": ["lhasa §17"], "message": "逾期"}
        ],
    }
    concluded = {
        **submitted,
        "status": "failed",
        "decided_by": "局",
        "experts": True,
        "concluded_on": "2026-07-01",
        "concluded_by": "review",
        "rectification_items": ["补充材料"],
        "rectification_due": None,
    }
    for stored in (submitted, concluded):
        assert domain.Application.from_stored(stored).stored() == stored
    sharing = {
        "status": "revoked",
        "catalogue": ["目录"],
        "items": [],
        "submitted_by": "单位",
        "submitted_at": "2026-05-01T02:00:00+00:00",
        "duplicate_collection": False,
        "reason": "重复采集",
        "decided_by": "局",
        "decided_at": "2026-05-02T02:00:00+00:00",
    }
    assert domain.DataSharing.from_stored(sharing).stored() == sharing
    assert "decided_at" not in domain.DataSharing.from_stored({**sharing, "decided_at": None}).stored()
    evaluation = {
        "id": "e1",
        "evaluation": "post",
        "period": None,
        "serious_problems": ["问题"],
        "rectified": True,
        "rectification_due": "2027-12-01",
        "summary": "评价",
        "recorded_on": "2027-10-01",
        "by": "单位",
        "notes": [],
        "rectified_on": "2027-11-01",
        "rectified_by": "局",
    }
    assert domain.Evaluation.from_stored(evaluation).stored() == evaluation
    delay = {
        "until": "2026-12-01",
        "reason": "设备",
        "status": "approved",
        "by": "单位",
        "comment": "",
        "decided_by": "局",
    }
    assert domain.Delay.from_stored(delay).stored() == delay


def test_data_sharing_confirmation_is_a_gate_in_shexian_a_basis_in_bayingolin_and_not_asked_in_lhasa() -> (
    None
):
    today = dt.date(2026, 9, 30)
    # shexian §39: no acceptance organised before the authority confirms.
    refused, _ = codes("shexian", built("shexian"), today)
    assert refused["data_sharing_unconfirmed"] == ("shexian §39", "shexian §44(一)")
    # bayingolin §13: the record travels with the application as 重要依据, whatever it says.
    project = built("bayingolin", trial_started_on=dt.date(2026, 3, 10))
    refusals, notes = application_checks(POLICY, CALENDAR, project, materials=ARCHIVES, today=today)
    assert "data_sharing_unconfirmed" not in {r.code for r in refusals}
    (basis,) = [n for n in notes if n.code == "basis:data_sharing"]
    assert basis.message.startswith("数据共享情况：建设单位尚未提交信息资源目录和共享清单。")
    assert basis.articles == ("bayingolin §13",) and "重要依据" in basis.message
    project.data_sharing = DataSharing(
        "refused",
        ("企业登记",),
        (),
        "u",
        None,
        False,
        "清单不全",
        "局",
        dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
    )
    _, notes = application_checks(POLICY, CALENDAR, project, materials=ARCHIVES, today=today)
    assert (
        "主管部门不予确认（目录 1 项，共享清单 0 项，局 于 2026-09-01 决定，理由：清单不全）"
        in notes[-1].message
    )
    # lhasa §19: neither a gate nor a basis.
    lhasa = built("lhasa", initial=InitialAcceptance(dt.date(2026, 3, 10), passed=True))
    refused, notes_of_lhasa = codes("lhasa", lhasa, today)
    assert "data_sharing_unconfirmed" not in refused and "basis:data_sharing" not in notes_of_lhasa


def test_who_confirms_a_fix_is_the_suites_default_and_cites_no_article() -> None:
    from services.acceptance.domain.errors import AcceptanceError
    from services.acceptance.domain.evaluation import EvaluationReport, may_report
    from shared.auth import Scope
    from shared.policy import SUITE_DEFAULT

    fixed = EvaluationReport("post", None, ("数据未更新",), True, None, "已整改")
    with pytest.raises(AcceptanceError) as refused:
        may_report(fixed, Scope(frozenset({"shexian"}), agency="单位"))
    assert SUITE_DEFAULT in str(refused.value) and "§" not in str(refused.value)
    may_report(fixed, Scope(frozenset({"shexian"})))  # the authority may


def test_attestations_and_evaluations_cite_the_jurisdictions_own_articles() -> None:
    from services.acceptance.domain.evaluation import EvaluationReport, evaluation_window, record_evaluation
    from services.acceptance.domain.project import Pack
    from services.acceptance.domain.records import Attestation
    from services.acceptance.domain.security import attest

    pack = Pack(POLICY, CALENDAR, dt.datetime(2028, 3, 1, 2, tzinfo=dt.UTC))
    for jurisdiction, kind, articles in (
        ("shexian", "crypto", ("shexian §33",)),
        ("shexian", "mlps", ("shexian §30",)),
        ("bayingolin", "crypto", ("bayingolin §7",)),
        ("lhasa", "crypto", ("lhasa §25",)),
        ("lhasa", "mlps", ("lhasa §24",)),
        ("zhonglou", "crypto", ("zhonglou §24",)),
    ):
        project = built(jurisdiction)
        attest(project, pack, Attestation(kind, True, "测评〔2026〕1号", dt.date(2026, 5, 1), None, "u"))
        assert project.events[-1].articles[: len(articles)] == articles, (jurisdiction, kind)
    # shexian §43: 12 to 24 months after acceptance; serious problems are ordered rectified (§49).
    window = evaluation_window(POLICY, CALENDAR, "shexian", dt.date(2026, 3, 2))
    assert window is not None and window.opens == dt.date(2027, 3, 2)
    for jurisdiction, window_article, rectification in (
        ("shexian", "shexian §43", "shexian §49"),
        ("lhasa", "lhasa §22", "lhasa §18"),
    ):
        project = built(jurisdiction, accepted_on=dt.date(2026, 3, 2), status=Status.ACCEPTED)
        found = EvaluationReport("post", None, ("数据未共享",), False, dt.date(2028, 6, 30), "后评价")
        record_evaluation(project, pack, found, "u")
        assert project.events[-1].articles == (window_article, rectification), jurisdiction


def test_bayingolin_self_evaluation_has_no_deadline_and_zhonglou_closes_on_november_30() -> None:
    from services.acceptance.domain.evaluation import self_evaluation_due

    # bayingolin §30: by the prefecture's budget-performance rules, no date in the text.
    assert self_evaluation_due(POLICY, "bayingolin", 2026) is None
    assert POLICY.rule("bayingolin", "acceptance.self_evaluation_deadline").articles == ("bayingolin §30",)
    assert self_evaluation_due(POLICY, "zhonglou", 2026) == dt.date(2026, 11, 30)  # zhonglou §20


def test_bayingolin_26_asks_for_the_application_form_and_preparation_materials() -> None:
    project = built("bayingolin", trial_started_on=dt.date(2026, 3, 10))
    refused, _ = codes("bayingolin", project, dt.date(2026, 9, 30), materials=ARCHIVES)
    assert refused["materials_missing"] == ("bayingolin §26", "bayingolin §28")
    # bayingolin §25: 未进行档案验收或者档案验收不合格的，不得通过项目验收.
    refused, _ = codes("bayingolin", project, dt.date(2026, 9, 30))
    assert refused["archives_not_accepted"] == ("bayingolin §25",)
    given = {
        **ARCHIVES,
        "acceptance_application_form": "申请表",
        "acceptance_preparation_materials": "准备材料",
    }
    refused, _ = codes("bayingolin", project, dt.date(2026, 9, 30), materials=given)
    assert "materials_missing" not in refused


def test_shexian_42_a_classified_system_is_not_accepted_into_use_before_its_secrecy_review() -> None:
    """shexian §42: 涉密信息系统…经保密测评机构检测评估，并经市级以上保密行政管理部门审查合格，
    方可投入使用 (its 审查合格证 among shexian §39's 验收资料)."""
    from services.acceptance.domain.errors import AcceptanceError
    from services.acceptance.domain.project import Pack
    from services.acceptance.domain.records import Attestation
    from services.acceptance.domain.security import attest

    today = dt.date(2026, 9, 30)
    pack = Pack(POLICY, CALENDAR, dt.datetime(2026, 9, 30, 2, tzinfo=dt.UTC))
    secret = built("shexian", classified=True)
    refused, _ = codes("shexian", secret, today)
    assert refused["classified_assessment_missing"] == ("shexian §42", "shexian §39")
    assert refused["classified_approval_missing"] == ("shexian §42", "shexian §39")
    assert "市级以上保密行政管理部门" in refused_messages(secret, today)["classified_approval_missing"]
    # A public system is not asked, nor a classified one where the pack has no such article.
    assert "classified_assessment_missing" not in codes("shexian", built("shexian"), today)[0]
    for j in ("zhonglou", "bayingolin", "xunyang", "lhasa"):
        assert not {"classified_assessment_missing", "classified_approval_missing"} & set(
            codes(j, built(j, classified=True), today)[0]
        ), j

    def record(kind: str, compliant: bool = True, level: str | None = "city") -> None:
        reference = f"{kind}-{len(secret.attestations)}"
        issued = dt.date(2026, 9, 1)
        attest(secret, pack, Attestation(kind, compliant, reference, issued, None, "u", "某机构", level))

    record("secrecy_assessment", compliant=False)
    assert "结论为不合格" in refused_messages(secret, today)["classified_assessment_missing"]
    record("secrecy_assessment")
    record("secrecy_approval", level="county")  # a county's review is not 市级以上
    messages = refused_messages(secret, today)
    assert "classified_assessment_missing" not in messages
    assert "由县级部门审查" in messages["classified_approval_missing"]
    record("secrecy_approval", level="province")
    assert not {"classified_assessment_missing", "classified_approval_missing"} & set(
        codes("shexian", secret, today)[0]
    )
    assert secret.events == []  # kept for the acceptance, announced as no 等保 or 密评
    # The record must be about a classified project, name its issuer and (a review) its level.
    with pytest.raises(AcceptanceError, match="未申报为涉密项目"):
        attest(
            built("shexian"), pack, Attestation("secrecy_assessment", True, "测评", today, None, "u", "机构")
        )
    with pytest.raises(AcceptanceError, match="保密测评机构"):
        attest(secret, pack, Attestation("secrecy_assessment", True, "测评", today, None, "u"))
    with pytest.raises(AcceptanceError, match="层级"):
        attest(secret, pack, Attestation("secrecy_approval", True, "证", today, None, "u", "市保密局"))


def refused_messages(project: Project, today: dt.date) -> dict[str, str]:
    refusals, _ = application_checks(POLICY, CALENDAR, project, materials={}, today=today)
    return {r.code: r.message for r in refusals}


def test_shexian_42_holds_at_admission_and_at_the_authoritys_conclusion_too() -> None:
    """A review found wanting after the application stops its admission, and where the authority
    concludes, its conclusion that the system passes into use (shexian §42)."""
    import dataclasses

    from services.acceptance.domain import RuleViolation
    from services.acceptance.domain.final import admit, conclude
    from services.acceptance.domain.outcomes import Application
    from services.acceptance.domain.project import Pack
    from services.acceptance.domain.records import Attestation
    from shared.policy import PolicyRegistry

    pack = Pack(POLICY, CALENDAR, dt.datetime(2026, 9, 30, 2, tzinfo=dt.UTC))
    day = dt.date(2026, 9, 1)
    cleared = (
        Attestation("secrecy_assessment", True, "测评", day, None, "u", "测评中心"),
        Attestation("secrecy_approval", True, "证", day, dt.date(2026, 9, 29), "u", "市保密局", "city"),
    )
    applied = Application(
        id="a1",
        round=1,
        status="submitted",
        materials={},
        archives_accepted=True,
        submitted_on=day,
        submitted_by="u",
    )
    project = built(
        "shexian",
        classified=True,
        status=Status.APPLIED,
        applications=(applied,),
        attestations=cleared,
        data_sharing=DataSharing("confirmed"),
    )
    with pytest.raises(RuleViolation) as refused:
        admit(project, pack, admit=True, reason="", by="局")
    assert [r.code for r in refused.value.reasons] == ["classified_approval_missing"]
    assert "已于 2026-09-29 过期" in refused.value.reasons[0].message
    project.attestations = (*cleared, dataclasses.replace(cleared[1], valid_until=None))
    admit(project, pack, admit=True, reason="", by="局")
    assert project.status is Status.UNDER_ACCEPTANCE

    # The same article where the authority, not a panel, concludes.
    shexian = POLICY["shexian"]
    final = shexian.rule("acceptance.final_acceptance").model_copy(update={"params": {}})
    rules = {**shexian.rules, "acceptance.final_acceptance": final}
    packs = {code: POLICY[code] for code in POLICY.codes}
    by_authority = PolicyRegistry({**packs, "shexian": shexian.model_copy(update={"rules": rules})})
    authority = Pack(by_authority, CALENDAR, pack.now)
    project.attestations = (*project.attestations, dataclasses.replace(cleared[0], compliant=False))
    with pytest.raises(RuleViolation) as refused:
        conclude(project, authority, passed=True, items=(), due=None, by="局")
    assert [r.code for r in refused.value.reasons] == ["classified_assessment_missing"]
    conclude(project, authority, passed=False, items=("重新保密测评",), due=None, by="局")
    assert project.status.value == "rectifying"
