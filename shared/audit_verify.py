"""Checking an audit chain (`govit audit verify`): every position present, every hash recomputed
under the key, the anchors published or printed still carried, the head where the chain ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from shared.audit import GENESIS, audit_head, audit_log
from shared.audit_key import KEYED, LEGACY, AuditKey, entry_hash


@dataclass(frozen=True)
class Verdict:
    """What `govit audit verify` found: the entries checked, the head, and the first break."""

    checked: int
    head_n: int
    head_hash: str
    problem: str | None = None
    at_entry: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass
class _Walk:
    """Where the walk along the chain is: the next position, the hash it must name, and whether
    a keyed entry has been seen (an unkeyed one after it was written without the key)."""

    key: AuditKey
    anchors: Mapping[int, str] = field(default_factory=dict)
    expected_n: int = 1
    previous: str = GENESIS
    keyed: bool = False

    @property
    def checked(self) -> int:
        return self.expected_n - 1

    def problem(self, entry: Mapping[str, Any]) -> str | None:
        n, alg = self.expected_n, entry["alg"]
        if entry["n"] != n:
            return f"第 {n} 条记录缺失（被删除）"
        if entry["prev_hash"] != self.previous:
            return f"第 {n} 条记录的前序哈希不符"
        if alg != LEGACY and alg not in KEYED:
            return f"第 {n} 条记录的算法 {alg!r} 未知"
        if alg == LEGACY and self.keyed:
            return f"第 {n} 条记录未以审计密钥签名，却在已签名的记录之后（被无密钥者改写）"
        if entry_hash(entry, self.key) != entry["hash"]:
            return f"第 {n} 条记录内容被改动（或以另一密钥签名）"
        if n in self.anchors and self.anchors[n] != entry["hash"]:
            return f"第 {n} 条记录与锚定的链头 {self.anchors[n][:16]}… 不符（日志被改写）"
        return None

    def step(self, entry: Mapping[str, Any]) -> None:
        self.keyed = self.keyed or entry["alg"] != LEGACY
        self.previous = entry["hash"]
        self.expected_n += 1

    def ending(self, head_n: int, head_hash: str) -> tuple[str, int] | None:
        """What is wrong with where the chain ends, and the first entry it concerns."""
        checked, furthest = self.checked, max(self.anchors, default=0)
        if furthest > checked:
            return (
                f"锚定的链头指向第 {furthest} 条，日志只有 {checked} 条（末尾记录被截去，链头被回退）",
                checked + 1,
            )
        if checked and not self.keyed:
            return (
                f"链中 {checked} 条记录都未以审计密钥签名（服务启动时会封存旧链；否则为无密钥者改写）",
                checked,
            )
        if checked != head_n or self.previous != head_hash:
            return (
                f"链尾与链头不符：链中 {checked} 条，链头记为 {head_n} 条（末尾记录被删除或链头被改动）",
                min(checked, head_n) + 1,
            )
        return None


def verify(
    connection: Connection,
    key: AuditKey,
    *,
    batch: int = 2000,
    anchors: Mapping[int, str] | None = None,
) -> Verdict:
    """Walk the chain from its first entry: every position present, every hash recomputed.

    `anchors` maps positions to the hashes a head had there when it was published or printed
    (position → hash): each entry must still carry it, and the chain must reach the furthest.
    That catches a tail cut with the head rolled back, and a chain rewritten by a key holder.
    """
    head = connection.execute(select(audit_head.c.n, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    head_n, head_hash = (int(head.n), str(head.hash)) if head is not None else (0, GENESIS)
    walk = _Walk(key, anchors or {})
    while rows := connection.execute(
        select(audit_log).where(audit_log.c.n >= walk.expected_n).order_by(audit_log.c.n).limit(batch)
    ).all():
        for row in rows:
            entry = dict(row._mapping)
            problem = walk.problem(entry)
            if problem is not None:
                return Verdict(walk.checked, head_n, head_hash, problem, walk.expected_n)
            walk.step(entry)
    ending = walk.ending(head_n, head_hash)
    if ending is not None:
        return Verdict(walk.checked, head_n, head_hash, *ending)
    return Verdict(walk.checked, head_n, head_hash)
