"""暂停建设: the authority's measure on a rectification overdue or not met (zhonglou §21 暂停项目
后期建设, shexian §49, lhasa §18 暂停项目建设) stops construction until it is lifted: while it
holds, the project's start and completion are not recorded. The measure is intake's record;
procurement keeps which of them are in force, by their ids."""

from __future__ import annotations

from services.procurement.domain.errors import InvalidState
from services.procurement.domain.project import Project
from shared.contracts.intake import OversightMeasureLifted, OversightMeasureTaken, measures_in_force

SUSPEND = "suspend_construction"


class ConstructionSuspended(InvalidState):
    code = "construction_suspended"
    title = "项目已被暂停建设"


def hear(project: Project, event: OversightMeasureTaken | OversightMeasureLifted) -> None:
    """A suspension taken is kept by its id until the same measure is lifted; again is no change."""
    if event.measure != SUSPEND:
        return
    held = measures_in_force(project.suspension or {}, event)
    project.suspension = held or None


def not_suspended(project: Project, doing: str) -> None:
    """Refuse `doing` while a suspension holds, naming the measure, its document and article."""
    for measure in (project.suspension or {}).values():
        raise ConstructionSuspended(
            f"项目已被{measure['label']}（{measure['document_ref']}，{'、'.join(measure['articles'])}），"
            f"解除前不能{doing}"
        )
