"""监督整改: rectification orders with a deadline, and what the authority may do when one is not
met (zhonglou §21, shexian §49, lhasa §18).

The articles order rectification within a time limit (限期整改); only when it is overdue
(逾期不整改) or found still not to meet the requirements (整改后仍不符合要求) "may" the authority
take the measures its regulation lists — 通报, 暂缓安排计划或资金, 暂停建设, 终止, 停止发放运维经费.
Which measures exist, and their names, come from the pack (`oversight.rectification.measures`);
each is recorded by the authority with its document and announced, and the lasting ones hold
until the authority lifts them. The suite never takes a measure by itself: the article says 可.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from services.intake.domain import endings
from services.intake.domain.errors import InvalidTransition, MeasurePremature, OversightRefused
from services.intake.domain.kinds import ProjectStatus
from services.intake.domain.orders import LASTING, Measure, Order, Oversight
from services.intake.domain.projects import Project
from shared.contracts.intake import (
    OversightMeasureLifted,
    OversightMeasureTaken,
    RectificationOrdered,
    RectificationReviewed,
)
from shared.policy import PolicyRegistry, Reason

RULE = "oversight.rectification"
UNDER_WAY = frozenset({ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN, ProjectStatus.APPROVED})


# -- the authority's acts ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderTerms:
    finding: str
    items: Sequence[str]
    due_on: date
    document_ref: str


@dataclass(frozen=True)
class Review:
    """The authority's finding on a rectification: met (compliant) or still not."""

    order_id: str
    compliant: bool
    document_ref: str
    note: str


@dataclass(frozen=True)
class MeasureTerms:
    order_id: str
    measure: str
    document_ref: str
    reason: str
    concurrence_ref: str | None = None


def _rule(policy: PolicyRegistry, project: Project) -> tuple[Mapping[str, str], tuple[str, ...]]:
    rule = policy.rule(project.jurisdiction, RULE)
    if not rule.applies:
        raise OversightRefused(f"{rule.summary}：本辖区办法未规定限期整改")
    return dict(rule.params.get("measures") or {}), rule.articles


def order_rectification(
    policy: PolicyRegistry, project: Project, terms: OrderTerms, by: str, at: datetime, today: date
) -> Order:
    """责令限期整改: a finding, the items to fix, a deadline after today, the document."""
    _, articles = _rule(policy, project)
    if project.status not in UNDER_WAY:
        raise InvalidTransition(f"项目 {project.id} 处于 {project.status.value} 状态，不能责令整改")
    if not terms.document_ref.strip() or not terms.finding.strip():
        raise OversightRefused("整改通知须写明发现的问题和文号")
    if terms.due_on <= today:
        raise OversightRefused(f"整改期限须在今天（{today}）以后")
    kept = Oversight.of(project.oversight)
    for order in kept.orders:
        if order.document_ref == terms.document_ref:
            return order  # the same notice again
    order = Order(
        uuid.uuid4().hex,
        terms.finding,
        tuple(terms.items),
        terms.due_on,
        terms.document_ref,
        articles,
        by,
        at,
    )
    project.oversight = replace(kept, orders=(*kept.orders, order)).stored()
    project.record_decision(
        "rectification_ordered", "open", by, at, note=f"{terms.document_ref}：{terms.finding}"
    )
    project.events.append(
        RectificationOrdered(
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            order_id=order.id,
            finding=order.finding,
            items=order.items,
            due_on=order.due_on,
            document_ref=order.document_ref,
            articles=articles,
        )
    )
    return order


def review_rectification(project: Project, review: Review, by: str, at: datetime) -> Order:
    """整改到位, or 整改后仍不符合要求 (the ground for a measure); once per order."""
    kept = Oversight.of(project.oversight)
    order = kept.order(review.order_id)
    state = "rectified" if review.compliant else "unmet"
    if order.state != "open":
        if order.state == state and order.review.get("document_ref") == review.document_ref:
            return order
        raise InvalidTransition(
            f"整改通知 {order.document_ref} 的整改情况已认定（{order.review.get('document_ref')}）"
        )
    if not review.document_ref.strip():
        raise OversightRefused("整改情况的认定须注明文号")
    done = replace(
        order,
        state=state,
        review={"document_ref": review.document_ref, "note": review.note, "by": by, "at": at.isoformat()},
    )
    orders = tuple(done if o.id == order.id else o for o in kept.orders)
    project.oversight = replace(kept, orders=orders).stored()
    project.record_decision(
        "rectification_reviewed", state, by, at, note=f"{review.document_ref}：{review.note}"
    )
    project.events.append(
        RectificationReviewed(
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            order_id=order.id,
            compliant=review.compliant,
            document_ref=review.document_ref,
            note=review.note,
            articles=order.articles,
        )
    )
    return done


