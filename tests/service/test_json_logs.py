"""GOVIT_LOG_FORMAT=json: every log line of a service process is one JSON object with its instant
in UTC, level, logger, message, the service, and the trace and span ids of the context it was
written in (a request's traceparent, even without a tracing SDK); the default stays uvicorn's text."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from shared.logs import uvicorn_config

pytestmark = pytest.mark.services("funding")

ROOT = Path(__file__).resolve().parents[2]
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"

_SCRIPT = f"""
import logging, logging.config
from opentelemetry import context, propagate
from shared.logs import uvicorn_config

logging.config.dictConfig(uvicorn_config("funding", "INFO", "json"))
log = logging.getLogger("services.funding.handlers")
log.info("outside any trace")
token = context.attach(propagate.extract({{"traceparent": "00-{TRACE}-{SPAN}-01"}}))
log.warning("拨付申请已挂起 %s", "p-1")
try:
    raise ValueError("坏的金额")
except ValueError:
    log.exception("handling failed")
context.detach(token)
logging.getLogger("uvicorn.access").info("GET /healthz 200")
"""


def test_json_lines_carry_the_service_and_the_trace_they_were_written_in() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        "outside any trace",
        "拨付申请已挂起 p-1",
        "handling failed",
        "GET /healthz 200",
    ]
    outside, held, failed, access = lines
    assert {"trace_id", "span_id"}.isdisjoint(outside)
    assert (held["trace_id"], held["span_id"]) == (TRACE, SPAN)
    assert (failed["trace_id"], failed["span_id"]) == (TRACE, SPAN)
    assert held["service"] == "funding" and held["level"] == "WARNING"
    assert held["logger"] == "services.funding.handlers"
    assert datetime.fromisoformat(held["time"]).utcoffset() is not None
    assert datetime.fromisoformat(held["time"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert "ValueError: 坏的金额" in failed["exc_info"]
    assert access["logger"] == "uvicorn.access" and "trace_id" not in access


def test_text_keeps_uvicorns_own_logging() -> None:
    assert uvicorn_config("funding", "INFO", "text") is None
