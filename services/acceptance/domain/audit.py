"""The audit report the unit files once the project is built (xunyang §20)."""

from __future__ import annotations

from services.acceptance.domain.project import Project
from services.acceptance.domain.records import AuditReport
from shared.contracts.acceptance import AuditReportFiled


def file_audit_report(project: Project, report: AuditReport) -> None:
    project.ensure_built()
    project.audit_report = report
    project.emit(
        AuditReportFiled, reference=report.reference, issued_on=report.issued_on, auditor=report.auditor
    )
