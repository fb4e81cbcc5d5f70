"""The review service over HTTP and events: pool, cases, draws, opinions, conclusions and time limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from httpx import AsyncClient

from services.intake.settings import IntakeSettings
from services.review.main import create_app as create_review
from services.review.settings import ReviewSettings
from shared import reading_pass
from shared.auth import Principal, Role
from shared.bus import JetStreamBus
from shared.contracts.acceptance import FinalAcceptanceApplied
from shared.contracts.intake import ProjectRejected, ProjectScreened, ProjectTerminated
from shared.contracts.procurement import ChangeRecorded, ChangeReviewRequested
from shared.workdays import load_notice
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import Clock, events_of, publish

AUTHORITY = bearer(Role.AUTHORITY, sub="数据资源局")
AUDITOR = bearer(Role.AUDITOR, sub="审计局")


@dataclass
class Review:
    http: AsyncClient
    bus: JetStreamBus
    clock: Clock


@pytest.fixture
async def review(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[Review]:
    clock = Clock(datetime(2026, 9, 29, 2, 0, tzinfo=UTC))
    settings = ReviewSettings(
        database_url=await make_database("review"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    async with (
        real_bus(nats_url, isolation, clock) as bus,
        running(create_review(settings, clock=clock)) as http,
    ):
        yield Review(http, bus, clock)


async def add_pool(http: AsyncClient, *jurisdictions: str, employers: int = 6) -> list[dict[str, Any]]:
    """Into the pool of each jurisdiction, three experts of each specialty, spread over a few
    employers; each with a login subject."""
    added = []
    n = 0
    for specialty in ("software", "network", "security", "cost", "data", "archives"):
        for jurisdiction in jurisdictions:
            for _ in range(3):
                n += 1
                response = await http.post(
                    "/experts",
                    headers=AUTHORITY,
                    json={
                        "jurisdiction": jurisdiction,
                        "name": f"专家{n}",
                        "employer": f"单位{n % employers}",
                        "specialties": [specialty],
                        "subject": unique("expert-"),
                    },
                )
                assert response.status_code == 201, response.text
                added.append(response.json())
    return added


def as_expert(expert: dict[str, Any]) -> dict[str, str]:
    return bearer(Role.EXPERT, sub=expert["subject"])


async def types_of(bus: JetStreamBus, project_id: str) -> list[str]:
    return [kind for kind, _ in await events_of(bus, project_id)]


async def open_case(
    http: AsyncClient, jurisdiction: str, stage: str, *, project: str | None = None, agency: str = "市局"
) -> dict[str, Any]:
    body = {
        "project_id": project or unique("p"),
        "jurisdiction": jurisdiction,
        "stage": stage,
        "agency": agency,
    }
    opened = await http.post("/cases", headers=AUTHORITY, json=body)
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


async def everyone_says(
    http: AsyncClient,
    by_id: dict[str, dict[str, Any]],
    case_id: str,
    seats: list[dict[str, Any]],
    opinion: dict[str, Any],
) -> dict[str, Any]:
    """Every seat's expert gives the same opinion (verdict, score, comments); the case as the last
    answer left it."""
    result: dict[str, Any] = {}
    for seat in seats:
        response = await http.post(
            f"/cases/{case_id}/opinions",
            headers=as_expert(by_id[seat["expert_id"]]),
            json=opinion,
        )
        assert response.status_code == 200, response.text
        result = response.json()
    return result


async def change_cases(review: Review, base: dict[str, str], *change_ids: str) -> Any:
    """Procurement asks for a review of each change; returns a reader of the project's cases by change."""
    for change_id in change_ids:
        await publish(
            review.bus, ChangeReviewRequested(**base, change_id=change_id), source="/govit/procurement"
        )

    async def cases() -> dict[str, dict[str, Any]]:
        params = {"project_id": base["project_id"]}
        found = (await review.http.get("/cases", params=params, headers=AUTHORITY)).json()["items"]
        return {c["reference"]: c for c in found}

    async def all_there() -> bool:
        return len(await cases()) == len(change_ids)

    await eventually(all_there, what="the change cases")
    return cases


