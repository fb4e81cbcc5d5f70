"""The authority's workbench queues in Chromium: the deadlines overdue in procurement, the
termination they recommend decided (原则上终止: extended, with the document), and a final
acceptance application admitted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import SHOTS, sign_in
from tests.conftest import eventually, unique
from tests.e2e.conftest import Suite
from tests.e2e.lifecycle import (
    WAN,
    apply_for_acceptance,
    approve,
    at,
    authority,
    body,
    build,
    declared,
    expert_pool,
    plan,
)

pytestmark = [pytest.mark.browser, pytest.mark.services("intake", "procurement", "acceptance")]
J = "bayingolin"


async def test_the_authority_works_through_overdue_deadlines_terminations_and_applications(
    suite: Suite, page: Page
) -> None:
    s, console = suite, suite.urls["console"]
    s.set_time(at(date(2026, 3, 2)))
    await expert_pool(s, J)
    late = await declared(s, J, 120 * WAN, title=unique("政务服务一体化平台"))
    built = await declared(s, J, 120 * WAN, title=unique("城市运行监测平台"))
    await plan(s, late, built)
    for each in (late, built):
        await approve(s, each, planned=True)
    await build(s, built, date(2026, 4, 1), date(2026, 6, 1))
    applied_on, applied = await apply_for_acceptance(s, built, date(2026, 6, 1))
    body(applied)
    # No contract four months after the plan (bayingolin §21): overdue, and termination recommended.
    today = max(applied_on, date(2026, 7, 20)) + timedelta(days=1)
    s.set_time(at(today))
    body(await s.procurement.post("/projects/deadline-scan", headers=authority(J)))

    async def recommended() -> bool:
        listed = await s.intake.get("/projects", params={"termination": "pending"}, headers=authority(J))
        return late["id"] in listed.text

    await eventually(recommended, what="the termination recommended to the authority")

    await sign_in(page, console, "主管部门", "审核员", J)
    await page.get_by_role("link", name="工作台").click()
    overdue = page.get_by_role("region", name="逾期事项")
    row = overdue.get_by_role("row").filter(has_text=late["title"]).filter(has_text="未按期签订合同")
    await expect(row).to_contain_text("bayingolin §21")
    await expect(row).to_contain_text("逾期原则上终止")

    decide = page.get_by_role("region", name="终止建议待决定")
    mine = decide.get_by_role("article", name=late["title"])
    await expect(mine).to_contain_text("bayingolin §21")
    await mine.get_by_label("决定", exact=True).select_option("extend")
    await mine.get_by_label("延期至").fill((today + timedelta(days=60)).isoformat())
    await mine.get_by_label("决定文号").fill("巴数字〔2026〕9号")
    await mine.get_by_label("理由").fill("招标流标后重新采购")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "queues.png"), full_page=True)
    await mine.get_by_role("button", name=f"决定：{late['title']}").click()
    await expect(page.get_by_text(f"终止建议已决定：{late['title']}")).to_be_visible()
    await expect(page.get_by_role("region", name="终止建议待决定")).not_to_contain_text(late["title"])

    admit = page.get_by_role("region", name="终验申请待受理")
    await admit.get_by_role("button", name=f"受理终验申请：{built['title']}").click()
    await expect(page.get_by_text(f"终验申请已办理：{built['title']}")).to_be_visible()
    await expect(page.get_by_role("region", name="终验申请待受理")).not_to_contain_text(built["title"])

    # Procurement learns of the extension from intake's event: the contract's deadline is no longer
    # overdue (the others stay).
    contract_late = (
        page.get_by_role("region", name="逾期事项").get_by_role("row").filter(has_text=late["title"])
    )
    for _ in range(60):
        if "未按期签订合同" not in " ".join(await contract_late.all_inner_texts()):
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(contract_late.filter(has_text="未按期签订合同")).to_have_count(0)
    await expect(contract_late.first).to_be_visible()
