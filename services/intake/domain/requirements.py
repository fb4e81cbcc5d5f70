"""Required documents (申报与审批材料) of a project, computed from its jurisdiction's policy pack.

The pack's `intake.required_materials` rule lists each material with the article that asks
for it, the stage it is due at (declaration or approval) and the conditions under which it is
needed (kind, amount, software-development share, packaged software, simple project). A
condition value written `$name` refers to another parameter of the same rule, so a threshold
such as shexian's 分散采购限额标准 is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.policy import PolicyError, PolicyRegistry, Rule

RULE = "intake.required_materials"


class Stage(StrEnum):
    DECLARATION = "declaration"  # 申报时提交
    APPROVAL = "approval"  # 审批（论证、可研、初设）时提交


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What the conditions look at."""

    kind: str
    amount_fen: int
    software_fen: int = 0
    classified: bool = False
    packaged_software: bool = False
    simple: bool = False
    off_plan: bool = False

    @classmethod
    def of(cls, project: Any) -> ProjectFacts:
        """From anything with the project's attributes (the aggregate or a read model)."""
        return cls(
            kind=str(project.kind),
            amount_fen=project.amount_fen,
            software_fen=project.software_fen,
            classified=project.classified,
            packaged_software=project.packaged_software,
            simple=project.simple,
            off_plan=getattr(project, "off_plan", False),
        )

    def at_amount(self, amount_fen: int) -> ProjectFacts:
        """The same project at another amount (an approval above the declared one)."""
        return replace(self, amount_fen=amount_fen)

    def as_approved(self, approved_amount_fen: int | None) -> ProjectFacts:
        """The project at the larger of its declared and its approved amount.

        Approving more than was declared does not escape a threshold (shexian §20(一), §24, §25
        and the like in other packs): approval checks, and the checklist shows, the larger one.
        """
        return self.at_amount(max(self.amount_fen, approved_amount_fen or 0))


class Condition(BaseModel):
    """All given clauses must hold (min inclusive, below exclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: tuple[str, ...] | None = None
    min_amount_fen: int | None = None
    below_amount_fen: int | None = None
    min_software_fen: int | None = None
    packaged_software: bool | None = None
    simple: bool | None = None
    off_plan: bool | None = None

    def holds(self, facts: ProjectFacts) -> bool:
        checks = (
            self.kinds is None or facts.kind in self.kinds,
            self.min_amount_fen is None or facts.amount_fen >= self.min_amount_fen,
            self.below_amount_fen is None or facts.amount_fen < self.below_amount_fen,
            self.min_software_fen is None or facts.software_fen >= self.min_software_fen,
            self.packaged_software is None or facts.packaged_software == self.packaged_software,
            self.simple is None or facts.simple == self.simple,
            self.off_plan is None or facts.off_plan == self.off_plan,
        )
        return all(checks)


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    material: str = Field(pattern=r"^[a-z_]+$")
    stage: Stage
    article: str
    when: Condition = Condition()
    unless: Condition | None = None
    exempt_classified: bool = False
    min_count: int = Field(default=1, ge=1)

    def applies_to(self, facts: ProjectFacts) -> bool:
        if self.exempt_classified and facts.classified:
            return False  # 涉密项目除外
        if self.unless is not None and self.unless.holds(facts):
            return False
        return self.when.holds(facts)


class RequiredMaterial(BaseModel):
    """One line of a project's checklist."""

    model_config = ConfigDict(frozen=True)

    material: str
    label: str
    stage: Stage
    article: str
    min_count: int


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        try:
            return params[value[1:]]
        except KeyError:
            raise PolicyError(f"{RULE}: no parameter {value[1:]!r} to refer to") from None
    if isinstance(value, dict):
        return {k: _resolve(v, params) for k, v in value.items()}
    return value


def requirements(rule: Rule) -> tuple[Requirement, ...]:
    """The rule's requirements, validated; each must cite one of the rule's own articles' jurisdiction."""
    code = rule.article.split(" ")[0] if rule.articles else ""
    try:
        items = tuple(
            Requirement.model_validate(_resolve(raw, rule.params))
            for raw in rule.params.get("requirements", [])
        )
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
    return [
        RequiredMaterial(
            material=r.material,
            label=labels[r.material],
            stage=r.stage,
            article=r.article,
            min_count=r.min_count,
        )
        for r in requirements(rule)
        if r.applies_to(facts)
    ]


# Rules whose `signoffs` name approvals by other bodies that must be recorded before 批复.
SIGNOFF_RULES = ("intake.escalation_threshold", "intake.off_plan_emergency")


class Signoff(BaseModel):
    """An approval by another body (上级审核、政府审定…) that must precede 批复."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signoff: str = Field(pattern=r"^[a-z_]+$")
    article: str
    when: Condition = Condition()


class RequiredSignoff(BaseModel):
    model_config = ConfigDict(frozen=True)

    signoff: str
    label: str
    article: str


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
    """Sign-offs the project needs before approval: escalation by amount, and the off-plan path."""
    needed: dict[str, RequiredSignoff] = {}
    for rule_id in SIGNOFF_RULES:
        rule = policy.rule(jurisdiction, rule_id)
        if not rule.applies or (rule_id == "intake.off_plan_emergency" and not facts.off_plan):
            continue
        labels = rule.params.get("labels", {})
        for item in _signoffs(rule_id, rule):
            if item.when.holds(facts) and item.signoff not in needed:
                needed[item.signoff] = RequiredSignoff(
                    signoff=item.signoff, label=labels[item.signoff], article=item.article
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
