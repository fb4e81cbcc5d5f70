"""What a project takes as materials and sign-offs: those its checklist asks for, also those an
approval above the declared amount would ask for (shexian §20(一), §25)."""

from __future__ import annotations

from services.intake.domain import design
from services.intake.domain.errors import InvalidDeclaration, InvalidTransition, MaterialNotAccepted
from services.intake.domain.kinds import OPEN_FOR_MATERIALS
from services.intake.domain.projects import Project
from services.intake.domain.requirements import (
    materials_up_from,
    required_materials,
    required_signoffs,
    signoffs_up_from,
)
from shared.policy import PolicyRegistry


def open_for_materials(project: Project) -> None:
    if project.status not in OPEN_FOR_MATERIALS:
        raise InvalidTransition(f"项目处于 {project.status.value} 状态，不再接收材料")


def accept_material(policy: PolicyRegistry, project: Project, material: str) -> None:
    """Refuses a material type the project's checklist does not ask for, naming those it does;
    after the 可研 approval, the 初步设计 approval's own materials (shexian §20(一))."""
    if not (design.awaited(project) and material in design.stage_materials(policy, project)):
        open_for_materials(project)
    facts = project.facts()
    if material in materials_up_from(policy, project.jurisdiction, facts):
        return
    wanted = {m.material: m for m in required_materials(policy, project.jurisdiction, facts)}
    listed = "、".join(f"{k}（{m.label}）" for k, m in wanted.items()) or "无"
    raise MaterialNotAccepted(f"本项目无须提交 {material} 类材料；应提交的材料类型: {listed}")


def signoff_label(policy: PolicyRegistry, project: Project, signoff: str) -> str:
    """What the sign-off is called; refuses one the project does not need, naming those it does."""
    needed = signoffs_up_from(policy, project.jurisdiction, project.facts())
    if signoff in needed:
        return needed[signoff].label
    declared = required_signoffs(policy, project.jurisdiction, project.facts())
    listed = "、".join(f"{s.signoff}（{s.label}）" for s in declared) or "无"
    raise InvalidDeclaration(f"signoff: 本项目无须 {signoff}；须记录的审核意见: {listed}")
