"""Properties of the engine over random profiles (hypothesis), unknowns included.

- Filling in an unknown fact never flips an eligible or ineligible result (unknown is never rounded).
- No option is eligible with a criterion not met or unknown; any not-met criterion makes it ineligible.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mbc_navigator.engine import assess
from mbc_navigator.knowledge import default_knowledge
from mbc_navigator.profile import ProfileError, parse_profile
from mbc_navigator.profile import her2 as her2_rules
from tests.conftest import TODAY

KB = default_knowledge()
DRUG_NAMES = [
    "trastuzumab",
    "Kadcyla",
    "pertuzumab",
    "docetaxel",
    "paclitaxel",
    "capecitabine",
    "letrozole",
    "tamoxifen",
    "palbociclib",
    "fulvestrant",
    "epirubicin",
    "Unknownumab",
]


def treatment() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"drugs": st.lists(st.sampled_from(DRUG_NAMES), min_size=1, max_size=3)},
        optional={
            "setting": st.sampled_from(["early", "advanced"]),
            "end_date": st.sampled_from(["2022-01-15", "2023-06-30", "2024-12-01"]),
        },
    )


def field_values() -> dict[str, st.SearchStrategy[Any]]:
    out: dict[str, st.SearchStrategy[Any]] = {}
    for fact in KB.facts.base:
        if fact.type == "enum":
            out[fact.name] = st.sampled_from(fact.values)
        elif fact.type == "bool":
            out[fact.name] = st.booleans()
        elif fact.type == "date":
            out[fact.name] = st.sampled_from(["2022-03-01", "2023-07-15", "2025-01-20"])
        elif fact.type == "enum_list":
            out[fact.name] = st.lists(st.sampled_from(fact.values), max_size=3, unique=True)
        else:
            out[fact.name] = st.lists(treatment(), max_size=3)
    return out


FIELDS = field_values()
HER2_TESTS = [
    (i, s)
    for i in (None, "0", "1+", "2+", "3+")
    for s in (None, "positive", "negative")
    if not her2_rules.discordant(i, s)
]


@st.composite
def complete_profiles(draw: st.DrawFn) -> dict[str, Any]:
    """A profile with every field known (or left out only where it cannot apply) and no contradictions."""
    raw = {name: draw(strategy) for name, strategy in FIELDS.items()}
    if raw["sex"] == "male":
        raw.pop("menopausal_status")
    if raw["extent"] == "early":
        raw["metastatic_sites"] = []
    ihc, ish = draw(st.sampled_from(HER2_TESTS))
    by_tests = her2_rules.allowed_by_tests(ihc, ish)
    stated = [v for v, allowed in her2_rules.STATED.items() if allowed & by_tests]
    raw.update(her2_ihc=ihc, her2_ish=ish, her2=draw(st.sampled_from(stated)))
    return {k: v for k, v in raw.items() if v is not None}


def statuses(raw: dict[str, Any]) -> dict[str, str] | None:
    try:
        profile = parse_profile(raw, KB)
    except ProfileError:
        return None
    return {o["id"]: o["status"] for o in assess(profile, KB, today=TODAY)["options"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complete_profiles(), st.sets(st.sampled_from(sorted(FIELDS))))
def test_filling_in_unknown_facts_never_flips_a_settled_result(full: dict[str, Any], hidden: set[str]) -> None:
    partial = {k: v for k, v in full.items() if k not in hidden}
    before, after = statuses(partial), statuses(full)
    assert after is not None, "complete profiles are drawn consistent"
    assert before is not None, "leaving facts out never makes a profile invalid"
    for rid, status in before.items():
        if status != "needs_info":
            assert after[rid] == status, (rid, status, after[rid], hidden)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_status_follows_the_criteria_exactly(raw: dict[str, Any]) -> None:
    try:
        profile = parse_profile(raw, KB)
    except ProfileError:
        assume(False)
        return
    for o in assess(profile, KB, today=TODAY)["options"]:
        results = [c["result"] for c in o["criteria"]]
        if o["status"] == "eligible":
            assert all(r == "met" for r in results)
        elif o["status"] == "ineligible":
            assert "not_met" in results
        else:
            assert "not_met" not in results and "unknown" in results
            assert o["missing"], "a needs_info option names what would settle it"
        for c in o["criteria"]:
            assert (c["result"] == "unknown") == bool(c["missing"])
