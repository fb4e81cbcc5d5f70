"""Reads that wait for no writer, readiness that knows when writes cannot get the database, and
the limits on what a request may carry: body size, uploads, their content, NUL characters, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sqlite3
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import jwt
import pytest
from fastapi import APIRouter, Depends, FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import text

from services.acceptance.main import create_app as create_acceptance
from services.acceptance.settings import AcceptanceSettings
from services.funding.db import FundingUnitOfWork
from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.procurement.main import create_app as create_procurement
from services.procurement.settings import ProcurementSettings
from services.review.main import create_app as create_review
from services.review.settings import ReviewSettings
from shared.auth import Role
from shared.contracts.intake import ProjectDeclared
from shared.deps import unit_of_work
from shared.settings import DEFAULT_JWT_SECRET
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import AUTHORITY, checklist, draft, publish, register

FINANCE = bearer(Role.FINANCE, sub="财政局")
PROBLEM = "application/problem+json"
MIB = 1024 * 1024


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1]


def is_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


# -- reads never wait for writers -----------------------------------------------------------------

_probe = APIRouter()


@_probe.api_route("/probe/transaction", methods=["GET", "POST"])
async def probe_transaction(
    uow: Annotated[FundingUnitOfWork, Depends(unit_of_work(FundingUnitOfWork))],
) -> dict[str, bool]:
    """Whether the request's unit of work reads only: PostgreSQL says so itself; on SQLite
    another connection can take the write lock while this transaction is open."""
    async with uow:
        await uow.session.execute(text("SELECT 1"))
        if uow.session.bind.dialect.name == "postgresql":
            return {"read_only": await uow.session.scalar(text("SHOW transaction_read_only")) == "on"}
        # A moment's wait, off the event loop: the service's own background writes (relay, audit
        # anchor) are brief, while a write transaction holds the lock until the request ends.
        return {"read_only": await asyncio.to_thread(_write_lock_free, str(uow.session.bind.url))}


def _write_lock_free(url: str) -> bool:
    other = sqlite3.connect(_sqlite_path(url), isolation_level=None, timeout=1)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@contextlib.asynccontextmanager
async def funding_service(
    url: str, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, AsyncClient, Any]]:
    settings = FundingSettings(
        database_url=url,
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        db_write_timeout_seconds=0.5,
        **isolation,
    )
    app = create_funding(settings)
    app.include_router(_probe)
    async with real_bus(nats_url, isolation) as bus, running(app) as http:
        yield app, http, bus


async def declared_project(http: AsyncClient, bus: Any) -> dict[str, Any]:
    project = {"id": unique("p"), "jurisdiction": "xunyang", "agency": unique("区卫健委")}
    event = ProjectDeclared(
        project_id=project["id"],
        jurisdiction="xunyang",
        agency=project["agency"],
        title="互联网医院",
        kind="construction",
        amount_fen=120_000_000,
    )
    await publish(bus, event, "/govit/intake")

    async def known() -> bool:
        return (await http.get(f"/projects/{project['id']}", headers=FINANCE)).status_code == 200

    await eventually(known, what="funding to record the declaration")
    return project


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]


async def test_a_get_reads_in_a_read_only_transaction_and_a_post_may_write(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    async with funding_service(await make_database("funding"), nats_url, isolation, tmp_path) as (_, http, _):
        read = await http.get("/probe/transaction")
        assert read.status_code == 200 and read.json() == {"read_only": True}
        write = await http.post("/probe/transaction")
        assert write.status_code == 200 and write.json() == {"read_only": False}


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_while_another_connection_holds_the_sqlite_write_lock_reads_answer_and_writes_are_503(
    make_database: Any,
    nats_url: str,
    isolation: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = await make_database("funding")
    async with funding_service(url, nats_url, isolation, tmp_path) as (_, http, bus):
        project = await declared_project(http, bus)
        unit = bearer(Role.APPLICANT, project["agency"])
        request = {"amount_fen": 3_000_000, "purpose": "可行性研究报告编制", "kind": "preparatory"}

        # A backup tool, a migration or another process takes the write lock and keeps it for
        # longer than the service's write timeout (0.5 s here).
        holder = sqlite3.connect(_sqlite_path(url), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            caplog.clear()
            with caplog.at_level(logging.INFO):
                for path in (
                    f"/projects/{project['id']}",
                    f"/projects/{project['id']}/gates",
                    "/disbursements",
                ):
                    assert (await http.get(path, headers=FINANCE)).status_code == 200, path
                refused = await http.post(
                    f"/projects/{project['id']}/disbursements", headers=unit, json=request
                )
                body = is_problem(refused, 503, "database_busy")
                assert refused.headers["Retry-After"] and "稍后" in body["title"]
                ready = await http.get("/readyz")
                assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
            assert tracebacks(caplog) == []
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        # Once the lock is let go the service is ready again and the write goes through.
        await eventually(lambda: _status(http, "/readyz", 200), what="/readyz after the lock is released")
        held = await http.post(f"/projects/{project['id']}/disbursements", headers=unit, json=request)
        assert held.status_code == 202, held.text


async def _status(http: AsyncClient, path: str, status: int) -> bool:
    return (await http.get(path)).status_code == status


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_row_and_a_table_locked_by_a_writer_hold_up_no_get_on_postgresql(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    # Acceptance loads a project for GET /projects/{id} through the repository that, for a
    # command, locks the row (SELECT … FOR UPDATE).
    url = await make_database("acceptance")
    settings = AcceptanceSettings(
        database_url=url, nats_url=nats_url, var_dir=tmp_path, environment="test", **isolation
    )
    async with real_bus(nats_url, isolation) as bus, running(create_acceptance(settings)) as http:
        project = await declared_project(http, bus)
        writer = await asyncpg.connect(_plain(url))
        try:
            # A writer in the middle of a change to the project: its row locked, the table
            # closed to other writers.
            await writer.execute("BEGIN")
            await writer.execute("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", project["id"])
            await writer.execute("LOCK TABLE projects IN EXCLUSIVE MODE")
            # Guarded only so that a regression fails instead of hanging.
            detail = await asyncio.wait_for(http.get(f"/projects/{project['id']}", headers=FINANCE), 30)
            assert detail.status_code == 200, detail.text
            listed = await asyncio.wait_for(http.get("/projects", headers=FINANCE), 30)
            assert listed.status_code == 200, listed.text
            # A row lock is a matter of one record: the database still takes writes.
            assert (await http.get("/readyz")).status_code == 200
        finally:
            await writer.execute("ROLLBACK")
            await writer.close()


@contextlib.asynccontextmanager
async def _writers_shut_out(backend: str, url: str) -> AsyncIterator[None]:
    """Another connection keeps every write of the service waiting."""
    if backend == "sqlite":
        holder = sqlite3.connect(_sqlite_path(url), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    # What a migration or an explicit LOCK TABLE does to the audit log, which every change writes.
    pg = await asyncpg.connect(_plain(url))
    try:
        await pg.execute("BEGIN")
        await pg.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
        yield
    finally:
        await pg.execute("ROLLBACK")
        await pg.close()


async def test_readyz_says_not_ready_while_a_write_cannot_get_the_database(
    backend: str, make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    url = await make_database("funding")
    async with funding_service(url, nats_url, isolation, tmp_path) as (_, http, _):
        assert (await http.get("/readyz")).status_code == 200
        async with _writers_shut_out(backend, url):
            ready = await http.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["database"] is False
            # Reads still answer.
            assert (await http.get("/disbursements", headers=FINANCE)).status_code == 200
        await eventually(
            lambda: _status(http, "/readyz", 200), what="/readyz once writes can get the database"
        )


# -- limits on input -----------------------------------------------------------------------------


@pytest.fixture
async def intake(
    request: pytest.FixtureRequest,
    make_database: Any,
    nats_url: str,
    isolation: dict[str, str],
    tmp_path: Path,
) -> AsyncIterator[AsyncClient]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    settings = IntakeSettings(
        database_url=await make_database("intake"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **{"max_json_bytes": 4096, "max_upload_mib": 1, **overrides},
        **isolation,
    )
    async with real_bus(nats_url, isolation), running(create_intake(settings)) as http:
        yield http


class Body:
    """A request body sent in chunks without a Content-Length, counting what the server took."""

    def __init__(self, head: bytes, chunk: bytes, count: int, tail: bytes = b"") -> None:
        self.parts = [head, *([chunk] * count), tail]
        self.total = sum(len(p) for p in self.parts)
        self.sent = 0

    async def __call__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            self.sent += len(part)
            yield part


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_json_body_over_the_cap_is_refused_with_413_and_read_no_further(intake: AsyncClient) -> None:
    big = {"jurisdiction": "zhonglou", "name": "区" * 3000, "level": "district"}
    # With a Content-Length over the cap: refused before a byte is read.
    declared = await intake.post("/agencies", headers=AUTHORITY, json=big)
    body = is_problem(declared, 413, "payload_too_large")
    assert body["limit_bytes"] == 4096

    # Without one (chunked): counted as it arrives, and cut at the cap.
    streamed = Body(b'{"jurisdiction": "zhonglou", "name": "', b"x" * 1024, 64, b'", "level": "district"}')
    cut = await intake.post(
        "/agencies", headers={**AUTHORITY, "Content-Type": "application/json"}, content=streamed()
    )
    is_problem(cut, 413, "payload_too_large")
    assert streamed.sent < streamed.total

    # Under the cap all is as before.
    agency = unique("区教育局")
    small = await intake.post(
        "/agencies", headers=AUTHORITY, json={"jurisdiction": "zhonglou", "name": agency, "level": "district"}
    )
    assert small.status_code == 201, small.text


def _multipart(
    material: str, filename: str, boundary: str = "govit-test-boundary"
) -> tuple[bytes, bytes, str]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="material"\r\n\r\n{material}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, f"multipart/form-data; boundary={boundary}"


async def _project_and_material(intake: AsyncClient) -> tuple[dict[str, Any], str, dict[str, str]]:
    agency = unique("区卫健委")
    await register(intake, "xunyang", agency)
    project = await draft(intake, agency, "xunyang")
    material = (await checklist(intake, project))[0]["material"]
    return project, material, bearer(Role.APPLICANT, agency)


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_upload_over_the_cap_is_cut_while_it_streams_and_nothing_is_kept(
    intake: AsyncClient, tmp_path: Path
) -> None:
    project, material, unit = await _project_and_material(intake)
    materials = tmp_path / "intake-materials"

    # 8 MiB sent in chunks to a 1 MiB cap: the server stops reading soon after the cap.
    head, tail, content_type = _multipart(material, "大文件.pdf")
    streamed = Body(head + b"%PDF-1.7\n", b"\0" * (64 * 1024), 128, tail)
    cut = await intake.post(
        f"/projects/{project['id']}/materials",
        headers={**unit, "Content-Type": content_type},
        content=streamed(),
    )
    body = is_problem(cut, 413, "payload_too_large")
    assert "上传的文件超过 1 MiB 的上限" in body["detail"]
    assert streamed.sent < 2 * MIB < streamed.total

    # With a Content-Length over the cap nothing is read at all.
    declared = await intake.post(
        f"/projects/{project['id']}/materials",
        headers=unit,
        data={"material": material},
        files={"file": ("大文件.pdf", b"%PDF-1.7\n" + bytes(2 * MIB), "application/pdf")},
    )
    is_problem(declared, 413, "payload_too_large")

    # Just over the file cap but within the form's allowance: refused by the store, not kept either.
    just_over = await intake.post(
        f"/projects/{project['id']}/materials",
        headers=unit,
        data={"material": material},
        files={"file": ("a.pdf", b"%PDF-1.7\n" + bytes(MIB), "application/pdf")},
    )
    is_problem(just_over, 413, "payload_too_large")

    assert _stored_files(materials) == []
    detail = await intake.get(f"/projects/{project['id']}", headers=AUTHORITY)
    assert detail.json()["materials"] == []


def _zip(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
OFD = _zip({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_material_content_is_told_by_its_bytes_and_served_with_that_type(intake: AsyncClient) -> None:
    project, material, unit = await _project_and_material(intake)

    async def upload(name: str, content: bytes, claimed: str = "application/octet-stream") -> Response:
        return await intake.post(
            f"/projects/{project['id']}/materials",
            headers=unit,
            data={"material": material},
            files={"file": (name, content + unique().encode(), claimed)},
        )

    # An HTML page named .pdf (and claiming to be one) is refused, and so is a renamed format.
    page = is_problem(await upload("申报书.pdf", HTML, "application/pdf"), 415, "material_content_refused")
    assert "申报书.pdf" in page["detail"] and "不予接收" in page["detail"]
    is_problem(await upload("表.xlsx", DOCX), 415, "material_content_refused")
    is_problem(await upload("图.jpg", PNG), 415, "material_content_refused")
    is_problem(await upload("版式.ofd", _zip({"a.txt": b"x"})), 415, "material_content_refused")

    # Each accepted format is stored with the type its content shows, whatever the client said.
    expected = {
        "申报书.pdf": (b"%PDF-1.7\n", "application/pdf"),
        "版式.ofd": (OFD, "application/ofd"),
        "建议书.docx": (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "预算.xlsx": (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "旧版.doc": (OLE, "application/msword"),
        "旧表.xls": (OLE, "application/vnd.ms-excel"),
        "扫描件.png": (PNG, "image/png"),
        "附件.zip": (DOCX, "application/zip"),
    }
    for name, (content, content_type) in expected.items():
        stored = await upload(name, content, "text/html")
        assert stored.status_code == 201, (name, stored.text)
        assert stored.json()["content_type"] == content_type, name
        served = await intake.get(
            f"/projects/{project['id']}/materials/{stored.json()['id']}", headers=AUTHORITY
        )
        assert served.status_code == 200
        assert served.headers["content-type"].split(";")[0] == content_type
        assert served.headers["x-content-type-options"] == "nosniff"


async def test_nul_characters_are_refused_with_422_wherever_they_come(intake: AsyncClient) -> None:
    agency = unique("区\x00教育局")
    named = await intake.post(
        "/agencies", headers=AUTHORITY, json={"jurisdiction": "zhonglou", "name": agency, "level": "district"}
    )
    body = is_problem(named, 422, "invalid_request")
    assert body["errors"] == [
        {
            "loc": ["body", "name"],
            "field": "name",
            "msg": "name：不得包含 NUL 字符（\\u0000）",
            "type": "nul_character",
        }
    ]

    real = unique("区教育局")
    await register(intake, "zhonglou", real)
    project = await draft(intake, real, "zhonglou")
    nested = await intake.patch(
        f"/projects/{project['id']}",
        headers=bearer(Role.APPLICANT, real),
        json={"data_sharing_items": ["学籍\x00信息"]},
    )
    assert is_problem(nested, 422, "invalid_request")["errors"][0]["loc"] == ["body", "data_sharing_items", 0]
    queried = await intake.get("/projects", headers=AUTHORITY, params={"agency": "a\x00b"})
    assert is_problem(queried, 422, "invalid_request")["errors"][0]["loc"] == ["query", "agency"]
    is_problem(await intake.get("/projects/%00", headers=AUTHORITY), 422, "invalid_request")

    # A backslash followed by "u0000" is text like any other.
    literal = unique("区\\u0000局")
    kept = await intake.post(
        "/agencies",
        headers=AUTHORITY,
        json={"jurisdiction": "zhonglou", "name": literal, "level": "district"},
    )
    assert kept.status_code == 201 and kept.json()["name"] == literal


def _token(**claims: Any) -> dict[str, str]:
    now = int(time.time())
    base = {
        "sub": "审核员",
        "role": "authority",
        "jurisdiction": "xunyang",
        "iss": "govit",
        "aud": "govit",
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode({**base, **claims}, DEFAULT_JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("intake", [{"jwt_max_ttl_seconds": 4 * 3600}], indirect=True)
async def test_a_token_lives_no_longer_than_the_configured_span(intake: AsyncClient) -> None:
    now = int(time.time())
    assert (await intake.get("/projects", headers=_token(exp=now + 3600))).status_code == 200
    for claims in (
        {"exp": 10**20},  # signed, and valid for ever in practice
        {"exp": 1e20},
        {"exp": now + 5 * 3600},  # beyond GOVIT_JWT_MAX_TTL_SECONDS
        {"exp": str(now + 3600)},  # not a NumericDate
        {"iat": now + 3600},  # issued in the future
    ):
        refused = await intake.get("/projects", headers=_token(**claims))
        is_problem(refused, 401, "invalid_token")


async def test_every_service_answers_with_nosniff(
    nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    services: list[tuple[Callable[..., FastAPI], Any]] = [
        (create_intake, IntakeSettings),
        (create_review, ReviewSettings),
        (create_procurement, ProcurementSettings),
        (create_acceptance, AcceptanceSettings),
        (create_funding, FundingSettings),
    ]
    for create, settings_class in services:
        settings = settings_class(
            database_url=f"sqlite+aiosqlite:///{tmp_path / unique('db')}.db",
            nats_url=nats_url,
            var_dir=tmp_path,
            environment="test",
            **isolation,
        )
        async with running(create(settings), ready=False) as http:
            for response in (
                await http.get("/healthz"),
                await http.get("/no-such-page"),
                await http.get("/audit"),  # 401
                await http.post("/manual-events", json={}, headers=bearer(Role.AUTHORITY)),
            ):
                assert response.headers.get("x-content-type-options") == "nosniff", (create, response)
