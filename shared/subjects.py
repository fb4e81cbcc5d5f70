"""NATS subject matching and header text, shared by the JetStream adapter and its in-memory twin."""

from __future__ import annotations


def header_text(text: str, limit: int = 400) -> str:
    return (
        text[:limit].encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")
    )


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: `*` is one token, a trailing `>` is one or more."""
    pat, sub = pattern.split("."), subject.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub) or (token != "*" and token != sub[i]):
            return False
    return len(pat) == len(sub)
