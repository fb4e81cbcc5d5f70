"""The shape every service keeps (docs/ARCHITECTURE.md), read from the source with `ast`.

Each rule is a function from a module's source to what breaks it; the rules are run over the
repository, and each is shown a module that breaks it, so that none can pass by seeing nothing.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "review", "procurement", "acceptance", "funding")
#: What every service has, by the same names (README "Layout of a service").
LAYOUT = (
    "domain/__init__.py",
    "commands.py",
    "handlers.py",
    "views.py",
    "api.py",
    "db.py",
    "consumers.py",
    "settings.py",
    "main.py",
    "migrations",
)
#: Frameworks and I/O the domain does without: it decides, others load, store and deliver.
NOT_IN_DOMAIN = ("fastapi", "starlette", "sqlalchemy", "nats", "shared.db", "shared.engine", "shared.deps")
#: Questions to a policy pack; handlers leave them to the domain.
PACK_LOOKUPS = frozenset({"rule", "refusal", "expert_pool", "sharing_pool"})
MAX_MODULE_LINES = 400
MAX_DOMAIN_MODULE_LINES = 300
MAX_HANDLER_LINES = 40
#: An article written into code: a message that cites it would cite it for every jurisdiction.
CITATION = re.compile(r"(zhonglou|shexian|bayingolin|xunyang|lhasa) §\d+")


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. services.funding.domain.gates
    source: str

    @property
    def tree(self) -> ast.Module:
        return ast.parse(self.source)

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


def modules(*packages: str) -> Iterator[Module]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            dotted = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            yield Module(dotted, path.read_text(encoding="utf-8"))


def imported(module: Module) -> Iterator[tuple[int, str]]:
    """Every module it imports, anywhere in it (functions included), with the line."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                base = module.name.split(".")[: -node.level]
                yield node.lineno, ".".join([*base, node.module])
            else:
                yield node.lineno, node.module


def _under(name: str, prefix: str) -> bool:
    """`name` is `prefix` or inside it; a prefix ending in "." asks for inside only."""
    if prefix.endswith("."):
        return name.startswith(prefix)
    return name == prefix or name.startswith(prefix + ".")


# -- the rules: each returns what breaks it ----------------------------------------------------------


def shared_imports_no_service(module: Module) -> list[str]:
    """shared/ is the library the services use: it knows no service and no suite tooling."""
    if module.package != "shared":
        return []
    return [
        f"{module.name}:{line} imports {name}"
        for line, name in imported(module)
        if _under(name, "services") or _under(name, "govit")
    ]


def services_stay_apart(module: Module) -> list[str]:
    """A service reaches another only through events (shared.contracts), never by import."""
    parts = module.name.split(".")
    if parts[0] != "services" or len(parts) < 2:
        return []
    own = f"services.{parts[1]}"
    return [
        f"{module.name}:{line} imports {name}"
        for line, name in imported(module)
        if (_under(name, "services") and name != "services" and not _under(name, own))
        or _under(name, "govit")
    ]


def domain_is_pure(module: Module) -> list[str]:
    """domain/ decides: no web framework, database, broker, nor the service's other layers."""
    parts = module.name.split(".")
    if parts[0] != "services" or len(parts) < 3 or parts[2] != "domain":
        return []
    own_domain = f"services.{parts[1]}.domain"
    return [
        f"{module.name}:{line} imports {name}"
        for line, name in imported(module)
        if any(_under(name, forbidden) for forbidden in NOT_IN_DOMAIN)
        or (_under(name, f"services.{parts[1]}") and not _under(name, own_domain))
    ]


def handlers_only_orchestrate(module: Module) -> list[str]:
    """handlers.py loads, makes one domain call and commits: no pack look-ups, short functions."""
    parts = module.name.split(".")
    if parts[0] != "services" or not parts[-1].endswith("handlers"):
        return []
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in PACK_LOOKUPS:
                found.append(f"{module.name}:{node.lineno} asks the pack (.{node.func.attr})")
        elif isinstance(node, ast.Subscript) and _names_policy(node.value):
            found.append(f"{module.name}:{node.lineno} reads a pack (policy[...])")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_HANDLER_LINES:
                found.append(f"{module.name}:{node.lineno} {node.name} has {length} lines")
    return found


def _names_policy(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "policy") or (
        isinstance(node, ast.Attribute) and node.attr == "policy"
    )


def modules_stay_short(module: Module) -> list[str]:
    """No module over 400 lines; a domain module (one aggregate or decision) over 300."""
    lines = module.source.count("\n")
    limit = MAX_DOMAIN_MODULE_LINES if ".domain." in f"{module.name}." else MAX_MODULE_LINES
    return [f"{module.name} has {lines} lines (at most {limit})"] if lines > limit else []


