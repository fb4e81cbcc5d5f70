"""Expert pools (专家库): which pool a jurisdiction's panels draw from, and who sees which pool.

Each pack's `review.expert_pool` names the pool (`pool`); by default every jurisdiction keeps its
own (zhonglou §4: the district keeps its 专家库; the other packs leave it to the suite).
Jurisdictions naming the same pool share it. An expert is registered into one pool, and is
suspended or blacklisted (lhasa §22, xunyang §25) there only: the same person registered in
another pool is another entry with its own status. A case's panel is drawn only from the pool
of the case's jurisdiction.

Authorities and auditors keep and read the pools of their jurisdictions and see their own
jurisdictions' cases; an expert sees the cases of every jurisdiction sharing a pool with theirs,
and of those only the ones they sit on.
"""

from __future__ import annotations

from shared.auth import Principal, Role, Scope
from shared.policy import PolicyRegistry


def pool_of(policy: PolicyRegistry, jurisdiction: str) -> str:
    return policy.expert_pool(jurisdiction)


def pools_of(policy: PolicyRegistry, scope: Scope) -> frozenset[str] | None:
    """The pools the scope's jurisdictions draw from; None: every pool (admin)."""
    if scope.jurisdictions is None:
        return None
    return frozenset(pool_of(policy, j) for j in scope.jurisdictions)


def case_scope(policy: PolicyRegistry, who: Principal) -> Scope:
    """Whose cases the caller may see: an expert those drawn from their pools (a shared pool's
    other jurisdictions included, where they sit on the panel); the others their own jurisdictions'."""
    scope = who.scope
    pools = pools_of(policy, scope)
    if who.role is not Role.EXPERT or pools is None:
        return scope
    return Scope(frozenset(j for j in policy.codes if pool_of(policy, j) in pools))
