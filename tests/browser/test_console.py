"""The console's pages in Chromium: a clerk finds the agency's project and sees why its payment
is held, gate by gate with the articles; another agency or jurisdiction sees nothing of it; a
form without the session's token is refused; a region without some services is told so."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from govit import launch
from tests.browser.conftest import SHOTS, sign_in
from tests.conftest import unique
from tests.e2e.conftest import Suite
from tests.e2e.lifecycle import WAN, at, authority, declared, expert_pool, pay, state
from tests.intake_flow import register

pytestmark = [pytest.mark.browser, pytest.mark.services("intake", "funding")]


@pytest.fixture(scope="module", autouse=True)
def in_june(suite: Suite) -> None:
    """Before xunyang's declaration deadline for next year's plan (Sep 30, xunyang §7)."""
    suite.set_time(at(date(2026, 6, 1)))


@pytest.fixture(scope="module")
async def held(suite: Suite) -> dict[str, str]:
    """A xunyang project declared, known to funding, its preparatory payment held."""
    project = await declared(suite, "xunyang", 80 * WAN, title="智慧社区服务平台")
    await state(suite, "xunyang", "funding", f"/projects/{project['id']}")
    asked = await pay(suite, project, 5 * WAN, kind="preparatory")
    assert asked.status_code == 202, asked.text
    return {"id": project["id"], "agency": project["agency"], "title": project["title"]}


async def test_a_clerk_finds_the_project_and_sees_why_the_payment_is_held(
    suite: Suite, held: dict[str, str], page: Page
) -> None:
    console = suite.urls["console"]
    await sign_in(page, console, "建设单位", "经办人", "xunyang", agency=held["agency"])
    await expect(page.get_by_role("link", name=held["title"])).to_be_visible()
    await page.get_by_label("检索项目名称或编号").fill("社区服务")
    await page.get_by_role("button", name="检索").click()
    await expect(page.get_by_text("共 1 个项目")).to_be_visible()
    await page.get_by_role("link", name=held["title"]).click()

    await expect(page.get_by_role("heading", name=held["title"])).to_be_visible()
    assert await page.title() == f"{held['title']} · 政务信息化项目管理"
    gates = page.get_by_role("region", name="拨付前置条件（闸门）")
    await expect(gates.locator(".gate.closed").first).to_be_visible()
    payments = page.get_by_role("region", name="拨付", exact=True)
    held_row = payments.get_by_role("row").filter(has_text="50,000.00 元")
    await expect(held_row).to_contain_text("xunyang §")  # each closed gate with its article

    # The lifecycle: intake's and funding's events about the project, in the order they happened.
    await page.get_by_role("link", name="查看项目生命周期").click()
    life = page.get_by_role("region", name="生命周期")
    hold = life.locator(".timeline > li").filter(has_text="拨付已挂起")
    await expect(hold).to_contain_text("资金")
    await expect(hold).to_contain_text("xunyang §")
    said = await life.locator(".timeline > li").all_inner_texts()
    declared_at = next(n for n, text in enumerate(said) if "项目已申报" in text and "申报" in text)
    assert declared_at < next(n for n, text in enumerate(said) if "拨付已挂起" in text), said
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "project.png"), full_page=True)


async def test_a_clerk_declares_with_the_materials_asked_for_and_sees_the_payment_held(
    suite: Suite, page: Page, tmp_path: Path
) -> None:
    console, agency = suite.urls["console"], unique("区民政局")
    await register(suite.intake, "xunyang", agency)
    await sign_in(page, console, "建设单位", "经办人", "xunyang", agency=agency)
    await page.get_by_role("link", name="申报").click()
    await page.get_by_label("项目名称").fill("养老服务信息平台")
    await page.get_by_label("建设类").check()
    await page.get_by_label("投资估算（万元）").fill("八十")
    await page.get_by_label("主要建设内容").fill("建设全区养老服务数据与业务平台")
    await page.get_by_label("网络安全解决方案概要").fill("按等保二级建设")
    await page.get_by_label("共享数据清单（每行一项）").fill("老年人信息\n养老机构信息")
    await page.get_by_role("button", name="保存草稿").click()
    amount = page.get_by_label("投资估算（万元）")
    await expect(amount).to_have_attribute("aria-invalid", "true")  # said at the field, kept what was typed
    await expect(page.get_by_text("请填写数字（单位：万元）")).to_be_visible()
    await expect(page.get_by_label("主要建设内容")).to_have_value("建设全区养老服务数据与业务平台")
    await amount.fill("80")
    await page.get_by_role("button", name="保存草稿").click()

    await expect(page.get_by_text("申报草稿已保存")).to_be_visible()
    materials = page.get_by_role("region", name="本辖区要求的申报材料")
    await expect(materials).to_contain_text("xunyang §7")  # each material with its article
    await expect(materials.get_by_text("缺")).not_to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "declaration.png"), full_page=True)

    document = tmp_path / "材料.pdf"
    document.write_bytes(b"%PDF-1.7\n%govit\n")
    rows = materials.get_by_role("row").filter(has=page.locator("input[type=file]"))
    for n in range(await rows.count()):
        row = materials.get_by_role("row").filter(has=page.locator("input[type=file]")).nth(n)
        document.write_bytes(b"%PDF-1.7\n" + str(n).encode() + b"\n")  # each a file of its own
        await row.locator("input[type=file]").set_input_files(str(document))
        await row.get_by_role("button", name="上传", exact=True).click()
        await expect(page.get_by_text("已上传")).to_be_visible()
    await expect(materials.get_by_text("缺")).to_have_count(0)
    await page.get_by_role("button", name="提交申报").click()
    await expect(page.get_by_text("申报已提交")).to_be_visible()

    project_id = page.url.rsplit("/", 1)[-1]
    await state(suite, "xunyang", "funding", f"/projects/{project_id}")
    await page.reload()
    await page.get_by_label("款项").select_option("preparatory")
    await page.get_by_label("金额（万元）").fill("5")
    await page.get_by_label("用途").fill("可行性研究报告编制")
    await page.get_by_role("button", name="申请拨付").click()
    await expect(page.get_by_text("拨付申请已登记")).to_be_visible()
    payments = page.get_by_role("region", name="拨付", exact=True)
    held_row = payments.get_by_role("row").filter(has_text="50,000.00 元")
    await expect(held_row).to_contain_text("项目尚未批复")
    await expect(held_row).to_contain_text("xunyang §8")


async def test_another_agency_and_another_jurisdiction_see_nothing_of_it(
    suite: Suite, held: dict[str, str], page: Page
) -> None:
    console = suite.urls["console"]
    await sign_in(page, console, "建设单位", "别人", "xunyang", agency="另一个单位")
    await expect(page.get_by_role("link", name=held["title"])).to_have_count(0)
    await page.goto(f"{console}/projects/{held['id']}")
    await expect(page.get_by_role("heading", name=f"未找到项目 {held['id']}")).to_be_visible()

    await page.get_by_role("button", name="退出").click()
    await sign_in(page, console, "主管部门", "他处审核员", "lhasa")
    response = await page.goto(f"{console}/projects/{held['id']}")
    assert response is not None and response.status == 404
    await expect(page.get_by_text(held["title"])).to_have_count(0)


async def test_a_form_without_the_sessions_token_is_refused(suite: Suite) -> None:
    console = suite.urls["console"]
    async with httpx.AsyncClient(base_url=console) as http:
        signin = await http.get("/signin")
        assert signin.status_code == 200
        cookie = signin.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie  # no script reads it, no other site sends it
        forged = await http.post(
            "/signin",
            data={"role": "authority", "name": "x", "jurisdiction": "xunyang", "after": "/projects"},
        )
        assert forged.status_code == 403 and "表单已失效" in forged.text
        assert "default-src 'self'" in forged.headers["content-security-policy"]


@pytest.fixture(scope="module")
async def partial_console(suite: Suite, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A second console for a region that runs only funding and acceptance."""
    env = suite.env | {"GOVIT_CONSOLE_SERVICES": "funding,acceptance"}
    env = {k: v for k, v in env.items() if k not in ("GOVIT_CONSOLE_DATABASE_URL", "GOVIT_CONSOLE_PORT")}
    log = tmp_path_factory.mktemp("partial") / "console.log"
    console = await launch.start("console", {**os.environ, **env}, log)
    try:
        yield console.url
    finally:
        await asyncio.to_thread(console.stop, 10)


