"""Required documents per jurisdiction, from the policy packs (pure domain, no servers)."""

from __future__ import annotations

import pytest

from services.intake.domain.requirements import ProjectFacts, Stage, required_materials, validate_packs
from shared.policy import PolicyError, load_registry
from shared.policy.pack import PolicyPack, PolicyRegistry

POLICY = load_registry()
WAN = 1_000_000  # 1 万元 in fen


def checklist(jurisdiction: str, stage: Stage | None = None, **facts: object) -> dict[str, str]:
    items = required_materials(POLICY, jurisdiction, ProjectFacts(**{"kind": "construction", **facts}))  # type: ignore[arg-type]
    return {i.material: i.article for i in items if stage is None or i.stage is stage}


def test_every_pack_has_valid_material_requirements() -> None:
    validate_packs(POLICY)


def test_shexian_asks_for_a_plan_below_the_procurement_limit_and_a_feasibility_study_above() -> None:
    small = checklist("shexian", Stage.APPROVAL, amount_fen=50 * WAN)
    assert "construction_plan" in small and "feasibility_study" not in small
    assert small["construction_plan"] == "shexian §20(一)"
    middle = checklist("shexian", Stage.APPROVAL, amount_fen=300 * WAN)
    assert {"feasibility_study", "data_sharing_analysis_chapter"} <= middle.keys()
    assert "construction_plan" not in middle and "preliminary_design" not in middle
    large = checklist("shexian", Stage.APPROVAL, amount_fen=500 * WAN)  # 500万元及以上
    assert "preliminary_design" not in large and large["data_resource_catalog"] == "shexian §24"
    # …whose 初步设计方案 comes after the 可研 approval, unless an emergency project combines them.
    assert checklist("shexian", Stage.DESIGN_APPROVAL, amount_fen=500 * WAN) == {
        "preliminary_design": "shexian §20(一)"
    }
    combined = checklist("shexian", Stage.APPROVAL, amount_fen=500 * WAN, off_plan=True)
    assert combined["preliminary_design"] == "shexian §20(二)"
    assert "preliminary_design" not in checklist("shexian", amount_fen=500 * WAN, nature="continued")


def test_shexian_om_projects_need_no_approval_documents() -> None:
    # shexian §20(三): O&M projects in an approved plan are carried out without further approval.
    assert checklist("shexian", Stage.APPROVAL, kind="operation", amount_fen=900 * WAN) == {}


def test_lhasa_lets_a_simple_project_under_ten_million_skip_the_feasibility_study() -> None:
    simple = checklist("lhasa", Stage.APPROVAL, amount_fen=999 * WAN, simple=True)
    assert "feasibility_study" not in simple and simple["preliminary_design"] == "lhasa §10"
    assert "feasibility_study" in checklist("lhasa", Stage.APPROVAL, amount_fen=1000 * WAN, simple=True)
    assert "feasibility_study" in checklist("lhasa", Stage.APPROVAL, amount_fen=10 * WAN, simple=False)
    assert checklist("lhasa", Stage.APPROVAL, amount_fen=10 * WAN)["crypto_application_plan"] == "lhasa §10"


def test_lhasa_wants_three_price_comparisons_for_packaged_software() -> None:
    items = required_materials(
        POLICY, "lhasa", ProjectFacts(kind="construction", amount_fen=1, packaged_software=True)
    )
    [quotes] = [i for i in items if i.material == "price_comparisons"]
    assert (quotes.min_count, quotes.article) == (3, "lhasa §11")
    assert "price_comparisons" not in checklist("lhasa", amount_fen=1, packaged_software=False)
    assert (
        checklist("lhasa", Stage.DECLARATION, amount_fen=1)["cybersecurity_prereview_opinion"] == "lhasa §4"
    )


def test_bayingolin_wants_a_software_study_from_five_million_of_software_development() -> None:
    assert "software_study" not in checklist("bayingolin", amount_fen=900 * WAN, software_fen=499 * WAN)
    assert (
        checklist("bayingolin", amount_fen=900 * WAN, software_fen=500 * WAN)["software_study"]
        == "bayingolin §12"
    )
    declared = checklist("bayingolin", Stage.DECLARATION, amount_fen=1)
    assert {"info_resource_catalog", "sharing_list", "demand_list"} <= declared.keys()
    assert declared["declaration_form"] == "bayingolin §9"


def test_zhonglou_exempts_classified_projects_from_article_7_materials() -> None:
    public = checklist("zhonglou", Stage.DECLARATION, amount_fen=1)
    secret = checklist("zhonglou", Stage.DECLARATION, amount_fen=1, classified=True)
    assert public["security_plan"] == "zhonglou §7(六)"
    assert "security_plan" not in secret and "data_sharing_responsibility_list" not in secret
    assert secret == {"project_proposal": "zhonglou §6", "construction_plan": "zhonglou §6"}


