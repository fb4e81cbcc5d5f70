"""A project's procurement as Open Contracting (OCDS 1.1) releases, for 政务公开 portals and
open-contracting tools.

One project is one contracting process (`ocid` = the publisher's prefix and the project's id).
Each thing that happened is a release of its own, dated when it happened:

- `planning`: the approved budget (the approval day);
- `tender` + `award`: each recorded procurement result, with its method, tenderers and winner;
- `contract`: each filed contract, with its period and payment milestones, linked to the award
  whose winner signed it (a contract whose supplier won no recorded tender brings its own award);
- `contractAmendment` (or `tenderAmendment` before any contract): each change in force (filed or
  approved), with its reason and the articles it went by.

Amounts are 元 as exact decimals (never float), in CNY. Dates are instants: a day of the
Asia/Shanghai calendar is its first moment there (`+08:00`), a recorded instant is UTC.
Pure functions: the caller reads the records and gives them here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from services.procurement.domain import Change, ChangeState, Contract, Project
from services.procurement.domain.contracts import ROLE_LABELS, Role
from services.procurement.domain.records import Tender
from shared.report_files import yuan

VERSION = "1.1"
#: 统一社会信用代码 in org-id.guide's list of identifier schemes
USCC = "CN-USCC"
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

#: the suite's method → OCDS's closed `method` codelist (None: no one code fits) and the method's name
METHODS: dict[str, tuple[str | None, str]] = {
    "public_tender": ("open", "公开招标"),
    "invited_tender": ("selective", "邀请招标"),
    "competitive_negotiation": ("limited", "竞争性谈判"),
    "competitive_consultation": ("limited", "竞争性磋商"),
    "inquiry": ("limited", "询价"),
    "single_source": ("direct", "单一来源采购"),
    "framework": ("open", "框架协议采购"),
    "decentralized": (None, "分散采购"),  # a way of organising; the method itself is not recorded
}
IN_FORCE = (ChangeState.FILED, ChangeState.APPROVED)

Release = dict[str, Any]


@dataclass(frozen=True)
class Publisher:
    """Who publishes: the jurisdiction's authority, its registered ocid prefix, the data's licence."""

    name: str
    ocid_prefix: str
    license: str | None = None


def value(fen: int) -> dict[str, Any]:
    return {"amount": yuan(fen), "currency": "CNY"}


def on_day(day: dt.date) -> dt.datetime:
    """The first moment of a day of the Asia/Shanghai calendar."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


def stamp(instant: dt.datetime) -> str:
    if instant.tzinfo is SHANGHAI:
        return instant.isoformat()
    return instant.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def firm(name: str, credit_code: str, *roles: str) -> dict[str, Any]:
    identifier = {"scheme": USCC, "id": credit_code, "legalName": name}
    return {"id": f"{USCC}-{credit_code}", "name": name, "identifier": identifier, "roles": list(roles)}


def reference(party: dict[str, Any]) -> dict[str, str]:
    return {"id": party["id"], "name": party["name"]}


