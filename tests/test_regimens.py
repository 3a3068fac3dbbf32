"""Each regimen, criterion by criterion, against what the pages say.

For every regimen: a profile that the pages say fits it (eligible). For every criterion: a change that makes
that criterion not met (the option becomes ineligible, for that reason), and a change that makes it unknown
(the option needs information, and ``missing`` names the field that would settle it).
"""

from __future__ import annotations

from typing import Any

import pytest

from mbc_navigator.knowledge import KnowledgeBase
from tests.conftest import assess_raw, option


def rx(drugs: str, setting: str | None = "advanced", **dates: str) -> dict[str, Any]:
    out: dict[str, Any] = {"drugs": drugs.split("+"), **dates}
    if setting:
        out["setting"] = setting
    return out


HER2_POS = {
    "sex": "female",
    "extent": "metastatic",
    "her2": "positive",
    "er": "negative",
    "pr": "negative",
    "operable": False,
    "local_recurrence": False,
    "metastatic_sites": ["liver"],
    "menopausal_status": "postmenopausal",
    "prior_treatments": [],
}
TWO_HER2 = [rx("Herceptin+pertuzumab+docetaxel"), rx("Kadcyla")]
HR_POS = {**HER2_POS, "her2": "negative", "er": "positive", "pr": "positive"}
TNBC = {**HER2_POS, "her2": "zero"}

# regimen -> (profile that fits, {criterion -> (change making it not met, change making it unknown, missing)})
Case = tuple[dict[str, Any], dict[str, tuple[dict[str, Any], dict[str, Any], str]]]
HER2 = ({"her2": "zero"}, {"her2": None}, "her2")
ADVANCED = ({"extent": "early", "metastatic_sites": None}, {"extent": None}, "extent")
HR = ({"er": "negative", "pr": "negative"}, {"er": None, "pr": "negative"}, "er")
HER2_NEG = ({"her2": "positive"}, {"her2": None}, "her2")
TN = ({"her2": "positive"}, {"er": None}, "er")
POSTMENO = ({"menopausal_status": "premenopausal"}, {"menopausal_status": None}, "menopausal_status")
UNRESECTABLE = (
    {"extent": "locally_advanced", "operable": True},
    {"extent": "locally_advanced", "operable": None},
    "operable",
)
MYSTERY = [rx("Herceptin"), rx("mysterymab")]

