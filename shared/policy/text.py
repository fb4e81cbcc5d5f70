"""The regulations' own text, shipped beside the packs, split into articles (第X条)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

_BOOKMARK = re.compile(r"^(\[bookmark: [^\]]*\])+")
_HEADING = re.compile(r"^第(?P<n>[一二三四五六七八九十百零]+)条\s*")
_CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章")
_BARE = re.compile(r"^1\.\s*")  # seed 003 prints three article numbers as "1."
_DIGITS = {"零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def chinese_number(text: str) -> int:
    """一 → 1, 十 → 10, 二十三 → 23, 一百零五 → 105."""
    total, digit = 0, 0
    for char in text:
        if char == "百":
            total, digit = total + (digit or 1) * 100, 0
        elif char == "十":
            total, digit = total + (digit or 1) * 10, 0
        else:
            digit = _DIGITS[char]
    return total + digit


def split_articles(text: str) -> dict[int, str]:
    """Article number → its text. An article printed as "1." takes the number after the previous
    one (seed 003); a text that opens mid-sentence before its 第二条 opens with 第一条 (seed 004)."""
    articles: dict[int, list[str]] = {}
    opening: list[str] = []
    current: int | None = None
    for raw in text.splitlines():
        line = _BOOKMARK.sub("", raw.strip()).strip()
        if _CHAPTER.match(line):
            continue
        heading = _HEADING.match(line)
        if heading:
            current = chinese_number(heading["n"])
            line = line[heading.end() :]
        elif current is not None and _BARE.match(line):
            current += 1
            line = _BARE.sub("", line)
        if current is None:
            opening.append(line)
            continue
        articles.setdefault(current, []).append(line)
    if articles and min(articles) == 2 and opening:
        articles[1] = opening[-1:]
    return {n: "\n".join(filter(None, lines)) for n, lines in sorted(articles.items())}


def regulation_text(code: str, directory: Path | None = None) -> str:
    """The regulation of a jurisdiction as shipped (shared/policy/texts/<code>.txt)."""
    root: Any = directory if directory is not None else resources.files("shared.policy") / "texts"
    text: str = (root / f"{code}.txt").read_text(encoding="utf-8")
    return text


def articles_of(code: str, directory: Path | None = None) -> dict[int, str]:
    return split_articles(regulation_text(code, directory))
