"""阅卷凭证: an expert seated on a case takes a pass to read the project's materials at intake
(shared.reading_pass). Only while the panel reviews, and only for a seat not declined."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.review import views
from services.review.api import ExpertDep, UowDep
from services.review.domain import CaseStatus, InvalidCaseState
from services.review.domain.pools import case_scope
from shared import reading_pass
from shared.deps import ContextDep
from shared.problems import COMMAND

router = APIRouter(prefix="/cases", tags=["cases"])


class ReadingPassOut(BaseModel):
    project_id: str
    case_id: str
    expires_at: datetime
    header: str = Field(description="出示凭证的请求头名")
    token: str = Field(description="阅卷凭证：连同专家本人的身份令牌向申报服务出示")


@router.post(
    "/{case_id}/reading-pass",
    response_model=ReadingPassOut,
    responses=COMMAND,
    summary="签发阅卷凭证：评审期间，专家组成员凭此在申报服务查阅该项目的申报材料 (expert)",
)
async def reading_pass_for(
    request: Request, case_id: str, uow: UowDep, ctx: ContextDep, who: ExpertDep
) -> Any:
    mine = await views.expert_ids(uow, who)
    case = await views.visible_case(uow, case_id, case_scope(ctx.policy, who), mine)
    case.seated_among(mine)  # a declined seat reads no more (403 not_on_panel)
    if case.status is not CaseStatus.PANEL_DRAWN:
        raise InvalidCaseState(f"评审案件 {case_id} 不在评审中，不再签发阅卷凭证")
    settings = request.app.state.settings
    granted = reading_pass.issue(
        settings, who.sub, project_id=case.project_id, jurisdiction=case.jurisdiction, case_id=case.id
    )
    return ReadingPassOut(
        project_id=case.project_id,
        case_id=case.id,
        expires_at=granted.expires_at,
        header=reading_pass.HEADER,
        token=reading_pass.token(settings, granted),
    )
