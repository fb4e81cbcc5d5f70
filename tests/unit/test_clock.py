"""The file clock services take as now in tests and demos, and its refusal in production."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.db import file_clock, set_clock
from shared.settings import GovitSettings


def test_the_file_clock_reads_the_instant_and_falls_back_to_the_real_one(tmp_path: Path) -> None:
    path = tmp_path / "now"
    clock = file_clock(path)
    assert abs((clock() - datetime.now(UTC)).total_seconds()) < 5  # no file yet: real time
    path.write_text("2027-01-04T09:30:00+08:00\n")
    assert clock() == datetime(2027, 1, 4, 1, 30, tzinfo=UTC)
    path.write_text("2027-01-04T09:30:00")
    with pytest.raises(ValueError, match="offset"):
        clock()


def test_the_file_clock_follows_every_move_of_the_file_read_once_per_change(tmp_path: Path) -> None:
    path = tmp_path / "now"
    clock = file_clock(path)
    for day in range(1, 8):  # set_clock renames a new file over it, as fast as a walk moves on
        set_clock(path, datetime(2027, 3, day, 10, tzinfo=UTC))
        assert clock() == datetime(2027, 3, day, 10, tzinfo=UTC)
    path.write_text("2027-03-09T18:00:00+08:00\n")  # rewritten in place
    assert clock() == datetime(2027, 3, 9, 10, tzinfo=UTC)
    path.write_text("")
    assert abs((clock() - datetime.now(UTC)).total_seconds()) < 5  # emptied: real time
    path.unlink()
    assert abs((clock() - datetime.now(UTC)).total_seconds()) < 5


def test_a_clock_file_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GOVIT_CLOCK_FILE"):
        GovitSettings(environment="production", jwt_secret="x" * 40, clock_file=tmp_path / "now")