CASES: dict[str, Case] = {
    "trastuzumab": (HER2_POS, {"her2-positive": HER2, "advanced": ADVANCED}),
    "trastuzumab-deruxtecan": (
        {**HER2_POS, "prior_treatments": TWO_HER2},
        {
            "her2-positive": HER2,
            "unresectable-or-spread": UNRESECTABLE,
            "two-earlier-her2-treatments": (
                {"prior_treatments": [rx("Herceptin+docetaxel")]},
                {"prior_treatments": MYSTERY},
                "prior_treatments.drugs",
            ),
        },
    ),
    "tucatinib-trastuzumab-capecitabine": (
        {**HER2_POS, "prior_treatments": TWO_HER2},
        {
            "her2-positive": HER2,
            "locally-advanced-or-secondary": ADVANCED,
            "two-earlier-her2-treatments": (
                {"prior_treatments": [rx("Herceptin")]},
                {"prior_treatments": None},
                "prior_treatments",
            ),
        },
    ),
    "trastuzumab-emtansine": (
        {**HER2_POS, "prior_treatments": [rx("trastuzumab+paclitaxel")]},
        {
            "her2-positive": HER2,
            "surgery-not-possible": UNRESECTABLE,
            "had-trastuzumab-and-taxane": (
                {"prior_treatments": [rx("trastuzumab+capecitabine")]},
                {"prior_treatments": [rx("trastuzumab+mysterytaxel")]},
                "prior_treatments.drugs",
            ),
            "advanced-treatment-or-early-recurrence": (
                {
                    "prior_treatments": [rx("trastuzumab+paclitaxel", "early", end_date="2020-01-01")],
                    "recurrence_date": "2023-01-01",
                },
                {"prior_treatments": [rx("trastuzumab+paclitaxel", "early", end_date="2020-01-01")]},
                "recurrence_date",
            ),
        },
    ),
    "pertuzumab-trastuzumab-docetaxel": (
        HER2_POS,
        {
            "her2-positive": HER2,
            "spread-or-inoperable-local-recurrence": (
                {"extent": "locally_advanced", "local_recurrence": False},
                {"extent": "locally_advanced", "local_recurrence": None},
                "local_recurrence",
            ),
            "no-earlier-advanced-her2-or-chemo": (
                {"prior_treatments": [rx("trastuzumab")]},
                {"prior_treatments": [rx("docetaxel", None)]},
                "prior_treatments.setting",
            ),
        },
    ),
    "lapatinib-capecitabine": (HER2_POS, {"her2-positive": HER2, "secondary": ADVANCED}),
    "lapatinib-aromatase-inhibitor": (
        {**HER2_POS, "er": "positive"},
        {
            "her2-positive": HER2,
            "secondary": ADVANCED,
            "hormone-receptor-positive": HR,
            "postmenopausal": POSTMENO,
        },
    ),
    "bevacizumab-paclitaxel": (TNBC, {"triple-negative": TN, "secondary": ADVANCED}),
    "everolimus-exemestane": (
        {**HR_POS, "prior_treatments": [rx("letrozole")]},
        {
            "hormone-receptor-positive": HR,
            "her2-negative": HER2_NEG,
            "secondary": ADVANCED,
            "postmenopausal": POSTMENO,
            "had-aromatase-inhibitor": (
                {"prior_treatments": [rx("tamoxifen", "early")]},
                {"prior_treatments": None},
                "prior_treatments",
            ),
        },
    ),
    "alpelisib-fulvestrant": (
        {**HR_POS, "pik3ca_mutation": True, "prior_treatments": [rx("palbociclib+letrozole")]},
        {
            "locally-advanced-or-secondary": ADVANCED,
            "hormone-receptor-positive": HR,
            "her2-negative": HER2_NEG,
            "pik3ca-mutation": ({"pik3ca_mutation": False}, {"pik3ca_mutation": None}, "pik3ca_mutation"),
            "after-cdk4-6-with-hormone-therapy": (
                {"prior_treatments": [rx("letrozole")]},
                {"prior_treatments": [rx("palbociclib+mysterozole")]},
                "prior_treatments.drugs",
            ),
        },
    ),
    "atezolizumab-nab-paclitaxel": (
        {**TNBC, "pd_l1": "positive"},
        {
            "triple-negative": TN,
            "surgery-not-possible": UNRESECTABLE,
            "no-earlier-advanced-chemotherapy": (
                {"prior_treatments": [rx("paclitaxel")]},
                {"prior_treatments": [rx("paclitaxel", None)]},
                "prior_treatments.setting",
            ),
            "pd-l1-high": ({"pd_l1": "negative"}, {"pd_l1": None}, "pd_l1"),
        },
    ),
    "pembrolizumab-chemotherapy": (
        {**TNBC, "pd_l1": "positive"},
        {
            "triple-negative": TN,
            "no-earlier-chemotherapy-for-secondary": (
                {"prior_treatments": [rx("capecitabine")]},
                {"prior_treatments": None},
                "prior_treatments",
            ),
            "inoperable-local-recurrence-or-spread": (
                {"extent": "locally_advanced", "local_recurrence": False},
                {"extent": None},
                "extent",
            ),
            "pd-l1": ({"pd_l1": "negative"}, {"pd_l1": None}, "pd_l1"),
        },
    ),
    "sacituzumab-govitecan": (
        {**TNBC, "prior_treatments": [rx("epirubicin", "early"), rx("paclitaxel")]},
        {
            "locally-advanced-or-secondary": ADVANCED,
            "triple-negative": TN,
            "two-earlier-treatments": (
                {"prior_treatments": [rx("paclitaxel")]},
                {"prior_treatments": None},
                "prior_treatments",
            ),
            "one-for-secondary": (
                {"prior_treatments": [rx("epirubicin", "early"), rx("paclitaxel", "early")]},
                {"prior_treatments": [rx("epirubicin", "early"), rx("paclitaxel", None)]},
                "prior_treatments.setting",
            ),
        },
    ),
    "denosumab": (
        HER2_POS | {"metastatic_sites": ["bone"]},
        {
            "bone-spread": ({"metastatic_sites": ["liver"]}, {"metastatic_sites": None}, "metastatic_sites"),
        },
    ),
}
CDK46: Case = (
    {**HR_POS},
    {
        "hormone-receptor-positive": HR,
        "her2-negative": HER2_NEG,
        "secondary": ADVANCED,
        "no-earlier-hormone-therapy-for-advanced": (
            {"prior_treatments": [rx("letrozole")]},
            {"prior_treatments": [rx("letrozole", None)]},
            "prior_treatments.setting",
        ),
    },
)
for _cdk in ("palbociclib", "ribociclib", "abemaciclib"):
    CASES[f"{_cdk}-aromatase-inhibitor"] = CDK46


def test_every_regimen_and_criterion_has_a_case(kb: KnowledgeBase) -> None:
    assert set(CASES) == set(kb.regimens)
    for rid, reg in kb.regimens.items():
        assert {c.spec.id for c in reg.criteria} == set(CASES[rid][1]), rid


