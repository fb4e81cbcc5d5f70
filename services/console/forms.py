"""What the console's forms read: amounts in 万元 (exact, to the fen), lists one per line, and
the codes of the services' APIs with the words people choose them by."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

#: 1 万元 in fen
WAN_FEN = 1_000_000

KINDS = {"construction": "建设类", "operation": "运维类", "service": "服务类"}
NATURES = {"new": "新建", "continued": "续建", "renovation": "改建", "expansion": "扩建", "upgrade": "升级"}
DEPLOYMENTS = {
    "gov_cloud": "政务云",
    "gov_machine_room": "政务机房（统筹建设）",
    "gov_extranet": "电子政务外网",
    "own_machine_room": "自建机房（新建、改扩建机房）",
    "other": "其他（须说明）",
}
HARDWARE = {
    "network": "网络设备",
    "security": "安全设备",
    "server": "服务器",
    "storage": "存储设备",
    "other": "其他硬件",
}
STAGES = {
    "declaration": "申报评审",
    "om_declaration": "运维项目申报评审",
    "demonstration": "论证",
    "feasibility": "可行性研究",
    "preliminary_design": "初步设计",
    "change": "变更评审",
    "acceptance": "终验评审",
    "post_evaluation": "后评价",
}
SPECIALTIES = {
    "software": "软件",
    "network": "网络",
    "security": "网络安全",
    "cost": "造价",
    "data": "数据",
    "archives": "档案",
}
VERDICTS = {"pass": "通过", "revise": "修改后再审", "fail": "不通过"}
PAYMENT_KINDS = {"preparatory": "前期工作费用", "construction": "建设资金", "final": "尾款（验收后）"}


class FormError(ValueError):
    """A value a person typed that cannot be taken: the field's name and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def fen_from_wan(field: str, text: str, *, positive: bool = True) -> int:
    """'80' or '12.5' 万元 as integer fen; more than six decimals would be less than a fen."""
    cleaned = text.strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise FormError(field, "请填写数字（单位：万元），如 80 或 12.5") from None
    if not amount.is_finite():
        raise FormError(field, "请填写数字（单位：万元）")
    fen = amount * WAN_FEN
    if fen != fen.to_integral_value():
        raise FormError(field, "金额最多精确到分（万元后六位小数）")
    if fen < 0 or (positive and fen == 0):
        raise FormError(field, "金额须大于零" if positive else "金额不能为负")
    return int(fen)


def wan_from_fen(fen: int) -> str:
    """Integer fen as 万元 written exactly: 80_000_000 → '80', 1_250_000 → '1.25'."""
    return format((Decimal(fen) / WAN_FEN).normalize(), "f")


def lines(text: str) -> list[str]:
    """One item per line, blank lines and surrounding spaces left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def new_attempt() -> str:
    """A fresh key for one form whose request must happen once (its Idempotency-Key)."""
    return secrets.token_urlsafe(16)
