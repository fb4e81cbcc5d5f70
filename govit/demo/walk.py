"""One project's life in one jurisdiction, from declaration to O&M funds, step by step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from govit.demo.driver import TITLES, Demo
from shared.auth import Role
from shared.money import yuan

AMOUNT = 180 * 1_000_000


@dataclass
class Walk:
    """Who acts in one jurisdiction's walk, and the project they walk (once it is declared)."""

    demo: Demo
    j: str
    pool: dict[str, dict[str, Any]]
    advance: Callable[[], None]
    authority: dict[str, str]
    finance: dict[str, str]
    unit: dict[str, str]
    pid: str = ""

    def say(self, service: str, text: str) -> None:
        self.demo.say(self.j, service, text)


def walk(
    demo: Demo, jurisdiction: str, start: date, pool: dict[str, dict[str, Any]], advance: Callable[[], None]
) -> str:
    """Walk one project of the jurisdiction through its whole life; returns its id."""
    from govit.demo.acceptance import accept

    agency = f"{TITLES[jurisdiction][1]}（演示{demo.run}）"
    authority, finance = demo.token(Role.AUTHORITY, jurisdiction), demo.token(Role.FINANCE, jurisdiction)
    unit = demo.token(Role.APPLICANT, jurisdiction, agency, sub="demo-经办人")
    w = Walk(demo, jurisdiction, pool, advance, authority, finance, unit)
    demo.at(start)
    year = _declare(w, agency)
    _plan(w, year)
    _review(w)
    _approve(w, year)
    signed = start + timedelta(days=20)
    _procure(w, signed)
    finished = _build(w, signed, year)
    demo.wait(
        "acceptance", f"/projects/{w.pid}", authority, lambda p: p["status"] == "completed", "acceptance"
    )
    day = accept(w, finished)
    _final_payment(w)
    _om(w, day)
    return w.pid


def _declare(w: Walk, agency: str) -> int:
    """The agency registered, the project declared with its materials and submitted; its plan year."""
    demo, j = w.demo, w.j
    region, _, title = TITLES[j]
    demo.call(
        "POST",
        "intake",
        "/agencies",
        w.authority,
        json={"jurisdiction": j, "name": agency, "level": "district"},
    )
    project = demo.call(
        "POST",
        "intake",
        "/projects",
        w.unit,
        json={
            "jurisdiction": j,
            "title": f"{title}（{demo.run}）",
            "kind": "construction",
            "amount_fen": AMOUNT,
            "summary": f"{region}{title}建设",
            "security_plan": "按等保三级同步规划、同步建设、同步运行",
            "data_sharing_items": ["业务办理信息"],
        },
    )
    w.pid = str(project["id"])
    demo.upload(w.pid, w.unit, "declaration")
    project = demo.call("POST", "intake", f"/projects/{w.pid}/submission", w.unit)
    w.say("intake", f"申报 {project['title']}，¥{yuan(AMOUNT)}，{project['plan_year']} 年度计划")
    w.advance()
    year: int = project["plan_year"]
    return year


def _plan(w: Walk, year: int) -> None:
    """Screened, ranked in the year's plan and the plan published."""
    demo, j, pid = w.demo, w.j, w.pid
    screened = demo.call("POST", "intake", f"/projects/{pid}/screening", w.authority)
    w.say("intake", f"形式审查：{screened['status']}")
    demo.call("PUT", "intake", f"/plans/{j}/{year}", w.authority, json={"ranking": [pid]})
    demo.call(
        "POST",
        "intake",
        f"/plans/{j}/{year}/publication",
        w.authority,
        json={"document": f"计〔{year}〕{demo.run}号"},
    )
    w.say("intake", f"{year} 年度计划下达")
    w.advance()


