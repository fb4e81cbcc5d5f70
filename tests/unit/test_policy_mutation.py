"""The rule-mutation check: one rule switched off by the environment, and the tests picked for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from govit.mutation import Mutant, check, mutants, pytest_runner
from shared.policy import PolicyError, load_registry
from shared.policy.pack import MUTANT_ENV


def test_the_environment_switches_off_exactly_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MUTANT_ENV, "shexian:oversight.rectification")
    policy = load_registry()
    switched = policy.rule("shexian", "oversight.rectification")
    assert (switched.applies, switched.articles, switched.params) == (False, (), {})
    assert policy.rule("lhasa", "oversight.rectification").applies
    assert policy.rule("shexian", "funding.plan_required").applies
    monkeypatch.setenv(MUTANT_ENV, "shexian:no.such_rule")
    with pytest.raises(PolicyError, match=MUTANT_ENV):
        load_registry()


def test_each_applying_rule_gets_the_tests_of_the_tier_citing_its_articles() -> None:
    policy = load_registry()
    cited = {
        "shexian §49": ("tests/unit/test_a.py::test_order", "tests/service/test_b.py::test_http"),
        "shexian §44": ("tests/unit/test_c.py::test_bar",),
    }
    found = {m.rule: m for m in mutants(policy, cited, "tests/unit", "shexian")}
    assert found["oversight.rectification"].tests == ("tests/unit/test_a.py::test_order",)
    assert found["oversight.breach_bars_new_projects"].tests == ("tests/unit/test_c.py::test_bar",)  # §44(一)
    assert "security.password" not in found  # does not apply in shexian
    assert {m.jurisdiction for m in found.values()} == {"shexian"}


def test_a_rule_no_test_notices_survives_and_one_without_tests_is_untested() -> None:
    heard: list[int] = []
    outcomes = check(
        [Mutant("x", "a", ("t1",)), Mutant("x", "b", ("t2",)), Mutant("x", "c", ())],
        lambda m: m.rule == "a",
        lambda number, _: heard.append(number),
    )
    assert [o.killed for o in outcomes] == [True, False, None] and heard == [1, 2, 3]
    # Several at once: each is heard once, and the outcomes keep the order the mutants came in.
    many = [Mutant("x", f"r{n}", (f"t{n}",)) for n in range(8)]
    heard.clear()
    outcomes = check(many, lambda m: m.rule in {"r1", "r6"}, lambda number, _: heard.append(number), jobs=3)
    assert [o.mutant for o in outcomes] == many and sorted(heard) == list(range(1, 9))
    assert [o.mutant.rule for o in outcomes if o.killed] == ["r1", "r6"]


def test_several_tiers_and_named_rules_narrow_the_mutants() -> None:
    policy = load_registry()
    cited = {
        "shexian §49": ("tests/unit/test_a.py::test_order", "tests/service/test_b.py::test_http"),
        "lhasa §18": ("tests/e2e/test_c.py::test_flow",),
    }
    found = list(
        mutants(policy, cited, ("tests/unit", "tests/service"), only=frozenset({"oversight.rectification"}))
    )
    assert {m.jurisdiction for m in found} == {"zhonglou", "shexian", "xunyang", "lhasa"}
    by_code = {m.jurisdiction: m.tests for m in found}
    assert by_code["shexian"] == ("tests/service/test_b.py::test_http", "tests/unit/test_a.py::test_order")
    assert by_code["lhasa"] == ()  # only the e2e tier cites lhasa §18
    named = list(mutants(policy, cited, "tests/unit", only=frozenset({"shexian:oversight.rectification"})))
    assert [m.name for m in named] == ["shexian:oversight.rectification"]


def test_the_runner_tells_a_failing_a_passing_and_a_deselected_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "test_probe.py").write_text(
        f"import os\n\ndef test_probe():\n    assert os.environ['{MUTANT_ENV}'] != 'x:off'\n",
        encoding="utf-8",
    )
    run = pytest_runner(tmp_path)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    assert run(Mutant("x", "off", ("test_probe.py",))) is True
    assert run(Mutant("x", "on", ("test_probe.py",))) is False
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k no_such_test")
    assert run(Mutant("x", "off", ("test_probe.py",))) is None
