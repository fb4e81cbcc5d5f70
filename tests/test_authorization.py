"""The authorization matrix: every endpoint of every service × every role, no token, and a forged one.

Each endpoint must name the roles it admits; every other role gets 403, no token 401, and no
combination gives a 5xx. Which agency an applicant acts for is checked per service in its own
tests (another agency's project is not found).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient

from services.acceptance.main import create_app as acceptance_app
from services.acceptance.settings import AcceptanceSettings
from services.funding.main import create_app as funding_app
from services.funding.settings import FundingSettings
from services.intake.main import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.procurement.main import create_app as procurement_app
from services.procurement.settings import ProcurementSettings
from services.review.main import create_app as review_app
from services.review.settings import ReviewSettings
from shared.auth import Role
from tests.conftest import bearer, real_bus, running

APPS = {
    "intake": (intake_app, IntakeSettings),
    "review": (review_app, ReviewSettings),
    "procurement": (procurement_app, ProcurementSettings),
    "acceptance": (acceptance_app, AcceptanceSettings),
    "funding": (funding_app, FundingSettings),
}
PUBLIC = {"/healthz", "/readyz", "/metrics"}
SAMPLES = {"jurisdiction": "zhonglou", "year": "2027", "credit_code": "91340000MA2XXXXX1A"}
TOKENS = {
    Role.APPLICANT: bearer(Role.APPLICANT, "某区教育局"),
    Role.AUTHORITY: bearer(Role.AUTHORITY),
    Role.EXPERT: bearer(Role.EXPERT, sub="某专家"),
    Role.FINANCE: bearer(Role.FINANCE),
    Role.AUDITOR: bearer(Role.AUDITOR),
}


def roles_of(route: APIRoute) -> frozenset[Role] | None:
    """The roles the route's `require(...)` admits, found in its dependency tree."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        found = getattr(dependency.call, "roles", None)
        if found is not None:
            return frozenset(found)
        stack.extend(dependency.dependencies)
    return None


def api_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            extra = getattr(getattr(route, "include_context", None), "prefix", "")
            found += api_routes(route.original_router.routes, prefix + extra)
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "nothing-here"), path)


@pytest.fixture(params=list(APPS))
async def service(
    request: pytest.FixtureRequest, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    create, settings_cls = APPS[str(request.param)]
    settings: Any = settings_cls(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    app = create(settings)
    async with real_bus(nats_url, isolation), running(app) as http:
        yield app, http


async def test_every_endpoint_admits_only_its_roles(service: tuple[FastAPI, AsyncClient]) -> None:
    app, http = service
    routes = [(p, r) for p, r in api_routes(app.routes) if p not in PUBLIC]
    assert routes
    checked = 0
    for full, route in routes:
        allowed = roles_of(route)
        assert allowed, f"{full} names no roles"
        for method in route.methods:
            path = concrete(full)
            body = {} if method in {"POST", "PUT", "PATCH"} else None

            async def call(
                headers: dict[str, str], method: str = method, path: str = path, body: Any = body
            ) -> Any:
                return await http.request(method, path, headers=headers, json=body)

            anonymous = await call({})
            assert anonymous.status_code == 401, f"{method} {path} without a token: {anonymous.status_code}"
            forged = await call({"Authorization": "Bearer forged.token.value"})
            assert forged.status_code == 401, f"{method} {path} with a forged token: {forged.status_code}"
            for role, headers in TOKENS.items():
                response = await call(headers)
                assert response.status_code < 500, f"{method} {path} as {role}: {response.text}"
                if role in allowed:  # may still be 403 for another reason (an expert not in the pool)
                    refused = response.status_code == 403 and response.json()["code"] == "forbidden_role"
                    assert response.status_code != 401 and not refused, f"{method} {path} refused {role}"
                else:
                    assert response.status_code == 403, f"{method} {path} let {role} through"
                    assert response.json()["code"] == "forbidden_role"
                checked += 1
    assert checked >= len(routes) * len(TOKENS)


async def test_out_of_range_numbers_and_odd_ids_are_refused_never_a_5xx(
    service: tuple[FastAPI, AsyncClient],
) -> None:
    app, http = service
    huge = "99999999999999999999"
    for full, route in api_routes(app.routes):
        if full in PUBLIC:
            continue
        allowed = roles_of(route) or frozenset()
        role = next(
            (r for r in (Role.AUTHORITY, Role.FINANCE, Role.APPLICANT, Role.EXPERT) if r in allowed), None
        )
        if role is None:
            continue
        for method in route.methods:
            for filler in (huge, "%00", "-1"):
                path = re.sub(r"\{\w+\}", filler, full)
                query = {"offset": huge} if method == "GET" else {}
                body = {} if method in {"POST", "PUT", "PATCH"} else None
                response = await http.request(method, path, params=query, headers=TOKENS[role], json=body)
                assert response.status_code < 500, f"{method} {path} {query}: {response.text}"
