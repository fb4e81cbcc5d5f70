"""规则变异检查: a rule that applies must have a test that fails without it.

For every rule that applies in a pack, the tests citing any of its articles (govit.coverage) are
run with that one rule switched off (shared.policy.pack.MUTANT_ENV). A run that still passes means
no test notices the rule is gone: the rule "survives" and its tests do not test it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from shared.policy import PolicyRegistry
from shared.policy.pack import MUTANT_ENV


@dataclass(frozen=True)
class Mutant:
    jurisdiction: str
    rule: str
    tests: tuple[str, ...]  # path::function, as govit.coverage names them

    @property
    def name(self) -> str:
        return f"{self.jurisdiction}:{self.rule}"


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    killed: bool | None  # None: no test cites the rule's articles in the tier run


def mutants(
    policy: PolicyRegistry,
    cited: Mapping[str, tuple[str, ...]],
    tier: str | tuple[str, ...],
    jurisdiction: str | None = None,
    only: frozenset[str] = frozenset(),
) -> Iterator[Mutant]:
    """Each rule that applies, with the tests of `tier` (path prefixes) citing its articles.

    `only` narrows to the named mutants ('shexian:oversight.rectification') or rule ids in every pack.
    """
    prefixes = (tier,) if isinstance(tier, str) else tier
    for code in policy.codes:
        if jurisdiction not in (None, code):
            continue
        for rule_id, rule in sorted(policy[code].rules.items()):
            if not rule.applies or (only and not only & {rule_id, f"{code}:{rule_id}"}):
                continue
            tests = sorted(
                {
                    t
                    for article in _articles(rule.articles)
                    for t in cited.get(article, ())
                    if t.startswith(prefixes)
                }
            )
            yield Mutant(code, rule_id, tuple(tests))


def _articles(cited: tuple[str, ...]) -> set[str]:
    """'shexian §44(一)' → 'shexian §44', as tests cite it."""
    return {a.split("(")[0] for a in cited}


Runner = Callable[[Mutant], bool | None]
NO_TESTS_RAN = 5  # pytest's exit code when every test was deselected (PYTEST_ADDOPTS='-k …')


def pytest_runner(root: Path) -> Runner:
    """Run the mutant's tests in a fresh interpreter with the rule switched off; True: one failed,
    None: none of them ran (deselected through PYTEST_ADDOPTS, e.g. '-k "not postgresql"')."""

    def run(mutant: Mutant) -> bool | None:
        env = {**os.environ, MUTANT_ENV: mutant.name}
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *mutant.tests]
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
        if done.returncode == NO_TESTS_RAN:
            return None
        if done.returncode not in (0, 1):  # 1: a test failed; anything else did not run the tests
            raise RuntimeError(f"{mutant.name}: pytest exited {done.returncode}\n{done.stdout[-2000:]}")
        return done.returncode == 1

    return run


def check(
    found: list[Mutant], run: Runner, progress: Callable[[int, Outcome], None], jobs: int = 1
) -> list[Outcome]:
    """Run every mutant that has tests, `jobs` at a time; `progress` hears each outcome as it
    comes, numbered in the order they come; the outcomes are returned in the order found."""

    def one(mutant: Mutant) -> Outcome:
        return Outcome(mutant, run(mutant) if mutant.tests else None)

    outcomes: dict[Mutant, Outcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for number, done in enumerate(as_completed(pool.submit(one, m) for m in found), start=1):
            outcome = done.result()
            progress(number, outcome)
            outcomes[outcome.mutant] = outcome
    return [outcomes[m] for m in found]
