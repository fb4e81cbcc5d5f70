"""The final-acceptance application: its windows, preconditions and materials, asked of the pack.

- Application windows: zhonglou §18 not before three months after 初验; shexian §39 within six
  months of completion unless a delay was approved; lhasa §17 within six months of 初验.
- Preconditions: 初验 passed; the trial run long enough (trial.py); data sharing confirmed
  (shexian §39, §44(一)); archives accepted (shexian §41, bayingolin §25); a classified system's
  保密测评 and 保密审查 (shexian §42, secrecy.py); the pack's materials (shexian §39, xunyang §19,
  zhonglou §18, bayingolin §26).
Every unmet precondition is given at once, each citing its article.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.acceptance.domain.errors import InvalidState, RuleViolation
from services.acceptance.domain.outcomes import Application
from services.acceptance.domain.project import Pack, Project, Status, new_id
from services.acceptance.domain.records import notes_of
from services.acceptance.domain.secrecy import clearance_refusals
from services.acceptance.domain.sharing import data_sharing_basis, data_sharing_required
from services.acceptance.domain.trial import trial_limit, trial_months
from shared.policy import PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, months_after

ARCHIVES = "archives_acceptance"  # the material proving the archives were accepted (档案验收意见)


def earliest_application(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, initial_on: dt.date
) -> dt.date | None:
    """zhonglou §18: the application comes three months after 初验 at the earliest."""
    rule = policy.rule(jurisdiction, "acceptance.apply_after_initial")
    if not rule.applies:
        return None
    return months_after(initial_on, int(rule.param("months")))


@dataclass(frozen=True)
class ApplicationDue:
    due_on: dt.date
    extension_allowed: bool


def application_due(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    jurisdiction: str,
    completed_on: dt.date | None,
    initial_on: dt.date | None,
) -> ApplicationDue | None:
    """shexian §39 (from completion, a delay may be approved), lhasa §17 (from 初验)."""
    rule = policy.rule(jurisdiction, "acceptance.apply_deadline")
    if not rule.applies:
        return None
    start = initial_on if rule.params.get("start_from") == "initial_acceptance" else completed_on
    if start is None:
        return None
    due = calendar.last_day(months_after(start, int(rule.param("months"))))
    return ApplicationDue(due, bool(rule.params.get("extension_allowed")))


def materials(policy: PolicyRegistry, jurisdiction: str, kind: str) -> dict[str, str]:
    """The documents an application carries (material → label); O&M projects may omit them where
    the pack says so (shexian §39 运维类项目可据实提供)."""
    rule = policy.rule(jurisdiction, "acceptance.materials")
    if not rule.applies or (kind == "operation" and rule.params.get("om_flexible")):
        return {}
    labels = rule.params.get("labels", {})
    return {m: str(labels.get(m, m)) for m in rule.params.get("materials", [])}


def archives_required(policy: PolicyRegistry, jurisdiction: str) -> bool:
    rule = policy.rule(jurisdiction, "acceptance.archives_required")
    return rule.applies and bool(rule.params.get("archive_acceptance_required"))


def required_materials(policy: PolicyRegistry, jurisdiction: str, kind: str) -> dict[str, str]:
    """What an application must carry: the pack's materials, and the archives' acceptance where
    the project cannot pass without it (shexian §41, bayingolin §25)."""
    wanted = materials(policy, jurisdiction, kind)
    if archives_required(policy, jurisdiction):
        wanted[ARCHIVES] = "档案验收意见（文号）"
    return wanted


@dataclass
class _Checks:
    """The reasons gathered for one application: refusals stop it, notes travel with it."""

    policy: PolicyRegistry
    calendar: WorkingCalendar
    project: Project
    today: dt.date
    refusals: list[Reason]
    notes: list[Reason]

    def reason(self, rule_id: str, code: str, detail: str | None = None) -> Reason:
        return self.policy.refusal(self.project.jurisdiction, rule_id, code, detail)

    def refuse(self, rule_id: str, code: str, detail: str | None = None) -> None:
        self.refusals.append(self.reason(rule_id, code, detail))

    def summary(self, rule_id: str) -> str:
        return self.policy.rule(self.project.jurisdiction, rule_id).summary


def _initial(c: _Checks) -> None:
    if (
        c.policy.rule(c.project.jurisdiction, "acceptance.initial_by_unit").applies
        and c.project.initial_on is None
    ):
        c.refuse(
            "acceptance.initial_by_unit",
            "initial_acceptance_missing",
            "尚未通过初验，" + c.summary("acceptance.initial_by_unit"),
        )


def _trial(c: _Checks) -> None:
    project = c.project
    months = trial_months(c.policy, project.jurisdiction, project.software_fen)
    if months is not None and project.trial_started_on is None:
        c.refuse(
            "acceptance.trial_run_min",
            "trial_run_missing",
            "尚未开展试运行，" + c.summary("acceptance.trial_run_min"),
        )
    if months is None or project.trial_started_on is None:
        return
    enough = months_after(project.trial_started_on, months)
    if months > 0 and (project.trial_ended_on or c.today) < enough:
        what = "软件开发项目" if project.software_fen > 0 and months > 1 else "项目"
        c.refuse(
            "acceptance.trial_run_min",
            "trial_run_too_short",
            f"{what}试运行须不少于{months}个月：自 {project.trial_started_on.isoformat()} 起，"
            f"至 {enough.isoformat()} 方满",
        )


def _trial_over_a_year(c: _Checks) -> None:
    started_on = c.project.trial_started_on
    if started_on is None:
        return
    limit = trial_limit(c.policy, c.project.jurisdiction, started_on)
    if limit is not None and c.today > limit:
        c.notes.append(
            c.reason(
                "acceptance.trial_run_max",
                "trial_run_over_a_year",
                f"试运行自 {started_on.isoformat()} 起已超过一年仍未完成验收",
            )
        )


def _too_early(c: _Checks) -> None:
    initial_on = c.project.initial_on
    if initial_on is None:
        return
    earliest = earliest_application(c.policy, c.calendar, c.project.jurisdiction, initial_on)
    if earliest is not None and c.today < earliest:
        c.refuse(
            "acceptance.apply_after_initial",
            "application_too_early",
            f"初验于 {initial_on.isoformat()} 结束，{c.calendar.dated(earliest)} 起方可申请终验",
        )


def _too_late(c: _Checks) -> None:
    project = c.project
    due = application_due(
        c.policy, c.calendar, project.jurisdiction, project.completed_on, project.initial_on
    )
    if due is None or c.today <= due.due_on:
        return
    if not due.extension_allowed:
        c.notes.append(
            c.reason(
                "acceptance.apply_deadline",
                "application_late",
                f"应在 {c.calendar.dated(due.due_on)} 前申请竣工验收，已逾期",
            )
        )
        return
    delayed = project.delay_until
    if delayed is None or c.today > delayed:
        c.refuse(
            "acceptance.apply_deadline",
            "application_late",
            f"应在 {c.calendar.dated(due.due_on)} 前申请验收，已逾期且没有获准的延期验收申请"
            + (f"（延期至 {delayed.isoformat()}）" if delayed else ""),
        )


def _preconditions(c: _Checks, given: dict[str, str]) -> None:
    project, j = c.project, c.project.jurisdiction
    if data_sharing_required(c.policy, j) and not project.data_sharing_confirmed:
        state = project.data_sharing.status if project.data_sharing else "未提交"
        c.refuse(
            "acceptance.data_sharing_confirmed_required",
            "data_sharing_unconfirmed",
            f"数据共享情况未经主管部门确认（当前：{state}），不组织验收",
        )
    c.refusals += clearance_refusals(c.policy, project, c.today)
    basis = data_sharing_basis(c.policy, project)
    if basis is not None:
        c.notes.append(basis)
    if archives_required(c.policy, j) and not given.get(ARCHIVES, "").strip():
        c.refuse(
            "acceptance.archives_required",
            "archives_not_accepted",
            f"未附档案验收意见（材料 {ARCHIVES}：文号）。" + c.summary("acceptance.archives_required"),
        )
    wanted = materials(c.policy, j, project.kind)
    missing = [label for material, label in wanted.items() if not given.get(material, "").strip()]
    if missing:
        c.refuse("acceptance.materials", "materials_missing", "缺少验收材料：" + "、".join(missing))


def application_checks(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: Project,
    *,
    materials: dict[str, str],
    today: dt.date,
) -> tuple[list[Reason], list[Reason]]:
    """(refusals, notes) for a final-acceptance application, every precondition at once."""
    checks = _Checks(policy, calendar, project, today, [], [])
    for check in (_initial, _trial, _trial_over_a_year, _too_early, _too_late):
        check(checks)
    _preconditions(checks, materials)
    return checks.refusals, checks.notes


def _may_apply(project: Project) -> None:
    project.ensure_built()
    if project.status not in (Status.COMPLETED, Status.RECTIFYING):
        raise InvalidState(
            {
                Status.APPLIED: "终验申请已提交，待主管部门受理",
                Status.UNDER_ACCEPTANCE: "终验正在进行",
                Status.ACCEPTED: "项目已通过终验",
            }.get(project.status, f"项目当前状态（{project.status.value}）不能申请终验")
        )


def apply(project: Project, pack: Pack, *, given: dict[str, str], by: str) -> Application:
    """终验申请: refused with every unmet precondition, each citing its article."""
    today = pack.today
    refusals, notes = application_checks(pack.policy, pack.calendar, project, materials=given, today=today)
    _may_apply(project)
    RuleViolation.refuse_if(refusals, "终验申请不予受理")
    application = Application(
        id=new_id(),
        round=len(project.applications) + 1,
        status="submitted",
        materials=dict(given),
        archives_accepted=bool(given.get(ARCHIVES, "").strip()),
        submitted_on=today,
        submitted_by=by,
        notes=notes_of(notes),
    )
    project.applications = (*project.applications, application)
    project.status = Status.APPLIED
    return application
