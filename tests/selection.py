"""Which services a test exercises, so that `make test SERVICE=funding` runs every test of funding.

A test exercises the services named by, in this order of precedence:

1. `@pytest.mark.services(..., by="param")` and the test's parameter `param` (a fixture's or
   parametrize's; for a plugin's parametrisation such as Schemathesis, the `[service]` segment
   of the test's id): the one service of this instance;
2. `@pytest.mark.services("funding", ...)` on the test function itself: exactly those;
3. else, for its module: the `services` marks at module or class level, every `services.<name>`
   package the module imports, and a module named `test_<name>_*.py`.

tests/unit/test_service_marks.py reads every service and e2e test module for the services it
visibly starts or talks to — a fixture parameter or attribute named after one (`funding`,
`suite.funding`), the name as a call's argument (`make_database("funding")`, `govit serve
funding`), a tuple of service names, a `GOVIT_FUNDING_…` variable, the e2e `suite` of all five —
and fails when a module or test does not declare one it exercises. A word spelled like a
service that means something else there (the `acceptance` gate, the `review` stage) is declared
as such with `homonyms=("acceptance",)`; text (docstrings, `what=` messages) and event contracts
(`shared.contracts.intake`, `govit.intake.…`, `/govit/intake`) are not read as exercising.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVICES = ("intake", "review", "procurement", "acceptance", "funding")
MARK = "services"
_MODULE_NAME = re.compile(r"test_({})_".format("|".join(SERVICES)))
_ENV = re.compile(r"GOVIT_({})_".format("|".join(s.upper() for s in SERVICES)))
_PROSE_KEYWORDS = frozenset({"what", "reason", "msg"})

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Declared:
    """The services marks declare on one function or on a module, and the homonyms they name."""

    services: set[str] = field(default_factory=set)
    homonyms: set[str] = field(default_factory=set)
    by: str | None = None
    marked: bool = False
    invalid: list[str] = field(default_factory=list)


def _is_services_mark(node: ast.expr) -> ast.Call | None:
    """`pytest.mark.services(...)` (or `mark.services(...)`), else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == MARK:
        owner = node.func.value
        if (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
            isinstance(owner, ast.Name) and owner.id == "mark"
        ):
            return node
    return None


def _strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        found: list[str] = []
        for element in node.elts:
            inner = _strings(element)
            if inner is None:
                return None
            found += inner
        return found
    return None


def read_mark(call: ast.Call, into: Declared) -> None:
    """Add one services mark's literal names to `into`; anything not a literal service is invalid."""
    into.marked = True
    for arg in call.args:
        names = _strings(arg)
        if names is None:
            into.invalid.append(f"line {call.lineno}: services() takes the names as string literals")
            continue
        into.services |= set(names)
    for keyword in call.keywords:
        names = _strings(keyword.value)
        if keyword.arg == "homonyms" and names is not None:
            into.homonyms |= set(names)
        elif keyword.arg == "by" and names is not None and len(names) == 1:
            into.by = names[0]
        else:
            into.invalid.append(f'line {call.lineno}: services() knows by="param" and homonyms=(...)')
    unknown = (into.services | into.homonyms) - set(SERVICES)
    into.invalid += [f"line {call.lineno}: no service {name!r}" for name in sorted(unknown)]


def _marks_in(nodes: Iterable[ast.expr]) -> Iterator[ast.Call]:
    for node in nodes:
        for candidate in node.elts if isinstance(node, ast.List | ast.Tuple) else [node]:
            call = _is_services_mark(candidate)
            if call is not None:
                yield call


def module_marks(tree: ast.Module) -> Declared:
    """The marks of `pytestmark = ...` at module level and on classes."""
    declared = Declared()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            for call in _marks_in([node.value]):
                read_mark(call, declared)
        elif isinstance(node, ast.ClassDef):
            for call in _marks_in(node.decorator_list):
                read_mark(call, declared)
    return declared


def function_marks(function: FunctionNode) -> Declared:
    declared = Declared()
    for call in _marks_in(function.decorator_list):
        read_mark(call, declared)
    return declared


def imported_services(tree: ast.Module) -> set[str]:
    """Service packages the module imports: their code runs in the test."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "services":
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("services.")}
    return found & set(SERVICES)


def by_module(path: Path, tree: ast.Module) -> set[str]:
    """Step 3: the module's marks, its imports of services and its name."""
    named = _MODULE_NAME.match(path.name)
    return module_marks(tree).services | imported_services(tree) | ({named.group(1)} if named else set())


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@functools.cache
def module_services(path: Path) -> frozenset[str]:
    return frozenset(by_module(path, parsed(path)))


# --- what a module visibly exercises (read by tests/unit/test_service_marks.py) ---------------


