"""Which NATS the commands use (govit.broker): GOVIT_NATS_URL, a live `govit up`'s record, the default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from govit.broker import (
    RECORD,
    AlreadyRunning,
    hold_var_dir,
    lock_holder,
    redacted,
    remove_record,
    resolve_broker,
    write_record,
)


@pytest.fixture(autouse=True)
def _default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVIT_EMBEDDED_NATS_PORT", "14222")


def test_without_url_or_record_the_default_is_where_govit_up_would_listen(tmp_path: Path) -> None:
    broker = resolve_broker(None, tmp_path)
    assert (broker.url, broker.origin) == ("nats://127.0.0.1:14222", "default")
    assert "the default" in broker.explain()


def test_the_record_of_the_running_govit_up_is_used_and_govit_nats_url_comes_first(tmp_path: Path) -> None:
    with hold_var_dir(tmp_path):
        write_record(tmp_path, "nats://127.0.0.1:39001")
        broker = resolve_broker(None, tmp_path)
        assert (broker.url, broker.origin) == ("nats://127.0.0.1:39001", "record")
        assert str(os.getpid()) in broker.explain() and RECORD in broker.explain()
        chosen = resolve_broker("nats://elsewhere:4222", tmp_path)
        assert (chosen.url, chosen.origin) == ("nats://elsewhere:4222", "environment")
        remove_record(tmp_path)
    assert not (tmp_path / RECORD).exists()


def test_a_record_whose_govit_up_is_gone_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = {"url": "nats://127.0.0.1:39002", "pid": int(gone.stdout), "started": "2026-01-01T00:00:00+00:00"}
    (tmp_path / RECORD).write_text(json.dumps(stale))
    assert resolve_broker(None, tmp_path).origin == "default"
    # A live pid (reused by another program) without the var dir's lock held: stale too.
    (tmp_path / RECORD).write_text(json.dumps({**stale, "pid": os.getpid()}))
    assert resolve_broker(None, tmp_path).origin == "default"


def test_the_var_dir_is_held_by_one_holder_at_a_time(tmp_path: Path) -> None:
    first = hold_var_dir(tmp_path)
    try:
        with pytest.raises(AlreadyRunning) as refused:
            hold_var_dir(tmp_path)
        assert refused.value.pid == os.getpid()
        assert lock_holder(tmp_path) == os.getpid()
    finally:
        first.close()
    assert lock_holder(tmp_path) is None
    hold_var_dir(tmp_path).close()


def test_a_password_in_the_url_is_not_shown() -> None:
    assert redacted("nats://funding:s3cret@nats:4222") == "nats://funding:***@nats:4222"
    assert "s3cret" not in resolve_broker("nats://funding:s3cret@nats:4222", Path("nowhere")).explain()