class Process:
    """The releases of one project's contracting process."""

    def __init__(self, project: Project, ocid_prefix: str) -> None:
        self.project = project
        self.ocid = f"{ocid_prefix}-{project.id}"
        self.buyer = {
            "id": f"{project.jurisdiction}-agency-{project.agency}",
            "name": project.agency,
            "roles": ["buyer", "procuringEntity"],
        }

    def release(
        self, key: str, when: dt.datetime, tags: Sequence[str], parties: Iterable[dict[str, Any]]
    ) -> tuple[dt.datetime, Release]:
        body: Release = {
            "ocid": self.ocid,
            "id": f"{self.ocid}-{key}",
            "date": stamp(when),
            "tag": list(tags),
            "initiationType": "tender",
            "language": "zh",
            "buyer": reference(self.buyer),
            "parties": [self.buyer, *parties],
        }
        return when, body

    def planning(self) -> list[tuple[dt.datetime, Release]]:
        p = self.project
        if p.approved_on is None or p.approved_fen is None:
            return []
        when, body = self.release("planning", on_day(p.approved_on), ["planning"], [])
        budget = {
            "id": p.id,
            "description": f"{p.title}（批复投资）",
            "amount": value(p.approved_fen),
            "project": p.title,
            "projectID": p.id,
        }
        body["planning"] = {"budget": budget}
        return [(when, body)]

    def tender(self, number: int, t: Tender) -> tuple[dt.datetime, Release]:
        tender_id = t.id or str(number)
        winner = firm(t.winner, t.winner_credit_code, "tenderer", "supplier")
        others = [
            {"id": f"{self.ocid}-tenderer-{name}", "name": name, "roles": ["tenderer"]}
            for name in dict.fromkeys(t.bidders)
            if name != t.winner
        ]
        code, method = METHODS.get(t.method, (None, t.method))
        tender: dict[str, Any] = {
            "id": tender_id,
            "title": self.project.title,
            "status": "complete",
            "procuringEntity": reference(self.buyer),
            "procurementMethodDetails": method,
            "tenderers": [reference(winner), *(reference(o) for o in others)],
            "numberOfTenderers": len(others) + 1,
        }
        if code is not None:
            tender["procurementMethod"] = code
        if t.announced_on is not None:
            tender["tenderPeriod"] = {"startDate": stamp(on_day(t.announced_on))}
        key, day = f"tender-{tender_id}", on_day(t.awarded_on)
        when, body = self.release(key, day, ["tender", "award"], [winner, *others])
        body["tender"] = tender
        body["awards"] = [self.award(f"{tender_id}-award", t.awarded_on, t.amount_fen, winner)]
        return when, body

    @staticmethod
    def award(award_id: str, day: dt.date, fen: int, supplier: dict[str, Any], **more: str) -> dict[str, Any]:
        return {
            "id": award_id,
            "status": "active",
            "date": stamp(on_day(day)),
            "value": value(fen),
            "suppliers": [reference(supplier)],
            **more,
        }

    def award_of(self, contract: Contract) -> str | None:
        """The award of the latest recorded tender this contract's supplier won by its signing."""
        won = [
            (t.awarded_on, t.id or str(n))
            for n, t in enumerate(self.project.tenders, 1)
            if t.winner_credit_code == contract.credit_code and t.awarded_on <= contract.signed_on
        ]
        return f"{max(won)[1]}-award" if won else None

    def contract(self, c: Contract) -> tuple[dt.datetime, Release]:
        supplier = firm(c.counterparty, c.credit_code, "supplier")
        award_id = self.award_of(c)
        tags = ["contract"] if award_id else ["award", "contract"]
        when, body = self.release(f"contract-{c.id}", c.filed_at, tags, [supplier])
        if award_id is None:
            award_id = f"{c.id}-award"
            implied = "据备案合同（未登记采购结果）"
            body["awards"] = [self.award(award_id, c.signed_on, c.amount_fen, supplier, description=implied)]
        contract: dict[str, Any] = {
            "id": c.id,
            "awardID": award_id,
            "title": f"{ROLE_LABELS[Role(c.role)]}合同",
            "status": "active",
            "value": value(c.amount_fen),
            "dateSigned": stamp(on_day(c.signed_on)),
            "milestones": [
                {
                    "id": f"{c.id}-{n}",
                    "title": m.name,
                    "type": "financing",
                    "code": m.stage,
                    "description": f"付款比例 {m.share_percent}%，{yuan(m.amount_fen)} 元",
                }
                for n, m in enumerate(c.milestones, 1)
            ],
        }
        period = {k: stamp(on_day(d)) for k, d in (("startDate", c.starts_on), ("endDate", c.ends_on)) if d}
        if period:
            contract["period"] = period
        body["contracts"] = [contract]
        return when, body

    def amendment(
        self, change: Change, contracts: Sequence[Contract], earlier: dict[str, str]
    ) -> tuple[dt.datetime, Release] | None:
        """The change as an amendment of the contract it changes (the latest construction contract
        filed before it, else the latest contract), or of the latest tender before any contract; a
        change before any procurement amends nothing published here."""
        at = change.decided_at or change.requested_at
        signed = [c for c in contracts if c.filed_at <= at]
        built = [c for c in signed if c.role == Role.CONSTRUCTION] or signed
        tenders = [(on_day(t.awarded_on), n, t) for n, t in enumerate(self.project.tenders, 1)]
        before = [x for x in tenders if x[0] <= at]
        key = f"amendment-{change.id}"
        amendment = {
            "id": change.id,
            "date": stamp(at),
            "rationale": change.description,
            "description": self.describe(change),
            "releaseID": f"{self.ocid}-{key}",
        }
        if built:
            target = max(built, key=lambda c: (c.filed_at, c.id))
            amendment["amendsReleaseID"] = earlier[f"contract-{target.id}"]
            when, body = self.release(key, at, ["contractAmendment"], [])
            award_id = self.award_of(target) or f"{target.id}-award"
            body["contracts"] = [{"id": target.id, "awardID": award_id, "amendments": [amendment]}]
            return when, body
        if before:
            _, number, t = max(before, key=lambda x: (x[0], x[1]))
            tender_id = t.id or str(number)
            amendment["amendsReleaseID"] = earlier[f"tender-{tender_id}"]
            when, body = self.release(key, at, ["tenderAmendment"], [])
            body["tender"] = {"id": tender_id, "amendments": [amendment]}
            return when, body
        return None

    @staticmethod
    def describe(change: Change) -> str:
        parts = [change.scope_effect]
        if change.total_delta_fen:
            parts.append(f"总投资变化 {yuan(change.total_delta_fen)} 元")
        if change.adjustment_fen:
            parts.append(f"调整金额 {yuan(change.adjustment_fen)} 元")
        state = "已备案" if change.status == ChangeState.FILED else "已批准"
        articles = "、".join(change.articles)
        parts.append(f"{state}（{articles}）" if articles else state)
        return "；".join(p for p in parts if p)


def releases(
    project: Project, contracts: Sequence[Contract], changes: Sequence[Change], ocid_prefix: str
) -> list[tuple[dt.datetime, Release]]:
    """Every release of the project's process, oldest first, each with its instant."""
    process = Process(project, ocid_prefix)
    found = process.planning()
    found += [process.tender(n, t) for n, t in enumerate(project.tenders, 1)]
    found += [process.contract(c) for c in contracts]
    ids = {body["id"].removeprefix(f"{process.ocid}-"): body["id"] for _, body in found}
    for change in sorted(changes, key=lambda c: (c.decided_at or c.requested_at, c.id)):
        if change.status in IN_FORCE and (made := process.amendment(change, contracts, ids)) is not None:
            found.append(made)
    return sorted(found, key=lambda pair: pair[0])  # stable: at one instant, in the order above


def package(
    bodies: Sequence[Release], publisher: Publisher, uri: str, published: dt.datetime
) -> dict[str, Any]:
    """A release package of these releases (at least one: the schema asks for it)."""
    out: dict[str, Any] = {
        "uri": uri,
        "version": VERSION,
        "publishedDate": stamp(published),
        "publisher": {"name": publisher.name},
    }
    if publisher.license:
        out["license"] = publisher.license
    out["releases"] = list(bodies)
    return out
