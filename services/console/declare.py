"""申报: the agency's clerk drafts a declaration, uploads the materials its jurisdiction asks for
at this amount and kind, and submits it; then asks for money and sees why it is held.

Every refusal is the service's own, shown with its reasons and the articles they cite.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from services.console.backends import BackendError, Refused
from services.console.forms import (
    DEPLOYMENTS,
    HARDWARE,
    KINDS,
    NATURES,
    PAYMENT_KINDS,
    FormError,
    fen_from_wan,
    lines,
)
from services.console.pages import backends
from services.console.render import flash, render
from services.console.session import PersonDep, check_csrf
from shared.auth import Role

router = APIRouter(dependencies=[Depends(check_csrf)])
CHOICES = {"kinds": KINDS, "natures": NATURES, "deployments": DEPLOYMENTS, "hardware": HARDWARE}


def _form_page(request: Request, person: PersonDep, status_code: int = 200, **context: Any) -> HTMLResponse:
    if not person.is_(Role.APPLICANT):
        detail = "申报由建设单位办理；请以建设单位身份登录。"
        return render(request, "error.html", status_code=403, title="只有建设单位可以申报", detail=detail)
    return render(request, "declare.html", status_code=status_code, **CHOICES, **context)


@router.get("/declare", response_class=HTMLResponse, summary="新建申报")
async def declare_page(request: Request, person: PersonDep) -> HTMLResponse:
    values = {
        "kind": "construction",
        "nature": "new",
        "deployment": "gov_cloud",
        "xinchuang_compatible": "on",
    }
    return _form_page(request, person, values=values)


@router.post("/declare", response_class=HTMLResponse, summary="保存申报草稿")
async def declare(request: Request, person: PersonDep) -> Response:
    if not person.is_(Role.APPLICANT):
        return _form_page(request, person)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    hardware = [h for h in form.getlist("hardware") if isinstance(h, str) and h in HARDWARE]
    try:
        body: dict[str, Any] = {
            "jurisdiction": person.jurisdictions[0],
            "title": values.get("title", "").strip(),
            "kind": values.get("kind", ""),
            "nature": values.get("nature", "new"),
            "amount_fen": fen_from_wan("amount_wan", values.get("amount_wan", "")),
            "software_fen": fen_from_wan("software_wan", values.get("software_wan") or "0", positive=False),
            "summary": values.get("summary", ""),
            "security_plan": values.get("security_plan", ""),
            "data_sharing_items": lines(values.get("data_sharing_items", "")),
            "deployment": values.get("deployment", "gov_cloud"),
            "deployment_explanation": values.get("deployment_explanation", ""),
            "hardware": hardware,
            "hardware_secure_controllable": "hardware_secure_controllable" in values,
            "xinchuang_compatible": "xinchuang_compatible" in values,
        }
        if values.get("requested_plan_year"):
            body["requested_plan_year"] = int(values["requested_plan_year"])
    except FormError as exc:
        problems = {exc.field: exc.message}
        return _form_page(request, person, 422, values=values | {"hardware": hardware}, problems=problems)
    except ValueError:
        problems = {"requested_plan_year": "请填写年份，如 2027"}
        return _form_page(request, person, 422, values=values | {"hardware": hardware}, problems=problems)
    try:
        made = (await backends(request).call("intake", "POST", "/projects", person.token, json=body)).json()
    except BackendError as exc:
        return _form_page(request, person, 422, values=values | {"hardware": hardware}, error=exc)
    flash(request, "申报草稿已保存。请上传下列材料后提交申报。")
    return RedirectResponse(f"/projects/{made['id']}/declaration", status_code=303)


async def _declaration_page(
    request: Request, person: PersonDep, project_id: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    try:
        project = await backends(request).get("intake", f"/projects/{project_id}", person.token)
    except BackendError as exc:
        return render(request, "error.html", status_code=404, title="未找到申报", detail=exc.message)
    return render(request, "declaration.html", status_code=status_code, project=project, **context)


@router.get("/projects/{project_id}/declaration", response_class=HTMLResponse, summary="申报材料与提交")
async def declaration(request: Request, project_id: str, person: PersonDep) -> HTMLResponse:
    return await _declaration_page(request, person, project_id)


@router.post("/projects/{project_id}/materials", response_class=HTMLResponse, summary="上传申报材料")
async def upload(
    request: Request,
    project_id: str,
    person: PersonDep,
    material: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
) -> Response:
    limit = request.app.state.settings.max_upload_bytes
    if file.size is not None and file.size > limit:
        flash(request, f"文件过大：{file.filename} 超过 {limit // (1024 * 1024)} MiB，未上传。", "error")
        return RedirectResponse(f"/projects/{project_id}/declaration", status_code=303)
    content = await file.read()
    sent = {"file": (file.filename or "材料", content, file.content_type or "application/octet-stream")}
    try:
        await backends(request).call(
            "intake",
            "POST",
            f"/projects/{project_id}/materials",
            person.token,
            data={"material": material},
            files=sent,
        )
    except BackendError as exc:
        return await _declaration_page(request, person, project_id, 422, error=exc)
    flash(request, f"已上传：{file.filename}")
    return RedirectResponse(f"/projects/{project_id}/declaration", status_code=303)


@router.post("/projects/{project_id}/submission", response_class=HTMLResponse, summary="提交申报")
async def submit(request: Request, project_id: str, person: PersonDep) -> Response:
    try:
        await backends(request).call("intake", "POST", f"/projects/{project_id}/submission", person.token)
    except BackendError as exc:
        return await _declaration_page(request, person, project_id, 422, error=exc)
    flash(request, "申报已提交，等待主管部门形式审查。")
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


class PaymentForm(BaseModel):
    kind: str
    amount_wan: str
    purpose: str = Field(max_length=200)
    attempt: str = Field(default="", max_length=64)  # the form's Idempotency-Key


@router.post("/projects/{project_id}/payments", response_class=HTMLResponse, summary="申请拨付")
async def request_payment(
    request: Request, project_id: str, person: PersonDep, form: Annotated[PaymentForm, Form()]
) -> Response:
    """Sent twice (a double click, a retry), the form is one request: its `attempt` is the key."""
    back = RedirectResponse(f"/projects/{project_id}#pay-h", status_code=303)
    try:
        if form.kind not in PAYMENT_KINDS:
            raise FormError("kind", "请选择款项类型")
        amount = fen_from_wan("amount_wan", form.amount_wan)
        body = {"kind": form.kind, "amount_fen": amount, "purpose": form.purpose.strip()}
        key = {"Idempotency-Key": form.attempt} if form.attempt else {}
        path = f"/projects/{project_id}/disbursements"
        answered = await backends(request).call("funding", "POST", path, person.token, json=body, headers=key)
    except FormError as exc:
        flash(request, exc.message, "error")
        return back
    except Refused as exc:
        flash(request, f"拨付申请未被受理：{exc.message}", "error")
        return back
    except BackendError as exc:
        flash(request, exc.message, "error")
        return back
    made = answered.json()
    if made.get("status") == "released":
        flash(request, f"已拨付 {made.get('amount_yuan')}。")
    else:
        said = f"拨付申请已登记，{made.get('status_label')}：未满足的条件及依据见下方拨付记录。"
        flash(request, said, "warn")
    return back
