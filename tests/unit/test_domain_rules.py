"""Pure rules: policy packs, working days, passwords, tokens, settings — no servers needed."""

from __future__ import annotations

import datetime as dt
import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
import yaml
from pydantic import ValidationError

import shared.auth
from shared.auth import EVERYWHERE, Role, Scope, TokenIssuer
from shared.passwords import check_password, hash_password, verify_password
from shared.policy import PolicyError, load_registry
from shared.policy.pack import JURISDICTIONS
from shared.problems import Problem
from shared.settings import GovitSettings
from shared.workdays import HolidayNotice, WorkingCalendar, load_notice

PACKS = Path(__file__).parents[2] / "shared" / "policy" / "packs"


def test_every_jurisdiction_has_a_pack_with_the_same_rules_each_citing_its_own_articles() -> None:
    registry = load_registry()
    assert set(registry.codes) == set(JURISDICTIONS)
    ids = {code: set(registry[code].rules) for code in registry.codes}
    assert len({frozenset(v) for v in ids.values()}) == 1
    for code in registry.codes:
        for rule in registry[code].rules.values():
            if rule.applies:
                assert rule.articles and all(a.startswith(f"{code} §") for a in rule.articles)


def test_a_pack_missing_a_rule_that_the_others_have_is_refused_at_load(tmp_path: Path) -> None:
    for path in PACKS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load((tmp_path / "lhasa.yaml").read_text(encoding="utf-8"))
    del data["rules"]["funding.approval_required"]
    (tmp_path / "lhasa.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"lhasa lacks rules: funding\.approval_required"):
        load_registry(tmp_path)


def test_a_pack_citing_another_jurisdictions_article_is_refused(tmp_path: Path) -> None:
    for path in PACKS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load((tmp_path / "shexian.yaml").read_text(encoding="utf-8"))
    data["rules"]["funding.approval_required"]["articles"] = ["zhonglou §13"]
    (tmp_path / "shexian.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match="cites another jurisdiction"):
        load_registry(tmp_path)


def test_a_refusal_message_names_the_article() -> None:
    reason = load_registry().refusal("zhonglou", "funding.approval_required", "gate_closed:approval")
    assert reason.rule == "zhonglou §13"
    assert reason.message.endswith("（zhonglou §13）")


# --- working days -------------------------------------------------------------------------


def test_working_days_skip_national_day_and_count_the_adjusted_saturday() -> None:
    # 2025: 国庆中秋 Oct 1–8 off; Sun Sep 28 and Sat Oct 11 are working days (国办发明电〔2024〕12号).
    cal = WorkingCalendar()
    assert cal.is_workday(dt.date(2025, 9, 28))
    assert not cal.is_workday(dt.date(2025, 10, 3))
    assert cal.is_workday(dt.date(2025, 10, 11))
    deadline = cal.add_working_days(dt.date(2025, 9, 30), 2)
    assert deadline.date == dt.date(2025, 10, 10)
    assert not deadline.provisional


def test_a_deadline_in_a_year_without_a_notice_is_provisional_and_counts_weekends_only() -> None:
    cal = WorkingCalendar()
    assert not cal.known(2031)
    # Fri 2031-01-03 + 1 working day: weekends alone → Mon 2031-01-06, marked 暂定.
    deadline = cal.add_working_days(dt.date(2031, 1, 3), 1)
    assert deadline.date == dt.date(2031, 1, 6)
    assert deadline.provisional
    assert deadline.label() == "2031-01-06（暂定）"


def test_a_loaded_notice_makes_that_years_deadlines_firm(tmp_path: Path) -> None:
    # An illustrative notice for 2031 (test data, not the real arrangement).
    source = tmp_path / "notice.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "year": 2031,
                "source": "测试用节假日安排（示例）",
                "holidays": [{"name": "元旦", "start": "2031-01-01", "end": "2031-01-06"}],
                "workdays": ["2031-01-11"],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    load_notice(source, tmp_path / "calendar")
    cal = WorkingCalendar.from_dir(tmp_path / "calendar")
    assert cal.known(2031)
    assert cal.is_workday(dt.date(2031, 1, 11))  # a Saturday made a working day
    deadline = cal.add_working_days(dt.date(2031, 1, 3), 1)
    assert deadline == type(deadline)(dt.date(2031, 1, 7), False)


def test_a_notice_that_marks_a_weekday_as_adjusted_working_day_is_rejected() -> None:
    with pytest.raises(ValidationError, match="weekday"):
        HolidayNotice(year=2031, source="测试通知", holidays=(), workdays=(dt.date(2031, 1, 8),))


# --- passwords, tokens, settings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Abcdef12", True),
        ("abc!ef12", True),
        ("abcdefgh", False),
        ("Ab1!", False),
        ("ABCDEFG1", False),
    ],
)
def test_passwords_follow_zhonglou_24_there_and_the_suites_default_elsewhere(password: str, ok: bool) -> None:
    policy = load_registry()
    decision = check_password(password, policy, "zhonglou")
    assert decision.allowed is ok
    if not ok:
        assert decision.reasons[0].rule == "zhonglou §24"
    # No other text writes a password rule: the same strength, said to be the suite's own.
    elsewhere = check_password(password, policy, "lhasa")
    assert elsewhere.allowed is ok
    if not ok:
        assert (
            elsewhere.reasons[0].articles == () and "本系统默认，非办法条文" in elsewhere.reasons[0].message
        )
        assert "§" not in elsewhere.reasons[0].message