async def test_a_panel_is_drawn_with_avoidance_replaced_on_decline_and_concludes_by_majority(
    review: Review,
) -> None:
    http, bus = review.http, review.bus
    pool = await add_pool(http, "lhasa")
    by_id = {e["id"]: e for e in pool}
    project = unique("p")
    opened = await http.post(
        "/cases",
        headers=AUTHORITY,
        json={
            "project_id": project,
            "jurisdiction": "lhasa",
            "stage": "feasibility",
            "agency": "单位0",
            "parties": ["单位1"],
        },
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    # lhasa §11: first review within 5 working days — across National Day and its 调休 Saturday.
    assert case["clock"] == "review.first_review_deadline" and case["due_on"] == "2026-10-12"

    drawn = (await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)).json()
    seated = [s for s in drawn["seats"] if s["state"] == "seated"]
    assert len(seated) == 5
    assert {s["specialty"] for s in seated} >= {"software", "network", "security", "cost"}
    assert not {by_id[s["expert_id"]]["employer"] for s in seated} & {"单位0", "单位1"}, "回避"
    again = await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    assert again.status_code == 409

    # An expert declines; a replacement is drawn by the same seed, keeping the specialty covered.
    leaving = next(s for s in seated if s["specialty"] == "security")
    declined = await http.post(
        f"/cases/{case['id']}/declination", headers=as_expert(by_id[leaving["expert_id"]])
    )
    assert declined.status_code == 200, declined.text
    now_seated = [s for s in declined.json()["seats"] if s["state"] == "seated"]
    newcomer = next(s for s in now_seated if s["expert_id"] not in {x["expert_id"] for x in seated})
    assert any("security" in by_id[s["expert_id"]]["specialties"] for s in now_seated)
    assert by_id[newcomer["expert_id"]]["employer"] not in {"单位0", "单位1"}
    assert leaving["expert_id"] not in {s["expert_id"] for s in now_seated}

    # Experts see only their own cases; outsiders are refused.
    outsider = next(e for e in pool if e["id"] not in {s["expert_id"] for s in declined.json()["seats"]})
    assert (await http.get(f"/cases/{case['id']}", headers=as_expert(outsider))).status_code == 404
    mine = (await http.get("/cases", headers=as_expert(by_id[now_seated[0]["expert_id"]]))).json()
    assert [c["id"] for c in mine["items"]] == [case["id"]]
    assert (await http.get("/cases", headers=as_expert(outsider))).json()["total"] == 0
    intruding = await http.post(
        f"/cases/{case['id']}/opinions",
        headers=as_expert(outsider),
        json={"score": 99, "verdict": "pass", "comments": "不在专家组"},
    )
    assert intruding.status_code == 403 and intruding.json()["code"] == "not_on_panel", intruding.text
    declining = await http.post(f"/cases/{case['id']}/declination", headers=as_expert(outsider))
    assert declining.status_code == 403 and declining.json()["code"] == "not_on_panel", declining.text

    # 阅卷: a seated expert takes a pass intake honours for this project; whoever left the panel,
    # or never sat on it, takes none.
    reader = by_id[newcomer["expert_id"]]
    granted = await http.post(f"/cases/{case['id']}/reading-pass", headers=as_expert(reader))
    assert granted.status_code == 200, granted.text
    assert granted.json()["project_id"] == project and granted.json()["header"] == reading_pass.HEADER
    them = Principal(sub=reader["subject"], role=Role.EXPERT, jurisdictions=frozenset({"lhasa"}))
    assert reading_pass.check(IntakeSettings(), granted.json()["token"], them, project).case_id == case["id"]
    gone = await http.post(
        f"/cases/{case['id']}/reading-pass", headers=as_expert(by_id[leaving["expert_id"]])
    )
    assert gone.status_code == 403 and gone.json()["code"] == "not_on_panel"
    assert (
        await http.post(f"/cases/{case['id']}/reading-pass", headers=as_expert(outsider))
    ).status_code == 404

    # Opinions: 3 pass, 2 fail → pass by majority; each expert sees only their own opinion.
    for n, seat in enumerate(now_seated):
        verdict = "pass" if n < 3 else "fail"
        response = await http.post(
            f"/cases/{case['id']}/opinions",
            headers=as_expert(by_id[seat["expert_id"]]),
            json={"score": 80 + n, "verdict": verdict, "comments": "方案可行"},
        )
        assert response.status_code == 200, response.text
        visible = [s for s in response.json()["seats"] if s.get("opinion")]
        assert [s["expert_id"] for s in visible] == [seat["expert_id"]]
    concluded = (await http.get(f"/cases/{case['id']}", headers=AUTHORITY)).json()
    assert concluded["status"] == "concluded" and concluded["verdict"] == "pass"
    late = await http.post(
        f"/cases/{case['id']}/opinions",
        headers=as_expert(by_id[now_seated[0]["expert_id"]]),
        json={"score": 1, "verdict": "fail", "comments": "改主意"},
    )
    assert late.status_code == 409
    closed = await http.post(f"/cases/{case['id']}/reading-pass", headers=as_expert(reader))
    assert closed.status_code == 409  # the review is over: no more reading

    async def all_events() -> bool:
        kinds = await types_of(bus, project)
        return "govit.review.case_concluded.v1" in kinds

    await eventually(all_events, what="the conclusion on the stream")
    kinds = await types_of(bus, project)
    assert kinds[:3] == [
        "govit.review.case_opened.v1",
        "govit.review.panel_drawn.v1",
        "govit.review.expert_replaced.v1",
    ]
    drawn = dict(await events_of(bus, project))["govit.review.panel_drawn.v1"]
    # lhasa has no article on drawing a panel: the event says the draw is the suite's default.
    assert drawn["method"].startswith("随机抽选专家组（本系统默认，非办法条文）"), drawn
    assert "shexian §7" not in drawn["articles"]
    conclusion = dict(await events_of(bus, project))["govit.review.case_concluded.v1"]
    assert conclusion["verdict"] == "pass" and sorted(conclusion["scores"]) == [80, 81, 82, 83, 84]

    # The auditor redraws from the recorded seed and candidates and gets the same first panel.
    audit = (await http.get(f"/cases/{case['id']}/audit", headers=AUDITOR)).json()
    assert audit["redraw_matches"] is True and len(audit["candidates"]) == len(pool)
    assert (await http.get(f"/cases/{case['id']}/audit", headers=as_expert(outsider))).status_code == 403


async def test_too_small_a_pool_refuses_to_draw_and_says_what_is_missing(review: Review) -> None:
    http = review.http
    for n in range(3):
        await http.post(
            "/experts",
            headers=AUTHORITY,
            json={
                "jurisdiction": "shexian",
                "name": f"专家{n}",
                "employer": "某院",
                "specialties": ["software"],
            },
        )
    case = (
        await http.post(
            "/cases",
            headers=AUTHORITY,
            json={
                "project_id": unique("p"),
                "jurisdiction": "shexian",
                "stage": "feasibility",
                "agency": "县局",
            },
        )
    ).json()
    refused = await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_pool"
    assert "security" in refused.json()["detail"]
    assert (await http.get(f"/cases/{case['id']}", headers=AUTHORITY)).json()["status"] == "open"
    # xunyang's regulation has no expert review: no case can be opened there.
    none = await http.post(
        "/cases",
        headers=AUTHORITY,
        json={"project_id": unique("p"), "jurisdiction": "xunyang", "stage": "feasibility", "agency": "区局"},
    )
    assert none.status_code == 422 and none.json()["code"] == "no_expert_review"


