"""Fuzzing every operation of every service against its own OpenAPI, with Schemathesis.

Each service runs in process with its lifespan (real NATS JetStream, a SQLite database of its
own). Every operation gets its boundary cases and a few generated requests, valid and invalid,
sent with the token of a role it admits; no response may be a 5xx, and every one must have a
documented status code and content type and match the documented schema. Generation is
derandomized, so a run is reproducible.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import urllib3
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import Phase, settings
from requests.adapters import HTTPAdapter
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.auth import Role
from tests.conftest import bearer, real_bus, running, unique
from tests.service.test_authorization import APPS, api_routes, roles_of

# Schemathesis' own strategies for invalid data draw from `random`, which Hypothesis seeds for every
# example, so runs stay reproducible; the warning is about Schemathesis, not these services.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding", by="service"),
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20_240_601,
        # The token is the fuzz's own, not a parameter to mutate: the authorization matrix covers it.
        "generation": {"with-security-parameters": False},
        # Boundary and type-confusion cases for each parameter and body field, run as explicit examples.
        "phases": {"coverage": {"enabled": True}},
    }
)
# Bounded for CI: the schema's examples and coverage cases, then a few generated requests (valid and
# invalid) per operation; reproducible (derandomized, no example database), and a failure is
# reported as found, not shrunk.
BOUNDED = settings(
    max_examples=15,
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BASE_URL = "http://test"
# Each operation is called as the first of these roles it admits.
PREFERENCE = (Role.AUTHORITY, Role.APPLICANT, Role.FINANCE, Role.EXPERT, Role.AUDITOR)
AGENCY = "某区教育局"
HEADERS = {
    Role.APPLICANT: bearer(Role.APPLICANT, AGENCY),
    Role.AUTHORITY: bearer(Role.AUTHORITY),
    Role.EXPERT: bearer(Role.EXPERT, sub="某专家"),
    Role.FINANCE: bearer(Role.FINANCE),
    Role.AUDITOR: bearer(Role.AUDITOR),
}
# What a service holds before fuzzing, so generated requests get past the first refusal: the
# applicant's agency is registered, so its declarations are taken.
SEEDS: dict[str, list[tuple[str, Role, dict[str, Any]]]] = {
    "intake": [
        ("/agencies", Role.AUTHORITY, {"jurisdiction": "zhonglou", "name": AGENCY, "level": "district"})
    ],
}


def _openapi(name: str) -> dict[str, Any]:
    create, settings_cls = APPS[name]
    return create(settings_cls(environment="test")).openapi()


SCHEMAS = {name: schemathesis.openapi.from_dict(_openapi(name), config=CONFIG) for name in APPS}
SERVICE_TITLED = {schema.raw_schema["info"]["title"]: name for name, schema in SCHEMAS.items()}


def headers_by_operation(app: FastAPI) -> dict[tuple[str, str], dict[str, str]]:
    """(method, path) -> the Authorization header of a role the operation admits, if it needs one."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for path, route in api_routes(app.routes):
        admitted = roles_of(route)
        role = next((r for r in PREFERENCE if r in admitted), None) if admitted else None
        for method in route.methods:
            found[method, path] = HEADERS[role] if role else {}
    return found


class _Bridge(HTTPAdapter):
    """Hands each request, as `requests` serialized it, to the app's client on the services' loop."""

    def __init__(self, client: AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.client = client
        self.loop = loop

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.method is not None and request.url is not None
        body = request.body.encode() if isinstance(request.body, str) else request.body
        call = self.client.request(request.method, request.url, headers=dict(request.headers), content=body)
        answer = asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=60)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=answer.headers.multi_items(),
            status=answer.status_code,
            reason=answer.reason_phrase,
            version=11,
            preload_content=False,
        )
        return self.build_response(request, raw)


class Fleet:
    """The services under test, each started on first use, run with its lifespan on one event loop
    of the fleet's own thread (Schemathesis calls synchronously) until the module ends."""

    def __init__(self, make: Callable[[str], FastAPI]) -> None:
        self.make = make
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-services", daemon=True)
        self.thread.start()
        self.stop = asyncio.Event()
        self.served: list[Future[None]] = []
        self.started: dict[str, tuple[requests.Session, dict[tuple[str, str], dict[str, str]]]] = {}

    def session(self, name: str) -> tuple[requests.Session, dict[tuple[str, str], dict[str, str]]]:
        if name not in self.started:
            app = self.make(name)
            ready: Future[AsyncClient] = Future()
            self.served.append(asyncio.run_coroutine_threadsafe(self._serve(name, app, ready), self.loop))
            session = requests.Session()
            session.mount(BASE_URL, _Bridge(ready.result(timeout=60), self.loop))
            self.started[name] = (session, headers_by_operation(app))
        return self.started[name]

    async def _serve(self, name: str, app: FastAPI, ready: Future[AsyncClient]) -> None:
        try:
            async with running(app) as http:
                for path, role, body in SEEDS.get(name, ()):
                    seeded = await http.post(path, json=body, headers=HEADERS[role])
                    assert seeded.status_code == 201, seeded.text
                ready.set_result(http)
                await self.stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        for served in self.served:
            served.result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
async def fleet(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    tag = unique()
    isolation = {"stream": tag.upper(), "subject_prefix": tag}
    root: Path = tmp_path_factory.mktemp("fuzz")

    def make(name: str) -> FastAPI:
        create, settings_cls = APPS[name]
        service_settings: Any = settings_cls(
            database_url=f"sqlite+aiosqlite:///{root / name}.sqlite",
            nats_url=nats_url,
            var_dir=root / name,
            environment="test",
            **isolation,
        )
        return create(service_settings)

    async with real_bus(nats_url, isolation):
        fleet = Fleet(make)
        try:
            yield fleet
        finally:
            fleet.close()


@schemathesis.pytest.parametrize(**SCHEMAS)
@BOUNDED
def test_every_response_is_documented_and_never_a_5xx(case: schemathesis.Case, fleet: Fleet) -> None:
    session, headers = fleet.session(SERVICE_TITLED[case.operation.schema.raw_schema["info"]["title"]])
    operation = case.operation.method.upper(), case.operation.path
    case.call_and_validate(base_url=BASE_URL, session=session, headers=headers[operation], checks=CHECKS)
