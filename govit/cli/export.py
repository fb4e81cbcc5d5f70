"""`govit export`: a report of a running service written to a file (CSV or XLSX)."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer

from govit.cli.app import service_settings
from govit.cli.failures import EXIT_FAILED, EXIT_USAGE


class Report(StrEnum):
    projects = "projects"  # intake: the project register, or a year's plan with --year
    ledger = "ledger"  # funding: disbursements (released, held with their gates, refused) and reclaims


SERVICE = {Report.projects: "intake", Report.ledger: "funding"}


def export(
    report: Annotated[
        Report, typer.Argument(help="projects (项目台账；--year：年度计划) or ledger (资金台账)")
    ],
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "xlsx",
    jurisdiction: Annotated[str | None, typer.Option("--jurisdiction", "-j", help="one jurisdiction")] = None,
    year: Annotated[int | None, typer.Option(help="projects: the plan of this year, in its ranking")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write")] = None,
    token: Annotated[str | None, typer.Option(help="bearer token (default $GOVIT_TOKEN)")] = None,
) -> None:
    """Write a report (CSV or XLSX, Chinese headers) as the token's holder may see it."""
    if fmt not in ("csv", "xlsx"):
        typer.echo(f"--format 只能是 csv 或 xlsx / csv or xlsx, not {fmt!r}", err=True)
        raise typer.Exit(EXIT_USAGE)
    bearer = token or os.environ.get("GOVIT_TOKEN")
    if not bearer:
        typer.echo(
            "需要令牌：--token 或 GOVIT_TOKEN（如 $(govit token --role finance -j xunyang)）", err=True
        )
        raise typer.Exit(EXIT_USAGE)
    settings = service_settings(SERVICE[report])
    params: dict[str, str | int] = {"format": fmt}
    for key, value in (("jurisdiction", jurisdiction), ("plan_year", year)):
        if value is not None:
            params[key] = value
    url = f"http://{settings.host}:{settings.port}/reports/{report.value}"
    typer.echo(f"正在导出 / exporting {url} ...", err=True)
    response = httpx.get(url, params=params, headers={"Authorization": f"Bearer {bearer}"}, timeout=120)
    if response.status_code != 200:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        why = problem.get("detail") or problem.get("title") or response.text[:200]
        typer.echo(f"{SERVICE[report]} 拒绝导出 / refused ({response.status_code}): {why}", err=True)
        raise typer.Exit(EXIT_FAILED)
    name = f"{report.value}{'-' + str(year) if year else ''}.{fmt}"
    target = output or Path(name)
    target.write_bytes(response.content)
    typer.echo(f"已写入 / written: {target} ({len(response.content):,} bytes)")
