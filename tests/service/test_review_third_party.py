"""bayingolin §9 over HTTP and events: the monthly review of 建设和服务类 projects brings in a
third-party assessment (软件造价等) to assist the experts; the O&M review of §10 is held apart."""

from __future__ import annotations

from typing import Any

from shared.contracts.intake import ProjectScreened
from tests.conftest import eventually, unique
from tests.intake_flow import publish
from tests.service import test_review_service as base
from tests.service.test_review_service import AUTHORITY, Review, add_pool, as_expert, everyone_says

review = base.review  # the fixture: the service on its own database, with a real JetStream
PASS = {"verdict": "pass", "score": 86, "comments": "方案可行"}


async def screened(r: Review, kind: str) -> dict[str, Any]:
    """A bayingolin declaration of this kind admitted by screening; the case it opened."""
    project = unique("p")
    event = ProjectScreened(
        project_id=project, jurisdiction="bayingolin", agency="州教育局", accepted=True, kind=kind
    )
    await publish(r.bus, event, source="/govit/intake")

    async def opened() -> dict[str, Any] | None:
        found = await r.http.get("/cases", params={"project_id": project}, headers=AUTHORITY)
        items = found.json()["items"]
        return dict(items[0]) if items else None

    return dict(await eventually(opened, what="the case to open"))


async def test_bayingolin_experts_review_build_projects_with_the_third_party_assessment_in_hand(
    review: Review,
) -> None:
    r = review
    by_id = {e["id"]: e for e in await add_pool(r.http, "bayingolin")}
    case = await screened(r, "construction")
    assert case["stage"] == "declaration"  # bayingolin §9: 建设和服务类项目评审会

    # The panel may be drawn while the assessment is being made…
    drawn = await r.http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    assert drawn.status_code == 200, drawn.text
    seats = [s for s in drawn.json()["seats"] if s["state"] == "seated"]
    # …but the experts give no opinion without it: refused, citing the article.
    early = await r.http.post(
        f"/cases/{case['id']}/opinions", headers=as_expert(by_id[seats[0]["expert_id"]]), json=PASS
    )
    problem = early.json()
    assert early.status_code == 409 and problem["code"] == "third_party_review_missing", early.text
    assert [reason["articles"] for reason in problem["reasons"]] == [["bayingolin §9"]]
    assert "第三方专业评估" in problem["detail"]

    assessed = await r.http.put(
        f"/cases/{case['id']}/assessment", headers=AUTHORITY, json={"text": "某造价咨询公司 软件造价评估报告"}
    )
    assert assessed.status_code == 200, assessed.text
    concluded = await everyone_says(r.http, by_id, case["id"], seats, PASS)
    assert concluded["status"] == "concluded" and concluded["verdict"] == "pass"


async def test_bayingolin_reviews_om_projects_apart_without_a_third_party_assessment(review: Review) -> None:
    r = review
    by_id = {e["id"]: e for e in await add_pool(r.http, "bayingolin")}
    case = await screened(r, "operation")
    assert case["stage"] == "om_declaration"  # bayingolin §10: 运维类项目的评审
    drawn = await r.http.post(f"/cases/{case['id']}/draw", headers=AUTHORITY)
    seats = [s for s in drawn.json()["seats"] if s["state"] == "seated"]
    concluded = await everyone_says(r.http, by_id, case["id"], seats, PASS)
    assert concluded["status"] == "concluded" and concluded["third_party_assessment"] == ""
