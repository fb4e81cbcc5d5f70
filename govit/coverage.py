"""条文覆盖: each article of the five regulations → the rules that enforce it → the tests that cite it.

The packs' 条文索引 say how the suite treats every article (shared.policy.pack.ArticleKind); the
rules that apply say which articles they enforce; a test cites an article by writing it
(`"shexian §39"`, `zhonglou §11–12`) in its body. The matrix joins the three, and `problems`
names what breaks the promise: an index that does not list the text's articles, an enforced
article or an applying rule that no test cites.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.policy import PolicyRegistry
from shared.policy.pack import ArticleKind, article_number
from shared.policy.text import articles_of

_CITED = re.compile(
    r"(?P<code>zhonglou|shexian|bayingolin|xunyang|lhasa) §(?P<n>\d+)(?:\([^)]*\))*(?:[–~-]§?(?P<to>\d+))?"
)

KIND_LABELS: dict[ArticleKind, str] = {
    ArticleKind.GENERAL: "总则性",
    ArticleKind.ENFORCED: "已实现",
    ArticleKind.PARTIAL: "部分实现",
    ArticleKind.JUDGEMENT: "人工判断",
    ArticleKind.OUTSIDE: "系统外",
    ArticleKind.GAP: "未实现",
}


@dataclass(frozen=True)
class Row:
    """One article of one regulation, with the rules and tests behind it."""

    jurisdiction: str
    number: int
    title: str
    kind: ArticleKind
    why: str
    rules: tuple[str, ...]
    tests: tuple[str, ...]

    @property
    def article(self) -> str:
        return f"{self.jurisdiction} §{self.number}"


def cited_articles(text: str) -> set[str]:
    """Every article `text` names: 'zhonglou §11–12' names §11 and §12."""
    found: set[str] = set()
    for match in _CITED.finditer(text):
        first = int(match["n"])
        last = int(match["to"]) if match["to"] else first
        found.update(f"{match['code']} §{n}" for n in range(first, max(first, last) + 1))
    return found


def citations_in_tests(tests: Path) -> dict[str, tuple[str, ...]]:
    """Article → the tests (path::function) whose body, decorators or case tables cite it."""
    found: dict[str, list[str]] = {}
    for path in sorted(tests.rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source)
        tables = _module_tables(source, module)
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                name = f"{path.relative_to(tests.parent).as_posix()}::{node.name}"
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                text = _with_decorators(source, node) + "".join(tables.get(u, "") for u in used)
                for article in cited_articles(text):
                    found.setdefault(article, []).append(name)
    return {article: tuple(names) for article, names in found.items()}


def _module_tables(source: str, module: ast.Module) -> dict[str, str]:
    """Module-level names bound to tables of cases (a test using OFF_PLAN cites what OFF_PLAN does)."""
    tables: dict[str, str] = {}
    for node in module.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    tables[target.id] = ast.get_source_segment(source, node) or ""
    return tables


def _with_decorators(source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """A test's source with its decorators (parametrize tables cite articles too)."""
    first = min((d.lineno for d in node.decorator_list), default=node.lineno)
    return "\n".join(source.splitlines()[first - 1 : node.end_lineno])


def matrix(policy: PolicyRegistry, tests: Mapping[str, tuple[str, ...]]) -> list[Row]:
    """Every article of every pack's index, in jurisdiction and article order."""
    rows: list[Row] = []
    for code in policy.codes:
        pack = policy[code]
        enforcing = pack.enforcing_rules()
        for number, entry in sorted(pack.articles.items()):
            rows.append(
                Row(
                    code,
                    number,
                    entry.title,
                    entry.kind,
                    entry.why,
                    enforcing.get(number, ()),
                    tests.get(f"{code} §{number}", ()),
                )
            )
    return rows


