"""The file clock services take as now in tests and demos, and its refusal in production."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.db import file_clock
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


def test_a_clock_file_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GOVIT_CLOCK_FILE"):
        GovitSettings(environment="production", jwt_secret="x" * 40, clock_file=tmp_path / "now")
