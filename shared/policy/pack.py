"""The policy pack model: rules with their articles, validated at load, and rule decisions."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.contracts.envelope import Citation
from shared.policy.params import check_params

JURISDICTIONS: tuple[str, ...] = ("zhonglou", "shexian", "bayingolin", "xunyang", "lhasa")
# libyaml's loader where PyYAML was built with it (the wheels are): the same documents, a sixth of
# the start-up time of the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ARTICLE = re.compile(r"^(?P<code>[a-z]+) §\d+(\([一二三四五六七八九十]+\))?$")


class PolicyError(Exception):
    """A policy pack is missing, malformed or inconsistent with the others."""


#: Said with a refusal the article qualifies with 原则上.
IN_PRINCIPLE = "办法规定为“原则上”，决定者可说明理由、注明文号后作出例外"

#: Said where the suite applies a rule of its own that no article prescribes, instead of a citation.
SUITE_DEFAULT = "本系统默认，非办法条文"


def article_number(article: str) -> int:
    """'shexian §44(一)' → 44."""
    match = _ARTICLE.match(article)
    if match is None:
        raise PolicyError(f"article {article!r} is not of the form 'shexian §39' or 'shexian §44(一)'")
    return int(article.split("§")[1].split("(")[0])


class ArticleKind(StrEnum):
    """How the suite treats one article of a regulation (the pack's 条文索引)."""

    GENERAL = "general"  # binds no particular project: purpose, scope, principles, duties, entry into force
    ENFORCED = "enforced"  # the suite enforces all of it
    PARTIAL = "partial"  # the suite enforces part of it; `why` names the rest
    JUDGEMENT = "judgement"  # a person's judgement the suite can record but not check
    OUTSIDE = "outside"  # facts or acts the suite does not see
    GAP = "gap"  # checkable, not yet built

    @property
    def enforcing(self) -> bool:
        return self in {ArticleKind.ENFORCED, ArticleKind.PARTIAL}


class Article(BaseModel):
    """One entry of a pack's 条文索引: the article's title and how the suite treats it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=2, max_length=24)
    kind: ArticleKind
    why: str = ""

    @model_validator(mode="after")
    def _explained(self) -> Article:
        if self.kind not in {ArticleKind.GENERAL, ArticleKind.ENFORCED} and not self.why:
            raise ValueError(f"an article of kind {self.kind} says why")
        return self


class Rule(BaseModel):
    """One rule of one jurisdiction: where it is written and its parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    articles: tuple[str, ...] = Field(default=(), description="e.g. ('shexian §39', 'shexian §44(一)')")
    summary: str = Field(min_length=2, description="中文摘要, shown to people with the article")
    applies: bool = True
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("articles", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("articles")
    @classmethod
    def _well_formed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for article in value:
            if not _ARTICLE.match(article):
                raise ValueError(f"article {article!r} is not of the form 'shexian §39' or 'shexian §44(一)'")
        return value

    @model_validator(mode="after")
    def _applied_rules_cite(self) -> Rule:
        if self.applies and not self.articles:
            raise ValueError("a rule that applies must cite at least one article")
        return self

    @property
    def article(self) -> str:
        return self.articles[0] if self.articles else ""

    @property
    def cited(self) -> str:
        """What a statement resting on the rule cites: its articles, or where it does not apply
        (the suite acting on its own default), 本系统默认，非办法条文."""
        return "、".join(self.articles) if self.applies else SUITE_DEFAULT

    @property
    def is_basis(self) -> bool:
        """重要依据: the rule's facts are shown to the people deciding, not a gate (`effect: basis`)."""
        return self.applies and self.params.get("effect") == "basis"

    @property
    def in_principle(self) -> bool:
        """原则上: the article leaves room for a person's exception (`in_principle: true`)."""
        return self.applies and bool(self.params.get("in_principle"))

    @property
    def is_gate(self) -> bool:
        """The rule applies and stops what it governs until its condition holds (the default)."""
        return self.applies and self.params.get("effect", "gate") == "gate"

    def param(self, name: str) -> Any:
        try:
            return self.params[name]
        except KeyError:
            raise PolicyError(f"rule cited as {self.article} has no parameter {name!r}") from None


class PolicyPack(BaseModel):
    """一个辖区的政务信息化项目管理办法, as data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    regulation: str
    authority: str
    seed: str
    thresholds: dict[str, int] = Field(
        default_factory=dict, description="amounts and counts several rules share, referred to as $name"
    )
    rules: dict[str, Rule]
    articles: dict[int, Article] = Field(default_factory=dict, description="条文索引, every article")

    @model_validator(mode="before")
    @classmethod
    def _resolve_references(cls, data: Any) -> Any:
        """`$name` in a rule's params is the pack's threshold `name`, or else another param of the rule."""
        if not isinstance(data, dict) or not isinstance(data.get("rules"), dict):
            return data
        shared = data.get("thresholds") or {}
        rules = {}
        for rule_id, raw in data["rules"].items():
            if isinstance(raw, dict) and isinstance(raw.get("params"), dict):
                raw = {**raw, "params": _resolve(raw["params"], {**raw["params"], **shared}, rule_id)}
            rules[rule_id] = raw
        return {**data, "rules": rules}

    @model_validator(mode="after")
    def _params_fit_their_rules(self) -> PolicyPack:
        for rule_id, rule in self.rules.items():
            check_params(rule_id, rule.params)
        return self

    @model_validator(mode="after")
    def _articles_are_own(self) -> PolicyPack:
        for rule_id, rule in self.rules.items():
            for article in rule.articles:
                if not article.startswith(f"{self.code} §"):
                    raise ValueError(f"rule {rule_id} of {self.code} cites another jurisdiction: {article}")
        return self

    @model_validator(mode="after")
    def _index_agrees_with_rules(self) -> PolicyPack:
        """A rule that applies cites enforced or partial articles; each of those has such a rule."""
        if not self.articles:
            return self
        for number, rule_ids in self.enforcing_rules().items():
            entry = self.articles.get(number)
            if entry is None or not entry.kind.enforcing:
                kind = entry.kind if entry else "missing from the index"
                raise ValueError(f"rules {', '.join(rule_ids)} cite {self.code} §{number}, which is {kind}")
        enforced = self.enforcing_rules()
        for number, entry in self.articles.items():
            if entry.kind.enforcing and number not in enforced:
                raise ValueError(f"{self.code} §{number} is {entry.kind} but no rule that applies cites it")
        return self

    def enforcing_rules(self) -> dict[int, tuple[str, ...]]:
        """Article number → the ids of the rules that apply and cite it."""
        found: dict[int, list[str]] = {}
        for rule_id, rule in self.rules.items():
            if rule.applies:
                for number in dict.fromkeys(article_number(a) for a in rule.articles):
                    found.setdefault(number, []).append(rule_id)
        return {n: tuple(ids) for n, ids in sorted(found.items())}

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise PolicyError(f"policy pack {self.code} has no rule {rule_id!r}") from None


def _resolve(value: Any, names: dict[str, Any], rule_id: str) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in names:
            raise ValueError(
                f"rule {rule_id}: {value} is neither a threshold of the pack nor a param of the rule"
            )
        return names[value[1:]]
    if isinstance(value, dict):
        return {k: _resolve(v, names, rule_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, names, rule_id) for v in value]
    return value


class Reason(BaseModel):
    """Why a rule refused: a stable code, the cited articles and a message in Chinese."""

    model_config = ConfigDict(frozen=True)

    code: str
    rule: str
    articles: tuple[str, ...]
    message: str
    in_principle: bool = False  # 原则上: the deciding person may make an exception, with reason and document


def citations(reasons: Iterable[Reason]) -> tuple[Citation, ...]:
    """Reasons as events carry them."""
    return tuple(Citation.model_validate(r.model_dump()) for r in reasons)


class Decision(BaseModel):
    """The outcome of asking the policy: allowed, or refused with reasons."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    reasons: tuple[Reason, ...] = ()

    @classmethod
    def allow(cls) -> Decision:
        return cls(allowed=True)

    @classmethod
    def refuse(cls, *reasons: Reason) -> Decision:
        return cls(allowed=False, reasons=reasons)

    @classmethod
    def combine(cls, decisions: Iterable[Decision]) -> Decision:
        reasons = tuple(r for d in decisions for r in d.reasons)
        return cls(allowed=not reasons, reasons=reasons)


class PolicyRegistry:
    """All jurisdictions' packs, checked to define the same rule ids."""

    def __init__(self, packs: dict[str, PolicyPack]) -> None:
        missing = set(JURISDICTIONS) - packs.keys()
        if missing:
            raise PolicyError(f"policy packs missing for: {', '.join(sorted(missing))}")
        ids = {code: set(p.rules) for code, p in packs.items()}
        union = set().union(*ids.values())
        for code, own in ids.items():
            if own != union:
                raise PolicyError(f"policy pack {code} lacks rules: {', '.join(sorted(union - own))}")
        self._packs = packs
        for code in packs:
            pool = self.expert_pool(code)
            if pool in packs and self.expert_pool(pool) != pool:
                raise PolicyError(f"{code} draws from the pool of {pool}, which draws from another pool")

    def __getitem__(self, code: str) -> PolicyPack:
        try:
            return self._packs[code]
        except KeyError:
            raise PolicyError(f"unknown jurisdiction {code!r}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._packs

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._packs)

    def rule(self, jurisdiction: str, rule_id: str) -> Rule:
        return self[jurisdiction].rule(rule_id)

    def expert_pool(self, jurisdiction: str) -> str:
        """The expert pool (专家库) the jurisdiction's panels draw from: `pool` of its
        review.expert_pool, by default its own; jurisdictions naming the same pool share it."""
        return str(self.rule(jurisdiction, "review.expert_pool").params.get("pool", jurisdiction))

    def sharing_pool(self, pool: str) -> frozenset[str]:
        """The jurisdictions whose panels draw from `pool`."""
        return frozenset(code for code in self._packs if self.expert_pool(code) == pool)

    def refusal(self, jurisdiction: str, rule_id: str, code: str, detail: str | None = None) -> Reason:
        """A refusal reason for rule_id in jurisdiction, message citing its articles."""
        rule = self.rule(jurisdiction, rule_id)
        cited = "、".join(rule.articles)
        message = f"{detail or rule.summary}（{cited}）"
        if rule.in_principle:
            message += f"；{IN_PRINCIPLE}"
        return Reason(
            code=code,
            rule=rule.article,
            articles=rule.articles,
            message=message,
            in_principle=rule.in_principle,
        )

    def basis(self, jurisdiction: str, rule_id: str, code: str, facts: str) -> Reason:
        """重要依据 shown beside a decision: the facts, then what the article makes them a basis for."""
        rule = self.rule(jurisdiction, rule_id)
        message = f"{facts}。{rule.summary}（{'、'.join(rule.articles)}）"
        return Reason(code=code, rule=rule.article, articles=rule.articles, message=message)


def _read(path: Path | Any) -> PolicyPack:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
        return PolicyPack.model_validate(data)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy pack {path.name} is invalid: {exc}") from exc
    except ValidationError as exc:
        raise PolicyError(f"policy pack {path.name} is invalid: {_errors(exc)}") from exc


def _errors(exc: ValidationError) -> str:
    """Each error as `where: what`, without pydantic's echo of the whole pack."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        what = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {what}" if where else what)
    return "; ".join(lines)


def load_registry(directory: Path | None = None) -> PolicyRegistry:
    """Load and validate every pack from directory (default: the packs shipped with govit)."""
    root: Any = directory if directory is not None else resources.files("shared.policy") / "packs"
    packs: dict[str, PolicyPack] = {}
    for code in JURISDICTIONS:
        candidate = root / f"{code}.yaml"
        if not candidate.is_file():
            continue
        pack = _read(candidate)
        if pack.code != code:
            raise PolicyError(f"{code}.yaml declares code {pack.code!r}")
        packs[code] = pack
    mutant = os.environ.get(MUTANT_ENV)
    if mutant:
        _switch_off(packs, mutant)
    return PolicyRegistry(packs)


#: `jurisdiction:rule_id` — load the packs with that one rule switched off (`govit policy mutate`
#: runs the tests that cite its articles this way: one of them must then fail). The rule is then
#: as a pack writes one its text does not have: no articles, not applying, no parameters.
MUTANT_ENV = "GOVIT_POLICY_MUTANT"


def _switch_off(packs: dict[str, PolicyPack], mutant: str) -> None:
    code, _, rule_id = mutant.partition(":")
    if code not in packs or rule_id not in packs[code].rules:
        raise PolicyError(f"{MUTANT_ENV}={mutant!r} names no rule of a loaded pack")
    switched = {"applies": False, "articles": (), "params": {}}
    packs[code].rules[rule_id] = packs[code].rules[rule_id].model_copy(update=switched)
