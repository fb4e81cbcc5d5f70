"""`govit demo` against the running suite: every jurisdiction walked to O&M funds, and again."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.e2e.conftest import Suite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]


async def _demo(s: Suite) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "govit.cli",
        "demo",
        env={**s.env, "COLUMNS": "160"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, out.decode()[-4000:] + err.decode()[-4000:]
    return out.decode()


async def test_the_demo_walks_every_jurisdiction_and_can_be_run_again(suite: Suite) -> None:
    first = await _demo(suite)
    for j in ("zhonglou", "shexian", "bayingolin", "xunyang", "lhasa"):
        assert f"{j} — " in first
    assert first.count("运维经费 → 核准") + first.count("运维经费 → 不予核准") == 5, first
    assert "zhonglou §13" in first  # the held request before approval, with its article
    assert "拨付闸门" in first
    second = await _demo(suite)
    assert second.count("终验申请") == 5, second
    assert not suite.clock_file.exists() or suite.clock_file.read_text() == ""
