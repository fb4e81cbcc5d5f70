"""How a `govit` command ends when it fails: one or two lines on stderr and an exit code.

Exit codes: 0 done; 1 the operation failed (NATS unreachable, no suite stream on that NATS, a
service's HTTP API unreachable, nothing found, a check failed); 2 invalid usage or input, nothing
was done; 130 interrupted (Ctrl-C). No traceback unless GOVIT_DEBUG=1.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEBUG_VARIABLE = "GOVIT_DEBUG"
_HINT = f"(详细信息 / the traceback: {DEBUG_VARIABLE}=1)"


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


class _ConnectAttempts(logging.Filter):
    """Drops the bus's "NATS error" lines of failed connection attempts: the command reports
    an unreachable NATS itself, once. An unexpected disconnect is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("NATS error: [Errno")


def run(app: Callable[[], object]) -> None:
    """Run the Typer app; an exception it lets out becomes a short message and an exit code."""
    logging.getLogger("shared.bus").addFilter(_ConnectAttempts())
    try:
        app()
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debugging():
            raise
        code, lines = explain(exc)
        for line in lines:
            print(line, file=sys.stderr)
        sys.exit(code)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def _where() -> tuple[str, str]:
    """The broker the command used (as it said on stderr) and the suite's stream."""
    from govit.broker import redacted
    from govit.cli.app import CURRENT

    url = redacted(CURRENT.broker.url) if CURRENT.broker is not None else "NATS"
    return url, CURRENT.stream


def explain(exc: BaseException) -> tuple[int, list[str]]:
    """The exit code and the lines (what failed and why, what to do) for an exception."""
    for link in _chain(exc):
        found = _nats(link) or _http(link) or _settings(link)
        if found is not None:
            return found
    reason = str(exc) or type(exc).__name__
    return EXIT_FAILED, [f"失败 / failed: {type(exc).__name__}: {reason}", _HINT]


def _nats(exc: BaseException) -> tuple[int, list[str]] | None:
    import nats.errors
    from nats.js import errors as js

    url, stream = _where()
    if isinstance(exc, js.NotFoundError):
        return EXIT_FAILED, [
            f"{url} 上没有流 {stream} / this NATS holds no {stream} stream: is it the suite's?",
            "Start the suite (make up) here, or set GOVIT_NATS_URL (and GOVIT_STREAM) to the suite's NATS.",
        ]
    if isinstance(exc, js.ServiceUnavailableError | nats.errors.NoRespondersError):
        return EXIT_FAILED, [
            f"{url} 未启用 JetStream / this NATS has no JetStream: it is not the suite's",
            "Set GOVIT_NATS_URL to the suite's NATS, or start the suite (make up).",
        ]
    if isinstance(
        exc, nats.errors.NoServersError | ConnectionRefusedError | nats.errors.ConnectionClosedError
    ):
        return EXIT_FAILED, [
            f"NATS 不可达 / NATS is unreachable at {url}: {str(exc) or type(exc).__name__}",
            "Start the suite (make up), or set GOVIT_NATS_URL to a running NATS.",
        ]
    if isinstance(exc, nats.errors.TimeoutError | TimeoutError):
        return EXIT_FAILED, [
            f"NATS 无应答 / no answer from NATS at {url} in time",
            "Check that it is the suite's NATS and that it is running (make up).",
        ]
    return None


def _http(exc: BaseException) -> tuple[int, list[str]] | None:
    import httpx

    if isinstance(exc, httpx.TransportError):
        where = str(exc.request.url) if _has_request(exc) else "a service"
        return EXIT_FAILED, [
            f"服务接口不可达 / a service's HTTP API is unreachable: {where} ({type(exc).__name__})",
            "Start the suite (make up), or check GOVIT_<SERVICE>_PORT.",
        ]
    if isinstance(exc, httpx.HTTPStatusError):
        return EXIT_FAILED, [
            f"服务拒绝 / the service answered {exc.response.status_code} to {exc.request.url}",
            exc.response.text[:300],
        ]
    return None


def _has_request(exc: BaseException) -> bool:
    try:
        return getattr(exc, "request", None) is not None
    except RuntimeError:  # httpx raises when the exception carries no request
        return False


def _settings(exc: BaseException) -> tuple[int, list[str]] | None:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or exc.title
        return EXIT_USAGE, [
            f"设置无效 / invalid settings ({exc.title}): {where}: {first['msg']}",
            "Fix the GOVIT_* variable named (or .env).",
        ]
    return None
