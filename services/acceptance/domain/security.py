"""Security attestations: 等保测评 and 密评 with their validity (shexian §33, §44(二);
bayingolin §7; zhonglou §24); for a classified system 保密测评 and 保密审查 (shexian §42,
secrecy.py), kept for the acceptance they allow and announced to no other service."""

from __future__ import annotations

from services.acceptance.domain.errors import AcceptanceError
from services.acceptance.domain.project import Pack, Project
from services.acceptance.domain.records import Attestation
from services.acceptance.domain.secrecy import check_record
from shared.contracts.acceptance import SecurityAttested

ATTESTATION_RULES = {"mlps": "security.mlps_assessment", "crypto": "security.crypto_assessment"}


def attest(project: Project, pack: Pack, attestation: Attestation) -> None:
    project.ensure_open()
    if attestation.valid_until is not None and attestation.valid_until < attestation.issued_on:
        raise AcceptanceError("有效期不能早于出具日期")
    check_record(project, attestation)
    project.attestations = (*project.attestations, attestation)
    if attestation.attestation not in ATTESTATION_RULES:
        return
    project.emit(
        SecurityAttested,
        attestation=attestation.attestation,
        compliant=attestation.compliant,
        valid_until=attestation.valid_until,
        articles=pack.articles(project.jurisdiction, ATTESTATION_RULES[attestation.attestation]),
    )
