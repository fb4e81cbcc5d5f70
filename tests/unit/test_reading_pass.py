"""The expert's reading pass: signed by review, honoured by intake for one expert and one project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from shared import reading_pass
from shared.auth import Principal, Role, TokenIssuer
from shared.problems import Problem
from shared.settings import ServiceSettings

SETTINGS = ServiceSettings()
EXPERT = Principal(sub="zhang", role=Role.EXPERT, jurisdictions=frozenset({"zhonglou"}))


def _pass(settings: ServiceSettings = SETTINGS, **changes: object) -> str:
    granted = reading_pass.issue(settings, "zhang", project_id="p1", jurisdiction="zhonglou", case_id="c1")
    return reading_pass.token(settings, granted.model_copy(update=changes))


def _code(
    presented: str | None, who: Principal = EXPERT, project: str = "p1", settings: ServiceSettings = SETTINGS
) -> str:
    with pytest.raises(Problem) as refused:
        reading_pass.check(settings, presented, who, project)
    assert refused.value.status == 403
    return refused.value.code


def test_the_expert_it_names_reads_the_project_it_names() -> None:
    granted = reading_pass.check(SETTINGS, _pass(), EXPERT, "p1")
    assert (granted.project_id, granted.case_id, granted.jurisdiction) == ("p1", "c1", "zhonglou")
    assert granted.expires_at - datetime.now(UTC) <= timedelta(seconds=SETTINGS.reading_pass_seconds)


def test_anything_else_is_refused() -> None:
    assert _code(None) == "reading_pass_required"
    assert _code(_pass(), project="p2") == "reading_pass_invalid"
    assert _code(_pass(), Principal(sub="li", role=Role.EXPERT, jurisdictions=frozenset({"zhonglou"}))) == (
        "reading_pass_invalid"
    )
    clerk = Principal(sub="zhang", role=Role.APPLICANT, agency="某局")
    assert _code(_pass(), clerk) == "reading_pass_invalid"
    elsewhere = Principal(sub="zhang", role=Role.EXPERT, jurisdictions=frozenset({"lhasa"}))
    assert _code(_pass(), elsewhere) == "forbidden_jurisdiction"
    assert _code(_pass(expires_at=datetime.now(UTC) - timedelta(seconds=5))) == "reading_pass_invalid"
    assert _code(_pass()[:-2] + "xx") == "reading_pass_invalid"


def test_a_pass_signed_with_another_key_or_a_bearer_token_is_no_pass() -> None:
    own = ServiceSettings(reading_pass_key=SecretStr("k" * 40))
    assert _code(_pass(own)) == "reading_pass_invalid"  # intake on the derived key
    assert reading_pass.check(own, _pass(own), EXPERT, "p1").sub == "zhang"
    bearer = TokenIssuer(SETTINGS).issue(sub="zhang", role=Role.EXPERT, jurisdictions=["zhonglou"])
    assert _code(bearer) == "reading_pass_invalid"
