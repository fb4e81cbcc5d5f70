"""The packs as data: parameters checked against a model per rule, shared thresholds, the text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shared.policy import PolicyError, load_registry
from shared.policy.params import MODELS
from shared.policy.text import articles_of, chinese_number, split_articles

PACKS = Path(__file__).parents[2] / "shared" / "policy" / "packs"


def _edited(tmp_path: Path, code: str, edit: object) -> Path:
    """A copy of the shipped packs with one pack changed by `edit(data)`."""
    target = tmp_path / "packs"
    shutil.copytree(PACKS, target)
    path = target / f"{code}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def test_every_rule_of_every_pack_has_a_parameter_model() -> None:
    policy = load_registry()
    for code in policy.codes:
        assert set(policy[code].rules) <= set(MODELS), f"{code} has rules without a parameter model"


def test_a_misspelt_parameter_is_refused_naming_the_file_the_rule_and_the_key(tmp_path: Path) -> None:
    def misspell(data: dict) -> None:
        params = data["rules"]["intake.annual_deadline"]["params"]
        params["monthh"] = params.pop("month")

    with pytest.raises(PolicyError) as refused:
        load_registry(_edited(tmp_path, "xunyang", misspell))
    assert str(refused.value) == (
        "policy pack xunyang.yaml is invalid: "
        "rule intake.annual_deadline: params.monthh: Extra inputs are not permitted"
    )


def test_a_parameter_of_the_wrong_type_or_range_is_refused(tmp_path: Path) -> None:
    def thirteenth_month(data: dict) -> None:
        data["rules"]["intake.annual_deadline"]["params"]["month"] = 13

    with pytest.raises(PolicyError, match=r"zhonglou.yaml .*intake.annual_deadline: params.month: "):
        load_registry(_edited(tmp_path, "zhonglou", thirteenth_month))


def test_a_nested_requirement_with_an_unknown_condition_is_refused(tmp_path: Path) -> None:
    def unknown_condition(data: dict) -> None:
        requirement = data["rules"]["intake.required_materials"]["params"]["requirements"][0]
        requirement["when"] = {"kindz": ["construction"]}

    with pytest.raises(
        PolicyError, match=r"params.requirements.0.when.kindz: Extra inputs are not permitted"
    ):
        load_registry(_edited(tmp_path, "shexian", unknown_condition))


def test_a_dollar_name_is_a_threshold_of_the_pack_stated_once(tmp_path: Path) -> None:
    def shared_limit(data: dict) -> None:
        data["thresholds"] = {"annual_deadline_month": 8}
        data["rules"]["intake.annual_deadline"]["params"]["month"] = "$annual_deadline_month"

    policy = load_registry(_edited(tmp_path, "lhasa", shared_limit))
    assert policy.rule("lhasa", "intake.annual_deadline").param("month") == 8

    def dangling(data: dict) -> None:
        data["rules"]["intake.annual_deadline"]["params"]["month"] = "$nowhere"

    with pytest.raises(
        PolicyError, match=r"\$nowhere is neither a threshold of the pack nor a param of the rule"
    ):
        load_registry(_edited(tmp_path / "again", "lhasa", dangling))


def test_a_rule_cannot_cite_an_article_the_index_calls_general(tmp_path: Path) -> None:
    def index(data: dict) -> None:
        numbers = articles_of("xunyang")
        data["articles"] = {n: {"title": f"第{n}条", "kind": "general"} for n in numbers}

    with pytest.raises(PolicyError, match=r"cite xunyang §\d+, which is general"):
        load_registry(_edited(tmp_path, "xunyang", index))


def test_chinese_article_numbers() -> None:
    assert [chinese_number(n) for n in ("一", "十", "十二", "二十", "二十三", "五十三", "一百零五")] == [
        1,
        10,
        12,
        20,
        23,
        53,
        105,
    ]


def test_the_text_is_split_into_articles_as_printed() -> None:
    text = "办法\n第一条 目的。\n第一章 总则\n第二条 范围。\n1. 第三条的正文\n续行\n第四条 施行。"
    assert split_articles(text) == {1: "目的。", 2: "范围。", 3: "第三条的正文\n续行", 4: "施行。"}
    # A text that opens mid-sentence: its opening is 第一条 (seed 004).
    assert split_articles("……制定本办法。\n第二条 适用范围。") == {1: "……制定本办法。", 2: "适用范围。"}
    # The shipped texts: xunyang's three "1." are §4, §7 and §10; lhasa has no §30.
    xunyang, lhasa = articles_of("xunyang"), articles_of("lhasa")
    assert sorted(xunyang) == list(range(1, 28))
    assert xunyang[7].startswith("区信息办组织项目年度申报工作")
    assert 30 not in lhasa and max(lhasa) == 31
    assert len(articles_of("shexian")) == 53 and len(articles_of("zhonglou")) == 30
