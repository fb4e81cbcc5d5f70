"""The console in a real browser: the five services and the console as processes (as in
tests/e2e), and Debian's Chromium driven by Playwright.

Without a Chromium the tests are skipped, saying how to install one; under CI=true a missing
browser fails the run (`.ci/run` installs it with apt-get).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.conftest import SERVICES, Suite, running_suite
from tests.servers import IN_CI

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
CHROMIUM_HINT = (
    "Chromium 不可用：apt-get install chromium，或以 GOVIT_TEST_CHROMIUM 指定浏览器 / "
    "Chromium not found: apt-get install chromium, or point GOVIT_TEST_CHROMIUM at one"
)


def chromium() -> str | None:
    given = os.environ.get("GOVIT_TEST_CHROMIUM")
    if given:
        return given
    return next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
async def suite(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Suite]:
    async with running_suite("sqlite", nats_url, None, tmp_path_factory, (*SERVICES, "console")) as s:
        yield s


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    path = chromium()
    if path is None:
        if IN_CI:
            pytest.fail(f"a Chromium is required under CI=true: {CHROMIUM_HINT}", pytrace=False)
        pytest.skip(CHROMIUM_HINT)
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox", "--lang=zh-CN"])
        yield found
        await found.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened = await context.new_page()
    yield opened
    await context.close()


async def sign_in(
    page: Page, base: str, role: str, name: str, jurisdiction: str, agency: str | None = None
) -> None:
    """Through the development sign-in page, as a person would."""
    await page.goto(f"{base}/signin")
    await page.get_by_label(role, exact=True).check()
    await page.get_by_label("辖区").select_option(jurisdiction)
    await page.get_by_label("姓名（专家填写专家库中登记的登录名）").fill(name)
    if agency:
        await page.get_by_label("单位（建设单位必填）").fill(agency)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/projects**")
