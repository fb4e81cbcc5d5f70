"""The `govit` Typer application, its command groups and what several commands share."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, get_type_hints

import typer

from govit import serve as serving
from govit.broker import Broker, announce, resolve_broker
from shared.settings import GovitSettings, ServiceSettings

Options = TypeVar("Options")

SERVICES = serving.SERVICES

app = typer.Typer(help="govit — 政务信息化项目全生命周期管理", no_args_is_help=True, add_completion=False)
calendar_app = typer.Typer(help="工作日历: 加载国务院节假日安排通知", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
dlq_app = typer.Typer(help="死信: 无法处理的事件 (list, replay)", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
audit_app = typer.Typer(help="审计日志: 校验哈希链 (verify)", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
export_app = typer.Typer(
    help="报表与公开数据: 项目台账与年度计划、资金台账 (CSV/XLSX)，采购公开数据 (OCDS)", no_args_is_help=True
)
app.add_typer(export_app, name="export")
policy_app = typer.Typer(help="政策包: 条文覆盖与条文查询 (coverage, article)", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


def service_module(name: str) -> Any:
    """A service's main module, imported by name (govit is the one package that imports services)."""
    try:
        return serving.service_module(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def service_settings(name: str) -> ServiceSettings:
    return serving.service_settings(name)


def suite_broker(nats_url: str | None = None) -> Broker:
    """The NATS this command uses (govit.broker.resolve_broker), said in one line on stderr.

    `nats_url` (an option such as --nats-url) comes before GOVIT_NATS_URL.
    """
    settings = GovitSettings()
    broker = Broker(nats_url, "option") if nats_url else resolve_broker(settings.nats_url, settings.var_dir)
    CURRENT.broker, CURRENT.stream = broker, settings.stream
    return announce(broker)


def suite_bus() -> Any:
    """A bus on the suite's NATS (suite_broker), named after the command."""
    from shared.bus import JetStreamBus

    settings = GovitSettings()
    return JetStreamBus(
        suite_broker().url,
        stream=settings.stream,
        prefix=settings.subject_prefix,
        name="govit-cli",
    )


class _Current:
    """What the running command resolved, for the failure it may end with (govit.cli.failures)."""

    broker: Broker | None = None
    stream: str = "GOVIT"


CURRENT = _Current()


def refuse(message: str) -> NoReturn:
    """Exit 2: what was asked for is wrong, and nothing was done."""
    typer.echo(message, err=True)
    raise typer.Exit(2)


def options_command(options: type[Options], run: Callable[[Options], None]) -> Callable[..., None]:
    """A command whose arguments and options are the fields of a dataclass, handed to `run` as one.

    Typer reads a command's parameters from its signature: this one's are the dataclass's fields,
    with their annotations (typer.Argument / typer.Option) and defaults, in their order. The
    command takes `run`'s name and docstring, so its help is what `run` would have shown.
    """
    hints = get_type_hints(options, include_extras=True)
    parameters = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
            annotation=hints[f.name],
        )
        for f in dataclasses.fields(options)  # type: ignore[arg-type]
    ]

    def command(**values: Any) -> None:
        run(options(**values))

    command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    command.__name__ = command.__qualname__ = run.__name__
    command.__doc__ = run.__doc__
    return command


def main() -> None:
    """The `govit` command: failures end in a line or two and an exit code (govit.cli.failures)."""
    from govit.cli import failures

    failures.run(app)
