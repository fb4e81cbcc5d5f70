"""Local account passwords: strength per zhonglou §24, hashed with argon2 (pwdlib)."""

from __future__ import annotations

from collections.abc import Callable

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from shared.policy import Decision, PolicyRegistry, Reason

# The suite's own accounts follow zhonglou §24 (强口令), the one regulation that sets it.
PASSWORD_RULE = ("zhonglou", "security.password")

_CLASSES: dict[str, Callable[[str], bool]] = {
    "digit": str.isdigit,
    "upper": lambda c: c.isascii() and c.isupper(),
    "lower": lambda c: c.isascii() and c.islower(),
    "special": lambda c: c.isascii() and not c.isalnum() and not c.isspace(),
}
_hasher = PasswordHash((Argon2Hasher(),))


def check_password(password: str, policy: PolicyRegistry) -> Decision:
    rule = policy.rule(*PASSWORD_RULE)
    min_length = int(rule.param("min_length"))
    min_classes = int(rule.param("min_classes"))
    classes = [name for name in rule.param("classes") if any(_CLASSES[name](c) for c in password)]
    problems = []
    if len(password) < min_length:
        problems.append(f"口令长度至少 {min_length} 位")
    if len(classes) < min_classes:
        problems.append(f"须包含数字、大写字母、小写字母、特殊字符中至少 {min_classes} 种")
    if not problems:
        return Decision.allow()
    reason: Reason = policy.refusal(*PASSWORD_RULE, code="weak_password", detail="；".join(problems))
    return Decision.refuse(reason)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return _hasher.verify(password, hashed)
