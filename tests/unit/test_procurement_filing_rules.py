"""Rules procurement checks at contract filing and of purchases outside the plan, as pure functions:
design kept apart from implementation (shexian §18), the 原则上 监理制 and the authority's exception
(shexian §30), the filing of purchases outside the annual plan (lhasa §10 第二款)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.procurement.domain import (
    Contract,
    ContractTerms,
    ExceptionNotAllowed,
    Filing,
    InvalidState,
    OnFile,
    Project,
    PurchaseTerms,
    Requirements,
    Role,
    RuleViolation,
    Status,
    complete,
    file_contract,
    file_purchase,
    note_missed_filing,
    record_exception,
    record_purchase,
    start,
)
from services.procurement.domain.errors import ProcurementError
from shared.contracts.procurement import (
    ConstructionCompleted,
    ConstructionStarted,
    DeadlineMissed,
    PurchaseFiled,
)
from shared.policy import Reason, load_registry
from shared.policy.principle import ExceptionRefused, PrincipleException, except_in_principle
from shared.workdays import WorkingCalendar

POLICY = load_registry()
CALENDAR = WorkingCalendar()
WAN = 1_000_000  # 1万元 in fen
DESIGNER = ("某某规划设计咨询有限公司", "91341021MA2XXXXX1A")
BUILDER = ("某某信息技术有限公司", "91341021MA2YYYYY2B")
AT = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def approved(jurisdiction: str, amount_fen: int = 200 * WAN) -> Project:
    """A project approved on 3/02, its procurement requirements reviewed (shexian §29)."""
    return Project(
        id="p1",
        jurisdiction=jurisdiction,
        agency="县教育局",
        title="智慧教育平台",
        kind="construction",
        declared_fen=amount_fen,
        software_fen=0,
        status=Status.APPROVED,
        approved_fen=amount_fen,
        approved_on=dt.date(2026, 3, 2),
        requirements=Requirements(
            "approved", "需求", "单位", AT, "同意", "局", dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
        ),
    )


def terms(role: Role, firm: tuple[str, str], ip: bool = True) -> ContractTerms:
    return ContractTerms(
        role=role,
        counterparty=firm[0],
        credit_code=firm[1],
        amount_fen=20 * WAN,
        signed_on=dt.date(2026, 3, 5),
        starts_on=None,
        ends_on=None,
        milestones=[("全部", "signing", Decimal("100"))],
        ip_to_government=ip,
    )


def filed(
    project: Project, role: Role, firm: tuple[str, str], on_file: OnFile | None = None, ip: bool = True
) -> Contract:
    contract_terms = terms(role, firm, ip)
    return file_contract(POLICY, CALENDAR, project, contract_terms, on_file or OnFile(), Filing("经办人", AT))


# -- shexian §18: 项目设计与实施分开进行 ------------------------------------------------------------------


def test_shexian_refuses_the_design_firm_as_implementer_and_the_implementer_as_designer() -> None:
    project = approved("shexian")
    design = filed(project, Role.DESIGN, DESIGNER)
    with pytest.raises(RuleViolation) as refused:
        filed(project, Role.CONSTRUCTION, (DESIGNER[0] + "（联合体）", DESIGNER[1]), OnFile(None, [design]))
    (reason,) = refused.value.reasons
    assert reason.code == "design_and_implementation_same_firm" and reason.articles == ("shexian §18",)
    assert DESIGNER[1] in reason.message and "设计与实施分开" in reason.message
    # Another firm implements; the implementer may not then take the design (the other way round).
    build = filed(project, Role.CONSTRUCTION, BUILDER, OnFile(None, [design]))
    with pytest.raises(RuleViolation) as refused:
        filed(project, Role.DESIGN, BUILDER, OnFile(None, [design, build]))
    assert [r.code for r in refused.value.reasons] == ["design_and_implementation_same_firm"]
    # §18 keeps design from implementation, not from supervision.
    filed(project, Role.SUPERVISION, DESIGNER, OnFile(None, [design, build]))


def test_the_separation_is_shexians_alone_and_a_design_contract_is_none_of_constructions_facts() -> None:
    project = approved("zhonglou")
    design = filed(project, Role.DESIGN, DESIGNER)
    filed(project, Role.CONSTRUCTION, DESIGNER, OnFile(None, [design]))  # zhonglou's text says nothing of it
    assert not POLICY.rule("lhasa", "procurement.design_implementation_separate").applies
    shexian = approved("shexian")
    filed(shexian, Role.DESIGN, DESIGNER)
    assert shexian.status is Status.APPROVED and shexian.contract_signed_on is None
    assert shexian.contractors == [] and shexian.contract_total_fen == 0
    assert [e.role for e in shexian.events] == ["design"]  # type: ignore[attr-defined]


def test_shexian_a_design_contract_vests_its_design_files_in_the_government() -> None:
    # shexian §40 names 设计文件 among the results the government owns; 监理 produces none of them.
    with pytest.raises(RuleViolation) as refused:
        filed(approved("shexian"), Role.DESIGN, DESIGNER, ip=False)
    assert [r.articles for r in refused.value.reasons] == [("shexian §40",)]
    filed(approved("shexian"), Role.SUPERVISION, DESIGNER, ip=False)


# -- shexian §30: 原则上实行监理制 -------------------------------------------------------------------------


def exception(
    code: str = "no_supervisor", reason: str = "系统升级改造范围小，由单位自行管理"
) -> PrincipleException:
    return PrincipleException(code, reason, "歙数资〔2026〕12号", "县数据资源局")


def test_shexian_the_authority_may_depart_from_the_supervision_rule_with_reason_and_document() -> None:
    project = approved("shexian")
    with pytest.raises(RuleViolation) as refused:
        start(POLICY, project, dt.date(2026, 3, 10), dt.date(2026, 3, 10))
    (reason,) = refused.value.reasons
    assert reason.code == "no_supervisor" and reason.in_principle and reason.articles == ("shexian §30",)
    assert "原则上" in reason.message
    with pytest.raises(ExceptionNotAllowed, match="理由并注明文号"):
        record_exception(POLICY, project, exception(reason=" "))
    with pytest.raises(ExceptionNotAllowed, match="没有可作例外的理由"):
        record_exception(POLICY, project, exception(code="requirements_not_reviewed"))
    record_exception(POLICY, project, exception())
    with pytest.raises(InvalidState):
        record_exception(POLICY, project, exception())  # once
    start(POLICY, project, dt.date(2026, 3, 10), dt.date(2026, 3, 10))
    (started,) = [e for e in project.events if isinstance(e, ConstructionStarted)]
    (made,) = started.exceptions
    assert started.supervisor is None and made.code == "exception:no_supervisor"
    assert made.articles == ("shexian §30",) and "歙数资〔2026〕12号" in made.message
    complete(POLICY, project, (dt.date(2026, 6, 1), None), dt.date(2026, 6, 1))
    (completed,) = [e for e in project.events if isinstance(e, ConstructionCompleted)]
    assert [c.code for c in completed.exceptions] == ["exception:no_supervisor"]


@pytest.mark.parametrize("jurisdiction", ["lhasa", "zhonglou", "bayingolin", "xunyang"])
def test_where_the_article_requires_a_supervisor_no_exception_is_made(jurisdiction: str) -> None:
    # lhasa §13 不得施工, zhonglou §15 须, bayingolin §19 应, xunyang §16 实行: none says 原则上.
    project = approved(jurisdiction)
    with pytest.raises(ExceptionNotAllowed, match="不能作出例外"):
        record_exception(POLICY, project, exception())
    assert project.exceptions is None


def test_no_exception_once_a_supervisor_is_filed() -> None:
    project = approved("shexian")
    filed(project, Role.SUPERVISION, DESIGNER)
    with pytest.raises(InvalidState, match="无须作出例外"):
        record_exception(POLICY, project, exception())


def test_an_exception_to_one_code_needs_every_rule_refusing_with_it_to_say_in_principle() -> None:
    soft = Reason(code="no_supervisor", rule="a §1", articles=("a §1",), message="原则上", in_principle=True)
    hard = Reason(code="no_supervisor", rule="a §2", articles=("a §2",), message="不得", in_principle=False)
    with pytest.raises(ExceptionRefused, match="不得"):
        except_in_principle([soft, hard], [exception()])
    standing, made = except_in_principle([soft], [exception()])
    assert standing == [] and made[0].articles == ("a §1",)


# -- 不得未批先建: zhonglou §13, shexian §15, bayingolin §15 ------------------------------------------


@pytest.mark.parametrize(
    "jurisdiction, article",
    [("zhonglou", "zhonglou §13"), ("shexian", "shexian §15"), ("bayingolin", "bayingolin §15")],
)
def test_construction_neither_starts_before_the_approval_nor_is_dated_before_it(
    jurisdiction: str, article: str
) -> None:
    """zhonglou §13 不得提前开工建设, shexian §15 不得未批先建, bayingolin §15 不得未批先建: a project not
    yet approved does not start, nor does a start dated before its approval; lhasa's text says nothing."""
    project = approved(jurisdiction, 20 * WAN)
    project.supervisor = "某某工程监理有限公司"  # the 监理 aside (shexian §30)
    project.approved_fen, project.approved_on, project.status = None, None, Status.DECLARED
    with pytest.raises(RuleViolation) as refused:
        start(POLICY, project, dt.date(2026, 3, 10), dt.date(2026, 3, 10))
    assert [(r.code, r.articles) for r in refused.value.reasons] == [("not_approved", (article,))]
    assert "尚未批复" in refused.value.reasons[0].message
    project.approve(20 * WAN, dt.date(2026, 3, 12))
    with pytest.raises(RuleViolation) as refused:
        start(POLICY, project, dt.date(2026, 3, 10), dt.date(2026, 3, 20))
    (reason,) = refused.value.reasons
    assert reason.code == "started_before_approval" and reason.articles == (article,)
    assert "2026-03-10" in reason.message and "2026-03-12" in reason.message
    start(POLICY, project, dt.date(2026, 3, 12), dt.date(2026, 3, 20))
    (started,) = [e for e in project.events if isinstance(e, ConstructionStarted)]
    assert started.articles == (article,)
    unapproved = approved("lhasa", 20 * WAN)
    unapproved.supervisor = "某某工程监理有限公司"  # lhasa §13
    unapproved.approved_fen, unapproved.approved_on, unapproved.status = None, None, Status.DECLARED
    start(POLICY, unapproved, dt.date(2026, 3, 10), dt.date(2026, 3, 10))


