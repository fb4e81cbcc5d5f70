"""阅卷: the declaration and its materials, for an expert of the panel reviewing the project.

Experts do not read the register: only the project their panel reviews, and only while it does.
Which panel an expert sits on is review's to know, so the expert shows review's reading pass
(shared.reading_pass) beside their own token; the pass names the project, and nothing else opens.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse

from services.intake import views
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import ProjectNotFound
from services.intake.schemas import StoreDep, UowDep
from services.intake.storage import MaterialStore
from shared import reading_pass
from shared.auth import Principal, Role, require
from shared.deps import PolicyDep
from shared.problems import NOT_FOUND, problem_responses

router = APIRouter(prefix="/projects", tags=["case-file"])

ExpertDep = Annotated[Principal, require(Role.EXPERT)]
PassHeader = Annotated[
    str | None,
    Header(alias=reading_pass.HEADER, description="评审服务签发的阅卷凭证（POST /cases/{id}/reading-pass）"),
]
REFUSED = {**NOT_FOUND, **problem_responses(403)}


async def _reader(
    request: Request, project_id: str, who: ExpertDep, presented: PassHeader = None
) -> Principal:
    """The expert, once their reading pass for this project is checked (admin needs none)."""
    if who.role is not Role.ADMIN:
        reading_pass.check(request.app.state.settings, presented, who, project_id)
    return who


ReaderDep = Annotated[Principal, Depends(_reader)]


@router.get(
    "/{project_id}/case-file",
    response_model=views.ProjectDetail,
    responses=REFUSED,
    summary="阅卷：专家组成员凭阅卷凭证查阅所评审项目的申报内容与材料清单 (expert)",
)
async def case_file(project_id: str, uow: UowDep, policy: PolicyDep, who: ReaderDep) -> Any:
    async with uow:
        found = await views.get_project(uow.session, who, project_id, policy)
    if found is None:
        raise ProjectNotFound(f"项目 {project_id} 不存在")
    return found


#: what a material's download answers: the file, its type as found in its content on upload
FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "材料文件，内容类型按上传时文件内容识别",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def material_file(
    uow: IntakeUnitOfWork, who: Principal, store: MaterialStore, project_id: str, material_id: str
) -> FileResponse:
    """One material of a project the caller may see, as a file; not found otherwise."""
    async with uow:
        item = await views.material_of(uow.session, who, project_id, material_id)
    if item is None:
        raise ProjectNotFound(f"项目 {project_id} 没有材料 {material_id}")
    return FileResponse(store.path_of(item.sha256), media_type=item.content_type, filename=item.filename)


@router.get(
    "/{project_id}/case-file/{material_id}",
    response_class=FileResponse,
    responses={**FILE, **REFUSED},
    summary="阅卷：下载所评审项目的一份申报材料 (expert)",
)
async def case_file_material(
    project_id: str, material_id: str, uow: UowDep, who: ReaderDep, store: StoreDep
) -> FileResponse:
    return await material_file(uow, who, store, project_id, material_id)
