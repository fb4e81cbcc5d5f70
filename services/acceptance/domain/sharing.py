"""Data sharing: the unit submits its data resources catalogue and sharing list, the authority
confirms, refuses or revokes (shexian §39, §44(一)); no acceptance without it where the pack says so."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.acceptance.domain.errors import AcceptanceError, InvalidState
from services.acceptance.domain.project import Pack, Project
from services.acceptance.domain.records import DataSharing
from shared.contracts.acceptance import DataSharingDecided
from shared.policy import PolicyRegistry

DECISIONS = ("confirmed", "refused", "revoked")


def data_sharing_required(policy: PolicyRegistry, jurisdiction: str) -> bool:
    return policy.rule(jurisdiction, "acceptance.data_sharing_confirmed_required").applies


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
        articles=pack.articles(project.jurisdiction, "acceptance.data_sharing_confirmed_required"),
    )
