"""The demo's acceptance: initial acceptance and trial run as the pack orders them, then the final one."""

from __future__ import annotations

from datetime import date, timedelta

from govit.demo.walk import Walk
from services.acceptance.domain import experts_conclude, trial_months


def accept(w: Walk, finished: date) -> date:
    """Initial acceptance, trial run, the application and the conclusion; the day it was applied for."""
    demo, j, pid, unit = w.demo, w.j, w.pid, w.unit
    trial = demo.policy.rule(j, "acceptance.trial_run_min")
    months = max(trial_months(demo.policy, j, 0) or 0, 1)
    day = finished + timedelta(days=2)

    def initial(on: date) -> None:
        demo.at(on)
        demo.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/initial-acceptance",
            unit,
            json={"held_on": on.isoformat(), "passed": True, "findings": "满足合同要求"},
        )
        demo.say(j, "acceptance", f"初验通过 {on}")

    def trial_run(begin: date) -> date:
        end = begin + timedelta(days=31 * months)
        demo.at(begin)
        demo.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/trial-run",
            unit,
            json={"started_on": begin.isoformat()},
        )
        demo.at(end)
        demo.call(
            "POST", "acceptance", f"/projects/{pid}/trial-run", unit, json={"ended_on": end.isoformat()}
        )
        demo.say(j, "acceptance", f"试运行 {begin} — {end}")
        return end

    has_initial = demo.policy.rule(j, "acceptance.initial_by_unit").applies
    if trial.applies and trial.params.get("before_initial_acceptance"):
        day = trial_run(day) + timedelta(days=1)
        initial(day)
    else:
        if has_initial:
            initial(day)
        if trial.applies:
            day = trial_run(day + timedelta(days=1))
    wait = demo.policy.rule(j, "acceptance.apply_after_initial")
    if has_initial and wait.applies:
        day += timedelta(days=31 * int(wait.param("months")) + 1)
    day += timedelta(days=1)
    demo.at(day)
    _apply(w, day)
    w.advance()
    _conclude(w)
    return day


def _apply(w: Walk, day: date) -> None:
    """Data sharing confirmed, the attestations and the audit report filed, the application admitted."""
    demo, j, pid, unit, authority = w.demo, w.j, w.pid, w.unit, w.authority
    demo.call(
        "POST",
        "acceptance",
        f"/projects/{pid}/data-sharing",
        unit,
        json={"catalogue": ["业务数据资源目录"], "items": ["办件信息"]},
    )
    demo.call(
        "POST",
        "acceptance",
        f"/projects/{pid}/data-sharing/decision",
        authority,
        json={"decision": "confirmed"},
    )
    demo.say(j, "acceptance", "数据共享经主管部门确认")
    for attestation in ("mlps", "crypto"):
        demo.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/attestations",
            unit,
            json={
                "attestation": attestation,
                "compliant": True,
                "reference": f"{attestation}-{demo.run}",
                "issued_on": day.isoformat(),
            },
        )
    demo.call(
        "POST",
        "acceptance",
        f"/projects/{pid}/audit-report",
        unit,
        json={"reference": f"审〔{day.year}〕{demo.run}号", "issued_on": day.isoformat()},
    )
    detail = demo.call("GET", "acceptance", f"/projects/{pid}", unit)
    materials = {m: f"{label}（电子件）" for m, label in detail["required_materials"].items()}
    demo.call(
        "POST",
        "acceptance",
        f"/projects/{pid}/final-acceptance/application",
        unit,
        json={"materials": {**materials, "archives_acceptance": "档验〔2027〕1号"}},
    )
    demo.call(
        "POST",
        "acceptance",
        f"/projects/{pid}/final-acceptance/admission",
        authority,
        json={"admit": True},
    )
    demo.say(j, "acceptance", f"终验申请 {day} 受理")


def _conclude(w: Walk) -> None:
    """The experts conclude where the pack asks for them, else the authority; then funding knows."""
    demo, j, pid, authority = w.demo, w.j, w.pid, w.authority
    if experts_conclude(demo.policy, j):
        demo.panel(j, pid, "acceptance", w.pool)
    else:
        demo.call(
            "POST",
            "acceptance",
            f"/projects/{pid}/final-acceptance/conclusion",
            authority,
            json={"passed": True},
        )
        demo.say(j, "acceptance", "主管部门组织验收，通过")
    demo.wait(
        "acceptance", f"/projects/{pid}", authority, lambda p: p["status"] == "accepted", "the acceptance"
    )
    demo.wait("funding", f"/projects/{pid}", authority, lambda p: p["accepted_on"] is not None, "funding")