async def test_with_only_funding_and_acceptance_the_pages_say_what_is_not_deployed(
    held: dict[str, str], partial_console: str, page: Page
) -> None:
    await sign_in(page, partial_console, "财政部门", "财政局经办", "xunyang")
    await expect(page.get_by_text("本地区未部署申报、采购与建设服务")).to_be_visible()
    await page.goto(f"{partial_console}/projects/{held['id']}")
    await expect(page.get_by_role("region", name="申报材料")).to_contain_text("本地区未部署申报服务")
    await expect(page.get_by_role("region", name="采购与建设")).to_contain_text("本地区未部署采购与建设服务")
    payments = page.get_by_role("region", name="拨付", exact=True)
    await expect(payments).to_contain_text("50,000.00 元")  # funding still answers


async def test_the_authority_screens_ranks_publishes_and_approves_and_finance_sees_the_money_go(
    suite: Suite, page: Page
) -> None:
    console = suite.urls["console"]
    project = await declared(suite, "xunyang", 120 * WAN, title=unique("一网统管平台"))
    await state(suite, "xunyang", "funding", f"/projects/{project['id']}")
    asked = await pay(suite, project, 10 * WAN, kind="preparatory")
    assert asked.status_code == 202, asked.text  # held: not approved (xunyang §8)

    await sign_in(page, console, "主管部门", "审核员", "xunyang")
    await page.get_by_role("link", name="工作台").click()
    await page.get_by_role("button", name=f"形式审查：{project['title']}").click()
    await expect(page.get_by_text(f"形式审查已完成：{project['title']}")).to_be_visible()

    await page.get_by_label(f"{project['title']} 的排序").fill("1")
    await page.get_by_role("button", name="保存排序").click()
    await expect(page.get_by_text("年度计划排序已保存")).to_be_visible()
    await page.get_by_label("下达文号").fill(f"浔数据〔2026〕{unique('')[:4]}号")
    await page.get_by_role("button", name=f"下达 {project['plan_year']} 年度计划").click()
    await expect(page.get_by_text(f"{project['plan_year']} 年度计划已下达")).to_be_visible()

    approvals = page.get_by_role("region", name="待批复")
    await approvals.get_by_label("批复文号").first.wait_for()
    row = approvals.get_by_role("row").filter(has_text=project["title"])
    await row.get_by_label("批复文号").fill("浔数据批〔2026〕7号")
    await expect(row.get_by_label("批复金额（万元）")).to_have_value("120")  # the declared amount, exact
    await row.get_by_role("button", name=f"批复：{project['title']}").click()
    await expect(page.get_by_text(f"已批复：{project['title']}")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "workbench.png"), full_page=True)

    await page.get_by_role("button", name="退出").click()
    await sign_in(page, console, "财政部门", "财政局经办", "xunyang")
    await page.goto(f"{console}/projects/{project['id']}")
    payments = page.get_by_role("region", name="拨付", exact=True)
    for _ in range(60):  # funding learns of the approval from its event, then releases
        if "已拨付" in (await payments.inner_text()):
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(payments.get_by_role("row").filter(has_text="100,000.00 元")).to_contain_text("已拨付")


