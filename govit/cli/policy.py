"""`govit policy`: the packs against the regulations' text (coverage, article)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govit.cli.app import refuse

COVERAGE_MD = Path("docs/COVERAGE.md")


def policy_coverage(
    jurisdiction: Annotated[str | None, typer.Argument(help="one of the five codes; default all")] = None,
    tests: Annotated[Path, typer.Option(help="the test tree whose citations count")] = Path("tests"),
    write: Annotated[bool, typer.Option(help=f"write {COVERAGE_MD}")] = False,
    check: Annotated[bool, typer.Option(help=f"fail when {COVERAGE_MD} drifted or coverage fails")] = False,
) -> None:
    """条文覆盖: every article → the rules that enforce it → the tests that cite it."""
    from govit.coverage import citations_in_tests, matrix, problems, render_markdown, render_text
    from shared.policy import load_registry
    from shared.settings import GovitSettings

    policy = load_registry(GovitSettings().policy_dir)
    if jurisdiction is not None and jurisdiction not in policy:
        refuse(f"unknown jurisdiction {jurisdiction!r}; one of {', '.join(policy.codes)}")
    cited = citations_in_tests(tests) if tests.is_dir() else {}
    rows = matrix(policy, cited)
    found = problems(policy, rows, cited)
    if write or check:
        document = render_markdown(policy, rows)
        if write:
            COVERAGE_MD.write_text(document, encoding="utf-8")
            typer.echo(f"wrote {COVERAGE_MD}")
        elif not COVERAGE_MD.is_file() or COVERAGE_MD.read_text(encoding="utf-8") != document:
            found.append(f"{COVERAGE_MD} is out of date (run govit policy coverage --write)")
    else:
        typer.echo(render_text(r for r in rows if jurisdiction in (None, r.jurisdiction)))
    for problem in found:
        typer.echo(f"✗ {problem}", err=True)
    if found and check:
        raise typer.Exit(1)


def policy_article(
    article: Annotated[str, typer.Argument(help="e.g. 'shexian §39'")],
    tests: Annotated[Path, typer.Option(help="the test tree whose citations count")] = Path("tests"),
) -> None:
    """One article: its text, how the suite treats it, the rules that enforce it and the tests."""
    from govit.coverage import KIND_LABELS, citations_in_tests
    from shared.policy import PolicyError, load_registry
    from shared.policy.pack import article_number
    from shared.policy.text import articles_of
    from shared.settings import GovitSettings

    policy = load_registry(GovitSettings().policy_dir)
    code = article.split(" ")[0]
    try:
        number = article_number(article)
        pack = policy[code]
    except PolicyError as exc:
        refuse(str(exc))
    text = articles_of(code).get(number)
    if text is None:
        refuse(f"{code} 的办法原文没有第 {number} 条")
    entry = pack.articles.get(number)
    typer.echo(f"{code} §{number}  {pack.regulation}\n\n{text}\n")
    if entry is not None:
        why = f" — {entry.why}" if entry.why else ""
        typer.echo(f"处理: {KIND_LABELS[entry.kind]} ({entry.kind}){why}")
    for rule_id in pack.enforcing_rules().get(number, ()):
        typer.echo(f"规则: {rule_id} — {pack.rules[rule_id].summary}")
    for name in (citations_in_tests(tests) if tests.is_dir() else {}).get(f"{code} §{number}", ()):
        typer.echo(f"测试: {name}")


def policy_mutate(
    jurisdiction: Annotated[str | None, typer.Argument(help="one of the five codes; default all")] = None,
    tier: Annotated[
        list[str] | None, typer.Option(help="the tests run against each mutant (path prefixes; repeatable)")
    ] = None,
    rule: Annotated[
        list[str] | None, typer.Option(help="only these rules (id, or jurisdiction:id; repeatable)")
    ] = None,
    check: Annotated[bool, typer.Option(help="fail when a rule survives or has no test in the tier")] = False,
    jobs: Annotated[int, typer.Option(min=1, help="mutants run at once, each in its own pytest")] = 1,
) -> None:
    """规则变异检查: each rule that applies switched off in turn; a test citing it must then fail."""
    from govit.coverage import citations_in_tests
    from govit.mutation import Outcome, mutants, pytest_runner
    from govit.mutation import check as check_all
    from shared.policy import load_registry
    from shared.settings import GovitSettings

    policy = load_registry(GovitSettings().policy_dir)
    if jurisdiction is not None and jurisdiction not in policy:
        refuse(f"unknown jurisdiction {jurisdiction!r}; one of {', '.join(policy.codes)}")
    tiers, only = tuple(tier or ["tests/unit"]), frozenset(rule or ())
    found = list(mutants(policy, citations_in_tests(Path("tests")), tiers, jurisdiction, only))
    marks = {True: "✓ killed  ", False: "✗ survived", None: "· untested"}

    def progress(number: int, outcome: Outcome) -> None:
        tests = len(outcome.mutant.tests)
        typer.echo(f"[{number}/{len(found)}] {marks[outcome.killed]} {outcome.mutant.name} ({tests} tests)")

    outcomes = check_all(found, pytest_runner(Path.cwd()), progress, jobs)
    counts = {label: sum(1 for o in outcomes if o.killed is key) for key, label in marks.items()}
    typer.echo("  ".join(f"{label.strip()}: {n}" for label, n in counts.items()))
    if check and any(o.killed is not True for o in outcomes):
        raise typer.Exit(1)
