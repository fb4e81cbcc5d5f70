"""涉密信息系统: 保密测评 and 保密审查 before the system is put into use (shexian §42, §39).

A system the declaration calls 涉密 may be put into use only after a 保密测评机构 has assessed
it and a 保密行政管理部门 of the level the pack names (市级以上) has found it 合格. The final
acceptance is what puts a system into use (after it, the system runs: zhonglou §19, shexian §39,
whose 验收资料 include the 《涉密信息系统审查合格证》), so where the pack has the rule a classified
project's final acceptance is neither applied for nor admitted until both are on file. They are
recorded as attestations with their documents; the latest of each kind counts.
"""

from __future__ import annotations

import datetime as dt

from services.acceptance.domain.errors import AcceptanceError
from services.acceptance.domain.project import Project
from services.acceptance.domain.records import Attestation
from shared.policy import PolicyRegistry, Reason

RULE = "security.classified_systems"
ASSESSMENT = "secrecy_assessment"  # 保密测评机构的检测评估
APPROVAL = "secrecy_approval"  # 保密行政管理部门审查合格（《涉密信息系统审查合格证》）
KINDS = (ASSESSMENT, APPROVAL)
LEVELS = ("county", "city", "province", "national")
LEVEL_NAMES = {"county": "县级", "city": "市级", "province": "省级", "national": "国家级"}


def check_record(project: Project, attestation: Attestation) -> None:
    """A secrecy record belongs to a classified project and names who issued it; a review
    also names the level of the department that made it."""
    if attestation.attestation not in KINDS:
        return
    if not project.classified:
        raise AcceptanceError("项目未申报为涉密项目，无需登记保密测评或保密审查")
    if not attestation.issuer.strip():
        who = "保密测评机构" if attestation.attestation == ASSESSMENT else "作出审查的保密行政管理部门"
        raise AcceptanceError(f"须写明{who}")
    if attestation.attestation == APPROVAL and attestation.issuer_level not in LEVELS:
        raise AcceptanceError("须写明审查部门的层级（县级、市级、省级或国家级）")


def _shortfall(project: Project, kind: str, today: dt.date, least: str = LEVELS[0]) -> str | None:
    """Why the latest record of the kind does not count (None when it does)."""
    found = [a for a in project.attestations if a.attestation == kind]
    if not found:
        return "尚无记录"
    record = found[-1]
    if not record.compliant:
        return f"最近一次（{record.reference}）结论为不合格"
    if record.valid_until is not None and record.valid_until < today:
        return f"最近一次（{record.reference}）已于 {record.valid_until.isoformat()} 过期"
    level = record.issuer_level or LEVELS[0]
    if kind == APPROVAL and LEVELS.index(level) < LEVELS.index(least):
        return f"最近一次（{record.reference}）由{LEVEL_NAMES[level]}部门审查"
    return None


def clearance_refusals(policy: PolicyRegistry, project: Project, today: dt.date) -> list[Reason]:
    """What a classified system still lacks before it may be accepted into use, each citing the
    article; nothing for a project that is not classified or where the pack has no such rule."""
    rule = policy.rule(project.jurisdiction, RULE)
    if not (rule.applies and project.classified):
        return []
    least = str(rule.params.get("approver_min_level", "city"))
    wanted = {
        "classified_assessment_missing": (_shortfall(project, ASSESSMENT, today), "保密测评机构检测评估"),
        "classified_approval_missing": (
            _shortfall(project, APPROVAL, today, least),
            f"{LEVEL_NAMES[least]}以上保密行政管理部门审查",
        ),
    }
    return [
        policy.refusal(
            project.jurisdiction, RULE, code, f"涉密信息系统未经{what}合格（{why}），不得验收投入使用"
        )
        for code, (why, what) in wanted.items()
        if why is not None
    ]
