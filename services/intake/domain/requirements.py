"""Required documents (申报与审批材料) of a project, computed from its jurisdiction's policy pack.

The pack's `intake.required_materials` rule lists each material with the article that asks
for it, the stage it is due at (declaration or approval) and the conditions under which it is
needed (kind, amount, software-development share, packaged software, simple project). A
value written `$name` is resolved when the pack is loaded (shared.policy.pack), so a threshold
such as shexian's 分散采购限额标准 is written once. A material another rule of the pack makes a
必备条件 (`rule: intake.data_catalog_mandatory`, bayingolin §12's `intake.software_study_threshold`)
is asked for only while that rule applies, and a simple project's shorter path (lhasa §10) only
where the pack's approval path by amount applies.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.policy import PolicyError, PolicyRegistry, Reason, Rule
from shared.policy.conditions import Condition, ProjectFacts, Requirement, Signoff, Stage

__all__ = ["Condition", "ProjectFacts", "Requirement", "Signoff", "Stage"]

RULE = "intake.required_materials"


class RequiredMaterial(BaseModel):
    """One line of a project's checklist."""

    model_config = ConfigDict(frozen=True)

    material: str
    label: str
    stage: Stage
    article: str
    min_count: int

    def missing(self, provided: int, said: str) -> Reason | None:
        """The refusal when fewer than `min_count` copies are on file, opening with `said`."""
        if provided >= self.min_count:
            return None
        need = f"（至少 {self.min_count} 份，已提交 {provided} 份）" if self.min_count > 1 else ""
        return Reason(
            code=f"material_missing:{self.material}",
            rule=self.article,
            articles=(self.article,),
            message=f"{said}：{self.label}{need}（{self.article}）",
        )


def requirements(rule: Rule) -> tuple[Requirement, ...]:
    """The rule's requirements, validated; each must cite one of the rule's own articles' jurisdiction."""
    code = rule.article.split(" ")[0] if rule.articles else ""
    try:
        items = tuple(Requirement.model_validate(raw) for raw in rule.params.get("requirements", []))
    except ValidationError as exc:
        raise PolicyError(f"{RULE} is invalid: {exc}") from exc
    labels = rule.params.get("labels", {})
    for item in items:
        if not item.article.startswith(f"{code} §"):
            raise PolicyError(f"{RULE}: {item.material} cites {item.article}, not a {code} article")
        if item.material not in labels:
            raise PolicyError(f"{RULE}: {item.material} has no label")
    return items


def required_materials(
    policy: PolicyRegistry, jurisdiction: str, facts: ProjectFacts
) -> list[RequiredMaterial]:
    """The checklist of a project: what it must provide, when, and which article says so."""
    rule = policy.rule(jurisdiction, RULE)
    if not rule.applies:
        return []
    labels: dict[str, str] = rule.params.get("labels", {})
    if facts.simple and not policy.rule(jurisdiction, PATH).applies:
        facts = replace(facts, simple=False)  # a simple project's shorter path is the text's (lhasa §10)
    return [
        RequiredMaterial(
            material=r.material,
            label=labels[r.material],
            stage=r.stage,
            article=r.article,
            min_count=r.min_count,
        )
        for r in requirements(rule)
        if r.applies_to(facts) and (r.rule is None or policy.rule(jurisdiction, r.rule).applies)
    ]


PATH = "intake.approval_path_by_amount"


# Rules whose `signoffs` name approvals or filings by other bodies to be recorded with their
# documents: before 批复, or (`before: procurement`) before the project's procurement.
SIGNOFF_RULES = (
    "intake.escalation_threshold",
    "intake.off_plan_emergency",
    "intake.shared_platform",
    "intake.sharing_exemption",
    "intake.hardware_filing",
)


class RequiredSignoff(BaseModel):
    model_config = ConfigDict(frozen=True)

    signoff: str
    label: str
    article: str
    before: str = "approval"  # approval (批复前) | procurement (采购前)


