"""Facts recorded by hand: POST /manual-events, for events no system publishes.

Where an agency runs only some of the services and no system of its own publishes an event a
rule needs (a contract filed, a final acceptance concluded), the authority records the fact
through the consuming service with the document it rests on. The record is handled exactly as
the event would be — same handler, same inbox (so a retry with the same Idempotency-Key is
not applied twice), same audit log — and the gate it opens names who recorded it and on what.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from shared.auth import Principal, Role, require
from shared.consume import EventDispatcher, ManualRecord, Unprocessable
from shared.contracts.catalog import event_from
from shared.contracts.envelope import Envelope
from shared.db import inbox
from shared.deps import IdempotencyKey, NowDep
from shared.examples import field_examples
from shared.messages import field_error
from shared.problems import Problem, problem_responses


class ManualEventIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=field_examples(
            type="govit.acceptance.final_acceptance_concluded.v1",
            data={"project_id": "3f2a9c1e", "jurisdiction": "zhonglou", "passed": True},
            document_ref="钟数据验〔2026〕8号",
            note="终验会议纪要已归档",
        )
    )

    type: str = Field(max_length=128, description="事件类型（含版本），见 docs/asyncapi.yaml")
    data: dict[str, Any] = Field(description="事件数据，按 docs/asyncapi.yaml 中该事件的结构填写")
    document_ref: str = Field(min_length=2, max_length=200, description="该事实所依据的文件文号")
    note: str | None = Field(default=None, max_length=500, description="备注")


class ManualEventOut(BaseModel):
    event_id: str
    type: str
    source: str
    recorded_by: str
    document_ref: str
    recorded_at: datetime
    duplicate: bool  # the same record (Idempotency-Key) was handled before: nothing applied again


def manual_source(service: str) -> str:
    return f"urn:govit:{service}:manual"


AuthorityDep = Annotated[Principal, require(Role.AUTHORITY)]


def _dispatcher(request: Request) -> EventDispatcher:
    dispatcher: EventDispatcher | None = request.app.state.runtime.dispatcher
    if dispatcher is None:
        raise Problem(503, "not_ready", "服务尚未就绪", "事件处理尚未启动，请稍后重试")
    return dispatcher


def manual_router(service: str) -> APIRouter:
    router = APIRouter(tags=["manual records"])

    @router.post(
        "/manual-events",
        response_model=ManualEventOut,
        status_code=status.HTTP_201_CREATED,
        summary="手工登记事件：没有系统发布某事件时，由主管部门凭文件登记，作用与事件相同",
        responses={
            200: {"model": ManualEventOut, "description": "同一 Idempotency-Key 的重试：已登记，未重复执行"},
            **problem_responses(404, 409, 503),
        },
    )
    async def record_manually(
        payload: ManualEventIn,
        request: Request,
        response: Response,
        now: NowDep,
        principal: AuthorityDep,
        key: IdempotencyKey = None,
    ) -> ManualEventOut:
        dispatcher = _dispatcher(request)
        if payload.type not in dispatcher.handlers:
            consumed = "、".join(sorted(dispatcher.handlers))
            raise Problem(
                422, "not_consumed", "本服务不处理此类事件", f"{service} 处理的事件类型：{consumed}"
            )
        allowed = request.app.state.settings.manual_events
        if payload.type not in allowed:
            raise Problem(
                403,
                "not_recordable_by_hand",
                "此类事件不允许手工登记",
                f"本部署允许手工登记的事件类型（GOVIT_MANUAL_EVENTS）：{'、'.join(allowed) or '无'}",
            )
        try:
            event = event_from(payload.type, payload.data)
        except ValidationError as exc:
            errors = [field_error({**e, "loc": ["body", "data", *exc_loc(e["loc"])]}) for e in exc.errors()]
            raise Problem(
                422, "invalid_event", "事件数据不符合其模式", f"{exc.error_count()} 处错误", errors=errors
            ) from exc
        if event.jurisdiction not in request.app.state.policy:
            raise Problem(422, "unknown_jurisdiction", "未知的辖区", f"没有 {event.jurisdiction!r} 的政策包")
        # A fact about another jurisdiction's project is its own authority's to record.
        principal.check_jurisdiction(event.jurisdiction)
        recorder = principal.name or principal.sub
        event_id = (
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"govit:{service}:manual:{principal.sub}:{key}"))
            if key
            else str(uuid.uuid4())
        )
        envelope = Envelope(
            id=event_id,
            source=manual_source(service),
            type=payload.type,
            time=now,
            subject=event.project_id,
            data=event,
        )
        manual = ManualRecord(recorded_by=recorder, document_ref=payload.document_ref, note=payload.note)
        try:
            # The record stands after every fact already on the stream, and before any stored later.
            position = await request.app.state.runtime.bus.last_sequence()
        except Exception as exc:
            raise Problem(
                503, "stream_unavailable", "事件流暂不可用", "无法确定登记在事件流中的次序，请稍后重试"
            ) from exc
        try:
            handled = await dispatcher.apply(envelope, manual, position)
        except Unprocessable as exc:
            raise Problem(422, "unprocessable_event", "该事件无法处理", str(exc)) from exc
        if not handled:
            await _same_record(dispatcher, event_id, payload)
            response.status_code = status.HTTP_200_OK
        return ManualEventOut(
            event_id=event_id,
            type=payload.type,
            source=envelope.source,
            recorded_by=recorder,
            document_ref=payload.document_ref,
            recorded_at=now,
            duplicate=not handled,
        )

    return router


async def _same_record(dispatcher: EventDispatcher, event_id: str, payload: ManualEventIn) -> None:
    """A retry under the same Idempotency-Key must be the same record, not a different one."""
    async with dispatcher.uow_factory() as uow:
        first = (
            await uow.session.execute(
                select(inbox.c.event_type, inbox.c.document_ref).where(
                    inbox.c.consumer == dispatcher.durable, inbox.c.event_id == event_id
                )
            )
        ).first()
    if first is not None and (first.event_type, first.document_ref) != (payload.type, payload.document_ref):
        raise Problem(
            409,
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于另一项登记",
            f"已登记：{first.event_type}，依据 {first.document_ref}",
        )


def exc_loc(loc: tuple[int | str, ...]) -> list[int | str]:
    return [part for part in loc if part != "type"]
