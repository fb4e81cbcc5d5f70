"""原则上: where an article qualifies a refusal with 原则上, the suite recommends and the deciding
person decides. An exception names the refusal's code, gives a reason and the document it rests
on; it is recorded beside the decision, citing the article it departs from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from shared.examples import field_examples
from shared.policy.pack import Reason


class ExceptionRefused(ValueError):
    """An exception that cannot be made: no such refusal, or one the article does not qualify."""


@dataclass(frozen=True)
class PrincipleException:
    """例外: the deciding person departs from a 原则上 refusal, with a reason and a document."""

    code: str
    reason: str
    document_ref: str
    by: str


class ExceptionIn(BaseModel):
    """对“原则上”理由的例外, as a request states it: which refusal, why, on which document."""

    model_config = ConfigDict(
        json_schema_extra=field_examples(
            code="not_in_plan", reason="防汛应急指挥系统，汛期前须上线", document_ref="钟政办〔2026〕12号"
        )
    )

    code: str = Field(
        min_length=2,
        max_length=100,
        description="例外的理由代码（拒绝理由的 code），如 not_in_plan、no_supervisor",
    )
    reason: str = Field(min_length=2, max_length=2000, description="作出例外的理由")
    document_ref: str = Field(min_length=2, max_length=128, description="所依据的文件文号")

    def made_by(self, who: str) -> PrincipleException:
        return PrincipleException(self.code, self.reason, self.document_ref, who)


def except_in_principle(
    reasons: Sequence[Reason], exceptions: Sequence[PrincipleException]
) -> tuple[list[Reason], list[Reason]]:
    """(the refusals that stand, the exceptions made as records citing their articles). Where two
    rules refuse with one code, the exception is made only if every one of them is 原则上."""
    by_code: dict[str, list[Reason]] = {}
    for r in reasons:
        by_code.setdefault(r.code, []).append(r)
    made: list[Reason] = []
    for exception in exceptions:
        found = by_code.get(exception.code)
        if not found:
            raise ExceptionRefused(f"没有可作例外的理由 {exception.code}")
        strict = [r for r in found if not r.in_principle]
        if strict:
            raise ExceptionRefused(f"{strict[0].message}：办法未规定为“原则上”，不能作出例外")
        refused = found[0]
        if not exception.reason.strip() or not exception.document_ref.strip():
            raise ExceptionRefused(f"对 {exception.code} 作出例外须写明理由并注明文号")
        message = (
            f"{exception.by} 依{'、'.join(refused.articles)}“原则上”的规定作出例外："
            f"{exception.reason}（{exception.document_ref}）"
        )
        made.append(refused.model_copy(update={"code": f"exception:{refused.code}", "message": message}))
    excepted = {e.code for e in exceptions}
    return [r for r in reasons if r.code not in excepted], made
