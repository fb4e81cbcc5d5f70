"""The console's pages against WCAG 2.1 A and AA (axe-core): labels, names, landmarks, and the
contrast of every text on its background, on a desktop and on a phone's width."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from tests.browser.conftest import sign_in
from tests.e2e.conftest import Suite
from tests.e2e.lifecycle import WAN, at, declared, pay, state

pytestmark = [pytest.mark.browser, pytest.mark.services("intake", "funding")]
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
#: (role, name, the pages it works in)
PEOPLE = {
    "建设单位": ["/projects", "/projects/{id}", "/declare", "/projects/{id}/declaration"],
    "主管部门": ["/workbench", "/finance", "/audit?project_id={id}"],
    "财政部门": ["/finance", "/projects/{id}"],
    "审计": ["/audit?project_id={id}"],
}


@pytest.fixture(scope="module", autouse=True)
def in_june(suite: Suite) -> None:
    suite.set_time(at(date(2026, 6, 1)))


async def _violations(page: Page) -> list[str]:
    found = await Axe().run(page, options=WCAG)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in found.response["violations"]
    ]


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
async def test_every_main_page_meets_wcag_aa(suite: Suite, browser: Browser, width: int) -> None:
    project = await declared(suite, "xunyang", 80 * WAN)
    await state(suite, "xunyang", "funding", f"/projects/{project['id']}")
    assert (await pay(suite, project, 5 * WAN, kind="preparatory")).status_code == 202
    console, failures = suite.urls["console"], {}
    for role, paths in PEOPLE.items():
        context = await browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        page = await context.new_page()
        agency = project["agency"] if role == "建设单位" else None
        await sign_in(page, console, role, "某人", "xunyang", agency=agency)
        for path in paths:
            await page.goto(console + path.format(id=project["id"]))
            if said := await _violations(page):
                failures[f"{role} {path}"] = said
        await context.close()
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.goto(f"{console}/signin")
    if said := await _violations(page):
        failures["/signin"] = said
    await page.close()
    assert not failures, failures