async def test_a_screened_declaration_opens_a_case_at_the_stage_its_pack_names(review: Review) -> None:
    http, bus = review.http, review.bus
    project = unique("p")
    await publish(
        bus,
        ProjectScreened(project_id=project, jurisdiction="zhonglou", agency="区教育局", accepted=True),
        source="/govit/intake",
    )

    async def opened() -> list[Any]:
        found = await http.get("/cases", params={"project_id": project}, headers=AUTHORITY)
        return list(found.json()["items"])

    [case] = await eventually(opened, what="the case to open")
    assert case["stage"] == "demonstration" and case["agency"] == "区教育局"  # zhonglou §11 论证
    refused = unique("p")
    await publish(
        bus,
        ProjectScreened(project_id=refused, jurisdiction="zhonglou", agency="区教育局", accepted=False),
        source="/govit/intake",
    )
    xunyang = unique("p")
    await publish(
        bus,
        ProjectScreened(project_id=xunyang, jurisdiction="xunyang", agency="区教育局", accepted=True),
        source="/govit/intake",
    )
    # lhasa §17: the authority concludes its acceptance itself, so no panel is drawn for it.
    lhasa = unique("p")
    await publish(
        bus,
        FinalAcceptanceApplied(
            project_id=lhasa, jurisdiction="lhasa", agency="市教育局", application_id="a0", experts=False
        ),
        source="/govit/acceptance",
    )
    # Two changes of one project under review at once: one case each, named by the change.
    for change_id in ("change-1", "change-2"):
        await publish(
            bus,
            ChangeReviewRequested(
                project_id=project, jurisdiction="zhonglou", agency="区教育局", change_id=change_id
            ),
            source="/govit/procurement",
        )
    # An admitted final-acceptance application opens an acceptance case avoiding its parties;
    # events are handled in order, so once it is there the ones before it were handled too.
    await publish(
        bus,
        FinalAcceptanceApplied(
            project_id=project,
            jurisdiction="zhonglou",
            agency="区教育局",
            application_id="a1",
            parties=("某承建公司", "某监理公司"),
            articles=("zhonglou §18",),
        ),
        source="/govit/acceptance",
    )

    async def acceptance_case() -> dict[str, Any] | None:
        found = (await http.get("/cases", params={"project_id": project}, headers=AUTHORITY)).json()["items"]
        return next((c for c in found if c["stage"] == "acceptance"), None)

    acceptance = await eventually(acceptance_case, what="the acceptance case")
    assert acceptance["parties"] == ["某承建公司", "某监理公司"]
    cases = (await http.get("/cases", params={"project_id": project}, headers=AUTHORITY)).json()["items"]
    assert sorted(c["reference"] for c in cases if c["stage"] == "change") == ["change-1", "change-2"]
    assert acceptance["reference"] == "a1"
    for nothing in (refused, xunyang, lhasa):
        listed = await http.get("/cases", params={"project_id": nothing}, headers=AUTHORITY)
        assert listed.json()["total"] == 0
    assessed = await http.put(
        f"/cases/{acceptance['id']}/assessment",
        headers=AUTHORITY,
        json={"text": "某造价咨询公司 评估报告〔2026〕7号"},
    )
    assert assessed.json()["third_party_assessment"].startswith("某造价咨询公司")
    more = await http.put(f"/cases/{case['id']}/parties", headers=AUTHORITY, json={"parties": ["投标人甲"]})
    assert more.json()["parties"] == ["投标人甲"]


async def test_lhasa_time_limits_emit_overdue_events_and_two_failures_force_a_fresh_submission(
    review: Review,
) -> None:
    http, bus = review.http, review.bus
    pool = await add_pool(http, "lhasa")
    by_id = {e["id"]: e for e in pool}
    project = unique("p")
    case = await open_case(http, "lhasa", "feasibility", project=project)
    # Not yet late on the due date itself; late the next day, reported once.
    review.clock.now = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 0}
    review.clock.now = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 1}
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 0}
    overdue = await eventually(lambda: _event(bus, project, "case_overdue"))
    assert overdue["clock"] == "first_review" and overdue["due_on"] == "2026-10-12"
    assert overdue["articles"] == ["lhasa §11"]

    seats = (await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)).json()["seats"]
    first = await everyone_says(
        http, by_id, case["id"], seats, {"verdict": "fail", "score": 50, "comments": "需要完善"}
    )
    assert first["status"] == "revising" and first["clock"] == "review.fail_opinion_deadline"
    opinion = await http.post(
        f"/cases/{case['id']}/report", headers=AUTHORITY, json={"document": "意见书1号"}
    )
    first = opinion.json()
    assert first["status"] == "revising" and first["clock"] == "review.revision_deadline"
    assert first["due_on"] == "2026-10-16", "3 working days to revise (lhasa §11)"
    resubmitted = (await http.post(f"/cases/{case['id']}/resubmission", headers=AUTHORITY)).json()
    assert resubmitted["round"] == 2 and resubmitted["clock"] == "review.second_review_deadline"
    second = await everyone_says(
        http, by_id, case["id"], seats, {"verdict": "fail", "score": 50, "comments": "需要完善"}
    )
    assert second["status"] == "concluded" and second["failures"] == 2
    # The materials are to be redone, but the written opinion is still owed; nothing runs after it.
    assert second["clock"] == "review.fail_opinion_deadline"
    opinion = await http.post(
        f"/cases/{case['id']}/report", headers=AUTHORITY, json={"document": "意见书2号"}
    )
    assert opinion.json()["clock"] is None and opinion.json()["status"] == "concluded"

    async def second_conclusion() -> dict[str, Any] | None:
        found = [d for k, d in await events_of(bus, project) if k == "govit.review.case_concluded.v1"]
        return found[-1] if len(found) == 2 else None

    last = await eventually(second_conclusion)
    assert last["resubmission_required"] is True and last["round"] == 2 and "lhasa §11" in last["articles"]