def take_measure(
    policy: PolicyRegistry, project: Project, terms: MeasureTerms, by: str, at: datetime, today: date
) -> Measure:
    """A measure of the pack's list, only on an order overdue or found unmet (逾期不整改或者整改后
    仍不符合要求); the same document again is no change."""
    measures, articles = _rule(policy, project)
    kept = Oversight.of(project.oversight)
    order = kept.order(terms.order_id)
    for taken in kept.measures:
        if (taken.order_id, taken.measure, taken.document_ref) == (
            order.id,
            terms.measure,
            terms.document_ref,
        ):
            return taken
    _check_measure(policy, project, order, terms, measures, today)
    measure = Measure(
        id=uuid.uuid4().hex,
        order_id=order.id,
        measure=terms.measure,
        label=measures[terms.measure],
        document_ref=terms.document_ref,
        reason=terms.reason,
        articles=articles,
        by=by,
        at=at,
        concurrence_ref=terms.concurrence_ref,
    )
    project.oversight = replace(kept, measures=(*kept.measures, measure)).stored()
    project.record_decision(
        "oversight_measure", terms.measure, by, at, note=f"{measure.label}：{terms.document_ref}"
    )
    project.events.append(_taken(project, measure))
    if terms.measure == "terminate":
        endings.terminate(
            project,
            reason=f"{measure.label}：{terms.reason or order.finding}",
            articles=articles,
            by=by,
            at=at,
            document_ref=terms.document_ref,
        )
    return measure


def _check_measure(
    policy: PolicyRegistry,
    project: Project,
    order: Order,
    terms: MeasureTerms,
    measures: Mapping[str, str],
    today: date,
) -> None:
    j = project.jurisdiction
    if terms.measure not in measures:
        offered = "、".join(f"{label}（{code}）" for code, label in measures.items()) or "无"
        detail = f"本辖区办法未规定此处理措施，可采取：{offered}"
        _refuse(OversightRefused, policy.refusal(j, RULE, "measure_not_provided", detail))
    if not terms.document_ref.strip():
        raise OversightRefused("处理措施须注明文号")
    if not (order.state == "unmet" or order.overdue(today)):
        detail = f"整改通知 {order.document_ref} 的期限 {order.due_on} 未届满，且未认定整改后仍不符合要求"
        _refuse(MeasurePremature, policy.refusal(j, RULE, "measure_premature", detail))
    concurrence = policy.rule(j, RULE).params.get("concurrence")
    if concurrence and not (terms.concurrence_ref or "").strip():
        detail = f"处理措施须会同{concurrence}作出，请注明其文号（concurrence_ref）"
        _refuse(OversightRefused, policy.refusal(j, RULE, "concurrence_required", detail))


def _refuse(error: type[OversightRefused | MeasurePremature], reason: Reason) -> None:
    raise error(reason.message, [reason])


def lift_measure(
    project: Project, measure_id: str, document_ref: str, reason: str, by: str, at: datetime
) -> Measure:
    """解除 a lasting measure (暂缓、暂停、停止发放) with its document; again is no change."""
    kept = Oversight.of(project.oversight)
    measure = kept.measure(measure_id)
    if measure.measure not in LASTING:
        raise InvalidTransition(f"{measure.label}不是持续性的处理措施，无需解除")
    if measure.lifted is not None:
        if measure.lifted.get("document_ref") == document_ref:
            return measure
        raise InvalidTransition(f"{measure.label}已由 {measure.lifted.get('document_ref')} 解除")
    if not document_ref.strip():
        raise OversightRefused("解除处理措施须注明文号")
    lifted = replace(
        measure, lifted={"document_ref": document_ref, "reason": reason, "by": by, "at": at.isoformat()}
    )
    project.oversight = replace(
        kept, measures=tuple(lifted if m.id == measure.id else m for m in kept.measures)
    ).stored()
    project.record_decision(
        "oversight_measure_lifted", measure.measure, by, at, note=f"{measure.label}：{document_ref}"
    )
    project.events.append(
        OversightMeasureLifted(
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            order_id=measure.order_id,
            measure_id=measure.id,
            measure=measure.measure,
            label=measure.label,
            document_ref=document_ref,
            reason=reason,
            articles=measure.articles,
        )
    )
    return lifted


def _taken(project: Project, measure: Measure) -> OversightMeasureTaken:
    return OversightMeasureTaken(
        project_id=project.id,
        jurisdiction=project.jurisdiction,
        order_id=measure.order_id,
        measure_id=measure.id,
        measure=measure.measure,
        label=measure.label,
        document_ref=measure.document_ref,
        concurrence_ref=measure.concurrence_ref,
        reason=measure.reason,
        articles=measure.articles,
    )