def test_lhasa_refuses_a_start_without_a_supervisor_for_each_sentence_of_its_article() -> None:
    """lhasa §13: 监理单位应同步与实施工程单位进场 (every project has its 监理, entering with the
    contractor) and 未确定监理单位的信息化项目不得施工 — a start without one is refused by both."""
    project = approved("lhasa", 20 * WAN)
    with pytest.raises(RuleViolation) as refused:
        start(POLICY, project, dt.date(2026, 3, 10), dt.date(2026, 3, 10))
    reasons = refused.value.reasons
    assert [(r.code, r.articles) for r in reasons] == [("no_supervisor", ("lhasa §13",))] * 2
    assert "未确定监理单位的信息化项目不得施工" in reasons[0].message
    assert (
        "本项目须实行监理" in reasons[1].message and "监理单位应与实施工程单位同步进场" in reasons[1].message
    )
    assert not any(r.in_principle for r in reasons)
    filed(project, Role.SUPERVISION, DESIGNER)
    start(POLICY, project, dt.date(2026, 3, 10), dt.date(2026, 3, 10))
    assert project.started_on == dt.date(2026, 3, 10)


# -- lhasa §10 第二款: 计划外采购，采购完成后1个月内备案 ---------------------------------------------


def purchase_terms(jurisdiction: str = "lhasa", category: str = "network_renovation") -> PurchaseTerms:
    return PurchaseTerms(
        jurisdiction=jurisdiction,
        agency="市教育局",
        title="办公楼网络改造",
        category=category,
        amount_fen=30 * WAN,
        supplier=BUILDER[0],
        credit_code=BUILDER[1],
        procured_on=dt.date(2026, 9, 1),
    )


