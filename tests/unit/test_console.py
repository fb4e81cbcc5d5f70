"""The console's own rules, without a browser: amounts typed in 万元, where a sign-in may send
the browser back to, its settings, and the form tokens that tie a POST to its session."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from services.console.forms import FormError, fen_from_wan, lines, wan_from_fen
from services.console.main import create_app
from services.console.session import back_to
from services.console.settings import DEFAULT_SESSION_SECRET, ConsoleSettings
from services.console.timeline import timeline


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("80", 80_000_000),
        ("12.5", 12_500_000),
        ("0.000001", 1),
        ("1,234.56", 1_234_560_000),
        (" 3 ", 3_000_000),
    ],
)
def test_amounts_in_wan_are_exact_fen(typed: str, fen: int) -> None:
    assert fen_from_wan("amount", typed) == fen
    assert Decimal(wan_from_fen(fen)) * 1_000_000 == fen  # and back, exactly


@pytest.mark.parametrize("typed", ["八十", "", "0", "-1", "0.0000001", "NaN", "Infinity", "1e400x"])
def test_an_amount_that_is_not_whole_fen_or_not_positive_is_refused_in_words(typed: str) -> None:
    with pytest.raises(FormError) as refused:
        fen_from_wan("amount_wan", typed)
    assert refused.value.field == "amount_wan" and refused.value.message


def test_lists_are_one_item_a_line() -> None:
    assert lines(" 学籍信息 \n\n教师信息\r\n") == ["学籍信息", "教师信息"]


@pytest.mark.parametrize(
    ("after", "back"),
    [
        ("/projects/p1?x=1", "/projects/p1?x=1"),
        ("https://evil.example/", "/projects"),
        ("//evil.example/x", "/projects"),
        ("/\\evil.example", "/projects"),  # browsers read it as //evil.example
        ("javascript:alert(1)", "/projects"),
        (None, "/projects"),
    ],
)
def test_sign_in_sends_back_only_to_the_consoles_own_pages(after: str | None, back: str) -> None:
    assert back_to(after) == back


def test_settings_name_the_deployed_services_and_refuse_unknown_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVIT_CONSOLE_SERVICES", "funding, acceptance")
    monkeypatch.setenv("GOVIT_FUNDING_PORT", "9105")
    settings = ConsoleSettings()
    assert settings.deployed == ["funding", "acceptance"]
    assert settings.url("intake") is None
    assert settings.url("funding") == "http://127.0.0.1:9105"
    monkeypatch.setenv("GOVIT_CONSOLE_URLS", '{"acceptance": "http://govit-acceptance"}')
    assert ConsoleSettings().url("acceptance") == "http://govit-acceptance"
    monkeypatch.setenv("GOVIT_CONSOLE_SERVICES", "funding,payroll")
    with pytest.raises(ValidationError, match="payroll"):
        ConsoleSettings()


def test_production_refuses_the_development_session_secret() -> None:
    with pytest.raises(ValidationError, match="GOVIT_CONSOLE_SESSION_SECRET"):
        ConsoleSettings(environment="production", jwt_secret="x" * 40, audit_key="y" * 40)
    assert (
        ConsoleSettings(
            environment="production", jwt_secret="x" * 40, audit_key="y" * 40, session_secret="z" * 40
        ).session_secret.get_secret_value()
        != DEFAULT_SESSION_SECRET
    )


async def _client(**settings: object) -> httpx.AsyncClient:
    app = create_app(ConsoleSettings(environment="test", **settings))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


def _token(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


async def test_a_form_token_belongs_to_its_session_and_expires() -> None:
    async with await _client() as mine, await _client() as other:
        token = _token((await mine.get("/signin")).text)
        await other.get("/signin")  # a session of its own
        person = {"role": "finance", "name": "经办", "jurisdiction": "xunyang", "after": "/projects"}
        stolen = await other.post("/signin", data=person | {"csrf_token": token})
        assert stolen.status_code == 403 and "表单已失效" in stolen.text
        forged = await mine.post("/signin", data=person | {"csrf_token": token[:-2] + "xx"})
        assert forged.status_code == 403
        signed = await mine.post("/signin", data=person | {"csrf_token": token})
        assert signed.status_code == 303 and signed.headers["location"] == "/projects"
    async with await _client(session_hours=1e-9) as hurried:
        token = _token((await hurried.get("/signin")).text)
        person = {"role": "finance", "name": "经办", "jurisdiction": "xunyang"}
        late = await hurried.post("/signin", data=person | {"csrf_token": token})
        assert late.status_code == 403  # older than the session may live


async def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back() -> None:
    async with await _client() as browser:
        sent = await browser.get("/projects/p1", params={"tab": "gates"})
        assert sent.status_code == 303
        assert sent.headers["location"] == "/signin?after=/projects/p1%3Ftab%3Dgates"
        page = await browser.get(sent.headers["location"])
        assert 'name="after" value="/projects/p1?tab=gates"' in page.text


def _event(summary: str, time: str, sequence: int, **data: object) -> dict[str, object]:
    return {"summary": summary, "time": time, "sequence": sequence, "type": "govit.x.y.v1", "data": data}


def test_the_timeline_merges_every_services_events_by_when_they_happened() -> None:
    held = {"message": "尚未终验", "articles": ["xunyang §20"], "code": "final_acceptance"}
    pages = [
        ("funding", {"items": [_event("拨付已挂起", "2026-06-16T01:00:00Z", 1, closed_gates=[held])]}),
        (
            "intake",
            {
                "items": [
                    _event("项目已申报", "2026-06-15T02:00:00+00:00", 1),
                    _event("项目已批复", "2026-06-16T01:00:00Z", 2, articles=["xunyang §15"]),
                    _event("项目已形式审查", "2026-06-15T02:00:00+00:00", 3, reason="材料齐全"),
                ]
            },
        ),
    ]
    moments = timeline(pages)
    assert [(m.summary, m.label) for m in moments] == [
        ("项目已申报", "申报"),
        ("项目已形式审查", "申报"),  # the same instant: the service's own order
        ("项目已批复", "申报"),  # the same instant as funding's: intake comes first in the lifecycle
        ("拨付已挂起", "资金"),
    ]
    assert moments[1].said == ["材料齐全"] and moments[2].articles == ["xunyang §15"]
    assert moments[3].citations == [held] and moments[3].articles == []


async def test_metrics_count_the_calls_to_each_service_by_outcome() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.port == 8001:  # intake: down
            return httpx.Response(503)
        return httpx.Response(403, json={"title": "无权查看", "code": "forbidden_role"})

    settings = ConsoleSettings(environment="test", services=["intake", "procurement"])
    app = create_app(settings, transport=httpx.MockTransport(answer))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as browser:
        token = _token((await browser.get("/signin")).text)
        person = {"role": "finance", "name": "经办", "jurisdiction": "xunyang", "csrf_token": token}
        assert (await browser.post("/signin", data=person)).status_code == 303
        page = await browser.get("/projects/p1")
        assert "暂时无法访问" in page.text
        scraped = (await browser.get("/metrics")).text
    assert 'govit_console_backend_seconds_count{outcome="unavailable",service="intake"} 2.0' in scraped
    assert 'govit_console_backend_seconds_count{outcome="refused",service="procurement"} 2.0' in scraped
    assert 'govit_http_request_duration_seconds_count{method="GET",route="/projects/{project_id}"' in scraped
