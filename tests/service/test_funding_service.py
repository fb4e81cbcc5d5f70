"""The funding service over HTTP and events, on SQLite and PostgreSQL with a real JetStream.

Every gate is opened or closed by another service's event, published onto the stream as that
service does; each payment is held while a gate it needs is closed and released by itself, once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response

from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from shared.auth import Role
from shared.bus import JetStreamBus
from shared.contracts import Event, encode, subject_for
from shared.contracts.acceptance import (
    AuditReportFiled,
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
    SecurityAttested,
)
from shared.contracts.intake import ProjectApproved, ProjectDeclared, ProjectIncludedInPlan, ProjectTerminated
from shared.contracts.procurement import ContractFiled, Milestone
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import Clock, events_of, publish

# "acceptance" in these tests is funding's gate of that name, fed by events the test publishes.
pytestmark = pytest.mark.services("funding", homonyms=("acceptance",))

FINANCE = bearer(Role.FINANCE, sub="财政局")
WAN = 1_000_000  # 1万元 in fen
SHARING = "govit.acceptance.data_sharing_decided.v1"
AUTHORITY = bearer(Role.AUTHORITY, sub="数据资源局")


@dataclass
class Funding:
    http: AsyncClient
    bus: JetStreamBus
    clock: Clock


@pytest.fixture
async def funding(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[Funding]:
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    settings = FundingSettings(
        database_url=await make_database("funding"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        manual_events=[SHARING],
        trusted_sources={SHARING: {"urn:gov:shexian:sharing-platform": ["shexian"]}},
        **isolation,
    )
    async with (
        real_bus(nats_url, isolation, clock) as bus,
        running(create_funding(settings, clock=clock)) as http,
    ):
        yield Funding(http, bus, clock)


def unit(project: dict[str, Any]) -> dict[str, str]:
    return bearer(Role.APPLICANT, project["agency"], sub="建设单位经办人")


async def send(f: Funding, project: dict[str, Any], event_type: type[Event], **fields: Any) -> str:
    source = "/govit/" + event_type.model_fields["type"].default.split(".")[1]
    return await publish(f.bus, about(project, event_type, **fields), source)


def about(project: dict[str, Any], event_type: type[Event], **fields: Any) -> Event:
    base = {"project_id": project["id"], "jurisdiction": project["jurisdiction"]}
    if "agency" in event_type.model_fields:
        base["agency"] = project["agency"]
    return event_type(**base, **fields)


async def send_dated(
    f: Funding,
    project: dict[str, Any],
    event: Event,
    *,
    time: datetime,
    sequence: int | None = None,
    source: str = "/govit/acceptance",
) -> str:
    """An event as a producer whose clock says `time` sends it, numbered `sequence` by it."""
    event_id = str(uuid.uuid4())
    raw = encode(event, source=source, event_id=event_id, time=time, sequence=sequence)
    await f.bus.publish(subject_for(f.bus.prefix, event), raw, {"Nats-Msg-Id": event_id})
    return event_id


async def handled(f: Funding, project: dict[str, Any]) -> None:
    """Wait until funding has handled everything published so far (it consumes in stream order)."""
    await gate_event(
        f, project, "security", await send(f, project, SecurityAttested, attestation="mlps", compliant=True)
    )


async def gates(f: Funding, project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    response = await f.http.get(f"/projects/{project['id']}/gates", headers=FINANCE)
    assert response.status_code == 200, response.text
    return {g["gate"]: g for g in response.json()}


async def gate_is(f: Funding, project: dict[str, Any], gate: str, open_: bool) -> None:
    async def reached() -> bool:
        return bool((await gates(f, project))[gate]["open"] is open_)

    await eventually(reached, what=f"gate {gate} {'open' if open_ else 'closed'}")


async def gate_event(f: Funding, project: dict[str, Any], gate: str, event_id: str) -> None:
    """Wait until the gate was last set by this event."""

    async def reached() -> bool:
        event = (await gates(f, project))[gate]["event"]
        return event is not None and event["id"] == event_id

    await eventually(reached, what=f"gate {gate} set by {event_id}")


async def declared(
    f: Funding, jurisdiction: str, amount_fen: int = 200 * WAN, kind: str = "construction", **fields: Any
) -> dict[str, Any]:
    project = {"id": unique("p"), "jurisdiction": jurisdiction, "agency": unique("单位")}
    await send(f, project, ProjectDeclared, title="政务服务平台", kind=kind, amount_fen=amount_fen, **fields)

    async def known() -> bool:
        return (await f.http.get(f"/projects/{project['id']}", headers=FINANCE)).status_code == 200

    await eventually(known, what="funding to record the declaration")
    return project


async def approved(f: Funding, jurisdiction: str, amount_fen: int = 200 * WAN, **kw: Any) -> dict[str, Any]:
    project = await declared(f, jurisdiction, amount_fen, **kw)
    await send(f, project, ProjectIncludedInPlan, plan_year=2026, rank=1, plan_document="计〔2026〕1号")
    await send(
        f, project, ProjectApproved, approved_amount_fen=amount_fen, plan_year=2026, articles=("x §1",)
    )
    await gate_is(f, project, "approval", True)
    return project


async def contract(f: Funding, project: dict[str, Any], amount_fen: int = 100 * WAN) -> str:
    contract_id = uuid.uuid4().hex
    shares = [
        ("预付款", "signing", 30),
        ("初验款", "initial_acceptance", 40),
        ("终验款", "final_acceptance", 30),
    ]
    await send(
        f,
        project,
        ContractFiled,
        contract_id=contract_id,
        role="construction",
        counterparty="某某信息技术有限公司",
        credit_code="91320400MA1XXXXX0A",
        amount_fen=amount_fen,
        signed_on=date(2026, 3, 1),
        filed_on=date(2026, 3, 2),
        milestones=tuple(
            Milestone(name=n, stage=s, share_percent=str(p), amount_fen=amount_fen * p // 100)  # type: ignore[arg-type]
            for n, s, p in shares
        ),
    )
    return contract_id


async def pay(
    f: Funding, project: dict[str, Any], amount_fen: int, kind: str = "construction", **kw: Any
) -> Response:
    body = {"amount_fen": amount_fen, "purpose": "拨付", "kind": kind, **kw}
    headers = {**unit(project), **({"Idempotency-Key": kw.pop("key")} if "key" in kw else {})}
    body.pop("key", None)
    return await f.http.post(f"/projects/{project['id']}/disbursements", headers=headers, json=body)


async def status_of(f: Funding, disbursement_id: str, expected: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        got = (await f.http.get(f"/disbursements/{disbursement_id}", headers=FINANCE)).json()
        return got if got["status"] == expected else None

    return dict(await eventually(reached, what=f"disbursement {expected}"))


def closed(response: Response) -> dict[str, list[str]]:
    return {g["code"].split(":", 1)[1]: g["articles"] for g in response.json()["closed_gates"]}


async def funding_events(
    f: Funding, project: dict[str, Any], name: str, at_least: int = 1
) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        got = [d for k, d in await events_of(f.bus, project["id"]) if k == f"govit.funding.{name}.v1"]
        return got if len(got) >= at_least else None

    return list(await eventually(found, what=f"funding.{name}"))


# -- gates hold and release -----------------------------------------------------------------------------


async def test_milestones_wait_for_their_stage_and_the_final_payment_for_the_acceptance_report(
    funding: Funding,
) -> None:
    f = funding
    project = await approved(f, "zhonglou")
    contract_id = await contract(f, project)
    await eventually(lambda: pay_ok(f, project, contract_id), what="the contract to reach funding")

    initial = await pay(f, project, 40 * WAN, "milestone", contract_id=contract_id, milestone="初验款")
    assert initial.status_code == 202 and closed(initial) == {"initial_acceptance": []}, initial.text
    final = await pay(f, project, 30 * WAN, "milestone", contract_id=contract_id, milestone="终验款")
    assert closed(final) == {"acceptance": ["zhonglou §18", "zhonglou §19"]}, final.text

    event_id = await send(f, project, InitialAcceptanceRecorded, held_on=date(2026, 6, 1), passed=True)
    await status_of(f, initial.json()["id"], "released")
    assert (await f.http.get(f"/disbursements/{final.json()['id']}", headers=FINANCE)).json()[
        "status"
    ] == "held"
    report = await gates(f, project)
    assert report["initial_acceptance"]["event"]["id"] == event_id
    assert report["initial_acceptance"]["event"]["type"] == "govit.acceptance.initial_acceptance_recorded.v1"
    assert report["acceptance"]["required_for"]["final"] == ["zhonglou §18", "zhonglou §19"]
    assert report["approval"]["open"] and report["approval"]["required_for"]["construction"] == [
        "zhonglou §13"
    ]

    await send(f, project, FinalAcceptanceConcluded, passed=True, concluded_on=date(2026, 9, 1))
    released = await status_of(f, final.json()["id"], "released")
    assert released["closed_gates"] == []
    found = await funding_events(f, project, "disbursement_released", at_least=3)
    assert sorted(e["milestone"] for e in found if e["milestone"]) == ["初验款", "终验款", "预付款"]
    held = await funding_events(f, project, "disbursement_held", at_least=2)
    assert {g["code"] for h in held for g in h["closed_gates"]} == {
        "gate_closed:initial_acceptance",
        "gate_closed:acceptance",
    }


async def pay_ok(
    f: Funding, project: dict[str, Any], contract_id: str, contract_fen: int = 100 * WAN
) -> bool:
    """Pays the advance (signing: no gate) once the filed contract has reached funding."""
    advance = contract_fen * 30 // 100
    response = await pay(f, project, advance, "milestone", contract_id=contract_id, milestone="预付款")
    return response.status_code == 201


async def test_xunyang_pays_the_final_amount_after_acceptance_and_the_audit_report(funding: Funding) -> None:
    f = funding
    project = await approved(f, "xunyang")
    await contract(f, project)

    async def final_request() -> Response | None:
        response = await pay(f, project, 20 * WAN, "final")
        return response if response.status_code == 202 else None

    held = await eventually(final_request, what="a held final payment")
    assert closed(held) == {"acceptance": ["xunyang §20"], "audit_report": ["xunyang §20"]}
    await send(f, project, FinalAcceptanceConcluded, passed=True, concluded_on=date(2026, 9, 1))
    await gate_is(f, project, "acceptance", True)
    still = (await f.http.get(f"/disbursements/{held.json()['id']}", headers=FINANCE)).json()
    assert still["status"] == "held" and [g["code"] for g in still["closed_gates"]] == [
        "gate_closed:audit_report"
    ]
    await send(f, project, AuditReportFiled, reference="浔审〔2026〕7号", issued_on=date(2026, 9, 2))
    await status_of(f, held.json()["id"], "released")


# -- money never exceeds; exactly once ------------------------------------------------------------------


async def test_money_never_exceeds_the_total_or_the_contract_and_each_milestone_is_paid_once(
    funding: Funding,
) -> None:
    f = funding
    project = await approved(f, "zhonglou", 100 * WAN)
    over = await pay(f, project, 100 * WAN + 1)
    assert over.status_code == 409 and over.json()["reasons"][0]["code"] == "exceeds_approved_total", (
        over.text
    )
    contract_id = await contract(f, project, 50 * WAN)
    await eventually(lambda: pay_ok(f, project, contract_id, 50 * WAN), what="the contract")
    again = await pay(f, project, 15 * WAN, "milestone", contract_id=contract_id, milestone="预付款")
    assert again.status_code == 409, again.text
    too_much = await pay(f, project, 20 * WAN + 1, "milestone", contract_id=contract_id, milestone="初验款")
    assert too_much.status_code == 409
    unknown = await pay(f, project, 1, "milestone", contract_id="nope", milestone="预付款")
    assert unknown.status_code == 409

    # The same request sent twice at once, with one key: one disbursement, released once.
    key = unique("k")
    first, second = await asyncio.gather(
        pay(f, project, 10 * WAN, key=key), pay(f, project, 10 * WAN, key=key)
    )
    assert {first.status_code, second.status_code} <= {200, 201}, (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    listed = await f.http.get("/disbursements", params={"project_id": project["id"]}, headers=FINANCE)
    assert [d["amount_fen"] for d in listed.json()["items"]].count(10 * WAN) == 1
    released = await funding_events(f, project, "disbursement_released", at_least=2)
    assert [e["disbursement_id"] for e in released].count(first.json()["id"]) == 1

    # Two different requests for one milestone at once: one wins, the other is refused.
    results = await asyncio.gather(
        *(
            pay(f, project, 20 * WAN, "milestone", contract_id=contract_id, milestone="初验款")
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in results) == [202, 409], [r.text for r in results]


async def test_termination_rejects_held_requests_and_starts_reclaiming_released_money(
    funding: Funding,
) -> None:
    f = funding
    project = await approved(f, "zhonglou", 100 * WAN)
    released = await pay(f, project, 30 * WAN)
    assert released.status_code == 201, released.text
    contract_id = await contract(f, project, 60 * WAN)
    await eventually(lambda: pay_ok(f, project, contract_id, 60 * WAN), what="the contract")
    held = await pay(f, project, 24 * WAN, "milestone", contract_id=contract_id, milestone="初验款")
    assert held.status_code == 202

    await send(
        f, project, ProjectTerminated, reason="评审通过后3个月内未实质性启动", articles=("zhonglou §17",)
    )
    rejected = await status_of(f, held.json()["id"], "rejected")
    assert "终止" in rejected["decided_reason"]
    (reclaim,) = await funding_events(f, project, "reclaim_recorded")
    assert reclaim["status"] == "started" and reclaim["amount_fen"] == 30 * WAN + 18 * WAN
    assert reclaim["articles"] == ["zhonglou §17"]
    (rejection,) = await funding_events(f, project, "disbursement_rejected")
    assert rejection["disbursement_id"] == held.json()["id"]
    after = await pay(f, project, WAN)
    assert after.status_code == 409 and after.json()["reasons"][0]["articles"] == ["zhonglou §17"]
    listed = (await f.http.get(f"/projects/{project['id']}/reclaims", headers=FINANCE)).json()["items"]
    done = await f.http.post(
        f"/projects/{project['id']}/reclaims/{listed[0]['id']}/completion",
        headers=FINANCE,
        json={"returned_fen": 48 * WAN},
    )
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    assert not (await gates(f, project))["standing"]["open"]


# -- O&M funds ------------------------------------------------------------------------------------------


async def om(f: Funding, project: dict[str, Any], year: int = 2027, **kw: Any) -> Response:
    body = {"amount_fen": 10 * WAN, "budget_year": year, **kw}
    return await f.http.post(f"/projects/{project['id']}/om-applications", headers=unit(project), json=body)


def denied(response: Response) -> dict[str, list[str]]:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "om_denied"
    return {r["code"]: r["articles"] for r in response.json()["reasons"]}


async def test_shexian_om_needs_confirmed_sharing_and_compliant_security(funding: Funding) -> None:
    f = funding
    project = await approved(f, "shexian")
    assert denied(await om(f, project)) == {
        "gate_closed:data_sharing": ["shexian §39", "shexian §44(一)"],
        "gate_closed:security": ["shexian §44(二)"],  # no 等保 or 密评 on file: not proven
        "gate_closed:crypto": ["shexian §44(二)"],
    }
    await send(f, project, SecurityAttested, attestation="mlps", compliant=True)
    await send(f, project, DataSharingDecided, decision="confirmed")
    await gate_event(
        f, project, "crypto", await send(f, project, SecurityAttested, attestation="crypto", compliant=False)
    )
    assert denied(await om(f, project)) == {"gate_closed:crypto": ["shexian §44(二)"]}
    await send(
        f, project, SecurityAttested, attestation="crypto", compliant=True, valid_until=date(2027, 3, 1)
    )
    revoked = await send(
        f, project, DataSharingDecided, decision="revoked", duplicate_collection=True, reason="重复采集"
    )
    await gate_event(f, project, "no_duplicate_collection", revoked)  # not merely closed: closed by it
    await gate_is(f, project, "no_duplicate_collection", False)
    assert set(denied(await om(f, project))) == {
        "gate_closed:data_sharing",
        "gate_closed:no_duplicate_collection",
    }
    await send(f, project, DataSharingDecided, decision="confirmed")
    await gate_is(f, project, "no_duplicate_collection", True)
    approved_om = await om(f, project)
    assert approved_om.status_code == 201 and approved_om.json()["status"] == "released", approved_om.text
    assert (await om(f, project)).status_code == 409  # one grant per budget year
    decided = await funding_events(f, project, "om_decided", at_least=4)
    assert [d["approved"] for d in decided] == [False, False, False, True]
    f.clock.now = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # the 密评 expired
    assert denied(await om(f, project, 2028)) == {"gate_closed:crypto": ["shexian §44(二)"]}
    unknown = await f.http.post(
        "/projects/nowhere/om-applications",
        params={"jurisdiction": "shexian"},
        headers=FINANCE,
        json={"amount_fen": WAN, "budget_year": 2027},
    )
    assert unknown.status_code == 409 and unknown.json()["reasons"][0]["articles"] == ["shexian §44(三)"]


async def test_zhonglou_om_waits_for_acceptance_and_for_fixed_evaluation_problems(funding: Funding) -> None:
    f = funding
    project = await approved(f, "zhonglou")
    assert denied(await om(f, project)) == {"gate_closed:acceptance": ["zhonglou §19"]}
    await send(f, project, FinalAcceptanceConcluded, passed=True, concluded_on=date(2026, 3, 1))
    evaluated = await send(
        f,
        project,
        EvaluationRecorded,
        evaluation="post",
        evaluation_id="e1",
        serious_problems=("数据未共享",),
        rectification_due=date(2026, 3, 31),
    )
    await gate_event(f, project, "evaluation", evaluated)
    assert (await om(f, project)).status_code == 201  # the rectification deadline has not passed
    f.clock.now = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    assert denied(await om(f, project, 2028)) == {"gate_closed:evaluation": ["zhonglou §21"]}
    fixed = await send(
        f,
        project,
        EvaluationRecorded,
        evaluation="post",
        evaluation_id="e1",
        serious_problems=("数据未共享",),
        rectified=True,
    )
    await gate_event(f, project, "evaluation", fixed)
    assert (await om(f, project, 2028)).status_code == 201


async def test_zhonglou_28_withholds_om_from_systems_unshared_by_its_day_and_never_from_classified_ones(
    funding: Funding,
) -> None:
    """zhonglou §28: 未于2023年9月底前…共享数据信息的系统(非涉密)，原则上下一年的维护经费一律不予核准."""
    f = funding
    f.clock.now = datetime(2023, 11, 1, 2, 0, tzinfo=UTC)
    in_use = await approved(f, "zhonglou")
    await send(f, in_use, FinalAcceptanceConcluded, passed=True, concluded_on=date(2022, 6, 1))
    await gate_is(f, in_use, "acceptance", True)
    refusal = (await om(f, in_use, 2024)).json()["reasons"]
    assert [(r["code"], r["articles"], r["in_principle"]) for r in refusal] == [
        ("om_not_shared_by_deadline", ["zhonglou §28"], True)
    ]
    # The authority records by hand that the system shared its data before the day.
    shared = about(in_use, DataSharingDecided, decision="confirmed", shared_on=date(2023, 9, 15))
    recorded = await f.http.post(
        "/manual-events",
        headers=AUTHORITY,
        json={
            "type": SHARING,
            "data": shared.model_dump(mode="json", exclude={"type"}),
            "document_ref": "钟数〔2023〕12号",
        },
    )
    assert recorded.status_code == 201, recorded.text
    assert (await gates(f, in_use))["data_sharing"]["detail"]["shared_on"] == "2023-09-15"
    assert (await om(f, in_use, 2024)).status_code == 201

    # A classified system meets neither the day nor a refused sharing decision (非涉密 only).
    secret = await approved(f, "zhonglou", classified=True)
    assert (await f.http.get(f"/projects/{secret['id']}", headers=FINANCE)).json()["classified"] is True
    await send(f, secret, FinalAcceptanceConcluded, passed=True, concluded_on=date(2022, 6, 1))
    refused = await send(f, secret, DataSharingDecided, decision="refused", reason="未接入共享平台")
    await gate_is(f, secret, "acceptance", True)
    await gate_event(f, secret, "data_sharing", refused)  # a closed gate is also what nothing recorded
    await gate_is(f, secret, "data_sharing", False)
    assert (await om(f, secret, 2024)).status_code == 201

    # shexian §44(三) binds 非涉密 projects: an unrecorded classified one is not refused by it.
    unknown = await f.http.post(
        "/projects/nowhere/om-applications",
        params={"jurisdiction": "shexian"},
        headers=FINANCE,
        json={"amount_fen": WAN, "budget_year": 2024, "classified": True},
    )
    assert unknown.status_code == 404 and "shexian §44(三)" in unknown.json()["detail"], unknown.text


async def test_lhasa_and_bayingolin_om_calendars(funding: Funding) -> None:
    f = funding
    lhasa = await approved(f, "lhasa")
    await send(f, lhasa, FinalAcceptanceConcluded, passed=True, concluded_on=date(2025, 3, 1))
    await gate_is(f, lhasa, "acceptance", True)
    reasons = denied(await om(f, lhasa, free_maintenance_ends_on="2027-12-31"))
    assert reasons == {
        "om_within_grace_years": ["lhasa §20"],
        "om_evaluation_report_missing": ["lhasa §27"],
    }  # lhasa §19 ties no O&M funds to an authority's confirmation of data sharing
    f.clock.now = datetime(2028, 3, 2, 2, 0, tzinfo=UTC)
    await gate_event(f, lhasa, "evaluation", await send(f, lhasa, EvaluationRecorded, evaluation="post"))
    late = denied(await om(f, lhasa, 2029, free_maintenance_ends_on="2028-12-31"))
    assert late == {"om_application_late": ["lhasa §27"]}
    assert (await om(f, lhasa, 2030, free_maintenance_ends_on="2029-12-31")).status_code == 201

    bayingolin = await approved(f, "bayingolin")
    f.clock.now = datetime(2028, 5, 2, 2, 0, tzinfo=UTC)
    assert denied(await om(f, bayingolin, 2029)) == {
        "gate_closed:acceptance": ["bayingolin §25"],
        "om_outside_window": ["bayingolin §10"],
    }  # bayingolin §13: data sharing is 重要依据, shown beside the decision, never a refusal
    await send(f, bayingolin, FinalAcceptanceConcluded, passed=True, concluded_on=date(2027, 3, 1))
    refused = await send(f, bayingolin, DataSharingDecided, decision="refused", reason="共享清单不全")
    await gate_is(f, bayingolin, "acceptance", True)
    await gate_event(f, bayingolin, "data_sharing", refused)  # a closed gate is also what nothing recorded
    await gate_is(f, bayingolin, "data_sharing", False)
    f.clock.now = datetime(2028, 8, 2, 2, 0, tzinfo=UTC)
    granted = await om(f, bayingolin, 2029)
    assert granted.status_code == 201 and granted.json()["status"] == "released", granted.text
    (basis,) = granted.json()["bases"]
    assert basis["code"] == "basis:data_sharing" and basis["articles"] == ["bayingolin §13"]
    assert basis["message"].startswith("数据共享情况：主管部门不予确认（共享清单不全）"), basis
    report = (await f.http.get(f"/projects/{bayingolin['id']}/gates", headers=FINANCE)).json()
    sharing = next(g for g in report if g["gate"] == "data_sharing")
    assert sharing["required_for"] == {} and sharing["basis_for"] == {"om": ["bayingolin §13"]}


async def test_xunyang_om_waits_for_the_acceptance_and_the_audit_report(funding: Funding) -> None:
    """xunyang §20: 未经验收、验收不合格或没有审计报告的项目，区财政局不予资金拨付 — O&M funds too."""
    f = funding
    project = await approved(f, "xunyang")
    assert denied(await om(f, project)) == {
        "gate_closed:acceptance": ["xunyang §20"],
        "gate_closed:audit_report": ["xunyang §20"],
    }
    await send(f, project, FinalAcceptanceConcluded, passed=True, concluded_on=date(2026, 8, 1))
    await gate_is(f, project, "acceptance", True)
    assert denied(await om(f, project)) == {"gate_closed:audit_report": ["xunyang §20"]}
    await send(f, project, AuditReportFiled, reference="浔审〔2026〕9号", issued_on=date(2026, 9, 2))
    await gate_is(f, project, "audit_report", True)
    granted = await om(f, project)
    assert granted.status_code == 201 and granted.json()["status"] == "released", granted.text


# -- settlement -----------------------------------------------------------------------------------------


async def test_settlement_returns_the_surplus_and_routes_to_review_or_audit(funding: Funding) -> None:
    f = funding
    bayingolin = await approved(f, "bayingolin", 100 * WAN)
    assert (await pay(f, bayingolin, 90 * WAN)).status_code == 201
    settled = await f.http.post(
        f"/projects/{bayingolin['id']}/settlement",
        headers=FINANCE,
        json={"final_cost_fen": 85 * WAN, "settled_on": "2026-12-01"},
    )
    assert settled.status_code == 200, settled.text
    assert settled.json()["settlement"]["surplus_fen"] == 15 * WAN
    assert settled.json()["settlement"]["to_return_fen"] == 5 * WAN
    (event,) = await funding_events(f, bayingolin, "settlement_recorded")
    assert event["articles"] == ["bayingolin §28"]

    lhasa = await approved(f, "lhasa", 2 * 10_000 * WAN)  # 2亿 > 1亿: audit
    early = await f.http.post(
        f"/projects/{lhasa['id']}/settlement",
        headers=FINANCE,
        json={"final_cost_fen": 10_000 * WAN, "settled_on": "2026-07-31"},
    )
    # lhasa §21: 通过竣工验收并办理完相关决(结)算手续的项目 — settled only once accepted.
    assert early.status_code == 409, early.text
    assert [r["articles"] for r in early.json()["reasons"]] == [["lhasa §21"]]
    await send(f, lhasa, FinalAcceptanceConcluded, passed=True, concluded_on=date(2026, 7, 1))
    await gate_is(f, lhasa, "acceptance", True)
    audit = await f.http.post(
        f"/projects/{lhasa['id']}/settlement",
        headers=FINANCE,
        json={"final_cost_fen": 10_000 * WAN, "settled_on": "2026-07-31"},
    )
    assert audit.json()["settlement"]["route"] == "audit"
    assert audit.json()["settlement"]["review_due_on"] == "2026-09-30"
    twice = await f.http.post(
        f"/projects/{lhasa['id']}/settlement",
        headers=FINANCE,
        json={"final_cost_fen": 1, "settled_on": "2026-08-01"},
    )
    assert twice.status_code == 409


async def test_the_total_is_checked_again_at_release_and_a_failed_acceptance_defers_later_funds(
    funding: Funding,
) -> None:
    f = funding
    project = await declared(f, "zhonglou", 100 * WAN)
    held = await pay(f, project, 100 * WAN)
    assert held.status_code == 202, held.text
    await send(f, project, ProjectApproved, approved_amount_fen=40 * WAN, plan_year=2026)
    await gate_is(f, project, "approval", True)
    still = (await f.http.get(f"/disbursements/{held.json()['id']}", headers=FINANCE)).json()
    assert still["status"] == "held" and [g["code"] for g in still["closed_gates"]] == [
        "exceeds_approved_total"
    ]
    wrong = await pay(f, project, WAN, "construction", contract_id="x", milestone="预付款")
    assert wrong.status_code == 422
    other = bearer(Role.APPLICANT, "另一个单位")
    assert (
        await f.http.post(f"/disbursements/{held.json()['id']}/withdrawal", headers=other)
    ).status_code == 404
    taken_back = await f.http.post(f"/disbursements/{held.json()['id']}/withdrawal", headers=unit(project))
    assert taken_back.status_code == 200 and taken_back.json()["status"] == "rejected", taken_back.text

    # zhonglou §19: after a failed acceptance, later construction money waits for a pass.
    failed = await send(f, project, FinalAcceptanceConcluded, passed=False, concluded_on=date(2026, 9, 1))
    await gate_event(f, project, "acceptance", failed)
    deferred = await pay(f, project, 10 * WAN)
    assert closed(deferred) == {"acceptance": ["zhonglou §18", "zhonglou §19"]}, deferred.text
    await send(f, project, FinalAcceptanceConcluded, passed=True, concluded_on=date(2026, 10, 8))
    await status_of(f, deferred.json()["id"], "released")

    # A milestone may be paid in parts, never beyond its amount.
    contract_id = await contract(f, project, 20 * WAN)
    await eventually(lambda: pay_ok(f, project, contract_id, 20 * WAN), what="the contract")
    part = await pay(f, project, 3 * WAN, "milestone", contract_id=contract_id, milestone="初验款")
    rest = await pay(f, project, 5 * WAN, "milestone", contract_id=contract_id, milestone="初验款")
    beyond = await pay(f, project, 1, "milestone", contract_id=contract_id, milestone="初验款")
    assert (part.status_code, rest.status_code, beyond.status_code) == (202, 202, 409)

    # Settlement closes the budget: held money is not paid, new requests are refused.
    settled = await f.http.post(
        f"/projects/{project['id']}/settlement",
        headers=FINANCE,
        json={"final_cost_fen": 20 * WAN, "settled_on": "2026-11-01"},
    )
    assert settled.status_code == 200, settled.text
    await status_of(f, part.json()["id"], "rejected")
    assert (await pay(f, project, WAN)).status_code == 409


async def test_xunyang_pays_nothing_before_acceptance_and_the_audit_report(funding: Funding) -> None:
    f = funding
    project = await approved(f, "xunyang")
    held = await pay(f, project, 10 * WAN)
    assert closed(held) == {"acceptance": ["xunyang §20"], "audit_report": ["xunyang §20"]}, held.text
    early = await f.http.post(
        f"/projects/{project['id']}/settlement",
        headers=FINANCE,
        json={"final_cost_fen": 10 * WAN, "settled_on": "2026-11-01"},
    )
    assert early.status_code == 409 and early.json()["reasons"][0]["articles"] == ["xunyang §20"]


# -- a gate follows its producer's order, never the time an event claims -------------------------------


async def test_a_revocation_from_a_clock_running_behind_still_closes_the_gate(funding: Funding) -> None:
    f = funding
    project = await approved(f, "shexian")
    now = f.clock()
    confirmed = about(project, DataSharingDecided, decision="confirmed")
    await gate_event(
        f, project, "data_sharing", await send_dated(f, project, confirmed, time=now, sequence=1)
    )
    await gate_is(f, project, "data_sharing", True)
    # acceptance's clock was stepped back an hour before it recorded the revocation.
    revoked = about(project, DataSharingDecided, decision="revoked", reason="未按清单共享")
    revocation = await send_dated(f, project, revoked, time=now - timedelta(hours=1), sequence=2)
    await gate_event(f, project, "data_sharing", revocation)
    assert (await gates(f, project))["data_sharing"]["open"] is False


async def test_an_older_event_of_the_same_producer_arriving_late_changes_nothing(funding: Funding) -> None:
    f = funding
    project = await approved(f, "shexian")
    now = f.clock()
    # acceptance confirmed (its event 1) and then revoked (its event 2); the revocation arrives first,
    # the confirmation later and dated later (a replay from another copy, a forged date).
    revoked = about(project, DataSharingDecided, decision="revoked", reason="撤销")
    await gate_event(f, project, "data_sharing", await send_dated(f, project, revoked, time=now, sequence=2))
    confirmed = about(project, DataSharingDecided, decision="confirmed")
    await send_dated(f, project, confirmed, time=now + timedelta(minutes=3), sequence=1)
    await handled(f, project)
    sharing = (await gates(f, project))["data_sharing"]
    assert sharing["open"] is False and sharing["detail"]["decision"] == "revoked"
    # The producer's next event is newer and is applied.
    await gate_event(
        f, project, "data_sharing", await send_dated(f, project, confirmed, time=now, sequence=3)
    )
    assert (await gates(f, project))["data_sharing"]["open"] is True


async def test_a_confirmation_dated_in_the_future_is_dead_lettered_and_the_revocation_holds(
    funding: Funding,
) -> None:
    f = funding
    project = await approved(f, "shexian")
    confirmed = about(project, DataSharingDecided, decision="confirmed")
    forged = await send_dated(f, project, confirmed, time=datetime(2099, 1, 1, tzinfo=UTC), sequence=99)

    async def parked() -> Any:
        found = [m for m in await f.bus.dead_letters("funding") if forged.encode() in m.data]
        return found[0] if found else None

    letter = await eventually(parked, what="the future-dated event dead-lettered")
    assert letter.reason.startswith("FutureDated") and "2099-01-01" in letter.reason
    assert (await gates(f, project))["data_sharing"]["event"] is None  # it set nothing
    revocation = await send(f, project, DataSharingDecided, decision="revoked", reason="撤销")
    await gate_event(f, project, "data_sharing", revocation)
    await handled(f, project)
    assert (await gates(f, project))["data_sharing"]["open"] is False


async def test_an_event_speaking_for_another_jurisdiction_than_its_projects_is_dead_lettered_at_once(
    funding: Funding,
) -> None:
    # The sharing platform is trusted for shexian only; naming shexian on a lhasa project's event
    # would move lhasa's gate. No redelivery can cure it: dead-lettered on the first delivery
    # (the retry path would take minutes), with the reason, and the gate is untouched.
    f = funding
    project = await approved(f, "lhasa")
    platform = "urn:gov:shexian:sharing-platform"
    claimed = about({**project, "jurisdiction": "shexian"}, DataSharingDecided, decision="confirmed")
    event_id = await send_dated(f, project, claimed, time=f.clock(), source=platform)

    async def parked() -> Any:
        found = [m for m in await f.bus.dead_letters("funding") if event_id.encode() in m.data]
        return found[0] if found else None

    letter = await eventually(parked, timeout=10, what="the event dead-lettered at once")
    assert letter.reason.startswith("Unprocessable: WrongJurisdiction: ")
    assert project["id"] in letter.reason and "shexian" in letter.reason and "lhasa" in letter.reason
    assert (await gates(f, project))["data_sharing"]["event"] is None


async def test_an_outside_system_that_does_not_number_its_events_is_ordered_by_the_stream(
    funding: Funding,
) -> None:
    f = funding
    project = await approved(f, "shexian")
    platform = "urn:gov:shexian:sharing-platform"  # trusted for shexian in the fixture
    now = f.clock()
    confirmed = about(project, DataSharingDecided, decision="confirmed")
    revoked = about(project, DataSharingDecided, decision="revoked", reason="撤销")
    first = await send_dated(f, project, confirmed, time=now, source=platform)
    await gate_event(f, project, "data_sharing", first)
    # Dated earlier, stored later: the later place in the stream wins, not the claimed time.
    later = await send_dated(f, project, revoked, time=now - timedelta(days=1), source=platform)
    await gate_event(f, project, "data_sharing", later)
    assert (await gates(f, project))["data_sharing"]["open"] is False


async def test_a_manual_record_is_not_undone_by_an_older_event_of_a_producer(funding: Funding) -> None:
    f = funding
    project = await approved(f, "shexian")
    now = f.clock()
    confirmed = about(project, DataSharingDecided, decision="confirmed")
    await gate_event(
        f, project, "data_sharing", await send_dated(f, project, confirmed, time=now, sequence=5)
    )
    recorded = await f.http.post(
        "/manual-events",
        headers=AUTHORITY,
        json={
            "type": SHARING,
            "data": about(project, DataSharingDecided, decision="revoked", reason="书面撤销").model_dump(
                mode="json", exclude={"type"}
            ),
            "document_ref": "歙数〔2026〕9号",
        },
    )
    assert recorded.status_code == 201, recorded.text
    assert (await gates(f, project))["data_sharing"]["open"] is False
    # acceptance's event 4 (older than the 5 already applied) arrives now: the record stands.
    await send_dated(f, project, confirmed, time=now + timedelta(minutes=1), sequence=4)
    await handled(f, project)
    sharing = (await gates(f, project))["data_sharing"]
    assert sharing["open"] is False and sharing["detail"]["document_ref"] == "歙数〔2026〕9号"
    # A newer confirmation from acceptance, stored after the record, opens the gate again.
    await gate_event(
        f, project, "data_sharing", await send_dated(f, project, confirmed, time=now, sequence=6)
    )
    assert (await gates(f, project))["data_sharing"]["open"] is True


async def test_another_jurisdictions_finance_neither_reads_nor_decides_its_disbursements(
    funding: Funding,
) -> None:
    http = funding.http
    mine = await declared(funding, "zhonglou")
    theirs = await declared(funding, "lhasa")
    held = await pay(funding, mine, 10 * WAN)  # before approval: held (zhonglou §13)
    assert held.status_code == 202, held.text
    other = await pay(funding, theirs, 10 * WAN)
    item, missing = held.json()["id"], (await http.get("/disbursements/no-such", headers=FINANCE)).json()

    lhasa = bearer(Role.FINANCE, sub="拉萨市财政局", jurisdictions=["lhasa"])
    for method, path, body in (
        ("GET", f"/disbursements/{item}", None),
        ("POST", f"/disbursements/{item}/withdrawal", None),
        ("GET", f"/projects/{mine['id']}", None),
        ("GET", f"/projects/{mine['id']}/gates", None),
        ("POST", f"/projects/{mine['id']}/disbursements", {"amount_fen": WAN, "purpose": "建设资金"}),
        ("POST", f"/projects/{mine['id']}/om-applications", {"amount_fen": WAN, "budget_year": 2027}),
        ("POST", f"/projects/{mine['id']}/settlement", {"final_cost_fen": WAN, "settled_on": "2026-03-02"}),
    ):
        response = await http.request(method, path, headers=lhasa, json=body)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
    assert (await http.get(f"/disbursements/{item}", headers=lhasa)).json()["code"] == missing["code"]
    named = await http.post(
        f"/projects/{mine['id']}/om-applications",
        params={"jurisdiction": "zhonglou"},
        headers=lhasa,
        json={"amount_fen": WAN, "budget_year": 2027},
    )
    assert named.status_code == 403 and named.json()["code"] == "forbidden_jurisdiction"

    # Each finance bureau lists its own jurisdiction's requests; naming another's is refused.
    listed = (await http.get("/disbursements", params={"limit": 200}, headers=lhasa)).json()["items"]
    assert {d["id"] for d in listed} == {other.json()["id"]}
    filtered = await http.get("/disbursements", params={"jurisdiction": "zhonglou"}, headers=lhasa)
    assert filtered.status_code == 403
    assert (await http.get(f"/projects/{mine['id']}/reclaims", headers=lhasa)).json()["total"] == 0

    # zhonglou's own finance bureau reads and withdraws it.
    zhonglou = bearer(Role.FINANCE, sub="钟楼区财政局", jurisdictions=["zhonglou"])
    assert (await http.get(f"/disbursements/{item}", headers=zhonglou)).json()["status"] == "held"
    withdrawn = await http.post(f"/disbursements/{item}/withdrawal", headers=zhonglou)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "rejected", withdrawn.text