def _review(w: Walk) -> None:
    """A payment asked for before approval is held; the experts review where the pack asks for it."""
    demo, j, pid = w.demo, w.j, w.pid
    demo.wait("funding", f"/projects/{pid}", w.unit, lambda p: True, "funding to know the project")
    held = demo.client.post(
        f"{demo.urls['funding']}/projects/{pid}/disbursements",
        headers=w.unit,
        json={"amount_fen": 20 * 1_000_000, "purpose": "首期建设资金"},
    )
    reasons = "；".join(g["message"] for g in held.json().get("closed_gates", []))
    w.say("funding", f"批复前申请拨付 → {held.json().get('status')}：{reasons}")
    review = demo.policy.rule(j, "funding.expert_review_required")
    if review.applies:
        demo.panel(j, pid, review.params["stages"][0], w.pool)
        demo.wait(
            "intake",
            f"/projects/{pid}",
            w.authority,
            lambda p: p["review_verdict"] == "pass",
            "the verdict",
        )
    w.advance()


def _approve(w: Walk, year: int) -> None:
    demo, pid = w.demo, w.pid
    demo.upload(pid, w.unit, None)
    approved = demo.call(
        "POST",
        "intake",
        f"/projects/{pid}/approval",
        w.authority,
        json={"approval_number": f"批〔{year}〕{demo.run}号", "approved_amount_fen": AMOUNT},
    )
    w.say("intake", f"批复 {approved['approval_number']}，¥{yuan(approved['approved_amount_fen'])}")
    w.advance()


def _procure(w: Walk, signed: date) -> None:
    """The requirements reviewed where the pack asks for it, the contracts signed and filed."""
    demo, j, pid = w.demo, w.j, w.pid
    demo.wait(
        "procurement", f"/projects/{pid}", w.authority, lambda p: p["status"] == "approved", "procurement"
    )
    demo.at(signed)
    if demo.policy.rule(j, "procurement.requirements_review").applies:
        demo.call(
            "POST", "procurement", f"/projects/{pid}/requirements", w.unit, json={"summary": "采购需求"}
        )
        demo.call(
            "POST",
            "procurement",
            f"/projects/{pid}/requirements/review",
            w.authority,
            json={"approved": True},
        )
        w.say("procurement", "采购需求经主管部门审核")
    contract = demo.contract(pid, w.unit, "construction", AMOUNT * 85 // 100, signed)
    demo.contract(pid, w.unit, "supervision", AMOUNT * 2 // 100, signed)
    w.say("procurement", f"施工合同、监理合同备案（{contract['filing_due_on'] or '无备案时限'}）")
    w.advance()


def _build(w: Walk, signed: date, year: int) -> date:
    """Construction started and completed; the day it was finished."""
    demo, pid = w.demo, w.pid
    demo.call("POST", "procurement", f"/projects/{pid}/construction/start", w.unit, json={})
    finished = signed + timedelta(days=60)
    demo.at(finished)
    demo.call(
        "POST",
        "procurement",
        f"/projects/{pid}/construction/completion",
        w.unit,
        json={"security_test_report": f"测评〔{year}〕{demo.run}号"},
    )
    w.say("procurement", f"开工 {signed}，竣工 {finished}")
    w.advance()
    return finished


def _final_payment(w: Walk) -> None:
    """Funding's gates shown, then the final payment asked for."""
    demo, pid = w.demo, w.pid
    demo.gates(w.j, pid, w.finance)
    final = demo.client.post(
        f"{demo.urls['funding']}/projects/{pid}/disbursements",
        headers=w.unit,
        json={"amount_fen": 30 * 1_000_000, "purpose": "尾款", "kind": "final"},
    )
    w.say("funding", f"尾款申请 → {final.json().get('status', final.json().get('detail'))}")
    w.advance()


def _om(w: Walk, day: date) -> None:
    """O&M funds applied for four years after acceptance: granted, or refused with every reason."""
    demo, pid = w.demo, w.pid
    demo.at(date(day.year + 4, 7, 15))
    om = demo.client.post(
        f"{demo.urls['funding']}/projects/{pid}/om-applications",
        headers=w.unit,
        json={
            "amount_fen": 15 * 1_000_000,
            "budget_year": day.year + 5,
            "free_maintenance_ends_on": f"{day.year + 6}-12-31",
        },
    )
    verdict = (
        "核准"
        if om.status_code == 201
        else "不予核准：" + "；".join(r["message"] for r in om.json().get("reasons", []))
    )
    w.say("funding", f"{day.year + 5} 年度运维经费 → {verdict}")
    w.advance()
