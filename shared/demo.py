"""`govit demo`: seed a running suite and walk projects through their lives, printing each step.

Agencies, each jurisdiction's expert pool and one project per jurisdiction are created with names
of this run (so the demo can be run again), then each project goes from declaration through
review, approval, procurement, construction and acceptance to O&M funds, with funding's gates and
their articles shown on the way. Every step is taken with a token of that jurisdiction's people
(its authority, finance, experts and the agency), as the suite scopes them. Time is moved through
the suite's clock file (GOVIT_CLOCK_FILE, which `govit up` sets in development), never by waiting.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.auth import Role, TokenIssuer
from shared.db import set_clock
from shared.money import yuan
from shared.policy import PolicyRegistry

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPECIALTIES = ("software", "network", "security", "cost", "data", "archives")
STEPS = 14  # per project, for the progress bar
TITLES = {
    "zhonglou": ("常州市钟楼区", "区教育局", "智慧教育云平台"),
    "shexian": ("歙县", "歙县卫生健康委员会", "县域医共体信息平台"),
    "bayingolin": ("巴音郭楞蒙古自治州", "州农业农村局", "数字乡村综合服务平台"),
    "xunyang": ("九江市浔阳区", "浔阳区市场监督管理局", "智慧市场监管平台"),
    "lhasa": ("拉萨市", "拉萨市交通运输局", "城市交通运行监测平台"),
}


class DemoError(Exception):
    """A step the suite refused: the service's problem+json is in the message."""