@pytest.mark.parametrize("regimen", sorted(CASES))
def test_fitting_profile_is_eligible(regimen: str) -> None:
    result = option(assess_raw(CASES[regimen][0]), regimen)
    assert result["status"] == "eligible", [c for c in result["criteria"] if c["result"] != "met"]
    assert result["missing"] == []


PARAMS = [(r, c) for r, (_, crits) in sorted(CASES.items()) for c in sorted(crits)]


@pytest.mark.parametrize(("regimen", "criterion"), PARAMS)
def test_criterion_not_met_makes_it_ineligible(regimen: str, criterion: str) -> None:
    base, crits = CASES[regimen]
    result = option(assess_raw({**base, **crits[criterion][0]}), regimen)
    assert result["status"] == "ineligible"
    not_met = {c["id"] for c in result["criteria"] if c["result"] == "not_met"}
    assert criterion in not_met


@pytest.mark.parametrize(("regimen", "criterion"), PARAMS)
def test_criterion_unknown_needs_info_naming_the_field(regimen: str, criterion: str) -> None:
    base, crits = CASES[regimen]
    _, change, field = crits[criterion]
    result = option(assess_raw({**base, **change}), regimen)
    crit = next(c for c in result["criteria"] if c["id"] == criterion)
    assert crit["result"] == "unknown"
    assert result["status"] == "needs_info"
    assert field in crit["missing"] and field in result["missing"]
    assert result["questions"], "a needs_info option says what to ask"


@pytest.mark.parametrize(("regimen", "criterion"), PARAMS)
def test_every_criterion_carries_its_source(regimen: str, criterion: str) -> None:
    result = option(assess_raw(CASES[regimen][0]), regimen)
    crit = next(c for c in result["criteria"] if c["id"] == criterion)
    assert crit["sources"]
    for s in crit["sources"]:
        assert s["quote"]
        assert s.get("external") or s["source"].endswith(".txt")


def test_t_dm1_recurrence_within_six_months_of_early_treatment_counts() -> None:
    # 000: "the breast cancer had come back (recurred) during treatment for early breast cancer or within
    # 6 months of finishing treatment for early breast cancer"
    profile = {
        **HER2_POS,
        "prior_treatments": [rx("trastuzumab+paclitaxel", "early", end_date="2022-12-01")],
        "recurrence_date": "2023-05-30",
    }
    assert option(assess_raw(profile), "trastuzumab-emtansine")["status"] == "eligible"
    during = {
        **profile,
        "prior_treatments": [rx("trastuzumab+paclitaxel", "early", start_date="2022-06-01") | {"ongoing": True}],
    }
    assert option(assess_raw(during), "trastuzumab-emtansine")["status"] == "eligible"


def test_pertuzumab_for_inoperable_local_recurrence() -> None:
    # 000: "whose cancer has come back in or near the breast and surgery isn't possible"
    profile = {**HER2_POS, "extent": "locally_advanced", "local_recurrence": True, "operable": False}
    assert option(assess_raw(profile), "pertuzumab-trastuzumab-docetaxel")["status"] == "eligible"


def test_cdk46_after_hormone_therapy_for_early_cancer_only_is_met_and_the_conflict_is_shown() -> None:
    profile = {**HR_POS, "prior_treatments": [rx("tamoxifen", "early")]}
    result = assess_raw(profile)
    assert option(result, "palbociclib-aromatase-inhibitor")["status"] == "eligible"
    warning = next(w for w in result["warnings"] if w["id"] == "cdk46-prior-hormone-therapy")
    assert "palbociclib-aromatase-inhibitor" in warning["regimens"]


def test_sacituzumab_triple_negative_criterion_is_marked_as_from_outside_the_pages() -> None:
    result = assess_raw(CASES["sacituzumab-govitecan"][0])
    crit = next(c for c in option(result, "sacituzumab-govitecan")["criteria"] if c["id"] == "triple-negative")
    assert crit.get("from_outside_the_pages") is True
    assert all(s.get("external") for s in crit["sources"])
    assert any(w["id"] == "sacituzumab-cut-off" for w in result["warnings"])


def test_her2_low_is_her2_negative_for_hormone_options() -> None:
    result = assess_raw({**HR_POS, "her2": None, "her2_ihc": "2+", "her2_ish": "negative"})
    assert option(result, "palbociclib-aromatase-inhibitor")["status"] == "eligible"
    assert result["profile"]["derived"]["her2"] == "low"


def test_her2_ihc_2_plus_without_ish_asks_for_ish() -> None:
    result = assess_raw({**HER2_POS, "her2": None, "her2_ihc": "2+"})
    assert option(result, "trastuzumab")["missing"] == ["her2_ish"]
