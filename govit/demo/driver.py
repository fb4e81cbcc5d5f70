"""The demo's driver: the running suite's HTTP APIs called with each role's token, and its clock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.table import Table

from govit.demo.watch import EventWatch
from shared.auth import Role, TokenIssuer
from shared.db import set_clock
from shared.policy import PolicyRegistry

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPECIALTIES = ("software", "network", "security", "cost", "data", "archives")
STEPS = 14  # per project, for the progress bar
POLL = 0.2  # seconds between reads of a waiting step without an event watch
FALLBACK = 0.05  # with one: at the latest, for a state no event announces
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
    """The running suite the demo walks (its services' URLs), who signs the tokens, the packs, the
    clock file it moves, and where it narrates. A run's names carry `run`, so the demo can be
    run again on the same suite."""

    urls: dict[str, str]
    issuer: TokenIssuer
    policy: PolicyRegistry
    clock_file: Path | None
    console: Console = field(default_factory=Console)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    #: wakes a waiting step when an event is published (govit.demo.watch); None: poll every POLL s
    watch: EventWatch | None = None

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
        """GET `path` until `done(body)`: again after each event of the suite (with a watch), or
        after a short pause at the latest (a state no event announces)."""
        deadline = time.monotonic() + seconds
        while True:
            mark = self.watch.seen() if self.watch else 0  # before the read: no event is missed
            response = self.client.get(self.urls[service] + path, headers=who)
            if response.status_code == 200 and done(response.json()):
                return response.json()
            if time.monotonic() > deadline:
                raise DemoError(f"waited {seconds:.0f}s for {what}")
            if self.watch is not None and self.watch.watching:
                self.watch.wait_after(mark, FALLBACK)
            else:
                time.sleep(POLL)

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
        # The third party's review comes before the experts' where the pack asks for it (shexian §21,
        # bayingolin §9).
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

    # -- what a walk files ------------------------------------------------------------------------
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
