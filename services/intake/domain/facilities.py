"""建设方式 — what a declaration says the project builds on and buys, and what the pack says of it:
the shared platform it is built on or the reason it is not (shexian §10; the exception's review and
approval are sign-offs, requirements.py), the networks its links run on (xunyang §12–13), and the
hardware it procures, 安全自主可控 (lhasa §26; bayingolin §17's filings are sign-offs too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ValidationError

from shared.policy import PolicyError, PolicyRegistry, Reason, Rule
from shared.policy.params.intake import NetworkLinkRule

PLATFORM = "intake.shared_platform"
NETWORKS = "intake.designated_network"
EQUIPMENT = "intake.secure_controllable_equipment"


class NetworkLink(StrEnum):
    """A connection the project makes between government bodies."""

    VERTICAL = "vertical"  # 本级与下级（区与街道、县与乡镇）政务机关之间
    HORIZONTAL = "horizontal"  # 本级部门之间的横向连接


class Network(StrEnum):
    GOV_EXTRANET = "gov_extranet"  # 电子政务外网
    TOWNSHIP_NETWORK = "township_network"  # “乡乡通”网络
    GOV_INFO_NETWORK = "gov_info_network"  # 本级政务信息网
    INTERNET = "internet"  # 互联网
    DEPARTMENT_NETWORK = "department_network"  # 部门自建网络


class Hardware(StrEnum):
    """A category of hardware equipment the project procures."""

    NETWORK = "network"  # 网络设备
    SECURITY = "security"  # 安全设备
    SERVER = "server"  # 服务器
    STORAGE = "storage"  # 存储设备
    OTHER = "other"  # 其他硬件设备


LINK_LABELS = {
    NetworkLink.VERTICAL: "本级与下级政务机关之间的连接",
    NetworkLink.HORIZONTAL: "部门之间的横向连接",
}
NETWORK_LABELS = {
    Network.GOV_EXTRANET: "电子政务外网",
    Network.TOWNSHIP_NETWORK: "“乡乡通”网络",
    Network.GOV_INFO_NETWORK: "政务信息网",
    Network.INTERNET: "互联网",
    Network.DEPARTMENT_NETWORK: "部门自建网络",
}
HARDWARE_LABELS = {
    Hardware.NETWORK: "网络设备",
    Hardware.SECURITY: "安全设备",
    Hardware.SERVER: "服务器",
    Hardware.STORAGE: "存储设备",
    Hardware.OTHER: "其他硬件设备",
}


@dataclass(kw_only=True, eq=False)
class BuildProfile:
    """What the declaration says of how the project is built; part of every declaration, kept on
    the project, changeable while it is a draft. No equality of its own: a Project is itself
    (identity), a Declaration compares all its fields."""

    on_platform: bool = True  # built on the shared platform the pack names (shexian §10)
    off_platform_reason: str = ""
    network_links: dict[str, str] = field(default_factory=dict)  # NetworkLink -> Network
    leases_lines: bool = False  # 自行开通（租用）线路或光纤
    hardware: list[str] = field(default_factory=list)  # Hardware categories procured
    hardware_secure_controllable: bool = False  # 按照安全自主可控实施 (lhasa §26)
    cybersecurity_review_ref: str = ""  # 网络安全审查结论文号, where 《网络安全审查办法》 applies
    original_development: bool = False  # 业务系统软件原始开发 (lhasa §11)
    development_fees_separate: bool = False  # 二次开发和实施费用单列 (lhasa §11)


def platform_unexplained(
    policy: PolicyRegistry, jurisdiction: str, on_platform: bool, reason: str
) -> list[Reason]:
    """shexian §10: a project not built on the platform says why, for the review and approval of
    its exception (sign-offs before 批复)."""
    rule = policy.rule(jurisdiction, PLATFORM)
    if not rule.applies or on_platform or reason.strip():
        return []
    detail = f"申报不在{rule.param('platform')}上建设，须说明特殊情况（off_platform_reason）；{rule.summary}"
    return [policy.refusal(jurisdiction, PLATFORM, "off_platform_unexplained", detail)]


def designated_links(rule: Rule) -> tuple[NetworkLinkRule, ...]:
    """The rule's links, each citing one of the rule's own articles."""
    try:
        items = tuple(NetworkLinkRule.model_validate(raw) for raw in rule.params.get("links", []))
    except ValidationError as exc:
        raise PolicyError(f"{NETWORKS} is invalid: {exc}") from exc
    for item in items:
        if item.article not in rule.articles:
            cited = ", ".join(rule.articles)
            raise PolicyError(f"{NETWORKS}: the {item.link} link cites {item.article}, not one of {cited}")
    return items


def _link_refusal(item: NetworkLinkRule, code: str, detail: str) -> Reason:
    return Reason(
        code=f"{code}:{item.link}",
        rule=item.article,
        articles=(item.article,),
        message=f"{detail}；{item.summary}（{item.article}）",
    )


def network_refusals(
    policy: PolicyRegistry, jurisdiction: str, links: Mapping[str, str], leases_lines: bool, classified: bool
) -> list[Reason]:
    """xunyang §12–13: each link the project makes runs on the network the pack names for it, and
    no line or fibre of its own is leased for it. 涉密 networks follow the secrecy rules instead
    where the pack says so (xunyang §11 涉密信息网络按照国家及省有关规定实施)."""
    rule = policy.rule(jurisdiction, NETWORKS)
    if not rule.applies or (classified and rule.params.get("secret_exempt")):
        return []
    reasons = []
    for item in designated_links(rule):
        network = links.get(item.link)
        if network is None:
            continue
        link = LINK_LABELS[NetworkLink(item.link)]
        if network not in item.networks:
            allowed = "、".join(NETWORK_LABELS[Network(n)] for n in item.networks)
            detail = f"{link}申报依托{NETWORK_LABELS[Network(network)]}，应依托{allowed}"
            reasons.append(_link_refusal(item, "network_not_designated", detail))
        if leases_lines and item.no_leased_lines:
            reasons.append(_link_refusal(item, "leased_lines", f"{link}申报自行开通（租用）线路或光纤"))
    return reasons


def uncontrolled_equipment(
    policy: PolicyRegistry, jurisdiction: str, hardware: Sequence[str], secure_controllable: bool
) -> list[Reason]:
    """lhasa §26: the network, security, server and storage equipment a project procures is
    安全自主可控; the declaration says so, or it is refused."""
    rule = policy.rule(jurisdiction, EQUIPMENT)
    if not rule.applies or secure_controllable:
        return []
    covered = [h for h in dict.fromkeys(hardware) if h in rule.param("categories")]
    if not covered:
        return []
    named = "、".join(HARDWARE_LABELS[Hardware(h)] for h in covered)
    detail = f"申报采购{named}，未声明按照安全自主可控实施（hardware_secure_controllable）；{rule.summary}"
    return [policy.refusal(jurisdiction, EQUIPMENT, "equipment_not_secure_controllable", detail)]


def validate_packs(policy: PolicyRegistry) -> None:
    """Fail at start when a pack's designated networks do not parse or cite another rule's article."""
    for code in policy.codes:
        rule = policy.rule(code, NETWORKS)
        if rule.applies:
            designated_links(rule)