@dataclass
class Demo:
    urls: dict[str, str]
    issuer: TokenIssuer
    policy: PolicyRegistry
    clock_file: Path | None
    console: Console
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    # -- plumbing ---------------------------------------------------------------------------------
    def token(
        self, role: Role, jurisdiction: str, agency: str | None = None, sub: str | None = None
    ) -> dict[str, str]:
        """A token of the role acting for one jurisdiction (its authority, finance, experts, agency)."""
        token = self.issuer.issue(
            sub=sub or f"demo-{role.value}-{jurisdiction}",
            role=role,
            agency=agency,
            jurisdictions=[jurisdiction],
        )
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, service: str, path: str, who: dict[str, str], **kw: Any) -> Any:
        response = self.client.request(method, self.urls[service] + path, headers=who, **kw)
        if response.status_code >= 400:
            raise DemoError(f"{service} {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def wait(
        self, service: str, path: str, who: dict[str, str], done: Any, what: str, seconds: float = 30
    ) -> Any:
        deadline = datetime.now().timestamp() + seconds
        while True:
            response = self.client.get(self.urls[service] + path, headers=who)
            if response.status_code == 200 and done(response.json()):
                return response.json()
            if datetime.now().timestamp() > deadline:
                raise DemoError(f"waited {seconds:.0f}s for {what}")
            import time

            time.sleep(0.2)

    def at(self, day: date) -> None:
        if self.clock_file is not None:
            set_clock(self.clock_file, datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI))

    def say(self, jurisdiction: str, service: str, text: str) -> None:
        self.console.print(f"  [dim]{jurisdiction:<10}[/] [cyan]{service:<11}[/] {text}")

    # -- the pools --------------------------------------------------------------------------------
    def experts(self, jurisdiction: str) -> dict[str, dict[str, Any]]:
        """The pool the jurisdiction's panels draw from, filled up to four of each specialty."""
        authority = self.token(Role.AUTHORITY, jurisdiction)
        params = {"limit": 200, "jurisdiction": jurisdiction}
        pool = self.call("GET", "review", "/experts", authority, params=params)["items"]
        name = TITLES[jurisdiction][0]
        for specialty in SPECIALTIES:
            have = [e for e in pool if specialty in e["specialties"] and e["status"] == "active"]
            for n in range(len(have), 4):
                pool.append(
                    self.call(
                        "POST",
                        "review",
                        "/experts",
                        authority,
                        json={
                            "jurisdiction": jurisdiction,
                            "name": f"{name}{specialty}专家{n + 1}",
                            "employer": f"{name}{specialty}评审中心{n + 1}",
                            "title": "正高级工程师",
                            "specialties": [specialty],
                            "subject": f"demo-expert-{jurisdiction}-{specialty}-{n + 1}",
                        },
                    )
                )
        return {e["id"]: e for e in pool}

    def pools(self, jurisdictions: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The pools of the jurisdictions whose packs have expert panels, each filled up."""
        experts: dict[str, dict[str, Any]] = {}
        for j in jurisdictions:
            if self.policy.rule(j, "review.panel").applies:
                pool = self.experts(j)
                self.console.print(f"  {j} 专家库 {len(pool)} 人")
                experts.update(pool)
        return experts

    def panel(self, jurisdiction: str, project_id: str, stage: str, pool: dict[str, dict[str, Any]]) -> None:
        authority = self.token(Role.AUTHORITY, jurisdiction)
        case = self.wait(
            "review",
            f"/cases?project_id={project_id}",
            authority,
            lambda page: any(c["stage"] == stage and c["status"] == "open" for c in page["items"]),
            f"the {stage} case",
        )
        case = next(c for c in case["items"] if c["stage"] == stage and c["status"] == "open")
        # The third party's review comes before the experts' where the pack asks for it (shexian §21).
        assessment = {"text": "第三方评审意见（演示）"}
        self.call("PUT", "review", f"/cases/{case['id']}/assessment", authority, json=assessment)
        drawn = self.call("POST", "review", f"/cases/{case['id']}/draw", authority)
        seated = [s for s in drawn["seats"] if s["state"] == "seated"]
        for seat in seated:
            expert = pool[seat["expert_id"]]
            self.call(
                "POST",
                "review",
                f"/cases/{case['id']}/opinions",
                self.token(Role.EXPERT, jurisdiction, sub=expert["subject"]),
                json={"score": 90, "verdict": "pass", "comments": "方案可行，同意"},
            )
        self.say(
            jurisdiction,
            "review",
            f"专家组 {len(seated)} 人抽选（种子 {drawn['seed'][:8]}…）并评审通过（{stage}）",
        )

    def gates(self, jurisdiction: str, project_id: str, who: dict[str, str]) -> None:
        table = Table(title=f"{jurisdiction} 拨付闸门", show_lines=False, expand=False)
        for column in ("闸门", "状态", "依据", "事件"):
            table.add_column(column)
        for gate in self.call("GET", "funding", f"/projects/{project_id}/gates", who):
            if not gate["required_for"]:
                continue
            articles = sorted({a for arts in gate["required_for"].values() for a in arts})
            event = gate["event"]["type"].split(".", 1)[1] if gate["event"] else ""
            table.add_row(
                gate["gate"], "[green]开[/]" if gate["open"] else "[red]关[/]", "、".join(articles), event
            )
        self.console.print(table)

    # -- one project's life -----------------------------------------------------------------------
    def walk(self, jurisdiction: str, start: date, pool: dict[str, dict[str, Any]], advance: Any) -> str:
        region, agency_base, title = TITLES[jurisdiction]
        agency = f"{agency_base}（演示{self.run}）"
        authority, finance = self.token(Role.AUTHORITY, jurisdiction), self.token(Role.FINANCE, jurisdiction)
        unit = self.token(Role.APPLICANT, jurisdiction, agency, sub="demo-经办人")
        j = jurisdiction
        self.at(start)
        self.call(
            "POST",
            "intake",
            "/agencies",
            authority,
            json={"jurisdiction": j, "name": agency, "level": "district"},
        )
        amount = 180 * 1_000_000
        project = self.call(
            "POST",
            "intake",
            "/projects",
            unit,
            json={
                "jurisdiction": j,
                "title": f"{title}（{self.run}）",
                "kind": "construction",
                "amount_fen": amount,
                "summary": f"{region}{title}建设",
                "security_plan": "按等保三级同步规划、同步建设、同步运行",
                "data_sharing_items": ["业务办理信息"],
            },
        )
        pid = str(project["id"])
        self.upload(pid, unit, "declaration")
        project = self.call("POST", "intake", f"/projects/{pid}/submission", unit)
        self.say(j, "intake", f"申报 {project['title']}，¥{yuan(amount)}，{project['plan_year']} 年度计划")
        advance()
        screened = self.call("POST", "intake", f"/projects/{pid}/screening", authority)
        self.say(j, "intake", f"形式审查：{screened['status']}")
        year = project["plan_year"]
        self.call("PUT", "intake", f"/plans/{j}/{year}", authority, json={"ranking": [pid]})
        self.call(
            "POST",
            "intake",
            f"/plans/{j}/{year}/publication",
            authority,
            json={"document": f"计〔{year}〕{self.run}号"},
        )
        self.say(j, "intake", f"{year} 年度计划下达")
        advance()
        self.wait("funding", f"/projects/{pid}", unit, lambda p: True, "funding to know the project")
        held = self.client.post(
            f"{self.urls['funding']}/projects/{pid}/disbursements",
            headers=unit,
            json={"amount_fen": 20 * 1_000_000, "purpose": "首期建设资金"},
        )
        reasons = "；".join(g["message"] for g in held.json().get("closed_gates", []))
        self.say(j, "funding", f"批复前申请拨付 → {held.json().get('status')}：{reasons}")
        review = self.policy.rule(j, "funding.expert_review_required")
        if review.applies:
            self.panel(j, pid, review.params["stages"][0], pool)
            self.wait(
                "intake",
                f"/projects/{pid}",
                authority,
                lambda p: p["review_verdict"] == "pass",
                "the verdict",
            )
        advance()
        self.upload(pid, unit, None)
        approved = self.call(
            "POST",
            "intake",
            f"/projects/{pid}/approval",
            authority,
            json={"approval_number": f"批〔{year}〕{self.run}号", "approved_amount_fen": amount},
        )
        self.say(
            j,
            "intake",
            f"批复 {approved['approval_number']}，¥{yuan(approved['approved_amount_fen'])}",
        )
        advance()
        self.wait(
            "procurement", f"/projects/{pid}", authority, lambda p: p["status"] == "approved", "procurement"
        )
        signed = start + timedelta(days=20)
        self.at(signed)
        if self.policy.rule(j, "procurement.requirements_review").applies:
            self.call(
                "POST", "procurement", f"/projects/{pid}/requirements", unit, json={"summary": "采购需求"}
            )
            self.call(
                "POST",
                "procurement",
                f"/projects/{pid}/requirements/review",
                authority,
                json={"approved": True},
            )
            self.say(j, "procurement", "采购需求经主管部门审核")
        contract = self.contract(pid, unit, "construction", amount * 85 // 100, signed)
        self.contract(pid, unit, "supervision", amount * 2 // 100, signed)
        self.say(j, "procurement", f"施工合同、监理合同备案（{contract['filing_due_on'] or '无备案时限'}）")
        advance()
        self.call("POST", "procurement", f"/projects/{pid}/construction/start", unit, json={})
        finished = signed + timedelta(days=60)
        self.at(finished)
        self.call(
            "POST",
            "procurement",
            f"/projects/{pid}/construction/completion",
            unit,
            json={"security_test_report": f"测评〔{year}〕{self.run}号"},
        )
        self.say(j, "procurement", f"开工 {signed}，竣工 {finished}")
        advance()
        self.wait(
            "acceptance", f"/projects/{pid}", authority, lambda p: p["status"] == "completed", "acceptance"
        )
        day = self.acceptance(j, pid, unit, authority, finished, pool, advance)
        self.gates(j, pid, finance)
        final = self.client.post(
            f"{self.urls['funding']}/projects/{pid}/disbursements",
            headers=unit,
            json={"amount_fen": 30 * 1_000_000, "purpose": "尾款", "kind": "final"},
        )
        self.say(j, "funding", f"尾款申请 → {final.json().get('status', final.json().get('detail'))}")
        advance()
        self.at(date(day.year + 4, 7, 15))
        om = self.client.post(
            f"{self.urls['funding']}/projects/{pid}/om-applications",
            headers=unit,
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
        self.say(j, "funding", f"{day.year + 5} 年度运维经费 → {verdict}")
        advance()
        return pid

    def upload(self, pid: str, unit: dict[str, str], stage: str | None) -> None:
        detail = self.call("GET", "intake", f"/projects/{pid}", unit)
        for item in detail["required_materials"]:
            if stage is not None and item["stage"] != stage:
                continue
            for n in range(item["min_count"] - item["provided"]):
                self.call(
                    "POST",
                    "intake",
                    f"/projects/{pid}/materials",
                    unit,
                    data={"material": item["material"]},
                    files={
                        "file": (
                            f"{item['material']}-{n}.pdf",
                            b"%PDF-1.7 " + uuid.uuid4().bytes,
                            "application/pdf",
                        )
                    },
                )

    def contract(self, pid: str, unit: dict[str, str], role: str, amount: int, signed: date) -> Any:
        firm = (
            ("演示数字科技有限公司", "91340000MA2DEMX01A")
            if role == "construction"
            else ("演示工程监理有限公司", "91340000MA2DEMX02B")
        )
        return self.call(
            "POST",
            "procurement",
            f"/projects/{pid}/contracts",
            unit,
            json={
                "role": role,
                "counterparty": firm[0],
                "credit_code": firm[1],
                "amount_fen": amount,
                "signed_on": signed.isoformat(),
                "starts_on": signed.isoformat(),
                "ends_on": (signed + timedelta(days=120)).isoformat(),
                "milestones": [
                    {"name": "预付款", "stage": "signing", "share_percent": "30"},
                    {"name": "终验款", "stage": "final_acceptance", "share_percent": "70"},
                ],
                "ip_to_government": True,
            },
        )

    def acceptance(
        self,
        j: str,
        pid: str,
        unit: dict[str, str],
        authority: dict[str, str],
        finished: date,
        pool: dict[str, dict[str, Any]],
        advance: Any,
    ) -> date:
        from services.acceptance import rules

        trial = self.policy.rule(j, "acceptance.trial_run_min")
        months = max(rules.trial_months(self.policy, j, 0) or 0, 1)
        day = finished + timedelta(days=2)

        def initial(on: date) -> None:
            self.at(on)
            self.call(
                "POST",
                "acceptance",
                f"/projects/{pid}/initial-acceptance",
                unit,
                json={"held_on": on.isoformat(), "passed": True, "findings": "满足合同要求"},
            )
            self.say(j, "acceptance", f"初验通过 {on}")

        def trial_run(begin: date) -> date:
            end = begin + timedelta(days=31 * months)
            self.at(begin)
            self.call(
                "POST",
                "acceptance",
                f"/projects/{pid}/trial-run",
                unit,
                json={"started_on": begin.isoformat()},
            )
            self.at(end)
            self.call(
                "POST", "acceptance", f"/projects/{pid}/trial-run", unit, json={"ended_on": end.isoformat()}
            )
            self.say(j, "acceptance", f"试运行 {begin} — {end}")
            return end

        has_initial = self.policy.rule(j, "acceptance.initial_by_unit").applies
        if trial.applies and trial.params.get("before_initial_acceptance"):
            day = trial_run(day) + timedelta(days=1)
            initial(day)
        else:
            if has_initial:
                initial(day)
            if trial.applies:
                day = trial_run(day + timedelta(days=1))
        wait = self.policy.rule(j, "acceptance.apply_after_initial")
        if has_initial and wait.applies:
            day += timedelta(days=31 * int(wait.param("months")) + 1)
        day += timedelta(days=1)
        self.at(day)
        self.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/data-sharing",
            unit,
            json={"catalogue": ["业务数据资源目录"], "items": ["办件信息"]},
        )
        self.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/data-sharing/decision",
            authority,
            json={"decision": "confirmed"},
        )
        self.say(j, "acceptance", "数据共享经主管部门确认")
        for attestation in ("mlps", "crypto"):
            self.call(
                "POST",
                "acceptance",
                f"/projects/{pid}/attestations",
                unit,
                json={
                    "attestation": attestation,
                    "compliant": True,
                    "reference": f"{attestation}-{self.run}",
                    "issued_on": day.isoformat(),
                },
            )
        self.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/audit-report",
            unit,
            json={"reference": f"审〔{day.year}〕{self.run}号", "issued_on": day.isoformat()},
        )
        detail = self.call("GET", "acceptance", f"/projects/{pid}", unit)
        materials = {m: f"{label}（电子件）" for m, label in detail["required_materials"].items()}
        self.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/final-acceptance/application",
            unit,
            json={"materials": {**materials, "archives_acceptance": "档验〔2027〕1号"}},
        )
        self.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/final-acceptance/admission",
            authority,
            json={"admit": True},
        )
        self.say(j, "acceptance", f"终验申请 {day} 受理")
        advance()
        if rules.experts_conclude(self.policy, j):
            self.panel(j, pid, "acceptance", pool)
        else:
            self.call(
                "POST",
                "acceptance",
                f"/projects/{pid}/final-acceptance/conclusion",
                authority,
                json={"passed": True},
            )
            self.say(j, "acceptance", "主管部门组织验收，通过")
        self.wait(
            "acceptance", f"/projects/{pid}", authority, lambda p: p["status"] == "accepted", "the acceptance"
        )
        self.wait("funding", f"/projects/{pid}", authority, lambda p: p["accepted_on"] is not None, "funding")
        return day


def free_start(
    urls: dict[str, str], issuer: TokenIssuer, jurisdictions: Sequence[str], first_year: int
) -> date:
    """The first June 15 whose plan years (that year to two on) no earlier run has published."""
    # Reading the plans of every jurisdiction walked: an authority token naming them all.
    token = issuer.issue(sub="demo", role=Role.AUTHORITY, jurisdictions=jurisdictions)
    who = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30) as client:
        for year in range(first_year, first_year + 50):
            taken = False
            for j in jurisdictions:
                for plan_year in (year, year + 1, year + 2):
                    response = client.get(f"{urls['intake']}/plans/{j}/{plan_year}", headers=who)
                    if response.status_code == 200 and response.json()["status"] == "published":
                        taken = True
            if not taken:
                return date(year, 6, 15)
    raise DemoError("no free plan year in the next 50 years; use a fresh suite (make clean)")


def run_demo(
    urls: dict[str, str],
    issuer: TokenIssuer,
    policy: PolicyRegistry,
    clock_file: Path | None,
    jurisdictions: Sequence[str],
    start: date,
    console: Console | None = None,
) -> list[str]:
    """Walk one project per jurisdiction through its life; returns the project ids."""
    demo = Demo(urls, issuer, policy, clock_file, console or Console())
    with demo.client:
        return _walk_all(demo, clock_file, jurisdictions, start)


def _walk_all(demo: Demo, clock_file: Path | None, jurisdictions: Sequence[str], start: date) -> list[str]:
    demo.console.print(f"[bold]govit 演示[/]  run {demo.run}  从 {start} 起（模拟时间）")
    pool = demo.pools(jurisdictions)
    walked: list[str] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=demo.console,
        transient=True,
    ) as progress:
        task = progress.add_task("生命周期", total=STEPS * len(jurisdictions))
        for j in jurisdictions:
            demo.console.rule(f"{j} — {TITLES[j][0]}")
            walked.append(demo.walk(j, start, pool, lambda: progress.advance(task)))
    if clock_file is not None:
        clock_file.unlink(missing_ok=True)  # back to real time
    demo.console.print("完成。查看任一项目的全过程： govit timeline " + " | ".join(walked[:1]))
    return walked