def problems(
    policy: PolicyRegistry,
    rows: Iterable[Row],
    tests: Mapping[str, tuple[str, ...]],
    text_dir: Path | None = None,
) -> list[str]:
    """What breaks coverage: the index against the text, enforced articles and rules without tests."""
    rows = list(rows)
    found: list[str] = []
    for code in policy.codes:
        listed = {r.number for r in rows if r.jurisdiction == code}
        written = set(articles_of(code, text_dir))
        if listed != written:
            missing, extra = sorted(written - listed), sorted(listed - written)
            found.append(f"{code}: 条文索引与原文不符 (缺 {missing}, 多 {extra})")
    tested = {article for article, names in tests.items() if names}
    for row in rows:
        if row.kind.enforcing and not row.tests:
            found.append(f"{row.article} ({KIND_LABELS[row.kind]}) 没有测试引用")
    for code in policy.codes:
        for rule_id, rule in policy[code].rules.items():
            articles = {f"{code} §{article_number(a)}" for a in rule.articles}
            if rule.applies and not articles & tested:
                found.append(f"{code} {rule_id} ({', '.join(sorted(articles))}) 没有测试引用其条文")
    return found


def _cell(items: tuple[str, ...], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" 等 {len(items)} 项" if len(items) > limit else "")


def render_text(rows: Iterable[Row]) -> str:
    """The matrix for a terminal: one line per article."""
    lines = []
    for row in rows:
        rules = _cell(row.rules, 3) or "-"
        why = f" · {row.why}" if row.why else ""
        head = f"{row.article:<16} {KIND_LABELS[row.kind]:<5} {row.title:<16}"
        lines.append(f"{head} 规则: {rules} · 测试 {len(row.tests)}{why}")
    return "\n".join(lines)


def _summary(rows: list[Row], codes: Iterable[str]) -> list[str]:
    kinds = list(ArticleKind)
    lines = [
        "| 辖区 | 条数 | " + " | ".join(KIND_LABELS[k] for k in kinds) + " |",
        "|---|---:|" + "---:|" * len(kinds),
    ]
    for code in codes:
        count = Counter(r.kind for r in rows if r.jurisdiction == code)
        total = sum(count.values())
        lines.append(f"| {code} | {total} | " + " | ".join(str(count[k]) for k in kinds) + " |")
    return lines


def render_markdown(policy: PolicyRegistry, rows: Iterable[Row]) -> str:
    """docs/COVERAGE.md: a summary per jurisdiction, then every article with its rules and tests."""
    rows = list(rows)
    out = [
        "# 条文覆盖 — articles → rules → tests",
        "",
        "Generated by `govit policy coverage --write` from the packs' 条文索引 (`articles:` in",
        "`shared/policy/packs/<code>.yaml`), the rules that apply, and the tests that cite each article.",
        "`tests/unit/test_policy_coverage.py` fails when this file drifts, when an index does not list",
        "exactly the articles of its text, or when an enforced article or an applying rule has no test.",
        "",
        *(f"- **{KIND_LABELS[k]}** (`{k}`): {doc}" for k, doc in _KIND_DOCS.items()),
        "",
        *_summary(rows, policy.codes),
    ]
    for code in policy.codes:
        pack = policy[code]
        out += ["", f"## {code} — {pack.name}《{pack.regulation}》", ""]
        out += ["| 条 | 标题 | 处理 | 规则 | 测试 | 说明 |", "|---|---|---|---|---:|---|"]
        for row in (r for r in rows if r.jurisdiction == code):
            rules = "<br>".join(f"`{r}`" for r in row.rules)
            label = KIND_LABELS[row.kind]
            out.append(f"| §{row.number} | {row.title} | {label} | {rules} | {len(row.tests)} | {row.why} |")
    return "\n".join(out) + "\n"


_KIND_DOCS: dict[ArticleKind, str] = {
    ArticleKind.GENERAL: "不约束具体项目（目的、范围、原则、部门职责、施行）",
    ArticleKind.ENFORCED: "系统按条文执行，规则引用本条",
    ArticleKind.PARTIAL: "系统执行其中一部分，说明栏写明其余部分为何未执行",
    ArticleKind.JUDGEMENT: "约束项目，但属人工判断，系统记录决定而不代替判断",
    ArticleKind.OUTSIDE: "约束项目，但事实发生在系统之外，系统看不到",
    ArticleKind.GAP: "系统能够执行而尚未实现",
}
