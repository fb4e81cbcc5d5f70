"""How a declared project is built — platform, networks, hardware, software costs — and what each
jurisdiction's pack says of it, with its article (pure domain, no servers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from services.intake.domain import Project, ProjectKind, ProjectStatus
from services.intake.domain.approval import approval_refusals
from services.intake.domain.facilities import platform_unexplained, validate_packs
from services.intake.domain.records import Bar
from services.intake.domain.requirements import ProjectFacts, Stage, required_materials, required_signoffs
from services.intake.domain.screening import AgencyLevel, Declaration, screen
from services.intake.domain.standing import barred
from shared.policy import PolicyError, load_registry
from shared.policy.pack import PolicyPack, PolicyRegistry
from shared.policy.principle import PrincipleException, except_in_principle

POLICY = load_registry()
AT = dt.datetime(2026, 6, 15, 2, tzinfo=dt.UTC)


def complete(jurisdiction: str, **changes: Any) -> Declaration:
    """A declaration that brought every declaration-stage material its jurisdiction asks for."""
    facts = changes.pop("facts", ProjectFacts(kind="construction", amount_fen=2_000_000_00))
    materials = {
        m.material: m.min_count
        for m in required_materials(POLICY, jurisdiction, facts)
        if m.stage is Stage.DECLARATION
    }
    base = Declaration(
        jurisdiction=jurisdiction, facts=facts, agency_level=AgencyLevel.DISTRICT, materials=materials
    )
    return replace(base, **changes)


def codes(declaration: Declaration) -> dict[str, str]:
    return {r.code: r.rule for r in screen(declaration, POLICY).reasons}


def in_plan(jurisdiction: str, **build: Any) -> Project:
    return Project(
        id="p1",
        jurisdiction=jurisdiction,
        agency="县教育局",
        title="教育资源平台",
        kind=ProjectKind.CONSTRUCTION,
        amount_fen=200 * 1_000_000,
        classified=False,
        status=ProjectStatus.IN_PLAN,
        declared_at=AT,
        declared_by="u",
        created_at=AT,
        plan_year=2027,
        **build,
    )


def missing_signoffs(project: Project, signed: frozenset[str] = frozenset()) -> dict[str, str]:
    reasons = approval_refusals(POLICY, project, {}, signed)
    return {r.code: r.rule for r in reasons if r.code.startswith("signoff_missing:")}


# -- shexian §10: built on the 全省一体化数据基础平台, or reviewed and approved not to be -----------


def test_shexian_asks_why_a_project_is_not_built_on_the_platform() -> None:
    refused = platform_unexplained(POLICY, "shexian", on_platform=False, reason=" ")
    assert [(r.code, r.rule) for r in refused] == [("off_platform_unexplained", "shexian §10")]
    assert "全省一体化数据基础平台" in refused[0].message and "shexian §10" in refused[0].message
    assert platform_unexplained(POLICY, "shexian", on_platform=False, reason="涉及公安专网数据") == []
    assert platform_unexplained(POLICY, "shexian", on_platform=True, reason="") == []
    for other in ("zhonglou", "xunyang", "lhasa", "bayingolin"):
        assert platform_unexplained(POLICY, other, on_platform=False, reason="") == []


def test_shexian_approves_a_project_off_the_platform_only_after_its_review_and_the_bureaus_approval() -> None:
    off = in_plan("shexian", on_platform=False, off_platform_reason="涉及公安专网数据")
    assert missing_signoffs(off) == {
        "signoff_missing:off_platform_review": "shexian §10",
        "signoff_missing:off_platform_approval": "shexian §10",
    }
    assert missing_signoffs(off, frozenset({"off_platform_review", "off_platform_approval"})) == {}
    assert missing_signoffs(in_plan("shexian")) == {}
    # Another pack does not turn the rule on: no sign-off is asked there.
    assert missing_signoffs(in_plan("zhonglou", on_platform=False)) == {}


# -- xunyang §12–13: 乡乡通 between district and streets, 政务信息网 between departments ------------


def test_xunyang_links_district_and_streets_over_the_township_network_only() -> None:
    assert codes(complete("xunyang", network_links={"vertical": "township_network"})) == {}
    assert codes(complete("xunyang", network_links={"vertical": "gov_extranet"})) == {
        "network_not_designated:vertical": "xunyang §12"
    }
    refused = screen(complete("xunyang", network_links={"vertical": "department_network"}), POLICY)
    assert "“乡乡通”网络" in refused.reasons[0].message and "xunyang §12" in refused.reasons[0].message


def test_xunyang_links_departments_over_the_gov_info_network_and_leases_no_fibre() -> None:
    assert codes(complete("xunyang", network_links={"horizontal": "gov_info_network"})) == {}
    leased = complete("xunyang", network_links={"horizontal": "gov_info_network"}, leases_lines=True)
    assert codes(leased) == {"leased_lines:horizontal": "xunyang §13"}
    both = complete(
        "xunyang",
        network_links={"vertical": "township_network", "horizontal": "department_network"},
        leases_lines=True,
    )
    assert codes(both) == {
        "leased_lines:vertical": "xunyang §12",
        "network_not_designated:horizontal": "xunyang §13",
        "leased_lines:horizontal": "xunyang §13",
    }


def test_networks_are_not_refused_for_secret_systems_nor_where_the_text_is_silent() -> None:
    secret = ProjectFacts(kind="construction", amount_fen=2_000_000_00, classified=True)
    links = {"vertical": "department_network"}
    assert codes(complete("xunyang", facts=secret, network_links=links, leases_lines=True)) == {}
    for other in ("zhonglou", "shexian", "lhasa", "bayingolin"):
        assert codes(complete(other, network_links=links, leases_lines=True)) == {}


def test_a_designated_link_citing_an_article_outside_its_rule_is_refused_at_start() -> None:
    validate_packs(POLICY)
    pack = POLICY["xunyang"]
    rule = pack.rules["intake.designated_network"]
    links = [{**rule.params["links"][0], "article": "xunyang §11"}]
    bad = rule.model_copy(update={"params": {**rule.params, "links": links}})
    edited = PolicyPack.model_validate(
        {**pack.model_dump(), "rules": {**pack.rules, "intake.designated_network": bad}}
    )
    with pytest.raises(PolicyError, match="cites xunyang §11"):
        validate_packs(PolicyRegistry({**{c: POLICY[c] for c in POLICY.codes}, "xunyang": edited}))


# -- lhasa §26: network, security, server and storage equipment 安全自主可控 ---------------------


def test_lhasa_refuses_servers_and_storage_not_declared_secure_and_controllable() -> None:
    refused = screen(complete("lhasa", hardware=("server", "storage", "other")), POLICY)
    assert [(r.code, r.rule) for r in refused.reasons] == [("equipment_not_secure_controllable", "lhasa §26")]
    assert "服务器、存储设备" in refused.reasons[0].message and "其他" not in refused.reasons[0].message
    assert codes(complete("lhasa", hardware=("network", "security"), hardware_secure_controllable=True)) == {}
    assert codes(complete("lhasa", hardware=("other",))) == {}
    assert codes(complete("lhasa")) == {}
    assert codes(complete("bayingolin", hardware=("server",))) == {}


# -- lhasa §11: 原则上 no original development, its fees within the software purchase ------------


def test_lhasa_recommends_against_original_development_and_the_authority_may_depart() -> None:
    declared = complete("lhasa", original_development=True, development_fees_separate=True)
    reasons = screen(declared, POLICY).reasons
    assert {r.code: r.rule for r in reasons} == {
        "original_development": "lhasa §11",
        "development_fees_separate": "lhasa §11",
    }
    assert all(r.in_principle and "原则上" in r.message for r in reasons)
    exception = PrincipleException(
        "original_development", "无可用成品软件", "拉经信函〔2026〕8号", "市经信局"
    )
    standing, made = except_in_principle(reasons, [exception])
    assert [r.code for r in standing] == ["development_fees_separate"]
    assert made[0].code == "exception:original_development" and made[0].articles == ("lhasa §11",)
    for other in ("zhonglou", "shexian", "xunyang", "bayingolin"):
        assert codes(complete(other, original_development=True, development_fees_separate=True)) == {}


# -- bayingolin §17: hardware procurement filed with the 保密 and 财政 departments ---------------


def test_bayingolin_lists_the_hardware_filings_due_before_procurement_not_before_approval() -> None:
    facts = ProjectFacts(kind="construction", amount_fen=200 * 1_000_000, hardware=True)
    filings = {s.signoff: (s.article, s.before) for s in required_signoffs(POLICY, "bayingolin", facts)}
    assert filings == {
        "hardware_secrecy_filing": ("bayingolin §17", "procurement"),
        "hardware_finance_filing": ("bayingolin §17", "procurement"),
    }
    assert required_signoffs(POLICY, "bayingolin", replace(facts, hardware=False)) == []
    # The article places the filing in the implementation, after the plan: 批复 does not wait for it.
    assert missing_signoffs(in_plan("bayingolin", hardware=["server"])) == {}
    assert required_signoffs(POLICY, "lhasa", facts) == []


def test_a_project_procures_hardware_when_its_declaration_names_any() -> None:
    assert ProjectFacts.of(in_plan("bayingolin", hardware=["other"])).hardware is True
    assert ProjectFacts.of(in_plan("bayingolin")).hardware is False
    assert ProjectFacts.of(in_plan("shexian", on_platform=False)).off_platform is True
    # Two projects built alike are still two projects.
    assert in_plan("bayingolin") != in_plan("bayingolin")


# -- lhasa §24: the 网信办's check is the precondition of the department's next declarations ------


@pytest.mark.parametrize("nature", ["new", "continued", "renovation", "expansion", "upgrade"])
def test_lhasa_bars_every_declaration_of_a_department_whose_mlps_finding_is_unremedied(nature: str) -> None:
    today = dt.date(2026, 6, 15)
    security = Bar("b1", "lhasa", "市教育局", "security_noncompliant", "p0", AT)
    refused = barred(POLICY, "lhasa", nature, [security], today)
    assert [(r.code, r.rule) for r in refused] == [("agency_barred:security_noncompliant", "lhasa §24")]
    # lhasa §25 (密码) says nothing of declarations: a crypto finding bars nothing there.
    crypto = Bar("b2", "lhasa", "市教育局", "crypto_noncompliant", "p0", AT)
    assert barred(POLICY, "lhasa", nature, [crypto], today) == []
