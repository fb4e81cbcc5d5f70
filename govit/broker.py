"""Which NATS the commands talk to, and the record `govit up` leaves of its embedded one.

`govit up` holds an exclusive lock on var/govit-up.lock while it runs (a second one on the same
var dir refuses at once) and writes var/govit-up.json: the URL its services use, its pid and
when it started; the file goes when it stops. Every command that talks to NATS, and
examples/subscriber.py, take their broker from `resolve_broker`: GOVIT_NATS_URL if set, else
the record of a `govit up` still running on this var dir, else where `govit up` would put its
embedded NATS (127.0.0.1, GOVIT_EMBEDDED_NATS_PORT or 4222).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlsplit, urlunsplit

RECORD = "govit-up.json"
LOCK = "govit-up.lock"
EMBEDDED_PORT_VARIABLE = "GOVIT_EMBEDDED_NATS_PORT"

Origin = Literal["option", "environment", "record", "default"]


def default_port() -> int:
    """The port `govit up` gives its embedded NATS when it is free."""
    return int(os.environ.get(EMBEDDED_PORT_VARIABLE) or 4222)


def default_url() -> str:
    return f"nats://127.0.0.1:{default_port()}"


@dataclass(frozen=True)
class UpRecord:
    """What var/govit-up.json says of a running `govit up`."""

    url: str
    pid: int
    started: str
    path: Path


@dataclass(frozen=True)
class Broker:
    """The NATS a command uses, and why that one."""

    url: str
    origin: Origin
    record: UpRecord | None = None

    def explain(self) -> str:
        """One line for stderr: which broker and why."""
        shown = redacted(self.url)
        if self.origin == "option":
            why = "来自命令行选项 / from the command's option"
        elif self.origin == "environment":
            why = "来自 GOVIT_NATS_URL / from GOVIT_NATS_URL"
        elif self.origin == "record" and self.record is not None:
            why = (
                f"来自正在运行的 govit up (pid {self.record.pid}) 的记录 / "
                f"from the running `govit up` record {self.record.path}"
            )
        else:
            why = (
                "默认: 未设 GOVIT_NATS_URL, 也没有正在运行的 govit up / "
                "the default: no GOVIT_NATS_URL, no running `govit up`"
            )
        return f"NATS {shown}  ({why})"


def announce(broker: Broker) -> Broker:
    """Say on stderr, in one line, which broker is used and why; the broker."""
    print(broker.explain(), file=sys.stderr, flush=True)
    return broker


def redacted(url: str) -> str:
    """The URL without its password (a NATS user's URL carries one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def resolve_broker(nats_url: str | None = None, var_dir: Path | None = None) -> Broker:
    """GOVIT_NATS_URL (`nats_url`), else the running `govit up`'s record in var_dir, else the default.

    Without arguments both come from the settings (GOVIT_NATS_URL, GOVIT_VAR_DIR).
    """
    if var_dir is None:
        from shared.settings import GovitSettings

        settings = GovitSettings()
        nats_url, var_dir = settings.nats_url, settings.var_dir
    if nats_url:
        return Broker(nats_url, "environment")
    record = read_record(var_dir)
    if record is not None:
        return Broker(record.url, "record", record)
    return Broker(default_url(), "default")


def read_record(var_dir: Path) -> UpRecord | None:
    """The record of the `govit up` running on var_dir; None when there is none or it is stale."""
    path = var_dir / RECORD
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        record = UpRecord(
            str(document["url"]), int(document["pid"]), str(document["started"]), path.resolve()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if _running(record.pid) and lock_holder(var_dir) is not None else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_record(var_dir: Path, url: str) -> Path:
    """Write var/govit-up.json for this process (readable by its owner only: a URL may carry a password)."""
    path = var_dir / RECORD
    document = {"url": url, "pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(document, f)
        f.write("\n")
    temporary.replace(path)
    return path.resolve()


def remove_record(var_dir: Path) -> None:
    """Remove the record if it is this process's own."""
    path = var_dir / RECORD
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if int(json.loads(path.read_text(encoding="utf-8"))["pid"]) == os.getpid():
            path.unlink()


class AlreadyRunning(Exception):
    """Another `govit up` holds the var dir."""

    def __init__(self, pid: int | None, lock: Path) -> None:
        self.pid = pid
        self.lock = lock
        super().__init__(f"another govit up (pid {pid}) holds {lock}")


def hold_var_dir(var_dir: Path) -> IO[str]:
    """Take the exclusive lock of var_dir for this process (kept while the file stays open).

    Creates only var_dir and the lock file; raises AlreadyRunning, naming the holder's pid,
    when another process holds it.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    lock = var_dir / LOCK
    handle = lock.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        text = handle.read().strip()
        handle.close()
        raise AlreadyRunning(int(text) if text.isdigit() else None, lock) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def lock_holder(var_dir: Path) -> int | None:
    """The pid of the `govit up` holding var_dir's lock (0 if it did not say), None when none does."""
    lock = var_dir / LOCK
    try:
        handle = lock.open(encoding="utf-8")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
