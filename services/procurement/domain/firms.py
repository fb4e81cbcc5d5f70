"""Firms and the 失信 list (xunyang §25, lhasa §22): who may not be contracted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.procurement.domain.errors import ProcurementError
from services.procurement.domain.records import new_id
from shared.policy import PolicyRegistry, Reason


@dataclass(eq=False)
class Firm:
    """A contractor or 监理 known to the authority, and whether it is on the 失信 list."""

    id: str
    jurisdiction: str
    credit_code: str
    name: str
    blacklisted: bool
    reason: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class Listing:
    """列入或移出失信名单: what the authority says of a firm."""

    jurisdiction: str
    credit_code: str
    name: str
    blacklisted: bool
    reason: str


def blacklisted(policy: PolicyRegistry, firm: Firm | None, credit_code: str, name: str) -> list[Reason]:
    """A firm on the 失信 list may not be contracted (xunyang §25, lhasa §22)."""
    if firm is None:
        return []
    rule = policy.rule(firm.jurisdiction, "review.blacklist")
    if rule.applies and firm.blacklisted:
        detail = f"{name}（{credit_code}）已列入失信名单：{firm.reason}"
        return [policy.refusal(firm.jurisdiction, "review.blacklist", "firm_blacklisted", detail)]
    return []


def check_listing(policy: PolicyRegistry, listing: Listing) -> None:
    """Only a pack that keeps a list for firms lists one, and only with its reason."""
    rule = policy.rule(listing.jurisdiction, "review.blacklist")
    covers = set(rule.params.get("covers", []))
    if listing.blacklisted and not (rule.applies and covers & {"enterprises", "third_parties"}):
        raise ProcurementError(f"{listing.jurisdiction} 的管理办法未规定企业失信名单（{rule.summary}）")
    if listing.blacklisted and not listing.reason.strip():
        raise ProcurementError(f"列入失信名单须写明原因（{'、'.join(rule.articles)}）")


def list_firm(firm: Firm | None, listing: Listing, at: dt.datetime) -> Firm:
    """The firm as listed now: a new one, or the known one updated."""
    if firm is None:
        return Firm(
            new_id(),
            listing.jurisdiction,
            listing.credit_code,
            listing.name,
            listing.blacklisted,
            listing.reason,
            at,
        )
    firm.name, firm.blacklisted, firm.reason, firm.updated_at = (
        listing.name,
        listing.blacklisted,
        listing.reason,
        at,
    )
    return firm