def test_password_hashes_are_argon2_and_verify() -> None:
    hashed = hash_password("Abcdef12!")
    assert hashed.startswith("$argon2id$")
    assert verify_password("Abcdef12!", hashed)
    assert not verify_password("abcdef12!", hashed)


def test_a_token_carries_role_and_agency_and_expires() -> None:
    issuer = TokenIssuer(GovitSettings())
    principal = issuer.verify(issuer.issue(sub="u1", role=Role.APPLICANT, agency="县教育局"))
    assert (principal.role, principal.agency) == (Role.APPLICANT, "县教育局")
    expired = issuer.issue(sub="u1", role=Role.FINANCE, jurisdictions=["shexian"], ttl=timedelta(seconds=-1))
    with pytest.raises(Problem) as caught:
        issuer.verify(expired)
    assert caught.value.status == 401


def _signed(settings: GovitSettings, **claims: object) -> str:
    """A token with exactly these claims (besides the standard ones), as an identity provider might issue."""
    now = dt.datetime.now(dt.UTC)
    standard = {"iss": "govit", "aud": "govit", "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode({**standard, **claims}, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def test_a_verified_token_is_remembered_for_a_minute_at_most_and_never_past_its_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issuer = TokenIssuer(GovitSettings())
    checked: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        checked.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    clock = [time.time()]
    monkeypatch.setattr(shared.auth.time, "time", lambda: clock[0])
    short = _signed(GovitSettings(), sub="s", role="applicant", agency="县教育局", exp=int(clock[0]) + 30)
    long = issuer.issue(sub="l", role=Role.APPLICANT, agency="县教育局")
    for token in (short, long, short, long):
        assert issuer.verify(token).agency == "县教育局"
    assert checked == [short, long]  # the second time each was taken from memory
    clock[0] += 31  # past the short one's expiry, within a minute of the long one's check
    issuer.verify(short)  # (the signature's own check of the expiry goes by the real clock)
    issuer.verify(long)
    assert checked == [short, long, short]
    clock[0] += 30  # a minute after the long one was checked: checked again
    issuer.verify(long)
    assert checked == [short, long, short, long]


def test_a_token_names_the_jurisdictions_its_holder_acts_for_and_admin_spans_them_all() -> None:
    settings = GovitSettings()
    issuer = TokenIssuer(settings)
    one = issuer.verify(issuer.issue(sub="a", role=Role.AUTHORITY, jurisdictions=["zhonglou"]))
    assert one.jurisdictions == {"zhonglou"} and one.scope == Scope(frozenset({"zhonglou"}))
    assert one.scope.covers("zhonglou", "区教育局") and not one.scope.includes("lhasa")
    both = issuer.verify(_signed(settings, sub="b", role="auditor", jurisdiction=["lhasa", "xunyang"]))
    assert both.jurisdictions == {"lhasa", "xunyang"}
    admin = issuer.verify(issuer.issue(sub="c", role=Role.ADMIN))
    assert admin.scope == EVERYWHERE and all(admin.scope.includes(j) for j in JURISDICTIONS)
    # An agency acts for itself; a jurisdiction it names is enforced too.
    unit = issuer.verify(issuer.issue(sub="d", role=Role.APPLICANT, agency="区教育局"))
    assert unit.scope == Scope(None, "区教育局") and not unit.scope.covers("zhonglou", "区卫健委")
    named = issuer.verify(
        issuer.issue(sub="e", role=Role.APPLICANT, agency="区教育局", jurisdictions=["zhonglou"])
    )
    assert named.scope.covers("zhonglou", "区教育局") and not named.scope.covers("lhasa", "区教育局")


@pytest.mark.parametrize("role", ["authority", "finance", "expert", "auditor"])
@pytest.mark.parametrize("claim", [None, "nowhere", ["zhonglou", "nowhere"], 7, []])
def test_the_people_of_a_jurisdiction_without_a_known_one_are_refused(role: str, claim: object) -> None:
    settings = GovitSettings()
    token = _signed(settings, sub="u", role=role, **({} if claim is None else {"jurisdiction": claim}))
    with pytest.raises(Problem) as caught:
        TokenIssuer(settings).verify(token)
    assert (caught.value.status, caught.value.code) == (401, "invalid_token")
    with pytest.raises(ValueError, match="辖区"):
        TokenIssuer(settings).issue(
            sub="u", role=Role(role), jurisdictions=[] if claim is None else ["nowhere"]
        )


def test_the_jurisdiction_claim_of_an_identity_provider_is_named_in_the_settings() -> None:
    settings = GovitSettings(jwt_jurisdiction_claim="govit_regions")
    issuer = TokenIssuer(settings)
    token = issuer.issue(sub="u", role=Role.EXPERT, jurisdictions=["bayingolin"])
    assert jwt.decode(token, options={"verify_signature": False})["govit_regions"] == "bayingolin"
    assert issuer.verify(token).jurisdictions == {"bayingolin"}
    # The default claim name means nothing to this deployment.
    with pytest.raises(Problem):
        issuer.verify(_signed(settings, sub="u", role="expert", jurisdiction="bayingolin"))


def test_every_pack_names_the_expert_pool_its_panels_draw_from(tmp_path: Path) -> None:
    registry = load_registry()
    assert {j: registry.expert_pool(j) for j in JURISDICTIONS} == {j: j for j in JURISDICTIONS}
    # Two jurisdictions naming one pool share it; a pool named after a jurisdiction drawing from
    # another pool is refused as ambiguous.
    for pack in PACKS.glob("*.yaml"):
        data = yaml.safe_load(pack.read_text(encoding="utf-8"))
        if pack.stem in ("xunyang", "shexian"):
            data["rules"]["review.expert_pool"]["params"]["pool"] = "zhonglou"
        (tmp_path / pack.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shared = load_registry(tmp_path)
    assert shared.sharing_pool("zhonglou") == {"zhonglou", "xunyang", "shexian"}
    data = yaml.safe_load((tmp_path / "zhonglou.yaml").read_text(encoding="utf-8"))
    data["rules"]["review.expert_pool"]["params"]["pool"] = "lhasa"
    (tmp_path / "zhonglou.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match="pool"):
        load_registry(tmp_path)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    other = TokenIssuer(GovitSettings(jwt_secret="x" * 40)).issue(sub="u", role=Role.ADMIN)
    with pytest.raises(Problem):
        TokenIssuer(GovitSettings()).verify(other)


def test_production_refuses_to_start_with_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="GOVIT_JWT_SECRET"):
        GovitSettings(environment="production")
    started = GovitSettings(environment="production", jwt_secret="s" * 40, audit_key="k" * 40)
    assert started.environment == "production"


def test_a_service_listening_beyond_loopback_refuses_the_default_secret() -> None:
    from services.funding.settings import FundingSettings

    with pytest.raises(ValidationError, match="not loopback"):
        FundingSettings(host="0.0.0.0")
    assert FundingSettings(host="0.0.0.0", jwt_secret="k" * 40).host == "0.0.0.0"
    assert FundingSettings().host == "127.0.0.1"


def test_xunyang_takes_every_change_to_the_authority() -> None:
    """xunyang §15: 严格遵守批准文件中核定的建设内容、规模、标准、投资额 — no change is merely filed."""
    from services.procurement.domain import ChangeFigures, Ground, route_change
    from services.procurement.domain import Path as ChangePath

    for delta, adjustment in ((1, 0), (0, 1), (-1_000_000, 0), (50_000_000, 50_000_000)):
        routed = route_change(
            load_registry(),
            "xunyang",
            ChangeFigures(
                approved_fen=100_000_000,
                prior_overrun_fen=0,
                prior_adjusted_fen=0,
                total_delta_fen=delta,
                adjustment_fen=adjustment,
                goal_changed=False,
                ground=Ground.OPTIMISATION,
            ),
        )
        assert routed.path is ChangePath.APPROVAL and routed.approvers == ("authority",)
        assert [a for reason in routed.reasons for a in reason.articles] == ["xunyang §15"]
        # §15 keeps the approved content and names no approver: that part is the suite's default.
        (message,) = [reason.message for reason in routed.reasons]
        assert message == (
            "无特殊原因，项目建设过程中应当严格遵守批准文件中核定的建设内容、规模、标准、投资额和其他控制指标"
            "（xunyang §15）；变更由主管部门审批（本系统默认，非办法条文）"
        )