@dataclass(frozen=True)
class Use:
    service: str
    line: int
    how: str


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _call_uses(call: ast.Call) -> Iterator[Use]:
    """A service's name handed to a call: make_database("funding"), ["govit", "serve", "funding"]."""
    values = list(call.args) + [k.value for k in call.keywords if k.arg not in _PROSE_KEYWORDS]
    for value in values:
        for element in value.elts if isinstance(value, ast.List | ast.Tuple | ast.Set) else [value]:
            if isinstance(element, ast.Constant) and element.value in SERVICES:
                yield Use(str(element.value), element.lineno, f'"{element.value}" handed to a call')
    named = any(k.arg == "services" for k in call.keywords)
    if isinstance(call.func, ast.Name) and call.func.id == "running_suite" and not named:
        yield from (Use(s, call.lineno, "running_suite() of all five") for s in SERVICES)


def _node_uses(node: ast.AST, docstrings: set[int], e2e_suite: bool) -> Iterator[Use]:
    if isinstance(node, ast.arg) and node.arg in SERVICES:
        yield Use(node.arg, node.lineno, f"fixture or parameter {node.arg}")
    elif isinstance(node, ast.arg) and node.arg == "suite" and e2e_suite:
        yield from (Use(s, node.lineno, "the e2e suite of all five") for s in SERVICES)
    elif isinstance(node, ast.Attribute) and node.attr in SERVICES:
        yield Use(node.attr, node.lineno, f".{node.attr}")
    elif isinstance(node, ast.Call):
        yield from _call_uses(node)
    elif isinstance(node, ast.Tuple | ast.List | ast.Set) and node.elts:
        names = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in SERVICES]
        if len(names) == len(node.elts):
            yield from (Use(str(s), node.lineno, "a tuple of services") for s in names)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
        for match in _ENV.finditer(node.value):
            yield Use(match.group(1).lower(), node.lineno, match.group(0))


def _walk(node: ast.AST, skip: set[int]) -> Iterator[ast.AST]:
    yield node
    for child in ast.iter_child_nodes(node):
        if id(child) not in skip:
            yield from _walk(child, skip)


def uses(node: ast.AST, tree: ast.Module, e2e: bool, skip: frozenset[int] = frozenset()) -> list[Use]:
    """Every visible use of a service within `node`, leaving out the subtrees in `skip`."""
    docstrings = _docstrings(tree)
    own_suite = any(isinstance(n, FunctionNode) and n.name == "suite" for n in tree.body)
    found: list[Use] = []
    for child in _walk(node, set(skip)):
        found += _node_uses(child, docstrings, e2e and not own_suite)
    return found


def tests_of(tree: ast.Module) -> list[FunctionNode]:
    functions: list[FunctionNode] = []
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        functions += [n for n in members if isinstance(n, FunctionNode) and n.name.startswith("test")]
    return functions


def undeclared(path: Path, e2e: bool) -> list[str]:
    """What the module's tests exercise without declaring it, and marks that are not valid."""
    tree = parsed(path)
    module = module_marks(tree)
    base = by_module(path, tree)
    problems = [f"{path.name}: {p}" for p in module.invalid]
    everywhere = set(base)
    tests = tests_of(tree)
    for test in tests:
        own = function_marks(test)
        problems += [f"{path.name}::{test.name}: {p}" for p in own.invalid]
        declared = own.services or base
        everywhere |= declared
        homonyms = own.homonyms | module.homonyms
        problems += _missing(f"{path.name}::{test.name}", uses(test, tree, e2e), declared | homonyms)
    skip = frozenset(id(t) for t in tests)
    problems += _missing(path.name, uses(tree, tree, e2e, skip), everywhere | module.homonyms)
    return problems


def _missing(where: str, found: list[Use], declared: set[str]) -> list[str]:
    first: dict[str, Use] = {}
    for use in found:
        if use.service not in declared:
            first.setdefault(use.service, use)
    if not first:
        return []
    seen = ", ".join(f"{s} (line {u.line}: {u.how})" for s, u in sorted(first.items()))
    names = ", ".join(f'"{s}"' for s in sorted(first))
    return [
        f"{where} exercises {seen} without being marked for it: add {names} to its "
        "pytest.mark.services(...), or name a word that is not the service in homonyms=(...)"
    ]


# --- the selection at run time (tests/conftest.py) ----------------------------------------------


def exercised(item: pytest.Item) -> frozenset[str]:
    """The services this collected test exercises (the module docstring's order of precedence)."""
    marks = list(item.iter_markers(MARK))
    by = next((str(m.kwargs["by"]) for m in marks if "by" in m.kwargs), None)
    if by is not None:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get(by) if callspec is not None else None
        if param in SERVICES:
            return frozenset({str(param)})
        segments = set(re.findall(r"\[([^\]]+)\]", item.name)) & set(SERVICES)
        if segments:
            return frozenset(segments)
    own = [m for m in item.own_markers if m.name == MARK and m.args]
    if own:
        return frozenset(str(a) for m in own for a in m.args)
    marked = {str(a) for m in marks for a in m.args}
    return frozenset(marked) | module_services(Path(str(item.path)))