async def test_lhasa_a_conclusion_owes_the_written_opinion_or_the_report_within_two_working_days(
    review: Review,
) -> None:
    http, bus = review.http, review.bus
    pool = await add_pool(http, "lhasa")
    by_id = {e["id"]: e for e in pool}
    project = unique("p")
    case = await open_case(http, "lhasa", "feasibility", project=project)
    seats = (await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)).json()["seats"]
    early = await http.post(f"/cases/{case['id']}/report", headers=AUTHORITY, json={"document": "报告"})
    assert early.status_code == 409 and early.json()["code"] == "invalid_case_state"

    # Not passed on Tue 2026-09-29: the written opinion is due in 2 working days, across National
    # Day (Sep 30, Oct 8); the agency cannot revise before it has the opinion.
    failed = await everyone_says(
        http, by_id, case["id"], seats, {"verdict": "revise", "score": 70, "comments": "评审意见"}
    )
    assert failed["clock"] == "review.fail_opinion_deadline" and failed["due_on"] == "2026-10-08"
    refused = await http.post(f"/cases/{case['id']}/resubmission", headers=AUTHORITY)
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_case_state", refused.text
    review.clock.now = datetime(2026, 10, 8, 9, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 0}
    review.clock.now = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 1}
    late = await eventually(lambda: _event(bus, project, "case_overdue"), what="the opinion overdue")
    assert late["clock"] == "fail_opinion" and late["due_on"] == "2026-10-08"
    assert late["articles"] == ["lhasa §11"]

    # The opinion, issued late on Fri Oct 9, starts the 3 working days to revise from then:
    # Sat Oct 10 (调休), Oct 12, Oct 13. It is issued once per review.
    issued = await http.post(f"/cases/{case['id']}/report", headers=AUTHORITY, json={"document": "意见书"})
    assert issued.status_code == 200, issued.text
    assert issued.json()["clock"] == "review.revision_deadline" and issued.json()["due_on"] == "2026-10-13"
    again = await http.post(f"/cases/{case['id']}/report", headers=AUTHORITY, json={"document": "意见书"})
    assert again.status_code == 409

    # Revised, reviewed again and passed the same day: the report is due in 2 working days.
    assert (await http.post(f"/cases/{case['id']}/resubmission", headers=AUTHORITY)).status_code == 200
    passed = await everyone_says(
        http, by_id, case["id"], seats, {"verdict": "pass", "score": 70, "comments": "评审意见"}
    )
    assert passed["status"] == "concluded" and passed["verdict"] == "pass"
    assert passed["clock"] == "review.pass_report_deadline" and passed["due_on"] == "2026-10-12"
    review.clock.now = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 1}

    async def report_overdue() -> dict[str, Any] | None:
        found = [d for k, d in await events_of(bus, project) if k == "govit.review.case_overdue.v1"]
        return found[-1] if len(found) == 2 else None

    late = await eventually(report_overdue, what="the report overdue")
    assert late["clock"] == "pass_report" and late["due_on"] == "2026-10-12"

    # The report and approval issued: no time limit runs any more.
    reported = await http.post(
        f"/cases/{case['id']}/report", headers=AUTHORITY, json={"document": "拉经信评〔2026〕9号"}
    )
    done = reported.json()
    assert done["clock"] is None and done["due_on"] is None
    assert [(r["round"], r["verdict"], r["issued_on"]) for r in done["reports"]] == [
        (1, "revise", "2026-10-09"),
        (2, "pass", "2026-10-13"),
    ]
    review.clock.now = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 0}
    expert = as_expert(by_id[seats[0]["expert_id"]])
    assert (
        await http.post(f"/cases/{case['id']}/report", headers=expert, json={"document": "x" * 3})
    ).status_code == 403


async def _event(bus: JetStreamBus, project: str, name: str) -> dict[str, Any] | None:
    found = [d for k, d in await events_of(bus, project) if k == f"govit.review.{name}.v1"]
    return found[-1] if found else None


async def test_the_pool_is_kept_by_the_authority_and_blacklisting_needs_a_reason(review: Review) -> None:
    http = review.http
    expert = (
        await http.post(
            "/experts",
            headers=AUTHORITY,
            json={
                "jurisdiction": "zhonglou",
                "name": "张工",
                "employer": "某设计院",
                "specialties": ["network"],
            },
        )
    ).json()
    applicant = bearer(Role.APPLICANT, "某局")
    assert (
        await http.post(
            "/experts", headers=applicant, json={"name": "x", "employer": "y", "specialties": ["a"]}
        )
    ).status_code == 403
    assert (await http.get("/experts", headers=applicant)).status_code == 403
    twin = await http.post(
        "/experts",
        headers=AUTHORITY,
        json={
            "jurisdiction": "zhonglou",
            "name": "李工",
            "employer": "某院",
            "specialties": ["data"],
            "subject": "same-login",
        },
    )
    assert twin.status_code == 201
    again = await http.post(
        "/experts",
        headers=AUTHORITY,
        json={
            "jurisdiction": "zhonglou",
            "name": "王工",
            "employer": "某院",
            "specialties": ["data"],
            "subject": "same-login",
        },
    )
    assert again.status_code == 409
    no_reason = await http.put(
        f"/experts/{expert['id']}/status", headers=AUTHORITY, json={"status": "blacklisted"}
    )
    assert no_reason.status_code == 422
    listed = await http.put(
        f"/experts/{expert['id']}/status",
        headers=AUTHORITY,
        json={"status": "blacklisted", "reason": "评审中收受好处"},
    )
    assert listed.json()["status"] == "blacklisted"
    filtered = (
        await http.get("/experts", params={"status": "blacklisted", "specialty": "network"}, headers=AUDITOR)
    ).json()
    assert expert["id"] in {e["id"] for e in filtered["items"]}


