"""Funding's domain: a ledger of gates per project, and gated disbursements (资金拨付).

Gates are opened and closed only by other services' events (approval, plan, termination,
completion, acceptance, audit report, data sharing, security, evaluations). A payment is
released only when every gate its kind needs is open; which gates a kind needs in a
jurisdiction, and the article behind each, come from its policy pack.

- gates: the gate and how it moves (GateState.record), whether it is open today
- needs: which gates a payment needs, and why a closed one holds it
- projects, disbursements, contracts, reclaims: the records
- limits: the approved total and the contracts as caps; payments: a request judged, held
  requests looked at again; om: the O&M application rules; settlement: 结算
"""

from services.funding.domain.contracts import Contract
from services.funding.domain.disbursements import Ask, Disbursement
from services.funding.domain.errors import (
    DisbursementNotFound,
    FundingError,
    InvalidState,
    ProjectNotFound,
    Refused,
    WrongJurisdiction,
)
from services.funding.domain.gates import (
    LABELS,
    MANUAL_KEYS,
    MEASURE_GATES,
    MILESTONE_GATES,
    NAMES,
    OPEN_BY_DEFAULT,
    FactOrder,
    Gate,
    GateFact,
    GateState,
    after_evaluation,
    is_open,
    measures_in_force,
)
from services.funding.domain.kinds import BUDGET_KINDS, DisbursementStatus, PaymentKind
from services.funding.domain.limits import Ledger, over_cap, within_limits
from services.funding.domain.needs import (
    Need,
    basis_for,
    closed_reasons,
    needs,
    om_bases,
    om_needs,
    required_for,
    shown_open,
)
from services.funding.domain.om import OmAsk, om_refusals
from services.funding.domain.payments import Standing
from services.funding.domain.projects import FundedProject
from services.funding.domain.reclaims import Closure, Reclaim, close_for_good

__all__ = [
    "BUDGET_KINDS",
    "LABELS",
    "MANUAL_KEYS",
    "MEASURE_GATES",
    "MILESTONE_GATES",
    "NAMES",
    "OPEN_BY_DEFAULT",
    "Ask",
    "Closure",
    "Contract",
    "Disbursement",
    "DisbursementNotFound",
    "DisbursementStatus",
    "FactOrder",
    "FundedProject",
    "FundingError",
    "Gate",
    "GateFact",
    "GateState",
    "InvalidState",
    "Ledger",
    "Need",
    "OmAsk",
    "PaymentKind",
    "ProjectNotFound",
    "Reclaim",
    "Refused",
    "Standing",
    "WrongJurisdiction",
    "after_evaluation",
    "basis_for",
    "close_for_good",
    "closed_reasons",
    "is_open",
    "measures_in_force",
    "needs",
    "om_bases",
    "om_needs",
    "om_refusals",
    "over_cap",
    "required_for",
    "shown_open",
    "within_limits",
]
