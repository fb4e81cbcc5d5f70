"""形式审查 per jurisdiction: each admission rule allowing and refusing, with its article."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.intake.domain.requirements import ProjectFacts, Stage, required_materials
from services.intake.domain.screening import AgencyLevel, Declaration, Deployment, screen
from shared.policy import load_registry

POLICY = load_registry()


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
    decision = screen(declaration, POLICY)
    return {r.code: r.rule for r in decision.reasons}


def test_a_complete_declaration_passes_in_every_jurisdiction() -> None:
    for jurisdiction in POLICY.codes:
        decision = screen(complete(jurisdiction), POLICY)
        assert decision.allowed, (jurisdiction, decision.reasons)


def test_zhonglou_refuses_each_ground_of_article_8() -> None:
    refused = codes(
        complete(
            "zhonglou",
            deployment=Deployment.OTHER,
            xinchuang_compatible=False,
            has_security_plan=False,
            shares_data_with_platform=False,
            agency_duties_unmet=True,
        )
    )
    assert refused == {
        f"not_reviewable:{g}": "zhonglou §8"
        for g in (
            "migration_or_sharing_duty_unmet",
            "not_on_gov_network_cloud_unexplained",
            "not_sharing_with_platform",
            "not_xinchuang_compatible",
            "no_security_plan",
        )
    }


def test_zhonglou_accepts_an_explained_deployment_and_projects_assigned_from_above() -> None:
    assert codes(complete("zhonglou", deployment=Deployment.OTHER, deployment_explained=True)) == {}
    assert codes(complete("zhonglou", shares_data_with_platform=False, assigned_from_above=True)) == {}


def test_zhonglou_article_8_does_not_apply_to_classified_projects() -> None:
    secret = ProjectFacts(kind="construction", amount_fen=1, classified=True)
    assert (
        codes(complete("zhonglou", facts=secret, xinchuang_compatible=False, has_security_plan=False)) == {}
    )


def test_the_same_grounds_do_not_refuse_where_the_regulation_lacks_them() -> None:
    assert codes(complete("xunyang", xinchuang_compatible=False, has_security_plan=False)) == {}


def test_a_township_may_not_declare_on_its_own_in_shexian_only() -> None:
    assert codes(complete("shexian", agency_level=AgencyLevel.TOWNSHIP)) == {
        "township_declaration": "shexian §13"
    }
    assert codes(complete("zhonglou", agency_level=AgencyLevel.TOWNSHIP)) == {}


def test_lhasa_allows_two_declarations_per_department_and_year() -> None:
    assert codes(complete("lhasa", other_declarations_this_year=1)) == {}
    refused = screen(complete("lhasa", other_declarations_this_year=2), POLICY)
    assert [r.rule for r in refused.reasons] == ["lhasa §7"]
    assert "已申报 2 个项目" in refused.reasons[0].message
    assert codes(complete("shexian", other_declarations_this_year=5)) == {}


def test_a_new_machine_room_is_refused_where_the_regulation_forbids_it() -> None:
    assert codes(complete("xunyang", deployment=Deployment.OWN_MACHINE_ROOM)) == {
        "new_machine_room": "xunyang §11"
    }
    assert codes(complete("lhasa", deployment=Deployment.OWN_MACHINE_ROOM)) == {
        "new_machine_room": "lhasa §8"
    }


def test_a_non_secret_system_off_the_gov_cloud_is_refused_where_the_regulation_requires_it() -> None:
    # xunyang §11 (新建业务应用系统必须部署在浔阳区政务云平台): the extranet, a 政务机房 or another
    # deployment, explained or not, is refused with the article; zhonglou §8 only wants it
    # explained, and shexian has no such article.
    for deployment in (Deployment.GOV_EXTRANET, Deployment.GOV_MACHINE_ROOM, Deployment.OTHER):
        declaration = complete("xunyang", deployment=deployment, deployment_explained=True)
        assert codes(declaration) == {"not_on_gov_cloud": "xunyang §11"}, deployment
    [reason] = screen(complete("xunyang", deployment=Deployment.GOV_EXTRANET), POLICY).reasons
    assert (
        "电子政务外网" in reason.message
        and "应为政务云" in reason.message
        and "xunyang §11" in reason.message
    )
    # 涉密 systems follow the secrecy rules instead.
    secret = ProjectFacts(kind="construction", amount_fen=1, classified=True)
    assert codes(complete("xunyang", facts=secret, deployment=Deployment.OTHER)) == {}


def test_lhasa_builds_on_any_shared_facility_and_refuses_only_a_new_or_expanded_machine_room() -> None:
    # lhasa §8: 依托政务机房、政务云、政务网络…，各部门不得新建、改扩建信息化机房.
    for deployment in (Deployment.GOV_MACHINE_ROOM, Deployment.GOV_CLOUD, Deployment.GOV_EXTRANET):
        assert codes(complete("lhasa", deployment=deployment)) == {}, deployment
    assert codes(complete("lhasa", deployment=Deployment.OWN_MACHINE_ROOM)) == {
        "new_machine_room": "lhasa §8"
    }
    secret = ProjectFacts(kind="construction", amount_fen=1, classified=True)
    assert codes(complete("lhasa", facts=secret, deployment=Deployment.OWN_MACHINE_ROOM)) == {}
    assert codes(complete("zhonglou", deployment=Deployment.OTHER, deployment_explained=True)) == {}
    assert codes(complete("shexian", deployment=Deployment.GOV_EXTRANET)) == {}


def test_missing_declaration_materials_are_refused_each_with_its_article() -> None:
    declaration = complete("bayingolin")
    without = {
        k: v for k, v in declaration.materials.items() if k not in ("sharing_list", "declaration_form")
    }
    assert codes(replace(declaration, materials=without)) == {
        "material_missing:sharing_list": "bayingolin §13",
        "material_missing:declaration_form": "bayingolin §9",
    }


def test_every_ground_a_pack_names_is_one_screening_can_tell() -> None:
    from services.intake.domain.screening import validate_packs

    validate_packs(POLICY)