async def test_a_rejected_change_or_a_closed_project_cancels_its_open_reviews(review: Review) -> None:
    http, bus = review.http, review.bus
    pool = await add_pool(http, "zhonglou")
    by_id = {e["id"]: e for e in pool}
    project = unique("p")
    base = {"project_id": project, "jurisdiction": "zhonglou", "agency": "区教育局"}
    cases = await change_cases(review, base, "change-1", "change-2")
    first = (await cases())["change-1"]
    drawn = (await http.post(f"/cases/{first['id']}/draw", headers=AUTHORITY)).json()
    seat = next(s for s in drawn["seats"] if s["state"] == "seated")

    # The authority rejects change-1 before the panel concludes; change-2's case stays open.
    for status in ("pending", "rejected"):
        await publish(bus, _change(base, "change-1", status), source="/govit/procurement")

    async def cancelled() -> bool:
        return (await cases())["change-1"]["status"] == "cancelled"

    await eventually(cancelled, what="change-1's case cancelled")
    now = await cases()
    assert now["change-2"]["status"] == "open"
    assert "change-1" in now["change-1"]["closed_reason"] and "驳回" in now["change-1"]["closed_reason"]
    assert now["change-1"]["due_on"] is None  # no time limit runs on it any more
    late = await http.post(
        f"/cases/{first['id']}/opinions",
        headers=as_expert(by_id[seat["expert_id"]]),
        json={"score": 80, "verdict": "pass", "comments": "方案可行"},
    )
    assert late.status_code == 409 and late.json()["code"] == "invalid_case_state", late.text
    assessed = await http.put(
        f"/cases/{first['id']}/assessment", headers=AUTHORITY, json={"text": "某造价咨询公司 评估报告"}
    )
    assert assessed.status_code == 409 and assessed.json()["code"] == "invalid_case_state", assessed.text
    assert (await http.get(f"/cases/{first['id']}", headers=AUTHORITY)).json()["third_party_assessment"] == ""
    assert (await http.post(f"/cases/{now['change-2']['id']}/draw", headers=AUTHORITY)).status_code == 200

    # The project is terminated: what is still open for it is cancelled, naming why.
    await publish(
        bus,
        ProjectTerminated(**{k: base[k] for k in ("project_id", "jurisdiction")}, reason="合同未按期签订"),
        source="/govit/intake",
    )

    async def all_closed() -> bool:
        return all(c["status"] == "cancelled" for c in (await cases()).values())

    await eventually(all_closed, what="every case of the terminated project cancelled")
    reason = (await cases())["change-2"]["closed_reason"]
    assert "终止" in reason and "合同未按期签订" in reason
    listed = await http.get(
        "/cases", params={"project_id": project, "status": "cancelled"}, headers=AUTHORITY
    )
    assert listed.json()["total"] == 2


def _change(base: dict[str, str], change_id: str, status: str) -> ChangeRecorded:
    return ChangeRecorded(
        **base,
        change_id=change_id,
        status=status,  # type: ignore[arg-type]
        path="approval",
        total_delta_fen=5_000_000,
        adjustment_fen=5_000_000,
        approved_total_fen=105_000_000,
    )


async def test_shexian_draws_the_panel_for_approval_materials_only_once_the_third_party_has_reviewed(
    review: Review,
) -> None:
    """shexian §21: 委托第三方机构开展专业审查，组织专家论证评审后，按程序予以批复.

    The draw is where the requirement bites: without the third-party assessment on a case at a
    stage the pack lists (建议书、可研、初设 — the materials approved under §20), the authority's
    draw is refused with a 409 naming what is missing and citing §21. Refusing there is what the
    authority can act on at once (it attaches the assessment, as it sets the parties, before the
    draw), keeps §21's order (the experts review with the assessment in hand), and never leaves an
    expert's last opinion refused, or a conclusion silently held, for something only the authority
    can supply. A panel drawn before the requirement still does not conclude without it: its last
    opinion is refused the same way (see test_review_rules). Change reviews (§38) draw without it,
    and so does bayingolin, whose §9 asks for the assessment to assist the experts: there it is
    wanted before their opinions (test_review_third_party), not before the draw.
    """
    http = review.http
    pool = await add_pool(http, "shexian", "bayingolin")
    by_id = {e["id"]: e for e in pool}

    case = await open_case(http, "shexian", "feasibility", agency="县局")
    refused = await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    problem = refused.json()
    assert refused.status_code == 409 and problem["code"] == "third_party_review_missing", refused.text
    assert "第三方" in problem["detail"] and "shexian §21" in problem["detail"]
    assert [r["articles"] for r in problem["reasons"]] == [["shexian §21"]]
    assert (await http.get(f"/cases/{case['id']}", headers=AUTHORITY)).json()["status"] == "open"

    # The third party's review attached, the panel is drawn and its last opinion concludes.
    assessed = await http.put(
        f"/cases/{case['id']}/assessment", headers=AUTHORITY, json={"text": "某咨询公司 审查意见〔2026〕3号"}
    )
    assert assessed.status_code == 200, assessed.text
    drawn = await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    assert drawn.status_code == 200, drawn.text
    seated = [s for s in drawn.json()["seats"] if s["state"] == "seated"]
    result = await everyone_says(
        http, by_id, case["id"], seated, {"verdict": "pass", "score": 85, "comments": "方案可行"}
    )
    assert result["status"] == "concluded" and result["verdict"] == "pass"

    # Not required for a shexian change review; bayingolin §9 wants it before the opinions, not the draw.
    for jurisdiction, stage in (("shexian", "change"), ("bayingolin", "declaration")):
        other = await open_case(http, jurisdiction, stage, agency="县局")
        response = await http.post(f"/cases/{other['id']}/draw", headers=AUTHORITY)
        assert response.status_code == 200, (jurisdiction, stage, response.text)


