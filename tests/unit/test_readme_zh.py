"""README.zh-CN.md keeps in step with README.md: the same commands, the same settings, live links."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from govit.cli import app

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ROOT / "README.md"
CHINESE = ROOT / "README.zh-CN.md"

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`((?:[^`\n]|\n(?!\n))+)`")  # within a paragraph
_ALIAS = re.compile(r"\b([A-Z]\w*)=\S*\bgovit\b")
_GOVIT = re.compile(
    r"(?:^|(?<=[\s/(`]))govit[ \t]+([a-z][a-z0-9-]*)(?:[ \t]+([a-z][a-z0-9-]*))?", re.MULTILINE
)
_MAKE = re.compile(r"(?:^|(?<=[\s(`]))make[ \t]+([a-z][a-z0-9-]*)", re.MULTILINE)
_VARIABLE = re.compile(r"GOVIT_[A-Z0-9_<>]+[A-Z0-9>]")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def groups() -> set[str]:
    """The CLI's command groups: for them the next word is a subcommand (`govit dlq list`)."""
    command = typer.main.get_command(app)
    return {name for name, sub in getattr(command, "commands", {}).items() if getattr(sub, "commands", None)}


def code(text: str) -> str:
    """The README's code (fenced blocks and inline spans), an alias of govit (`G=.venv/bin/govit`)
    written out."""
    fenced = _FENCE.findall(text)
    spans = _SPAN.findall(_FENCE.sub("", text))
    found = "\n".join(fenced + spans)
    for alias in set(_ALIAS.findall(found)):
        found = re.sub(rf"\$\{{?{alias}\b\}}?", "govit", found)
    return found


def commands(text: str, grouped: set[str]) -> set[str]:
    """Every `govit <command>` (with its subcommand for a group) and `make <target>` the text shows."""
    found = code(text)
    named = {
        f"govit {m[0]} {m[1]}" if m[0] in grouped and m[1] else f"govit {m[0]}" for m in _GOVIT.findall(found)
    }
    return named | {f"make {target}" for target in _MAKE.findall(found)}


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def table_variables(text: str) -> set[str]:
    """The GOVIT_* variables named in the first column of a section's table."""
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {v for row in rows for v in _VARIABLE.findall(row.split("|")[1])}


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def test_both_readmes_name_the_same_commands() -> None:
    grouped = groups()
    english = commands(ENGLISH.read_text(encoding="utf-8"), grouped)
    chinese = commands(CHINESE.read_text(encoding="utf-8"), grouped)
    assert {"govit dlq list", "govit policy coverage", "make test"} <= english  # the reading works
    only_english, only_chinese = sorted(english - chinese), sorted(chinese - english)
    assert not only_english and not only_chinese, (
        f"README.md 有而 README.zh-CN.md 没有 / missing in README.zh-CN.md: {only_english}; "
        f"README.zh-CN.md 有而 README.md 没有 / missing in README.md: {only_chinese}"
    )


def test_the_chinese_configuration_table_has_every_variable_of_the_english_one() -> None:
    english = table_variables(section(ENGLISH.read_text(encoding="utf-8"), "Configuration"))
    chinese = table_variables(section(CHINESE.read_text(encoding="utf-8"), "配置"))
    assert {"GOVIT_NATS_URL", "GOVIT_<SERVICE>_DATABASE_URL", "GOVIT_JWT_AUDIENCE"} <= english
    assert not english - chinese, f"配置表缺少 / missing in README.zh-CN.md: {sorted(english - chinese)}"
    assert not chinese - english, f"英文配置表没有 / not in README.md: {sorted(chinese - english)}"


def test_every_relative_link_of_the_chinese_readme_reaches_a_file_and_its_heading() -> None:
    text = _FENCE.sub("", CHINESE.read_text(encoding="utf-8"))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (ROOT / path).resolve() if path else CHINESE
        if not file.exists():
            broken.append(f"{target}: 无此文件 / no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: 无此标题 / no such heading in {file.name}")
    assert not broken, broken


def test_the_readmes_link_each_other() -> None:
    assert "](README.zh-CN.md)" in ENGLISH.read_text(encoding="utf-8").split("\n## ")[0]
    assert "](README.md)" in CHINESE.read_text(encoding="utf-8").split("\n## ")[0]


def test_the_reading_finds_a_command_added_to_one_side_only() -> None:
    grouped = groups()
    english = "Run `govit export --year 2027`, then:\n\n```sh\nG=.venv/bin/govit\n$G dlq list funding\n```\n"
    assert commands(english, grouped) == {"govit export", "govit dlq list"}
    assert commands("govit runs projects; `make test-fast` (seconds)", grouped) == {"make test-fast"}
    assert slug("Holiday notices and 暂定 due dates") == "holiday-notices-and-暂定-due-dates"
    assert slug("安装与启动：make up") == "安装与启动make-up"
