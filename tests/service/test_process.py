"""A service process holds what it runs and no more: started on a new database it is migrated by a
child process (Alembic and Mako never loaded), with no exporter the tracing SDK and its
instrumentation stay unloaded, and the command line's libraries are not in it. A request's trace
context still reaches the events it causes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from opentelemetry import propagate, trace

from shared.engine import at_head, create_engine
from shared.telemetry import TraceContext

pytestmark = pytest.mark.services("funding")

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import asyncio, json, os, sys
import govit.serve

async def main() -> None:
    settings = govit.serve.service_settings("funding")
    app = govit.serve.service_module("funding").create_app(settings)
    async with app.router.lifespan_context(app):
        pass

asyncio.run(main())
watched = ("alembic", "mako", "typer", "rich", "opentelemetry.sdk", "opentelemetry.instrumentation.fastapi")
print(json.dumps(sorted(m for m in watched if m in sys.modules)))
"""


def _probe(script: str, env: dict[str, str]) -> Any:
    """Run `script` in a fresh interpreter; what its last line of output says, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


async def test_a_service_started_on_a_new_database_loads_neither_alembic_nor_cli_nor_tracing_sdk(
    make_database: Any, tmp_path: Path
) -> None:
    url = await make_database("funding")
    env = {
        "PATH": "/usr/bin:/bin",
        "GOVIT_ENVIRONMENT": "test",
        "GOVIT_FUNDING_DATABASE_URL": url,
        "GOVIT_VAR_DIR": str(tmp_path),
        "GOVIT_NATS_URL": "nats://127.0.0.1:1",  # not needed to start; the consumer keeps trying
        "GOVIT_OTEL_EXPORTER": "none",
    }

    assert await asyncio.to_thread(_probe, _PROBE, env) == []
    engine = create_engine(url)
    try:  # the child migrated the database the service runs on
        assert await at_head(engine, ROOT / "services" / "funding" / "migrations")
    finally:
        await engine.dispose()


async def test_a_requests_trace_context_is_current_while_it_is_handled_without_a_tracing_sdk() -> None:
    app = FastAPI()
    app.add_middleware(TraceContext)

    @app.get("/carried")
    async def carried() -> dict[str, str]:
        headers: dict[str, str] = {}
        propagate.inject(headers)  # what the unit of work does for the events a request causes
        return headers

    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        carried_on = await client.get(
            "/carried", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
        )
        other = await client.get("/carried")
    assert carried_on.json()["traceparent"].split("-")[1] == trace_id
    assert trace_id not in other.json().get("traceparent", "")  # the context ended with its request
    assert not trace.get_current_span().get_span_context().is_valid


_CRYPTO_PROBE = """
import json, sys
import govit.serve

settings = govit.serve.service_settings("funding")
govit.serve.without_unused_crypto(settings)
from shared.auth import Role, TokenIssuer

loaded = "cryptography" in sys.modules
if settings.jwks_url is None:
    issuer = TokenIssuer(settings)
    token = issuer.issue(sub="u", role=Role.AUTHORITY, jurisdictions=["zhonglou"])
    assert issuer.verify(token).sub == "u"
    from shared.audit_key import AuditKey  # an SM3 entry still gets what it needs

    key = AuditKey(secret=b"k" * 32, hash="sm3")
    assert key.mac(b"entry") != AuditKey(secret=b"k" * 32, hash="sha256").mac(b"entry")
print(json.dumps(loaded))
"""


def test_a_service_verifying_with_the_shared_secret_runs_without_cryptography(tmp_path: Path) -> None:
    def loads_cryptography(**extra: str) -> Any:
        env = {"PATH": "/usr/bin:/bin", "GOVIT_ENVIRONMENT": "test", "GOVIT_VAR_DIR": str(tmp_path), **extra}
        return _probe(_CRYPTO_PROBE, env)

    assert loads_cryptography() is False  # HS256 tokens, verified and issued
    assert loads_cryptography(GOVIT_JWKS_URL="https://idp.example.gov.cn/jwks") is True  # RS256/ES256
