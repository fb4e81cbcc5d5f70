"""The audit key: entries and anchors of the audit chain are HMACs under GOVIT_AUDIT_KEY.

Each entry records its algorithm (`alg`): `hmac-sha256`, or `hmac-sm3` with SM3 (GB/T 32905,
国密) from snowland-smx. Someone who can write to the database but lacks the key cannot
compute the hash of an altered entry, nor of a new head. Entries written before the key
existed carry `sha256` (plain SHA-256 of the same canonical JSON); they stay verifiable, but
only before the first keyed entry, whose HMAC covers their last hash.

A service registers its key for its engine at start (`use_key`); a process that registers
none (a script, a test) uses the key of its environment, read once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import GovitSettings

LEGACY = "sha256"  # entries from before the key: plain SHA-256, unkeyed

HashName = Literal["sha256", "sm3"]
KEYED = frozenset(("hmac-sha256", "hmac-sm3"))


@functools.cache
def _sm3() -> Callable[..., Any]:
    """SM3 (snowland-smx), imported by the first SM3 entry: the whole SM2/SM3/SM4 package costs a
    service about a third of a second and its memory, and most deployments seal with SHA-256."""
    from pysmx.SM3 import SM3Type

    sm3: Callable[..., Any] = SM3Type
    return sm3


def _digest(name: str) -> Callable[..., Any]:
    return hashlib.sha256 if name == "sha256" else _sm3()


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class AuditKey:
    """The secret and the hash new entries are sealed with; any keyed `alg` is verified with it."""

    secret: bytes = field(repr=False)
    hash: HashName = "sha256"

    @classmethod
    def from_settings(cls, settings: GovitSettings) -> AuditKey:
        return cls(settings.audit_key.get_secret_value().encode(), settings.audit_hash)

    @property
    def algorithm(self) -> str:
        """What new entries and anchors record as their `alg`."""
        return f"hmac-{self.hash}"

    def mac(self, message: bytes, algorithm: str | None = None) -> str:
        """HMAC (RFC 2104) of `message` under the key, hex; `algorithm` is a keyed `alg`."""
        alg = algorithm or self.algorithm
        if alg not in KEYED:
            raise ValueError(f"not a keyed audit algorithm: {alg!r}")
        # hmac.digest builds the inner and outer hashes afresh: no copy of a hash object needed.
        return hmac.digest(self.secret, message, _digest(alg.removeprefix("hmac-"))).hex()

    def matches(self, message: bytes, algorithm: str, mac: str) -> bool:
        return algorithm in KEYED and hmac.compare_digest(self.mac(message, algorithm), mac)


def legacy_hash(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


_keys: weakref.WeakKeyDictionary[Engine, AuditKey] = weakref.WeakKeyDictionary()


def use_key(engine: AsyncEngine | Engine, key: AuditKey) -> None:
    """Seal every audit entry written through this engine with `key`."""
    _keys[engine.sync_engine if isinstance(engine, AsyncEngine) else engine] = key


def key_for(bind: Connection | AsyncEngine | Engine) -> AuditKey:
    """The key registered for the engine behind `bind`, else the environment's."""
    if isinstance(bind, Connection):
        engine = bind.engine
    elif isinstance(bind, AsyncEngine):
        engine = bind.sync_engine
    else:
        engine = bind
    return _keys.get(engine) or environment_key()


@functools.cache
def environment_key() -> AuditKey:
    """GOVIT_AUDIT_KEY and GOVIT_AUDIT_HASH as this process found them at first use."""
    return AuditKey.from_settings(GovitSettings())


def plain(value: Any) -> Any:
    """A column value as JSON: instants in UTC ISO 8601, Decimal as text, enums by value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return _plain_scalar(value)


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) <= 256:
            return {"base64": base64.b64encode(raw).decode()}
        return {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}
    return str(value)


def entry_hash(entry: Mapping[str, Any], key: AuditKey) -> str:
    """The entry's hash: HMAC under the key over the canonical JSON of its fields, the previous
    entry's hash and its `alg`; for an entry from before the key (`alg` sha256), plain SHA-256."""
    at = entry["at"]
    body = {
        "n": int(entry["n"]),
        "at": at.astimezone(UTC).isoformat() if isinstance(at, datetime) else at,
        "actor": entry["actor"],
        "entity": entry["entity"],
        "key": entry["key"],
        "action": entry["action"],
        "before": entry["before"],
        "after": entry["after"],
        "prev_hash": entry["prev_hash"],
    }
    alg = entry["alg"]
    if alg == LEGACY:
        return legacy_hash(canonical(body))
    return key.mac(canonical({**body, "alg": alg}), alg)
