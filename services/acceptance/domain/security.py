"""Security attestations: 等保测评 and 密评 with their validity (shexian §33, §44(二);
bayingolin §7; zhonglou §24)."""

from __future__ import annotations

from services.acceptance.domain.errors import AcceptanceError
from services.acceptance.domain.project import Pack, Project
from services.acceptance.domain.records import Attestation
from shared.contracts.acceptance import SecurityAttested

ATTESTATION_RULES = {"mlps": "security.mlps_assessment", "crypto": "security.crypto_assessment"}


def attest(project: Project, pack: Pack, attestation: Attestation) -> None:
    project.ensure_open()
    if attestation.valid_until is not None and attestation.valid_until < attestation.issued_on:
        raise AcceptanceError("有效期不能早于出具日期")
    project.attestations = (*project.attestations, attestation)
    project.emit(
        SecurityAttested,
        attestation=attestation.attestation,
        compliant=attestation.compliant,
        valid_until=attestation.valid_until,
        articles=pack.articles(project.jurisdiction, ATTESTATION_RULES[attestation.attestation]),
    )
