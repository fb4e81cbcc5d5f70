"""The base of every service's refusals, framework-free so domain code can raise it.

`code` is stable for clients, `title` is for people, `reasons` cite the rules (each with its
articles); shared.problems turns any of them into RFC 9457 problem+json.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.policy import Reason


class DomainError(Exception):
    code = "domain_error"
    title = "操作被拒绝"

    def __init__(self, message: str, reasons: Sequence[Reason] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)

    @classmethod
    def refuse_if(cls, reasons: Sequence[Reason], message: str) -> None:
        """Raise with every reason at once, when there is any."""
        if reasons:
            raise cls(message + "：" + "；".join(r.message for r in reasons), reasons)
