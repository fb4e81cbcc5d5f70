"""Funding and the roles of filed contracts: a design contract (设计, shexian §18 keeps it apart from
the implementation) is paid by its milestones like a 监理 one, and never counts as the construction
contract the final payment is measured against."""

from __future__ import annotations

import uuid
from datetime import date

from shared.contracts.procurement import ContractFiled, Milestone
from tests.conftest import eventually
from tests.service import test_funding_service as base
from tests.service.test_funding_service import WAN, Funding, approved, contract, pay, send

funding = base.funding  # the fixture: the service on its own database, with a real JetStream


async def test_a_design_contract_is_paid_by_its_milestones_and_is_no_construction_contract(
    funding: Funding,
) -> None:
    f = funding
    project = await approved(f, "shexian")
    design_id = uuid.uuid4().hex
    await send(
        f,
        project,
        ContractFiled,
        contract_id=design_id,
        role="design",
        counterparty="某某规划设计咨询有限公司",
        credit_code="91341021MA2XXXXX1A",
        amount_fen=10 * WAN,
        signed_on=date(2026, 3, 1),
        filed_on=date(2026, 3, 2),
        milestones=(Milestone(name="设计费", stage="signing", share_percent="100", amount_fen=10 * WAN),),
    )

    async def design_paid() -> bool:
        paid = await pay(f, project, 10 * WAN, "milestone", contract_id=design_id, milestone="设计费")
        return paid.status_code == 201

    await eventually(design_paid, what="the design contract paid by its milestone")
    # The final payment (尾款) is measured against construction contracts: none is filed yet.
    final = await pay(f, project, WAN, "final")
    assert final.status_code == 409 and "施工合同" in final.json()["detail"], final.text
    await contract(f, project, 100 * WAN)

    async def final_held() -> bool:
        return (await pay(f, project, WAN, "final")).status_code == 202

    await eventually(final_held, what="the final payment measured against the construction contract")
