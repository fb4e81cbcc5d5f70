"""Projects funded from above (zhonglou §10, bayingolin §14) keep their kind, software share and
secrecy downstream: zhonglou §15's security test and bayingolin §27's trial run depend on them."""

from __future__ import annotations

import datetime as dt

from services.procurement.domain.arrivals import declared
from services.procurement.domain.construction import security_test_required
from shared.contracts.intake import ProjectRecorded
from shared.policy import load_registry

POLICY = load_registry()
AT = dt.datetime(2026, 7, 1, 2, tzinfo=dt.UTC)


def recorded(**fields: object) -> ProjectRecorded:
    return ProjectRecorded(
        project_id="p1",
        jurisdiction="zhonglou",
        agency="区卫健委",
        title="全民健康信息平台",
        amount_fen=300_000_000,
        upper_approval_ref="苏财〔2026〕12号",
        **fields,  # type: ignore[arg-type]
    )


def test_a_recorded_project_reaches_procurement_with_its_kind_and_software_share() -> None:
    project = declared(recorded(kind="service", software_fen=120_000_000), AT)
    assert (project.kind, project.software_fen) == ("service", 120_000_000)
    assert security_test_required(POLICY, "zhonglou", project.software_fen)  # zhonglou §15


def test_an_older_record_without_them_is_still_construction_without_software() -> None:
    old = ProjectRecorded.model_validate(
        {k: v for k, v in recorded().model_dump().items() if k not in ("kind", "software_fen", "classified")}
    )
    project = declared(old, AT)
    assert (project.kind, project.software_fen) == ("construction", 0)
    assert not old.classified