def on(day: dt.date) -> Filing:
    return Filing("经办人", dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC))


def test_lhasa_files_a_purchase_outside_the_plan_within_a_month_of_its_procurement() -> None:
    # Procured 9/01: a month ends 10/01, National Day; the limit is the next working day, 10/08.
    purchase = record_purchase(POLICY, CALENDAR, purchase_terms(), None, on(dt.date(2026, 9, 2)))
    assert (
        purchase.filing_due_on == dt.date(2026, 10, 8) and purchase.state(dt.date(2026, 10, 8)) == "running"
    )
    assert note_missed_filing(POLICY, purchase, dt.date(2026, 10, 8)) == 0
    assert note_missed_filing(POLICY, purchase, dt.date(2026, 10, 9)) == 1
    assert note_missed_filing(POLICY, purchase, dt.date(2026, 10, 10)) == 0  # once
    (missed,) = purchase.events
    assert isinstance(missed, DeadlineMissed) and missed.deadline == "purchase_filing"
    assert missed.articles == ("lhasa §10",) and "办公区域网络改造" in missed.message
    file_purchase(POLICY, purchase, "采购合同、验收单", on(dt.date(2026, 10, 12)))
    filed_event = purchase.events[-1]
    assert isinstance(filed_event, PurchaseFiled) and filed_event.late and purchase.late
    assert filed_event.notes[0].code == "purchase_filed_late" and filed_event.notes[0].articles == (
        "lhasa §10",
    )
    with pytest.raises(InvalidState):
        file_purchase(POLICY, purchase, "再报", on(dt.date(2026, 10, 13)))


def test_lhasa_a_purchase_filed_with_its_record_in_time_is_not_late() -> None:
    purchase = record_purchase(
        POLICY, CALENDAR, purchase_terms(category="security"), "材料", on(dt.date(2026, 9, 2))
    )
    assert purchase.state(dt.date(2026, 12, 1)) == "filed" and not purchase.late and purchase.notes == []
    (event,) = purchase.events
    assert isinstance(event, PurchaseFiled) and event.filing_due_on == dt.date(2026, 10, 8)


def test_only_the_listed_kinds_of_purchase_and_only_where_the_text_provides() -> None:
    with pytest.raises(ProcurementError, match="不在办法所列范围"):
        record_purchase(POLICY, CALENDAR, purchase_terms(category="platform"), None, on(dt.date(2026, 9, 2)))
    with pytest.raises(ProcurementError, match="未规定计划外采购备案"):
        record_purchase(POLICY, CALENDAR, purchase_terms("shexian"), None, on(dt.date(2026, 9, 2)))
    with pytest.raises(ProcurementError, match="晚于今日"):
        record_purchase(POLICY, CALENDAR, purchase_terms(), None, on(dt.date(2026, 8, 31)))
