"""Reports as files people open: CSV (UTF-8 with a byte order mark, which Excel needs to read
Chinese) or XLSX (openpyxl, write-only: rows go out as they are made), with Chinese headers.

A report is a list of columns (Chinese header, field of the row's API schema) and the rows as the
API gives them, so a report says what the API says, labels (`*_label`) and 元 amounts included.
Amounts in 元 are Decimal from integer fen (a number cell in XLSX, two decimals), never float.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query, Response

Format = Literal["csv", "xlsx"]
FormatQuery = Annotated[Format, Query(alias="format", description="文件格式：csv（UTF-8，带 BOM）或 xlsx")]

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
YUAN_FORMAT = "#,##0.00"

#: (Chinese header, key in the row; a key ending in _fen is given in 元)
Column = tuple[str, str]


def yuan(fen: int) -> Decimal:
    """Integer fen as 元, exactly: 123456 → Decimal('1234.56')."""
    return Decimal(fen).scaleb(-2).quantize(Decimal("0.01"))


def cell(value: Any, key: str) -> Any:
    if value is None:
        return None
    if key.endswith("_fen") and isinstance(value, int):
        return yuan(value)
    if isinstance(value, list | tuple):
        return "；".join(str(cell(v, "")) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def table(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    for row in rows:
        yield [cell(row.get(key), key) for _, key in columns]


def csv_bytes(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in columns])
    writer.writerows(table(columns, rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook  # only where a spreadsheet is asked for
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append([header for header, _ in columns])
    money = [key.endswith("_fen") for _, key in columns]
    for values in table(columns, rows):
        cells = []
        for value, is_money in zip(values, money, strict=True):
            item = WriteOnlyCell(sheet, value=value)
            if is_money:
                item.number_format = YUAN_FORMAT
            cells.append(item)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_response(
    fmt: Format, name: str, title: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]]
) -> Response:
    """The report as a download named `name`.csv or .xlsx (a Chinese name kept, RFC 6266)."""
    body = csv_bytes(columns, rows) if fmt == "csv" else xlsx_bytes(title, columns, rows)
    filename = f"{name}.{fmt}"
    disposition = f"attachment; filename=\"report.{fmt}\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})
