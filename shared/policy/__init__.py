"""Policy packs: each jurisdiction's thresholds, deadlines and articles, loaded as data."""

from shared.policy.pack import (
    SUITE_DEFAULT,
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
    "SUITE_DEFAULT",
    "Decision",
    "PolicyError",
    "PolicyPack",
    "PolicyRegistry",
    "Reason",
    "Rule",
    "citations",
    "load_registry",
]