def test_xunyang_wants_the_form_and_the_proposal() -> None:
    assert checklist("xunyang", kind="service", amount_fen=1) == {
        "declaration_form": "xunyang §7",
        "project_proposal": "xunyang §7",
    }


def test_a_requirement_citing_another_jurisdiction_is_refused() -> None:
    pack = POLICY["xunyang"]
    rule = pack.rules["intake.required_materials"]
    bad_params = {
        **rule.params,
        "requirements": [{"material": "project_proposal", "stage": "declaration", "article": "lhasa §4"}],
    }
    bad_rule = rule.model_copy(update={"params": bad_params})
    bad_pack = PolicyPack.model_validate(
        {**pack.model_dump(), "rules": {**pack.rules, "intake.required_materials": bad_rule}}
    )
    registry = PolicyRegistry({**{c: POLICY[c] for c in POLICY.codes}, "xunyang": bad_pack})
    with pytest.raises(PolicyError, match="not a xunyang article"):
        validate_packs(registry)


def test_zhonglou_emergency_projects_skip_the_plan_not_the_demonstration() -> None:
    # zhonglou §9: 临时新增项目 … 经审议通过后按要求进行项目论证、实施、验收 — the 论证 of §11 and
    # the final 建议书 of §12 are asked of them as of any other project.
    planned = checklist("zhonglou", Stage.APPROVAL, amount_fen=50 * WAN)
    emergency = checklist("zhonglou", Stage.APPROVAL, amount_fen=50 * WAN, off_plan=True)
    for material, article in {
        "demonstration_request": "zhonglou §11",
        "demonstration_proposal": "zhonglou §11",
        "demonstration_plan": "zhonglou §11",
        "final_proposal": "zhonglou §12",
    }.items():
        assert planned[material] == emergency[material] == article
    # What §9 adds is asked at declaration: the minutes and the 网信办 opinion.
    declared = checklist("zhonglou", Stage.DECLARATION, amount_fen=50 * WAN, off_plan=True)
    assert declared["meeting_minutes"] == declared["cybersecurity_review_opinion"] == "zhonglou §9"


def test_shexian_18_and_bayingolin_11_ask_for_the_feasibility_study() -> None:
    # shexian §18: projects in the county plan go straight to the 可研 (no 建议书 approved again);
    # §20(一) says from which amount.
    assert POLICY.rule("shexian", "intake.approval_path_by_amount").articles == ("shexian §18", "shexian §20")
    above = checklist("shexian", Stage.APPROVAL, amount_fen=300 * WAN)
    assert above["feasibility_study"] == "shexian §20(一)" and "project_proposal" not in above
    # bayingolin §11: the 可研 with its listed contents, at declaration for building and service projects.
    assert (
        checklist("bayingolin", Stage.DECLARATION, amount_fen=300 * WAN)["feasibility_study"]
        == "bayingolin §11"
    )


def test_shexian_44_a_project_that_cannot_share_its_data_waits_for_the_county_government() -> None:
    from services.intake.domain.requirements import required_signoffs

    def signoffs(jurisdiction: str, **facts: object) -> dict[str, str]:
        found = required_signoffs(
            POLICY, jurisdiction, ProjectFacts(**{"kind": "construction", "amount_fen": WAN, **facts})
        )  # type: ignore[arg-type]
        return {s.signoff: s.article for s in found}

    assert signoffs("shexian", not_sharing=True)["county_government_sharing_exemption"] == "shexian §44"
    assert "county_government_sharing_exemption" not in signoffs("shexian")
    assert "county_government_sharing_exemption" not in signoffs("zhonglou", not_sharing=True)


def test_a_material_another_rule_makes_a_必备条件_names_a_rule_of_its_pack() -> None:
    """shexian §24 and bayingolin §13 make the data catalogs 必备条件 of their own; bayingolin §12
    the software study: each such material names the rule it is asked for by."""
    from services.intake.domain.requirements import RULE, requirements

    named = {
        (code, item.material): item.rule
        for code in POLICY.codes
        for item in requirements(POLICY.rule(code, RULE))
        if item.rule is not None
    }
    for (code, _), rule_id in named.items():
        POLICY.rule(code, rule_id)  # a rule of the pack, or PolicyError
    assert named[("shexian", "data_resource_catalog")] == "intake.data_catalog_mandatory"
    assert named[("bayingolin", "sharing_list")] == "intake.data_catalog_mandatory"
    assert named[("bayingolin", "software_study")] == "intake.software_study_threshold"