async def test_a_project_closed_after_its_review_passed_stops_the_report_limit_but_keeps_the_verdict(
    review: Review,
) -> None:
    http, bus = review.http, review.bus
    pool = await add_pool(http, "lhasa")
    by_id = {e["id"]: e for e in pool}
    project = unique("p")
    base = {"project_id": project, "jurisdiction": "lhasa", "agency": "市局"}
    passed = (await http.post("/cases", headers=AUTHORITY, json={**base, "stage": "feasibility"})).json()
    pending = (await http.post("/cases", headers=AUTHORITY, json={**base, "stage": "change"})).json()

    # The feasibility review passes on Tue 2026-09-29: the report is owed by Oct 8 (lhasa §11).
    seats = (await http.post(f"/cases/{passed['id']}/draw", headers=AUTHORITY)).json()["seats"]
    concluded = await everyone_says(
        http, by_id, passed["id"], seats, {"verdict": "pass", "score": 90, "comments": "方案可行"}
    )
    assert concluded["clock"] == "review.pass_report_deadline"

    # The authority then refuses to approve the project: nothing is owed on its reviews any more.
    await publish(
        bus,
        ProjectRejected(project_id=project, jurisdiction="lhasa", reason="年度计划额度已满"),
        source="/govit/intake",
    )

    async def cancelled() -> bool:
        found = await http.get(f"/cases/{pending['id']}", headers=AUTHORITY)
        return bool(found.json()["status"] == "cancelled")

    await eventually(cancelled, what="the open case cancelled")
    after = (await http.get(f"/cases/{passed['id']}", headers=AUTHORITY)).json()
    assert (after["status"], after["verdict"], after["closed_reason"]) == ("concluded", "pass", None)
    assert after["clock"] is None and after["due_on"] is None
    review.clock.now = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 0}


async def test_a_change_rejected_after_its_review_passed_stops_the_report_limit_but_keeps_the_verdict(
    review: Review,
) -> None:
    http, bus = review.http, review.bus
    pool = await add_pool(http, "lhasa")
    by_id = {e["id"]: e for e in pool}
    project = unique("p")
    base = {"project_id": project, "jurisdiction": "lhasa", "agency": "市局"}
    cases = await change_cases(review, base, "change-1", "change-2")
    both = await cases()

    # Both change reviews pass on Tue 2026-09-29: each report is owed by Oct 8 (lhasa §11).
    for case in both.values():
        seats = (await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)).json()["seats"]
        concluded = await everyone_says(
            http, by_id, case["id"], seats, {"verdict": "pass", "score": 90, "comments": "变更合理"}
        )
        assert concluded["clock"] == "review.pass_report_deadline"

    # The authority then rejects change-1: its report is no longer owed; change-2's still is.
    await publish(bus, _change(base, "change-1", "rejected"), source="/govit/procurement")

    async def stopped() -> bool:
        return (await cases())["change-1"]["clock"] is None

    await eventually(stopped, what="change-1's report limit stopped")
    now = await cases()
    rejected = now["change-1"]
    assert (rejected["status"], rejected["verdict"], rejected["closed_reason"]) == ("concluded", "pass", None)
    assert rejected["due_on"] is None
    assert now["change-2"]["clock"] == "review.pass_report_deadline"
    review.clock.now = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    assert (await http.post("/cases/overdue-scan", headers=AUTHORITY)).json() == {"overdue": 1}  # change-2


# -- pools and the jurisdictions' scope ---------------------------------------------------------------


