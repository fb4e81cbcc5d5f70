"""Limits on what a request may carry (body size, NUL characters) and nosniff on every response.

One ASGI middleware in front of every service, before anything parses the request:
- a body larger than its cap is refused with 413 and read no further: a Content-Length over
  the cap is refused before a byte is read; a body without one is counted as it arrives;
- multipart/form-data (uploads) has its own cap, counted while the parts stream in, so that
  an oversized file is cut before the form parser has spooled it;
- a NUL character (U+0000) in the path, the query or any string of a JSON body is refused
  with 422: PostgreSQL cannot store it in text, and no document needs one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.messages import MESSAGES, dotted
from shared.problems import Problem, problem_response

MIB = 1024 * 1024
# An escaped NUL (\u0000) not itself escaped (\\u0000 is a backslash and "u0000").
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


@dataclass
class BodyLimits:
    """Largest request bodies in bytes: uploads (multipart/form-data) and everything else;
    `upload_file` is the file cap an upload's allowance is made of, named in the refusal."""

    json: int
    multipart: int
    upload_file: int | None = None


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` when a streamed body passes its cap; FastAPI passes it on as is."""

    def __init__(self, limit: int, file_limit: int | None = None) -> None:
        super().__init__(413, "请求体过大")
        self.limit = limit
        self.file_limit = file_limit


def too_large(limit: int, file_limit: int | None = None) -> Problem:
    what = f"上传的文件超过 {_size(file_limit)} 的上限" if file_limit else f"请求体超过 {_size(limit)} 的上限"
    return Problem(
        413,
        "payload_too_large",
        "请求体过大",
        f"{what}，未读取其余部分，未保存任何内容",
        limit_bytes=limit,
    )


def _size(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n} 字节"


def nul_refused(locations: list[list[str | int]]) -> Problem:
    errors = [
        {
            "loc": loc,
            "field": dotted(loc),
            "msg": f"{dotted(loc)}：{MESSAGES['nul_character']}",
            "type": "nul_character",
        }
        for loc in locations
    ]
    return Problem(422, "invalid_request", "请求参数不合法", f"{len(errors)} 处参数错误", errors=errors)


class RequestLimits:
    """The ASGI middleware: body caps, NUL refusal, and X-Content-Type-Options: nosniff."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _nosniff(send)
        where = _nul_in_target(scope)
        if where:
            await _answer(nul_refused(where), scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        limit = self.limits.multipart if multipart else self.limits.json
        file_limit = self.limits.upload_file if multipart else None
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await _answer(too_large(limit, file_limit), scope, receive, send)
            return
        if multipart:
            await self._streamed(scope, receive, send, limit, file_limit)
            return
        body, ending = await _read(receive, limit)
        if body is None:
            await _answer(too_large(limit), scope, receive, send)
            return
        if _is_json(headers.get("content-type", "")):
            where = _nul_in_json(body)
            if where:
                await _answer(nul_refused(where), scope, receive, send)
                return
        await self.app(scope, _replay(body, ending, receive), send)

    async def _streamed(
        self, scope: Scope, receive: Receive, send: Send, limit: int, file_limit: int | None
    ) -> None:
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, file_limit)
            return message

        async def sent(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sent)
        except BodyTooLarge:
            if started:
                raise
            await _answer(too_large(limit, file_limit), scope, receive, send)


def install(app: FastAPI, limits: BodyLimits) -> None:
    """Put the middleware in front of `app` and answer a body cut mid-stream with 413."""

    async def on_too_large(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BodyTooLarge)
        response = problem_response(too_large(exc.limit, exc.file_limit), request)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        return response

    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_middleware(RequestLimits, limits=limits)


def _nosniff(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message)["X-Content-Type-Options"] = "nosniff"
        await send(message)

    return sender


async def _answer(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(problem, Request(scope))
    if problem.status == 413:
        response.headers["Connection"] = "close"  # the rest of the body is not read
    await response(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


async def _read(receive: Receive, limit: int) -> tuple[bytes | None, Message | None]:
    """The whole body, or None once it passes `limit`; also a message that ended it early
    (a disconnect), to be handed on."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, ending: Message | None, receive: Receive) -> Receive:
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        if ending is not None:
            return ending
        return await receive()

    return replayed


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _nul_in_target(scope: Scope) -> list[list[str | int]]:
    where: list[list[str | int]] = []
    if "\x00" in scope.get("path", ""):
        where.append(["path"])
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                where.append(["query", name.replace("\x00", "")])
        if not where:
            where.append(["query"])
    return where


def _nul_in_json(body: bytes) -> list[list[str | int]]:
    # Fast path: UTF-8 JSON without an escaped NUL cannot hold one (a raw one is invalid JSON;
    # UTF-16 and UTF-32 bodies have zero bytes and are looked into).
    if not _ESCAPED_NUL.search(body) and b"\x00" not in body:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []  # not JSON: the endpoint refuses it
    return [["body", *loc] for loc in _nul_paths(document, [])]


def _nul_paths(value: Any, at: list[str | int]) -> Iterator[list[str | int]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield [*at, key.replace("\x00", "")]
            yield from _nul_paths(item, [*at, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, [*at, index])
