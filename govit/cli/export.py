"""`govit export projects|ledger|ocds`: a report of a running service written to a file, as the
token's holder may see it (CSV or XLSX with Chinese headers; the OCDS release package as JSON)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import httpx
import typer

from govit.cli.app import service_settings
from govit.cli.failures import EXIT_FAILED, EXIT_USAGE

Format = Annotated[Literal["csv", "xlsx"], typer.Option("--format", help="csv or xlsx")]
Jurisdiction = Annotated[str | None, typer.Option("--jurisdiction", "-j", help="one jurisdiction")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="file to write")]
Token = Annotated[str | None, typer.Option(help="bearer token (default $GOVIT_TOKEN)")]


def export_projects(
    fmt: Format = "xlsx",
    jurisdiction: Jurisdiction = None,
    year: Annotated[int | None, typer.Option(help="the plan of this year, in its ranking")] = None,
    output: Output = None,
    token: Token = None,
) -> None:
    """项目台账 from intake; with --year, that year's plan (年度计划) in its ranking."""
    params = {"format": fmt, "jurisdiction": jurisdiction, "plan_year": year}
    _fetch("intake", "projects", params, token, output or Path(f"projects{f'-{year}' if year else ''}.{fmt}"))


def export_ledger(
    fmt: Format = "xlsx", jurisdiction: Jurisdiction = None, output: Output = None, token: Token = None
) -> None:
    """资金台账 from funding: disbursements (released, held with their closed gates, refused), reclaims."""
    params = {"format": fmt, "jurisdiction": jurisdiction}
    _fetch("funding", "ledger", params, token, output or Path(f"ledger.{fmt}"))


def export_ocds(
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", "-j", help="the publishing jurisdiction")],
    since: Annotated[str | None, typer.Option(help="only releases of this day (YYYY-MM-DD) or later")] = None,
    output: Output = None,
    token: Token = None,
) -> None:
    """采购公开数据 from procurement: an OCDS 1.1 release package (tenders, awards, contracts, amendments)."""
    params = {"jurisdiction": jurisdiction, "since": since}
    _fetch("procurement", "ocds", params, token, output or Path(f"ocds-{jurisdiction}.json"))


def _fetch(
    service: str, report: str, params: Mapping[str, str | int | None], token: str | None, target: Path
) -> None:
    bearer = token or os.environ.get("GOVIT_TOKEN")
    if not bearer:
        typer.echo(
            "需要令牌：--token 或 GOVIT_TOKEN（如 $(govit token --role finance -j xunyang)）", err=True
        )
        raise typer.Exit(EXIT_USAGE)
    settings = service_settings(service)
    url = f"http://{settings.host}:{settings.port}/reports/{report}"
    given = {key: value for key, value in params.items() if value is not None}
    typer.echo(f"正在导出 / exporting {url} ...", err=True)
    response = httpx.get(url, params=given, headers={"Authorization": f"Bearer {bearer}"}, timeout=120)
    if response.status_code == 204:
        typer.echo("没有可发布的数据，未写文件 / nothing to publish, no file written", err=True)
        return
    if response.status_code != 200:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        why = problem.get("detail") or problem.get("title") or response.text[:200]
        typer.echo(f"{service} 拒绝导出 / refused ({response.status_code}): {why}", err=True)
        raise typer.Exit(EXIT_FAILED)
    target.write_bytes(response.content)
    typer.echo(f"已写入 / written: {target} ({len(response.content):,} bytes)")
