"""Running the demo: the first free plan year, then one walk per jurisdiction under a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import httpx
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from govit.demo.driver import STEPS, TITLES, Demo, DemoError
from govit.demo.walk import walk
from shared.auth import Role, TokenIssuer


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


def run_demo(demo: Demo, jurisdictions: Sequence[str], start: date) -> list[str]:
    """Walk one project per jurisdiction through its life; returns the project ids.

    The demo's HTTP client is closed afterwards: a Demo walks once.
    """
    with demo.client:
        return _walk_all(demo, demo.clock_file, jurisdictions, start)


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
            walked.append(walk(demo, j, start, pool, lambda: progress.advance(task)))
    if clock_file is not None:
        clock_file.unlink(missing_ok=True)  # back to real time
    demo.console.print("完成。查看任一项目的全过程： govit timeline " + " | ".join(walked[:1]))
    return walked
