"""Every service and e2e test declares the services it exercises, so `make test SERVICE=…` runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.selection import exercised, parsed, undeclared

TESTS = Path(__file__).resolve().parents[1]
MODULES = sorted([*TESTS.glob("service/test_*.py"), *TESTS.glob("e2e/test_*.py")])


def test_every_service_and_e2e_module_is_marked_for_the_services_it_exercises() -> None:
    problems = [p for path in MODULES for p in undeclared(path, e2e=path.parent.name == "e2e")]
    assert not problems, "\n".join(problems)


def check(tmp_path: Path, source: str, e2e: bool = False, name: str = "test_sample.py") -> list[str]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    parsed.cache_clear()
    return undeclared(path, e2e)


def test_a_database_or_process_of_a_service_needs_its_mark(tmp_path: Path) -> None:
    source = 'async def test_x(make_database):\n    await make_database("funding")\n'
    [problem] = check(tmp_path, source)
    assert 'test_sample.py::test_x exercises funding (line 2: "funding" handed to a call)' in problem
    marked = 'import pytest\n\n@pytest.mark.services("funding")\n' + source
    assert check(tmp_path, marked) == []


def test_the_e2e_suite_and_a_fixture_named_after_a_service_need_their_marks(tmp_path: Path) -> None:
    [suite] = check(tmp_path, "async def test_x(suite):\n    pass\n", e2e=True)
    for service in ("intake", "review", "procurement", "acceptance", "funding"):
        assert f"{service} (line 1: the e2e suite of all five)" in suite
    [fixture] = check(tmp_path, "async def test_x(review):\n    await review.http.get('/cases')\n")
    assert "exercises review (line 1: fixture or parameter review)" in fixture
    module_mark = (
        'import pytest\npytestmark = pytest.mark.services("review")\n\nasync def test_x(review):\n    pass\n'
    )
    assert check(tmp_path, module_mark) == []


def test_prose_contracts_and_homonyms_are_not_exercising(tmp_path: Path) -> None:
    source = '''"""funding and review, in prose."""
from shared.contracts.acceptance import FinalAcceptanceConcluded


async def test_x(f):
    """Through the acceptance gate."""
    await eventually(lambda: True, what="review")
    await send(f, "govit.intake.project_declared.v1", source="/govit/intake")
    await gate_is(f, "acceptance", True)
'''
    [gate] = check(tmp_path, source)
    assert "exercises acceptance (line 9" in gate and "review" not in gate and "intake" not in gate
    homonym = 'import pytest\npytestmark = pytest.mark.services(homonyms=("acceptance",))\n' + source
    assert check(tmp_path, homonym) == []


def test_a_mark_naming_no_service_or_not_in_literals_is_refused(tmp_path: Path) -> None:
    problems = check(tmp_path, 'import pytest\npytestmark = pytest.mark.services("fundng", *NAMES)\n')
    assert any("no service 'fundng'" in p for p in problems)
    assert any("string literals" in p for p in problems)


def test_a_module_named_after_a_service_and_its_imports_declare_it(tmp_path: Path) -> None:
    source = "from services.review.main import create_app\n\nasync def test_x(funding, review):\n    pass\n"
    assert check(tmp_path, source, name="test_funding_things.py") == []
    [problem] = check(tmp_path, source, name="test_things.py")
    assert "exercises funding (line 3: fixture or parameter funding) without" in problem


@dataclass
class Item:
    """The parts of a collected pytest item that the selection reads."""

    path: Path
    name: str = "test_x"
    marks: list[Any] = field(default_factory=list)
    own_markers: list[Any] = field(default_factory=list)
    callspec: Any = None

    def iter_markers(self, name: str) -> list[Any]:
        return [m for m in self.own_markers + self.marks if m.name == name]


@dataclass
class Callspec:
    params: dict[str, object]


def test_a_parameter_named_by_the_mark_narrows_a_test_to_its_one_service(tmp_path: Path) -> None:
    module = tmp_path / "test_all.py"
    module.write_text("from services import intake, funding\n", encoding="utf-8")
    by = pytest.mark.services(by="service").mark
    assert exercised(Item(module)) == {"intake", "funding"}  # type: ignore[arg-type]
    narrowed = Item(module, own_markers=[by], callspec=Callspec({"service": "funding", "backend": "sqlite"}))
    assert exercised(narrowed) == {"funding"}  # type: ignore[arg-type]
    by_id = Item(module, name="test_fuzz[review][GET /cases]", marks=[by])
    assert exercised(by_id) == {"review"}  # type: ignore[arg-type]


def test_a_mark_on_the_test_itself_says_exactly_what_it_exercises(tmp_path: Path) -> None:
    module = tmp_path / "test_intake_things.py"
    module.write_text("from services.acceptance import main\n", encoding="utf-8")
    on_module = pytest.mark.services("funding").mark
    assert exercised(Item(module, marks=[on_module])) == {"funding", "acceptance", "intake"}  # type: ignore[arg-type]
    on_test = pytest.mark.services("review").mark
    assert exercised(Item(module, marks=[on_module], own_markers=[on_test])) == {"review"}  # type: ignore[arg-type]