def messages_cite_from_the_pack(module: Module) -> list[str]:
    """A domain or handler message names no article: its citation comes from the jurisdiction's
    pack, or it says it is the suite's default (SUITE_DEFAULT). Docstrings and comments may."""
    parts = module.name.split(".")
    if parts[0] != "services" or not ("domain" in parts or parts[-1].endswith("handlers")):
        return []
    tree = module.tree
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        f"{module.name}:{node.lineno} writes an article into a message: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CITATION.search(node.value)
    ]


RULES: tuple[Callable[[Module], list[str]], ...] = (
    shared_imports_no_service,
    services_stay_apart,
    domain_is_pure,
    handlers_only_orchestrate,
    modules_stay_short,
    messages_cite_from_the_pack,
)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_code_keeps_the_rule(rule: Callable[[Module], list[str]]) -> None:
    broken = [problem for module in modules("shared", "services", "govit") for problem in rule(module)]
    assert not broken, "\n".join(broken)


def test_every_service_has_the_same_layout() -> None:
    missing = [
        f"services/{s}/{part}"
        for s in SERVICES
        for part in LAYOUT
        if not (ROOT / "services" / s / part).exists()
    ]
    assert not missing, missing


def test_ruff_holds_complexity_and_argument_counts() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert {"C90", "PLR0913"} <= set(lint["select"])
    assert lint["mccabe"]["max-complexity"] <= 10
    assert lint["pylint"]["max-args"] <= 6


# -- each rule, shown a module that breaks it -----------------------------------------------------------

HANDLER_41_LINES = "async def long(uow, cmd, ctx):\n" + "    x = 1\n" * 40
BROKEN: list[tuple[Callable[[Module], list[str]], Module]] = [
    (shared_imports_no_service, Module("shared.cli", "from services.intake import main\n")),
    (shared_imports_no_service, Module("shared.demo", "def run():\n    import govit.demo\n")),
    (
        services_stay_apart,
        Module("services.funding.views", "from services.acceptance.domain import Project\n"),
    ),
    (services_stay_apart, Module("services.review.api", "import services.intake.db\n")),
    (domain_is_pure, Module("services.funding.domain.gates", "from sqlalchemy import select\n")),
    (domain_is_pure, Module("services.funding.domain.gates", "from shared.db import utcnow\n")),
    (domain_is_pure, Module("services.review.domain.cases", "from fastapi import HTTPException\n")),
    (domain_is_pure, Module("services.intake.domain.plans", "from services.intake.db import plans\n")),
    (domain_is_pure, Module("services.intake.domain.plans", "from ..db import plans\n")),
    (
        handlers_only_orchestrate,
        Module("services.funding.handlers", "def f(ctx):\n    ctx.policy.rule('x', 'y')\n"),
    ),
    (
        handlers_only_orchestrate,
        Module("services.funding.handlers", "def f(policy):\n    return policy['xunyang']\n"),
    ),
    (handlers_only_orchestrate, Module("services.funding.handlers", HANDLER_41_LINES)),
    (modules_stay_short, Module("services.funding.api", "x = 1\n" * 401)),
    (modules_stay_short, Module("services.funding.domain.gates", "x = 1\n" * 301)),
    (
        messages_cite_from_the_pack,
        Module(
            "services.acceptance.domain.evaluation",
            'def f():\n    raise E("由主管部门确认（zhonglou §21）")\n',
        ),
    ),
    (messages_cite_from_the_pack, Module("services.review.handlers", 'M = f"名单 (lhasa §22、{x})"\n')),
]


@pytest.mark.parametrize(("rule", "module"), BROKEN, ids=lambda x: getattr(x, "__name__", None) or x.name)
def test_each_rule_sees_a_module_that_breaks_it(rule: Callable[[Module], list[str]], module: Module) -> None:
    assert rule(module), f"{rule.__name__} let {module.name} through"


def test_the_rules_let_the_allowed_through() -> None:
    allowed = [
        (shared_imports_no_service, Module("shared.consume", "from shared.db import UnitOfWork\n")),
        (services_stay_apart, Module("services.funding.views", "from services.funding.domain import Gate\n")),
        (domain_is_pure, Module("services.funding.domain.gates", "from shared.policy import Reason\n")),
        (
            domain_is_pure,
            Module("services.funding.domain.gates", "from services.funding.domain.errors import E\n"),
        ),
        (
            handlers_only_orchestrate,
            Module("services.funding.handlers", "async def f(uow, cmd, ctx):\n    return 1\n"),
        ),
        (modules_stay_short, Module("services.funding.api", "x = 1\n" * 400)),
        (
            messages_cite_from_the_pack,
            Module("services.funding.domain.om", 'def f():\n    """No O&M funds (zhonglou §21)."""\n'),
        ),
        (messages_cite_from_the_pack, Module("services.funding.api", 'S = "拨付 (zhonglou §13)"\n')),
    ]
    for rule, module in allowed:
        assert not rule(module), f"{rule.__name__} refused {module.name}"
