"""Data sharing: the unit submits its data resources catalogue and sharing list, the authority
confirms, refuses or revokes. Where the pack makes the confirmation a gate (shexian §39, §44(一))
there is no acceptance without it; where it makes sharing 重要依据 (bayingolin §13) the record is
shown with the application and blocks nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.acceptance.domain.errors import AcceptanceError, InvalidState
from services.acceptance.domain.project import Pack, Project
from services.acceptance.domain.records import DataSharing
from shared.contracts.acceptance import DataSharingDecided
from shared.policy import PolicyRegistry, Reason

DECISIONS = ("confirmed", "refused", "revoked")


RULE = "acceptance.data_sharing_confirmed_required"
STATES = {
    "submitted": "已提交、待主管部门确认",
    "confirmed": "已经主管部门确认",
    "refused": "主管部门不予确认",
}


def data_sharing_required(policy: PolicyRegistry, jurisdiction: str) -> bool:
    """Whether acceptance waits for the authority's confirmation (a gate, not a basis)."""
    return policy.rule(jurisdiction, RULE).is_gate


def data_sharing_basis(policy: PolicyRegistry, project: Project) -> Reason | None:
    """The sharing record as 重要依据 for the deciders, where the pack makes it one."""
    if not policy.rule(project.jurisdiction, RULE).is_basis:
        return None
    return policy.basis(project.jurisdiction, RULE, "basis:data_sharing", sharing_facts(project.data_sharing))


def sharing_facts(sharing: DataSharing | None) -> str:
    """数据共享情况 in one sentence: what was submitted, and the authority's decision."""
    if sharing is None:
        return "数据共享情况：建设单位尚未提交信息资源目录和共享清单"
    said = STATES.get(sharing.status, "主管部门已撤销确认")
    facts = f"数据共享情况：{said}（目录 {len(sharing.catalogue)} 项，共享清单 {len(sharing.items)} 项"
    if sharing.decided_by and sharing.decided_at:
        facts += f"，{sharing.decided_by} 于 {sharing.decided_at.date().isoformat()} 决定"
    if sharing.reason:
        facts += f"，理由：{sharing.reason}"
    return facts + "）"


def submit_data_sharing(
    project: Project, pack: Pack, catalogue: Sequence[str], items: Sequence[str], by: str
) -> None:
    project.ensure_open()
    current = project.data_sharing.status if project.data_sharing else None
    if current in ("submitted", "confirmed"):
        raise InvalidState(
            "数据共享情况已提交，待主管部门确认" if current == "submitted" else "数据共享已确认"
        )
    project.data_sharing = DataSharing("submitted", tuple(catalogue), tuple(items), by, pack.now)


def _check_decision(state: str | None, decision: str, duplicate_collection: bool, reason: str) -> None:
    if decision == "revoked" and state != "confirmed":
        raise InvalidState("只有已确认的数据共享才能撤销确认")
    if decision in ("confirmed", "refused") and state != "submitted":
        raise InvalidState("没有待确认的数据共享情况，请建设单位先提交数据资源目录和共享清单")
    if decision != "confirmed" and not reason.strip():
        raise AcceptanceError("不予确认或撤销确认须写明理由")
    if decision == "confirmed" and duplicate_collection:
        raise AcceptanceError("存在重复采集数据的，不能确认数据共享")


def decide_data_sharing(
    project: Project, pack: Pack, *, decision: str, duplicate_collection: bool, reason: str, by: str
) -> None:
    """数据共享确认, refusal or revocation by the authority."""
    project.ensure_open()
    _check_decision(
        project.data_sharing.status if project.data_sharing else None, decision, duplicate_collection, reason
    )
    assert project.data_sharing is not None
    project.data_sharing = dataclasses.replace(
        project.data_sharing,
        status=decision,
        duplicate_collection=duplicate_collection,
        reason=reason,
        decided_by=by,
        decided_at=pack.now,
    )
    project.emit(
        DataSharingDecided,
        decision=decision,
        duplicate_collection=duplicate_collection,
        reason=reason,
        articles=pack.articles(project.jurisdiction, RULE),
    )
