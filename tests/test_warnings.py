"""The warnings a user must see, shown when they bear on the person, not hidden."""

from __future__ import annotations

from datetime import date
from typing import Any

from mbc_navigator.engine import assess
from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.profile import parse_profile
from tests.conftest import assess_raw, option

HER2_POS = {"her2": "positive", "extent": "metastatic", "er": "negative", "pr": "negative", "prior_treatments": []}


def ids(result: dict[str, Any]) -> set[str]:
    return {w["id"] for w in result["warnings"] if "id" in w}


def test_stale_source_is_judged_by_the_date(kb: KnowledgeBase) -> None:
    profile = parse_profile(HER2_POS, kb)
    assert "stale-000" in ids(assess(profile, kb, today=date(2026, 11, 22)))
    assert "stale-000" not in ids(assess(profile, kb, today=date(2024, 3, 8)))
    assert assess(profile, kb, today=date(2026, 11, 22))["knowledge"]["sources"][0]["past_review_date"] is True


def test_men_are_told_the_trials_were_in_women() -> None:
    result = assess_raw({**HER2_POS, "sex": "male"})
    men = next(w for w in result["warnings"] if w["kind"] == "men")
    assert any("only been carried out in women" in s["quote"] for s in men["sources"])
    assert "men" not in {w["kind"] for w in assess_raw({**HER2_POS, "sex": "female"})["warnings"]}


def test_brain_spread_warns_and_the_trastuzumab_caution_applies() -> None:
    result = assess_raw({**HER2_POS, "metastatic_sites": ["brain"]})
    assert "brain-spinal-cord" in ids(result)
    caution = next(c for c in option(result, "trastuzumab")["cautions"] if c["id"] == "brain-spinal-cord")
    assert caution["applies"] == "yes"
    # unknown sites: the caution may apply; no spread there: it is not shown
    maybe = assess_raw({k: v for k, v in HER2_POS.items()})
    assert next(c for c in option(maybe, "trastuzumab")["cautions"] if c["id"] == "brain-spinal-cord")["applies"] == (
        "maybe"
    )
    none = assess_raw({**HER2_POS, "metastatic_sites": ["liver"]})
    assert "brain-spinal-cord" not in {c["id"] for c in option(none, "trastuzumab")["cautions"]}


def test_heart_checks_with_anti_her2_options() -> None:
    result = assess_raw(HER2_POS)
    heart = next(w for w in result["warnings"] if w["id"] == "heart-checks")
    assert "trastuzumab" in heart["regimens"]
    assert "heart-checks" in {c["id"] for c in option(result, "lapatinib-capecitabine")["cautions"]}
    tnbc = {**HER2_POS, "her2": "zero", "prior_treatments": [{"drugs": ["paclitaxel"], "setting": "early"}]}
    assert "heart-checks" not in ids(assess_raw(tnbc))  # every anti-HER2 option is ruled out


def test_not_widely_available_is_shown_for_lapatinib_and_bevacizumab() -> None:
    result = assess_raw(HER2_POS)
    lapatinib = option(result, "lapatinib-capecitabine")
    assert any("not widely available on the NHS" in a["quote"] for a in lapatinib["availability"])
    assert "lapatinib-bevacizumab-one-page" in ids(result)


def test_disagreement_not_shown_when_it_cannot_matter() -> None:
    # HER2 positive, hormone receptor negative: CDK4/6 options are ruled out on receptors, not on the disputed point
    assert "cdk46-prior-hormone-therapy" not in ids(assess_raw(HER2_POS))


def test_knowledge_lists_every_disagreement_even_those_that_do_not_change_a_result() -> None:
    conflicts = {c["id"] for c in assess_raw(HER2_POS)["knowledge"]["conflicts"]}
    assert {"her2-share", "nhs-availability", "cdk46-prior-hormone-therapy", "sacituzumab-cut-off"} <= conflicts
