"""Local account passwords: strength from the account's jurisdiction's pack, hashed with argon2 (pwdlib).

Only zhonglou §24 writes a password rule (强口令). Where a jurisdiction's text has none, the suite
applies its own default — the same strength — and says so instead of citing an article.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from shared.policy import SUITE_DEFAULT, Decision, PolicyRegistry, Reason

RULE = "security.password"
#: The suite's own strength where no article sets one.
DEFAULT: Mapping[str, Any] = {
    "min_length": 8,
    "min_classes": 3,
    "classes": ("digit", "upper", "lower", "special"),
}

_CLASSES: dict[str, Callable[[str], bool]] = {
    "digit": str.isdigit,
    "upper": lambda c: c.isascii() and c.isupper(),
    "lower": lambda c: c.isascii() and c.islower(),
    "special": lambda c: c.isascii() and not c.isalnum() and not c.isspace(),
}
_NAMES = {"digit": "数字", "upper": "大写字母", "lower": "小写字母", "special": "特殊字符"}
_hasher = PasswordHash((Argon2Hasher(),))


def check_password(password: str, policy: PolicyRegistry, jurisdiction: str) -> Decision:
    """The account's jurisdiction's rule where its text has one, else the suite's default."""
    rule = policy.rule(jurisdiction, RULE)
    params = rule.params if rule.applies else DEFAULT
    min_length, min_classes = int(params["min_length"]), int(params["min_classes"])
    classes = [name for name in params["classes"] if any(_CLASSES[name](c) for c in password)]
    problems = []
    if len(password) < min_length:
        problems.append(f"口令长度至少 {min_length} 位")
    if len(classes) < min_classes:
        named = "、".join(_NAMES[n] for n in params["classes"])
        problems.append(f"须包含{named}中至少 {min_classes} 种")
    if not problems:
        return Decision.allow()
    if rule.applies:
        return Decision.refuse(policy.refusal(jurisdiction, RULE, "weak_password", "；".join(problems)))
    said = f"{'；'.join(problems)}（{SUITE_DEFAULT}）"
    return Decision.refuse(Reason(code="weak_password", rule="", articles=(), message=said))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return _hasher.verify(password, hashed)
