"""Coverage of the five regulations: every article indexed, every enforced article and applying
rule cited by a test, every parameter read, docs/COVERAGE.md current."""

from __future__ import annotations

import ast
from pathlib import Path

from govit.coverage import citations_in_tests, cited_articles, matrix, problems, render_markdown
from shared.policy import load_registry
from shared.policy.pack import ArticleKind
from shared.policy.text import articles_of

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_registry()
CITED = citations_in_tests(ROOT / "tests")
#: Params the Rule model itself reads (Rule.is_basis, Rule.is_gate, Rule.in_principle), whatever the rule.
READ_BY_THE_RULE = {"effect", "in_principle"}


def test_every_article_of_every_text_is_indexed_and_every_promise_has_a_test() -> None:
    rows = matrix(POLICY, CITED)
    assert problems(POLICY, rows, CITED) == []
    for code in POLICY.codes:
        assert set(POLICY[code].articles) == set(articles_of(code)), code


def test_the_committed_coverage_document_is_current() -> None:
    committed = (ROOT / "docs" / "COVERAGE.md").read_text(encoding="utf-8")
    assert committed == render_markdown(POLICY, matrix(POLICY, CITED)), "run `govit policy coverage --write`"


def test_an_enforced_article_without_a_test_or_an_index_missing_an_article_is_reported() -> None:
    # The articles are assembled so that this test does not itself count as citing them.
    approval, secret = "zhonglou " + "§13", "lhasa " + "§31"
    uncited = {k: v for k, v in CITED.items() if k != approval}
    rows = matrix(POLICY, uncited)
    found = problems(POLICY, rows, uncited)
    assert f"{approval} (已实现) 没有测试引用" in found
    assert any(p.startswith("zhonglou procurement.no_procurement_before_approval") for p in found)
    shorter = [r for r in rows if r.article != secret]
    assert "lhasa: 条文索引与原文不符 (缺 [31], 多 [])" in problems(POLICY, shorter, CITED)


def test_a_test_cites_an_article_by_naming_it_ranges_and_items_included() -> None:
    sign = "§"
    said = f"zhonglou {sign}11–12 与 shexian {sign}44(一)(二)；lhasa {sign}7"
    assert cited_articles(said) == {
        f"zhonglou {sign}11",
        f"zhonglou {sign}12",
        f"shexian {sign}44",
        f"lhasa {sign}7",
    }


def test_the_packs_only_say_what_the_index_allows() -> None:
    for code in POLICY.codes:
        for number, entry in POLICY[code].articles.items():
            if entry.kind in (ArticleKind.GAP, ArticleKind.JUDGEMENT, ArticleKind.OUTSIDE):
                assert number not in POLICY[code].enforcing_rules(), f"{code} §{number}"


def _strings_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


def test_every_parameter_a_pack_sets_is_read_where_its_rule_is_asked() -> None:
    """A key is read in a module that names its rule: a key nobody reads is removed, not kept."""
    modules = [
        _strings_of(path)
        for package in ("services", "shared", "govit")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and "params" not in path.parts
    ]
    unread = sorted(
        f"{code} {rule_id}: {key}"
        for code in POLICY.codes
        for rule_id, rule in POLICY[code].rules.items()
        for key in set(rule.params) - READ_BY_THE_RULE
        if not any(rule_id in strings and key in strings for strings in modules)
    )
    assert unread == []
