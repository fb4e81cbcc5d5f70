"""形式审查 — screening a declaration against its jurisdiction's admission rules.

Each rule is asked of the policy pack; a refusal carries the pack's article. The predicates
are code, the thresholds, articles and wording are the pack's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from services.intake.domain import facilities
from services.intake.domain.requirements import ProjectFacts, Stage, required_materials
from services.intake.domain.software import software_cost_refusals
from shared.policy import Decision, PolicyError, PolicyRegistry, Reason


class AgencyLevel(StrEnum):
    PREFECTURE = "prefecture"  # 州/市
    CITY = "city"  # 市本级
    DISTRICT = "district"  # 区
    COUNTY = "county"  # 县
    TOWNSHIP = "township"  # 乡镇/街道


class Deployment(StrEnum):
    GOV_MACHINE_ROOM = "gov_machine_room"  # 政务机房 (统筹建设的, lhasa §8)
    GOV_CLOUD = "gov_cloud"  # 政务云
    GOV_EXTRANET = "gov_extranet"  # 电子政务外网
    OTHER = "other"  # 其他（须说明）
    OWN_MACHINE_ROOM = "own_machine_room"  # 自建机房


@dataclass(frozen=True)
class Declaration:
    """What screening looks at: the project, what it says of itself, and what it brought."""

    jurisdiction: str
    facts: ProjectFacts
    agency_level: AgencyLevel
    deployment: Deployment = Deployment.GOV_CLOUD
    deployment_explained: bool = False
    shares_data_with_platform: bool = True
    assigned_from_above: bool = False  # 上级条线配发
    xinchuang_compatible: bool = True
    has_security_plan: bool = True
    agency_duties_unmet: bool = False  # 迁移整合或数据共享义务未履行
    materials: dict[str, int] = field(default_factory=dict)  # material -> files provided
    other_declarations_this_year: int = 0  # same department, same plan year
    network_links: Mapping[str, str] = field(default_factory=dict)  # link -> network it runs on
    leases_lines: bool = False
    hardware: tuple[str, ...] = ()  # categories of hardware equipment procured
    hardware_secure_controllable: bool = False
    original_development: bool = False
    development_fees_separate: bool = False


Check = Callable[[Declaration, PolicyRegistry], list[Reason]]

# zhonglou §8: each ground the pack names, and how to tell it from the declaration.
_ZHONGLOU_8: dict[str, Callable[[Declaration], bool]] = {
    "migration_or_sharing_duty_unmet": lambda d: d.agency_duties_unmet,
    "not_on_gov_network_cloud_unexplained": lambda d: (
        d.deployment not in (Deployment.GOV_CLOUD, Deployment.GOV_EXTRANET) and not d.deployment_explained
    ),
    "not_sharing_with_platform": lambda d: not d.shares_data_with_platform and not d.assigned_from_above,
    "not_xinchuang_compatible": lambda d: not d.xinchuang_compatible,
    "no_security_plan": lambda d: not d.has_security_plan,
}


def _refuse_without_review(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    rule = policy.rule(d.jurisdiction, "intake.refuse_without_review")
    if not rule.applies or (d.facts.classified and rule.params.get("secret_exempt")):
        return []
    labels: dict[str, str] = rule.params.get("labels", {})
    return [
        policy.refusal(
            d.jurisdiction, "intake.refuse_without_review", f"not_reviewable:{ground}", labels[ground]
        )
        for ground in rule.params.get("conditions", [])
        if _ZHONGLOU_8[ground](d)
    ]


def _township(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    rule = policy.rule(d.jurisdiction, "intake.township_self_build_forbidden")
    if rule.applies and d.agency_level is AgencyLevel.TOWNSHIP:
        return [
            policy.refusal(d.jurisdiction, "intake.township_self_build_forbidden", "township_declaration")
        ]
    return []


def _per_department(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    rule = policy.rule(d.jurisdiction, "intake.max_projects_per_department")
    if rule.applies and d.other_declarations_this_year >= int(rule.param("max_count")):
        detail = f"本部门本年度已申报 {d.other_declarations_this_year} 个项目，{rule.summary}"
        return [
            policy.refusal(
                d.jurisdiction, "intake.max_projects_per_department", "too_many_declarations", detail
            )
        ]
    return []


_DEPLOYMENT_LABELS = {
    Deployment.GOV_MACHINE_ROOM: "政务机房",
    Deployment.GOV_CLOUD: "政务云",
    Deployment.GOV_EXTRANET: "电子政务外网",
    Deployment.OTHER: "其他方式",
    Deployment.OWN_MACHINE_ROOM: "自建机房",
}


def _machine_room(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    """No new or expanded machine room of one's own; where the pack lists the lawful places, one
    of them (xunyang §11: the 政务云 only; lhasa §8 lists none: 政务机房, 政务云, 政务网络 and the
    rest of the shared facilities are all lawful).

    涉密 systems follow the secrecy rules instead (xunyang §11 涉密信息网络按照国家及省有关规定实施;
    lhasa §8 speaks of 非涉密业务系统).
    """
    rule = policy.rule(d.jurisdiction, "intake.no_new_machine_room")
    if not rule.applies or d.facts.classified:
        return []
    if d.deployment is Deployment.OWN_MACHINE_ROOM:
        return [policy.refusal(d.jurisdiction, "intake.no_new_machine_room", "new_machine_room")]
    allowed = rule.params.get("allowed_deployments")
    if allowed and d.deployment.value not in allowed:
        places = "、".join(_DEPLOYMENT_LABELS[Deployment(a)] for a in allowed)
        detail = f"申报的部署方式为{_DEPLOYMENT_LABELS[d.deployment]}，应为{places}；{rule.summary}"
        return [policy.refusal(d.jurisdiction, "intake.no_new_machine_room", "not_on_gov_cloud", detail)]
    return []


def _materials(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    reasons = []
    for item in required_materials(policy, d.jurisdiction, d.facts):
        provided = d.materials.get(item.material, 0)
        if item.stage is Stage.DECLARATION and provided < item.min_count:
            need = f"（至少 {item.min_count} 份，已提交 {provided} 份）" if item.min_count > 1 else ""
            reasons.append(
                Reason(
                    code=f"material_missing:{item.material}",
                    rule=item.article,
                    articles=(item.article,),
                    message=f"缺少{item.label}{need}（{item.article}）",
                )
            )
    return reasons


def _networks(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    return facilities.network_refusals(
        policy, d.jurisdiction, d.network_links, d.leases_lines, d.facts.classified
    )


def _equipment(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    return facilities.uncontrolled_equipment(
        policy, d.jurisdiction, d.hardware, d.hardware_secure_controllable
    )


def _software(d: Declaration, policy: PolicyRegistry) -> list[Reason]:
    return software_cost_refusals(policy, d.jurisdiction, d.original_development, d.development_fees_separate)


CHECKS: tuple[Check, ...] = (
    _refuse_without_review,
    _township,
    _per_department,
    _machine_room,
    _networks,
    _equipment,
    _software,
    _materials,
)


def validate_packs(policy: PolicyRegistry) -> None:
    """Fail at start when a pack names a ground of refusal this code cannot tell."""
    facilities.validate_packs(policy)
    for code in policy.codes:
        rule = policy.rule(code, "intake.refuse_without_review")
        unknown = set(rule.params.get("conditions", [])) - _ZHONGLOU_8.keys() if rule.applies else set()
        if unknown:
            raise PolicyError(f"{code}: intake.refuse_without_review names unknown grounds {sorted(unknown)}")


def screen(declaration: Declaration, policy: PolicyRegistry) -> Decision:
    """Accepted, or refused with every reason at once so the agency can fix them together."""
    reasons = [r for check in CHECKS for r in check(declaration, policy)]
    return Decision(allowed=not reasons, reasons=tuple(reasons))
