"""`govit calendar`: the working calendar's official holiday notices (load, show)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.settings import GovitSettings


def calendar_load(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Load a year's official holiday notice (YAML) so deadlines in it are no longer provisional."""
    from pydantic import ValidationError

    from shared.workdays import load_notice

    settings = GovitSettings()
    try:
        notice = load_notice(file, settings.calendar_path)
    except (ValidationError, ValueError) as exc:
        typer.echo(f"通知文件无效: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"已加载 {notice.year} 年节假日安排（{notice.source}）: "
        f"{len(notice.holiday_dates())} 天假日, {len(notice.workdays)} 天调休上班 → {settings.calendar_path}"
    )
    typer.echo(
        "运行中的服务在 GOVIT_CALENDAR_POLL_SECONDS（默认 30 秒）内自动加载，"
        "重算未到期的期限并逐项发布期限变动事件 / running services pick it up within "
        "GOVIT_CALENDAR_POLL_SECONDS and announce every open due date it moves"
    )


def calendar_show(year: int) -> None:
    """Show whether a year's arrangement is known, and its holidays."""
    from shared.workdays import WorkingCalendar

    cal = WorkingCalendar.from_dir(GovitSettings().calendar_path)
    if year in cal.notices:
        notice = cal.notices[year]
        typer.echo(f"{year}: 已加载通知 — {notice.source}")
        for p in notice.holidays:
            typer.echo(f"  {p.name}: {p.start} ~ {p.end}")
        for d in notice.workdays:
            typer.echo(f"  调休上班: {d}")
    elif cal.known(year):
        typer.echo(f"{year}: 由 chinesecalendar 提供")
    else:
        typer.echo(f"{year}: 尚未加载节假日通知，该年期限仅按周末计算，标注为暂定")
