"""Policy packs: each jurisdiction's thresholds, deadlines and articles, loaded as data."""

from shared.policy.pack import (
    Decision,
    PolicyError,
    PolicyPack,
    PolicyRegistry,
    Reason,
    Rule,
    citations,
    load_registry,
)

__all__ = [
    "Decision",
    "PolicyError",
    "PolicyPack",
    "PolicyRegistry",
    "Reason",
    "Rule",
    "citations",
    "load_registry",
]