async def register(
    http: AsyncClient, jurisdiction: str, name: str, specialty: str, subject: str | None = None
) -> dict[str, Any]:
    """An expert registered by the jurisdiction's own authority into the pool it draws from."""
    response = await http.post(
        "/experts",
        headers=bearer(Role.AUTHORITY, jurisdictions=[jurisdiction]),
        json={
            "jurisdiction": jurisdiction,
            "name": name,
            "employer": f"{name}的单位",
            "specialties": [specialty],
            "subject": subject or unique("expert-"),
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_zhonglou_case_never_draws_a_lhasa_expert(review: Review) -> None:
    http = review.http
    # lhasa's pool is full; zhonglou's is empty: a zhonglou case has no one to draw.
    lhasa_pool = await add_pool(http, "lhasa")
    assert {e["pool"] for e in lhasa_pool} == {"lhasa"}
    case = await open_case(http, "zhonglou", "feasibility", agency="区教育局")
    empty = await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    assert empty.status_code == 409 and empty.json()["code"] == "insufficient_pool", empty.text

    # With a pool of its own, every candidate and every seat of a zhonglou panel is zhonglou's.
    zhonglou_pool = {e["id"] for e in await add_pool(http, "zhonglou")}
    drawn = await http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    assert drawn.status_code == 200, drawn.text
    assert {s["expert_id"] for s in drawn.json()["seats"]} <= zhonglou_pool
    audit = (await http.get(f"/cases/{case['id']}/audit", headers=AUDITOR)).json()
    assert {c["id"] for c in audit["candidates"]} == zhonglou_pool and audit["redraw_matches"]

    # Each authority keeps and reads its own pool only.
    listed = await http.get(
        "/experts", params={"limit": 200}, headers=bearer(Role.AUTHORITY, jurisdictions=["lhasa"])
    )
    assert {e["pool"] for e in listed.json()["items"]} == {"lhasa"}
    someone = next(iter(zhonglou_pool))
    suspended = await http.put(
        f"/experts/{someone}/status",
        headers=bearer(Role.AUTHORITY, jurisdictions=["lhasa"]),
        json={"status": "suspended", "reason": "不是本市的专家"},
    )
    assert suspended.status_code == 404, suspended.text


async def test_a_blacklist_in_one_pool_does_not_bar_the_same_person_in_another(review: Review) -> None:
    http = review.http
    # 张工 (one login) sits in both pools, with two software experts in each: just a change panel
    # (three, one of them for cost).
    for jurisdiction in ("zhonglou", "lhasa"):
        await register(http, jurisdiction, "张工", "cost", subject="zhang-same-person")
        for n in range(2):
            await register(http, jurisdiction, f"{jurisdiction}软件专家{n}", "software")
    lhasa = bearer(Role.AUTHORITY, jurisdictions=["lhasa"])
    lhasa_zhang = next(
        e
        for e in (await http.get("/experts", params={"limit": 200}, headers=lhasa)).json()["items"]
        if e["subject"] == "zhang-same-person"
    )
    listed = await http.put(
        f"/experts/{lhasa_zhang['id']}/status",
        headers=lhasa,
        json={"status": "blacklisted", "reason": "评审中收受好处（lhasa §22）"},
    )
    assert listed.json()["status"] == "blacklisted"
    # The audit log follows the pools: lhasa's auditor reads the blacklisting and lhasa's pool only.
    lhasa_auditor = bearer(Role.AUDITOR, jurisdictions=["lhasa"])
    params = {"entity": "experts", "limit": 200}
    logged = (await http.get("/audit", params=params, headers=lhasa_auditor)).json()["items"]
    lhasa_pool = {e["id"] for e in (await http.get("/experts", headers=lhasa)).json()["items"]}
    assert {e["key"][0] for e in logged} == lhasa_pool
    assert [e["after"]["status"] for e in logged if e["action"] == "update"] == ["blacklisted"]

    # lhasa can no longer seat a cost expert; zhonglou still seats 张工.
    theirs = await open_case(http, "lhasa", "change")
    refused = await http.post(f"/cases/{theirs['id']}/draw", headers=AUTHORITY)
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_pool", refused.text
    ours = await open_case(http, "zhonglou", "change")
    drawn = (await http.post(f"/cases/{ours['id']}/draw", headers=AUTHORITY)).json()
    zhonglou = bearer(Role.AUTHORITY, jurisdictions=["zhonglou"])
    pool = {e["id"]: e for e in (await http.get("/experts", headers=zhonglou)).json()["items"]}
    assert "zhang-same-person" in {pool[s["expert_id"]]["subject"] for s in drawn["seats"]}
    assert {pool[s["expert_id"]]["status"] for s in drawn["seats"]} == {"active"}

    # He reviews zhonglou's case with a zhonglou token; the lhasa case is not his to see.
    as_zhang = bearer(Role.EXPERT, sub="zhang-same-person", jurisdictions=["zhonglou"])
    mine = (await http.get("/cases", headers=as_zhang)).json()["items"]
    assert [c["id"] for c in mine] == [ours["id"]]
    assert (await http.get(f"/cases/{theirs['id']}", headers=as_zhang)).status_code == 404


async def test_another_jurisdictions_authority_and_experts_neither_draw_nor_conclude_nor_see_its_cases(
    review: Review,
) -> None:
    http = review.http
    pool = await add_pool(http, "zhonglou", "lhasa")
    by_id = {e["id"]: e for e in pool}
    case = await open_case(http, "zhonglou", "change", agency="区教育局")
    lhasa = bearer(Role.AUTHORITY, jurisdictions=["lhasa"])
    missing = (await http.post("/cases/no-such-case/draw", headers=lhasa)).json()
    for path, body in (
        (f"/cases/{case['id']}/draw", None),
        (f"/cases/{case['id']}/report", {"document": "拉评〔2026〕1号"}),
        (f"/cases/{case['id']}/assessment", {"text": "第三方意见"}),
    ):
        method = "PUT" if path.endswith("assessment") else "POST"
        response = await http.request(method, path, headers=lhasa, json=body)
        assert response.status_code == 404 and response.json()["code"] == missing["code"], response.text
    opened = await http.post(
        "/cases",
        headers=lhasa,
        json={"project_id": unique("p"), "jurisdiction": "zhonglou", "stage": "change", "agency": "区局"},
    )
    assert opened.status_code == 403 and opened.json()["code"] == "forbidden_jurisdiction"
    assert case["id"] not in {c["id"] for c in (await http.get("/cases", headers=lhasa)).json()["items"]}
    filtered = await http.get("/cases", params={"jurisdiction": "zhonglou"}, headers=lhasa)
    assert filtered.status_code == 403

    # Drawn by zhonglou's authority; a seated expert acting with a lhasa token is not on it.
    zhonglou = bearer(Role.AUTHORITY, jurisdictions=["zhonglou"])
    seats = (await http.post(f"/cases/{case['id']}/draw", headers=zhonglou)).json()["seats"]
    expert = by_id[seats[0]["expert_id"]]
    as_lhasa = bearer(Role.EXPERT, sub=expert["subject"], jurisdictions=["lhasa"])
    opinion = {"score": 90, "verdict": "pass", "comments": "同意"}
    refused = await http.post(f"/cases/{case['id']}/opinions", headers=as_lhasa, json=opinion)
    assert refused.status_code == 404, refused.text
    assert (await http.get("/cases", headers=as_lhasa)).json()["total"] == 0
    as_zhonglou = bearer(Role.EXPERT, sub=expert["subject"], jurisdictions=["zhonglou"])
    accepted = await http.post(f"/cases/{case['id']}/opinions", headers=as_zhonglou, json=opinion)
    assert accepted.status_code == 200, accepted.text


@pytest.fixture
async def shared_pool(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[Review]:
    """Review with packs in which lhasa's panels draw from zhonglou's pool."""
    packs = tmp_path / "packs"
    packs.mkdir()
    for pack in (Path(__file__).parents[2] / "shared" / "policy" / "packs").glob("*.yaml"):
        data = yaml.safe_load(pack.read_text(encoding="utf-8"))
        if pack.stem == "lhasa":
            data["rules"]["review.expert_pool"]["params"]["pool"] = "zhonglou"
        (packs / pack.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    clock = Clock(datetime(2026, 9, 29, 2, 0, tzinfo=UTC))
    settings = ReviewSettings(
        database_url=await make_database("review"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        policy_dir=packs,
        **isolation,
    )
    async with real_bus(nats_url, isolation) as bus, running(create_review(settings, clock=clock)) as http:
        yield Review(http, bus, clock)


async def test_jurisdictions_naming_one_pool_share_its_experts(shared_pool: Review) -> None:
    http = shared_pool.http
    # zhonglou's authority keeps the pool; lhasa's panels draw from it and its authority sees it.
    pool = await add_pool(http, "zhonglou")
    assert {e["pool"] for e in pool} == {"zhonglou"}
    lhasa = bearer(Role.AUTHORITY, jurisdictions=["lhasa"])
    seen = (await http.get("/experts", params={"limit": 200}, headers=lhasa)).json()["items"]
    assert {e["id"] for e in seen} == {e["id"] for e in pool}
    case = await open_case(http, "lhasa", "change")
    drawn = await http.post(f"/cases/{case['id']}/draw", headers=lhasa)
    assert drawn.status_code == 200, drawn.text
    seat = drawn.json()["seats"][0]

    # A zhonglou expert sits on lhasa's panel and sees it; an expert of another pool does not.
    subject = next(e["subject"] for e in pool if e["id"] == seat["expert_id"])
    as_zhonglou = bearer(Role.EXPERT, sub=subject, jurisdictions=["zhonglou"])
    assert [c["id"] for c in (await http.get("/cases", headers=as_zhonglou)).json()["items"]] == [case["id"]]
    opinion = {"score": 88, "verdict": "pass", "comments": "同意"}
    given = await http.post(f"/cases/{case['id']}/opinions", headers=as_zhonglou, json=opinion)
    assert given.status_code == 200, given.text
    as_shexian = bearer(Role.EXPERT, sub=subject, jurisdictions=["shexian"])
    assert (await http.get(f"/cases/{case['id']}", headers=as_shexian)).status_code == 404
    # lhasa's cases stay lhasa's: zhonglou's authority shares the experts, not the cases.
    zhonglou = bearer(Role.AUTHORITY, jurisdictions=["zhonglou"])
    assert (await http.get(f"/cases/{case['id']}", headers=zhonglou)).status_code == 404


# A year's holiday notice loaded while the service runs (test data, not the real arrangement):
# the National Day week of 2027, a year the holiday package does not know, off from 1 to 7 October.
NOTICE_2027 = {
    "year": 2027,
    "source": "测试用2027年节假日安排（示例）",
    "holidays": [{"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"}],
}


async def test_a_notice_loaded_while_running_moves_an_open_time_limit_and_announces_it(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    clock = Clock(datetime(2027, 9, 28, 2, 0, tzinfo=UTC))  # Tuesday 28 September 2027
    settings = ReviewSettings(
        database_url=await make_database("review"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        calendar_poll_seconds=0.1,
        **isolation,
    )
    async with real_bus(nats_url, isolation) as bus, running(create_review(settings, clock=clock)) as http:
        # lhasa §11: five working days, by weekends alone until the year's notice is loaded.
        case = await open_case(http, "lhasa", "change")
        assert (case["due_on"], case["due_on_provisional"]) == ("2027-10-05", True)
        [(_, opened)] = await eventually(lambda: events_of(bus, case["project_id"]), what="case_opened")
        assert opened["due_on"] == "2027-10-05" and opened["due_on_provisional"] is True

        source = tmp_path / "notice.yaml"
        source.write_text(yaml.safe_dump(NOTICE_2027, allow_unicode=True), encoding="utf-8")
        load_notice(source, settings.calendar_path)  # what `govit calendar load` does

        async def moved() -> dict[str, Any] | None:
            found = dict(await events_of(bus, case["project_id"]))
            return found.get("govit.review.deadline_moved.v1")

        event = await eventually(moved, what="the deadline_moved event")
        assert (event["previous_due_on"], event["due_on"], event["deadline"]) == (
            "2027-10-05",
            "2027-10-12",
            "first_review",
        )
        assert event["due_on_provisional"] is False and event["years"] == [2027]
        assert event["reference"] == case["id"] and event["articles"] == ["lhasa §11"]
        shown = (await http.get(f"/cases/{case['id']}", headers=AUTHORITY)).json()
        assert (shown["due_on"], shown["due_on_provisional"]) == ("2027-10-12", False)
        # A case opened now counts by the new calendar at once.
        later = await open_case(http, "lhasa", "change")
        assert (later["due_on"], later["due_on_provisional"]) == ("2027-10-12", False)


async def test_a_notice_loaded_while_the_service_was_stopped_moves_the_time_limit_when_it_starts(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    clock = Clock(datetime(2027, 9, 28, 2, 0, tzinfo=UTC))  # Tuesday 28 September 2027
    settings = ReviewSettings(
        database_url=await make_database("review"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        calendar_poll_seconds=30,  # the running service does not look again in this test
        **isolation,
    )
    async with real_bus(nats_url, isolation) as bus:
        async with running(create_review(settings, clock=clock)) as http:
            case = await open_case(http, "lhasa", "change")
            assert (case["due_on"], case["due_on_provisional"]) == ("2027-10-05", True)
        source = tmp_path / "notice.yaml"
        source.write_text(yaml.safe_dump(NOTICE_2027, allow_unicode=True), encoding="utf-8")
        load_notice(source, settings.calendar_path)  # while the service is stopped

        async with running(create_review(settings, clock=clock)) as http:

            async def moved() -> dict[str, Any] | None:
                found = dict(await events_of(bus, case["project_id"]))
                return found.get("govit.review.deadline_moved.v1")

            event = await eventually(moved, what="the deadline_moved event after the restart")
            assert (event["previous_due_on"], event["due_on"]) == ("2027-10-05", "2027-10-12")
            shown = (await http.get(f"/cases/{case['id']}", headers=AUTHORITY)).json()
            assert (shown["due_on"], shown["due_on_provisional"]) == ("2027-10-12", False)