async def test_an_expert_gives_an_opinion_on_the_case_they_were_drawn_for(suite: Suite, page: Page) -> None:
    console, j = suite.urls["console"], "lhasa"
    await expert_pool(suite, j)
    who = authority(j)
    project = await declared(suite, j, 300 * WAN, title=unique("全民健康信息平台"))
    opened = await suite.review.post(
        "/cases",
        headers=who,
        json={
            "project_id": project["id"],
            "jurisdiction": j,
            "stage": "feasibility",
            "agency": project["agency"],
        },
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    drawn = await suite.review.post(f"/cases/{case['id']}/draw", headers=who)
    assert drawn.status_code == 200, drawn.text
    experts = (await suite.review.get("/experts", params={"limit": 200}, headers=who)).json()["items"]
    login = {e["id"]: e["subject"] for e in experts}
    seated = [login[s["expert_id"]] for s in drawn.json()["seats"] if s["state"] == "seated"]

    await sign_in(page, console, "评审专家", seated[0], j)
    await page.get_by_role("link", name="我的评审").click()
    await page.get_by_role("link", name=case.get("reference") or case["id"]).click()
    await expect(page.get_by_role("heading", name=f"可行性研究：项目 {case['project_id']}")).to_be_visible()
    # 阅卷: the declaration and its materials, read at intake with review's reading pass.
    reading = page.get_by_role("region", name="阅卷：申报内容与材料")
    await expect(reading).to_contain_text(project["title"])
    first = reading.get_by_role("link").first
    async with page.expect_download() as downloading:
        await first.click()
    fetched = await downloading.value
    assert fetched.suggested_filename == (await first.inner_text())
    saved = await asyncio.to_thread(Path(await fetched.path()).read_bytes)
    assert saved.startswith(b"%PDF-1.7")  # the file the clerk uploaded, through the console
    await page.get_by_label("评分（0–100）").fill("86")
    await page.get_by_label("通过", exact=True).check()
    await page.get_by_label("评审意见").fill("建设内容明确，投资测算基本合理")
    await page.get_by_role("button", name="提交评审意见").click()
    await expect(page.get_by_text("评审意见已提交")).to_be_visible()
    await expect(page.get_by_role("region", name="专家组")).to_contain_text("通过（86 分）")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "expert.png"), full_page=True)

    # another expert of the pool, not on this panel, does not see it
    others = [subject for subject in login.values() if subject not in seated]
    await page.get_by_role("button", name="退出").click()
    await sign_in(page, console, "评审专家", others[0], j)
    await page.get_by_role("link", name="我的评审").click()
    await expect(page.get_by_role("link", name=case.get("reference") or case["id"])).to_have_count(0)