def _signoffs(rule_id: str, rule: Rule) -> tuple[Signoff, ...]:
    try:
        items = tuple(Signoff.model_validate(raw) for raw in rule.params.get("signoffs", []))
    except ValidationError as exc:
        raise PolicyError(f"{rule_id} signoffs are invalid: {exc}") from exc
    labels = rule.params.get("labels", {})
    for item in items:
        if item.signoff not in labels:
            raise PolicyError(f"{rule_id}: sign-off {item.signoff} has no label")
    return items


def required_signoffs(
    policy: PolicyRegistry, jurisdiction: str, facts: ProjectFacts
) -> list[RequiredSignoff]:
    """Sign-offs the project needs: escalation by amount, the off-plan path, building off the shared
    platform or without sharing its data (before approval), and filings of its hardware procurement
    (before procurement)."""
    needed: dict[str, RequiredSignoff] = {}
    for rule_id in SIGNOFF_RULES:
        rule = policy.rule(jurisdiction, rule_id)
        if not rule.applies or (rule_id == "intake.off_plan_emergency" and not facts.off_plan):
            continue
        labels = rule.params.get("labels", {})
        for item in _signoffs(rule_id, rule):
            if item.when.holds(facts) and item.signoff not in needed:
                needed[item.signoff] = RequiredSignoff(
                    signoff=item.signoff, label=labels[item.signoff], article=item.article, before=item.before
                )
    return list(needed.values())


def _thresholds(policy: PolicyRegistry, jurisdiction: str) -> set[int]:
    """Every amount at which a material or sign-off of the pack starts or stops being needed."""
    conditions: list[Condition] = []
    rule = policy.rule(jurisdiction, RULE)
    if rule.applies:
        for item in requirements(rule):
            conditions += [item.when] if item.unless is None else [item.when, item.unless]
    for rule_id in SIGNOFF_RULES:
        other = policy.rule(jurisdiction, rule_id)
        if other.applies:
            conditions += [s.when for s in _signoffs(rule_id, other)]
    return {t for c in conditions for t in (c.min_amount_fen, c.below_amount_fen) if t is not None}


def from_declared_amount_up(
    policy: PolicyRegistry, jurisdiction: str, facts: ProjectFacts
) -> list[ProjectFacts]:
    """The project at its declared amount and at each threshold above it.

    An approval above the declared amount is held to the larger one (shexian §25, §20(一), §24…),
    so what it would need there may be provided before: one set of facts per step of the pack.
    """
    above = sorted(t for t in _thresholds(policy, jurisdiction) if t > facts.amount_fen)
    return [facts, *(facts.at_amount(t) for t in above)]


def materials_up_from(policy: PolicyRegistry, jurisdiction: str, facts: ProjectFacts) -> set[str]:
    """Materials the project needs at its declared amount or would need if approved at more."""
    steps = from_declared_amount_up(policy, jurisdiction, facts)
    return {m.material for f in steps for m in required_materials(policy, jurisdiction, f)}


def signoffs_up_from(
    policy: PolicyRegistry, jurisdiction: str, facts: ProjectFacts
) -> dict[str, RequiredSignoff]:
    """Sign-offs the project needs at its declared amount or would need if approved at more."""
    found: dict[str, RequiredSignoff] = {}
    for step in from_declared_amount_up(policy, jurisdiction, facts):
        for item in required_signoffs(policy, jurisdiction, step):
            found.setdefault(item.signoff, item)
    return found


def validate_packs(policy: PolicyRegistry) -> None:
    """Fail at start when a pack's material or sign-off requirements do not parse."""
    for code in policy.codes:
        rule = policy.rule(code, RULE)
        if rule.applies:
            requirements(rule)
        for rule_id in SIGNOFF_RULES:
            other = policy.rule(code, rule_id)
            if other.applies:
                _signoffs(rule_id, other)
