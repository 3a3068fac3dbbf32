"""Reading profiles: every field optional, bad input named by field with what is allowed, HER2 from tests."""

from __future__ import annotations

from typing import Any

import pytest

from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.profile import ProfileError, parse_profile


def problems(raw: Any, kb: KnowledgeBase) -> list[str]:
    with pytest.raises(ProfileError) as err:
        parse_profile(raw, kb)
    return [str(p) for p in err.value.problems]


def test_empty_profile_is_all_unknown(kb: KnowledgeBase) -> None:
    profile = parse_profile({}, kb)
    assert profile.values == {} and profile.given == {}


def test_null_is_unknown_and_empty_list_is_known_none(kb: KnowledgeBase) -> None:
    profile = parse_profile({"her2": None, "prior_treatments": [], "metastatic_sites": []}, kb)
    assert "her2" not in profile.values
    assert profile.values["prior_treatments"] == ()
    assert profile.values["metastatic_sites"] == frozenset()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"her2": "postive"}, "her2: 'postive' is not allowed; use one of: positive, low, zero, negative"),
        ({"sex": 1}, "sex: 1 is not allowed; use one of: female, male"),
        ({"operable": "yes"}, "operable: must be true or false"),
        ({"recurrence_date": "2024-02-30"}, "recurrence_date: '2024-02-30' is not a real date"),
        (
            {"recurrence_date": "30/01/2024"},
            "recurrence_date: '30/01/2024' is not a date in the form YYYY-MM-DD",
        ),
        ({"metastatic_sites": "bone"}, "metastatic_sites: must be a list of: bone, brain"),
        ({"metastatic_sites": ["bone", "kidney"]}, "metastatic_sites[1]: 'kidney' is not allowed"),
        ({"her2_status": "positive"}, "her2_status: is not a profile field. Did you mean 'her2'?"),
        ({"prior_treatments": {"drugs": []}}, "prior_treatments: must be a list of treatments"),
        ({"prior_treatments": [{"drugs": []}]}, "prior_treatments[0].drugs: must be a non-empty list"),
        (
            {"prior_treatments": [{"drugs": ["x"], "setting": "adjuvant"}]},
            "prior_treatments[0].setting: 'adjuvant' is not allowed; use one of: early, advanced",
        ),
        (
            {"prior_treatments": [{"drugs": ["x"], "dose": 3}]},
            "prior_treatments[0].dose: is not a profile field",
        ),
        (
            {"prior_treatments": [{"drugs": ["x"], "start_date": "2024-05-01", "end_date": "2024-01-01"}]},
            "prior_treatments[0].end_date: 2024-01-01 is before start_date 2024-05-01",
        ),
        (
            {"prior_treatments": [{"drugs": ["x"], "ongoing": True, "end_date": "2024-01-01"}]},
            "prior_treatments[0].ongoing: is true but an end_date is given",
        ),
        (
            {"extent": "early", "metastatic_sites": ["bone"]},
            "metastatic_sites: lists places the cancer has spread",
        ),
        ({"her2": "positive", "her2_ihc": "0"}, "her2: 'positive' contradicts the test results (her2_ihc 0)"),
        ({"her2": "zero", "her2_ihc": "3+"}, "her2: 'zero' contradicts"),
        ({"sex": "male", "menopausal_status": "postmenopausal"}, "menopausal_status: is given for a man"),
    ],
)
def test_bad_input_names_the_field_and_what_is_allowed(raw: dict[str, Any], says: str, kb: KnowledgeBase) -> None:
    assert any(says in p for p in problems(raw, kb)), problems(raw, kb)


@pytest.mark.parametrize("raw", [[], "her2", 3, None])
def test_a_profile_must_be_an_object(raw: Any, kb: KnowledgeBase) -> None:
    assert problems(raw, kb)[0].startswith("(profile): must be a JSON object")


def test_every_problem_is_reported_at_once(kb: KnowledgeBase) -> None:
    assert len(problems({"her2": "x", "er": "y", "sex": "z"}, kb)) == 3


@pytest.mark.parametrize(
    ("ihc", "ish", "status"),
    [
        ("3+", None, "positive"),
        ("2+", "positive", "positive"),
        ("2+", "negative", "low"),
        ("1+", None, "low"),
        ("0", None, "zero"),
        (None, "positive", "positive"),
        (None, "negative", "negative"),
        ("2+", None, None),
    ],
)
def test_her2_is_derived_from_ihc_and_ish(
    ihc: str | None, ish: str | None, status: str | None, kb: KnowledgeBase
) -> None:
    raw = {k: v for k, v in (("her2_ihc", ihc), ("her2_ish", ish)) if v is not None}
    assert parse_profile(raw, kb).values.get("her2") == status


def test_stated_negative_agrees_with_low_tests_and_keeps_the_finer_value(kb: KnowledgeBase) -> None:
    assert parse_profile({"her2": "negative", "her2_ihc": "1+"}, kb).values["her2"] == "low"


@pytest.mark.parametrize(("ihc", "ish"), [("3+", "negative"), ("1+", "positive"), ("0", "positive")])
def test_discordant_her2_tests_are_refused_not_guessed(ihc: str, ish: str, kb: KnowledgeBase) -> None:
    for raw in ({"her2_ihc": ihc, "her2_ish": ish}, {"her2_ihc": ihc, "her2_ish": ish, "her2": "positive"}):
        assert f"her2_ish: {ish!r} disagrees with her2_ihc {ihc!r}" in problems(raw, kb)[0]


@pytest.mark.parametrize(
    "name",
    [
        "Herceptin",
        "herceptin",
        "HERCEPTIN®",
        " trastuzumab ",
        "Kadcyla",
        "Ibrance",
        "Femara",
        "nab-paclitaxel",
        "Trastuzumab Emtansine",
    ],
)
def test_drug_names_match_generic_or_brand_in_any_case(name: str, kb: KnowledgeBase) -> None:
    profile = parse_profile({"prior_treatments": [{"drugs": [name]}]}, kb)
    assert profile.values["prior_treatments"][0].drugs[0].id is not None
    assert profile.warnings == []


def test_unrecognised_drug_is_a_warning_naming_it_and_its_class_is_unknown(kb: KnowledgeBase) -> None:
    profile = parse_profile({"prior_treatments": [{"drugs": ["Zzzumab"], "setting": "advanced"}]}, kb)
    assert profile.warnings[0]["field"] == "prior_treatments[0].drugs[0]"
    assert "'Zzzumab'" in profile.warnings[0]["message"]
    assert profile.values["prior_treatments"][0].drugs[0].classes is None


def test_end_date_means_not_ongoing(kb: KnowledgeBase) -> None:
    profile = parse_profile({"prior_treatments": [{"drugs": ["x"], "end_date": "2024-01-01"}]}, kb)
    assert profile.values["prior_treatments"][0].ongoing is False