async def test_finance_sees_held_payments_with_their_articles_and_takes_the_ledger(
    suite: Suite, held: dict[str, str], page: Page, tmp_path: Path
) -> None:
    console = suite.urls["console"]
    await sign_in(page, console, "财政部门", "财政局经办", "xunyang")
    await page.get_by_role("link", name="拨付", exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=held["id"]))
    await expect(row).to_contain_text("50,000.00 元")
    await expect(row).to_contain_text("xunyang §8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "finance.png"), full_page=True)
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="XLSX").first.click()
    download = await downloading.value
    assert download.suggested_filename == "资金台账.xlsx"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    sheet = load_workbook(saved, read_only=True).worksheets[0]
    rows = [r for r in sheet.iter_rows(values_only=True) if held["id"] in r]
    assert rows, "the held request is in the ledger"


async def test_an_auditor_reads_the_projects_trail_and_each_chain_holds(
    suite: Suite, held: dict[str, str], page: Page
) -> None:
    console = suite.urls["console"]
    await sign_in(page, console, "审计", "审计员", "xunyang")
    await page.get_by_role("link", name="审计").click()
    await page.get_by_label("项目编号").fill(held["id"])
    await page.get_by_role("button", name="查看审计记录").click()
    trail = page.get_by_role("region", name=f"项目 {held['id']} 的审计记录")
    await expect(trail).to_contain_text("新增")  # intake's record of the declaration, and funding's
    chains = page.get_by_role("region", name="审计链校验")
    await expect(chains.locator(".gate.open")).to_have_count(5)  # each of the five services: intact
    await page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)
