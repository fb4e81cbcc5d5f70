"""What each rule's `params` may say: one model per rule id, checked when a pack is loaded.

A key a model does not know (a misspelling, a leftover) is refused with the pack file, the rule
and the key; a value of the wrong type likewise. Every field is optional — a rule that does not
apply in a jurisdiction says nothing — and the code that reads a parameter the rule must have
asks for it with `Rule.param`, which names the rule when it is missing. The models are grouped
by the stage whose rules they parameterise.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shared.policy.params import acceptance as a
from shared.policy.params import funding as f
from shared.policy.params import intake as i
from shared.policy.params import oversight as o
from shared.policy.params import procurement as p
from shared.policy.params import review as r
from shared.policy.params.common import (
    Effect,
    MaxCount,
    Months,
    Params,
    PaymentKinds,
    WorkingDays,
    Years,
)

MODELS: dict[str, type[Params]] = {
    "acceptance.apply_after_initial": Months,
    "acceptance.apply_deadline": a.ApplyDeadline,
    "acceptance.archives_required": a.ArchivesRequired,
    "acceptance.data_sharing_confirmed_required": Effect,
    "acceptance.failed_not_in_use": Params,
    "acceptance.final_acceptance": a.FinalAcceptance,
    "acceptance.initial_by_unit": Params,
    "acceptance.initial_deadline": Months,
    "acceptance.materials": a.AcceptanceMaterials,
    "acceptance.post_evaluation_window": a.PostEvaluationWindow,
    "acceptance.report_deadline": WorkingDays,
    "acceptance.self_evaluation_deadline": a.SelfEvaluationDeadline,
    "acceptance.trial_run_max": a.TrialRunMax,
    "acceptance.trial_run_min": a.TrialRunMin,
    "funding.acceptance_required": f.AcceptanceRequired,
    "funding.approval_required": f.ApprovalRequired,
    "funding.audit_report_required": PaymentKinds,
    "funding.evaluation_drives_funding": f.EvaluationDrivesFunding,
    "funding.expert_review_required": f.ExpertReviewRequired,
    "funding.om_application_deadline": f.OmApplicationDeadline,
    "funding.om_crypto_security_required": f.OmCryptoSecurity,
    "funding.om_data_sharing_required": f.OmDataSharing,
    "funding.om_evaluation_issues_block": Params,
    "funding.om_grace_years": Years,
    "funding.om_lifecycle_system_required": f.OmLifecycleSystem,
    "funding.om_not_accepted_block": Params,
    "funding.plan_required": f.PlanRequired,
    "funding.settlement_audit": f.SettlementAudit,
    "funding.surplus_return": Params,
    "intake.annual_deadline": i.AnnualDeadline,
    "intake.approval_path_by_amount": i.ApprovalPath,
    "intake.data_catalog_mandatory": Params,
    "intake.designated_network": i.DesignatedNetwork,
    "intake.escalation_threshold": i.Signoffs,
    "intake.hardware_filing": i.Signoffs,
    "intake.max_projects_per_department": MaxCount,
    "intake.monthly_prereview": i.MonthlyPrereview,
    "intake.no_new_machine_room": i.MachineRoom,
    "intake.no_original_development": Params,
    "intake.no_splitting": i.NoSplitting,
    "intake.off_plan_emergency": i.Signoffs,
    "intake.om_declaration_window": i.OmWindow,
    "intake.plan_fixed": Params,
    "intake.refuse_without_review": i.RefuseWithoutReview,
    "intake.report_funds_from_above": i.FundsFromAbove,
    "intake.required_materials": i.RequiredMaterials,
    "intake.secure_controllable_equipment": i.SecureEquipment,
    "intake.shared_platform": i.SharedPlatform,
    "intake.sharing_exemption": i.Signoffs,
    "intake.software_study_threshold": Params,
    "intake.township_self_build_forbidden": Params,
    "oversight.breach_bars_new_projects": o.BreachBars,
    "oversight.rectification": o.Rectification,
    "procurement.change_reapproval": p.ChangeReapproval,
    "procurement.change_within_budget": p.ChangeWithinBudget,
    "procurement.contract_deadline": p.ContractDeadline,
    "procurement.contract_filing": WorkingDays,
    "procurement.delay_report": p.DelayReport,
    "procurement.design_implementation_separate": Params,
    "procurement.implementation_plan_deadline": Months,
    "procurement.ip_to_government": Params,
    "procurement.no_construction_before_approval": Params,
    "procurement.no_construction_before_supervision": Params,
    "procurement.no_procurement_before_approval": Params,
    "procurement.progress_reporting": p.ProgressReporting,
    "procurement.requirements_review": Params,
    "procurement.start_deadline": p.StartDeadline,
    "procurement.supervision_required": p.SupervisionRequired,
    "procurement.unplanned_purchase_filing": p.UnplannedPurchaseFiling,
    "review.blacklist": r.Blacklist,
    "review.conclusion": r.Conclusion,
    "review.expert_pool": r.ExpertPool,
    "review.fail_opinion_deadline": WorkingDays,
    "review.first_review_deadline": WorkingDays,
    "review.max_failures": MaxCount,
    "review.method": r.ReviewMethod,
    "review.panel": r.Panel,
    "review.pass_report_deadline": WorkingDays,
    "review.random_draw": Params,
    "review.revision_deadline": WorkingDays,
    "review.second_review_deadline": WorkingDays,
    "security.classified_systems": a.ClassifiedSystems,
    "security.crypto_assessment": Params,
    "security.mlps_assessment": Params,
    "security.password": o.Password,
}


def check_params(rule_id: str, params: dict[str, Any]) -> None:
    """Raise ValueError naming the rule and each wrong key when params do not fit the rule's model."""
    model = MODELS.get(rule_id)
    if model is None:
        raise ValueError(f"rule {rule_id}: unknown rule id (no parameter model in shared/policy/params.py)")
    try:
        model.model_validate(params)
    except ValidationError as exc:
        wrong = "; ".join(
            f"params.{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"rule {rule_id}: {wrong}") from None
