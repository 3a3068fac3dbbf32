"""The fast engine gives exactly the output of the straightforward one.

``reference_assess`` below is the engine as it was before the speed-ups (every cite, drug list and fact built
anew per criterion, per option, per call). Over hypothesis-drawn profiles, unknowns, unrecognised drugs and
review dates included, the fast ``assess`` must equal it: same keys in the same order, same values, same list
order, and the same JSON bytes. Shared parts of the result are read-only, and ``assessment_json`` encodes
every result, even text that orjson alone refuses.
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbc_navigator.engine import assess
from mbc_navigator.engine.assess import assess_option, knowledge_summary
from mbc_navigator.engine.encode import assessment_json
from mbc_navigator.knowledge import default_knowledge
from mbc_navigator.knowledge.loader import CompiledRegimen, KnowledgeBase, Rule
from mbc_navigator.knowledge.schema import Cite
from mbc_navigator.profile import Profile, ProfileError, parse_profile
from mbc_navigator.profile import her2 as her2_rules
from mbc_navigator.rules import Context, Count, names

KB = default_knowledge()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "profiles"
OPEN = ("eligible", "needs_info")

# --- the straightforward reference: the engine before the speed-ups, kept verbatim in behaviour -----------


def ref_cite(kb: KnowledgeBase, cite: Cite) -> dict[str, Any]:
    if cite.ref is not None:
        ext = kb.external[cite.ref]
        return {"source": ext.id, "quote": cite.says, "external": True, "title": ext.title, "url": ext.url}
    return {"source": kb.cite_file(cite), "quote": cite.quote}


def ref_jsonable(value: Any) -> Any:
    if isinstance(value, Count):
        return value.lo if value.exact else {"at_least": value.lo, "at_most": value.hi}
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def ref_facts_used(kb: KnowledgeBase, rule: Rule, ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(names(rule.tree)):
        if name in kb.derived:
            out[name] = ref_jsonable(kb.derived[name].fn(ctx)[0])
        elif name in kb.vocab.facts:
            out[name] = ref_jsonable(ctx.values.get(name))
    return out


def ref_status(results: list[bool | None]) -> str:
    if any(r is False for r in results):
        return "ineligible"
    if all(r is True for r in results):
        return "eligible"
    return "needs_info"


def ref_ask(kb: KnowledgeBase, fields: list[str]) -> list[dict[str, str]]:
    base = {f.name: f for f in kb.facts.base}
    out, seen = [], set()
    for name in fields:
        fact = base.get(name.split(".")[0])
        if fact is None or fact.settled_by in seen:
            continue
        seen.add(fact.settled_by)
        out.append({"field": name, "question": fact.question, "ask": fact.settled_by})
    return out


def ref_option(kb: KnowledgeBase, reg: CompiledRegimen, ctx: Context) -> dict[str, Any]:
    criteria = []
    results: list[bool | None] = []
    missing: set[str] = set()
    cites: list[dict[str, Any]] = []

    def add(cite: Cite) -> dict[str, Any]:
        item = ref_cite(kb, cite)
        if item not in cites:
            cites.append(item)
        return item

    for crit in reg.criteria:
        value, miss = crit.rule.fn(ctx)
        results.append(value)
        if value is None:
            missing |= miss
        entry: dict[str, Any] = {
            "id": crit.spec.id,
            "text": crit.spec.text,
            "result": {True: "met", False: "not_met", None: "unknown"}[value],
            "rule": crit.rule.text,
            "facts": ref_facts_used(kb, crit.rule, ctx),
            "missing": sorted(miss) if value is None else [],
            "sources": [add(c) for c in crit.spec.sources],
        }
        if crit.spec.conflict:
            entry["conflict"] = crit.spec.conflict
        if crit.spec.note:
            entry["note"] = crit.spec.note
        if any(c.ref for c in crit.spec.sources) and not any(c.source for c in crit.spec.sources):
            entry["from_outside_the_pages"] = True
        criteria.append(entry)

    status = ref_status(results)
    cautions = []
    for caution in reg.cautions:
        applies = "yes"
        if caution.when is not None:
            value = caution.when.fn(ctx)[0]
            if value is False:
                continue
            applies = "yes" if value else "maybe"
        cautions.append(
            {
                "id": caution.spec.id,
                "title": caution.spec.title,
                "applies": applies,
                "warn": caution.spec.warn,
                "from": caution.origin,
                "sources": [add(c) for c in caution.spec.sources],
            }
        )
    about = [add(c) for c in reg.spec.about]
    availability = [add(c) for c in reg.spec.availability]
    drugs = [{"id": d, "name": kb.drugs[d].name, "brands": kb.drugs[d].brands} for d in reg.spec.drugs]
    settle = sorted(missing) if status == "needs_info" else []
    return {
        "id": reg.spec.id,
        "name": reg.spec.name,
        "status": status,
        "drugs": drugs,
        "about": about,
        "criteria": criteria,
        "missing": settle,
        "questions": ref_ask(kb, settle),
        "cautions": cautions,
        "availability": availability,
        "conflicts": [c.id for c in reg.conflicts],
        "sources": cites,
    }


def ref_decided_by(option: dict[str, Any], conflict_id: str) -> bool:
    disputed = [c for c in option["criteria"] if c.get("conflict") == conflict_id]
    if not disputed or all(c["result"] == "met" for c in disputed):
        return False
    if option["status"] in OPEN:
        return True
    return all(c.get("conflict") == conflict_id for c in option["criteria"] if c["result"] == "not_met")


def ref_warnings(
    kb: KnowledgeBase, profile: Profile, ctx: Context, options: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = []
    for page in kb.pages.values():
        if page.next_review and page.next_review < today:
            warnings.append(
                {
                    "kind": "stale_source",
                    "id": f"stale-{page.id}",
                    "message": (
                        f"The page {page.file} ({page.title}) was last reviewed on {page.reviewed} and was due "
                        f"for review on {page.next_review}. It is past its review date, so some of it may be out "
                        "of date."
                    ),
                    "source": page.file,
                }
            )
    by_id = {o["id"]: o for o in options}
    for conflict in kb.conflicts.values():
        regimens = sorted(
            {r for r in conflict.bears_on if by_id[r]["status"] in OPEN}
            | {o["id"] for o in options if ref_decided_by(o, conflict.id)}
        )
        if regimens:
            warnings.append(
                {
                    "kind": "sources_disagree",
                    "id": conflict.id,
                    "message": f"{conflict.topic}: {conflict.summary}",
                    "regimens": regimens,
                    "sources": [ref_cite(kb, s) for s in conflict.statements],
                }
            )
    for notice in kb.notices:
        if notice.when.fn(ctx)[0] is True:
            warnings.append(
                {
                    "kind": notice.spec.kind,
                    "id": notice.spec.id,
                    "message": notice.spec.message,
                    "sources": [ref_cite(kb, s) for s in notice.spec.sources],
                }
            )
    cautions: dict[str, dict[str, Any]] = {}
    for option in options:
        if option["status"] not in OPEN:
            continue
        for caution in option["cautions"]:
            if caution["warn"]:
                entry = cautions.setdefault(
                    caution["id"],
                    {
                        "kind": "caution",
                        "id": caution["id"],
                        "message": caution["title"] + ": " + " ".join(c["quote"] for c in caution["sources"]),
                        "regimens": [],
                        "sources": caution["sources"],
                    },
                )
                entry["regimens"].append(option["id"])
    warnings.extend(cautions.values())
    warnings.extend(profile.warnings)
    return warnings


def ref_summary(kb: KnowledgeBase, today: date) -> dict[str, Any]:
    return {
        "version": kb.meta.version,
        "as_of": today.isoformat(),
        "disclaimer": kb.meta.disclaimer,
        "sources": [
            {
                "id": p.id,
                "file": p.file,
                "title": p.title,
                "publisher": p.publisher,
                "reviewed": p.reviewed.isoformat() if p.reviewed else None,
                "next_review": p.next_review.isoformat() if p.next_review else None,
                "past_review_date": bool(p.next_review and p.next_review < today),
            }
            for p in kb.pages.values()
        ],
        "conflicts": [
            {
                "id": c.id,
                "topic": c.topic,
                "summary": c.summary,
                "statements": [ref_cite(kb, s) for s in c.statements],
                "bears_on": c.bears_on,
            }
            for c in kb.conflicts.values()
        ],
    }


def reference_assess(profile: Profile, kb: KnowledgeBase, today: date) -> dict[str, Any]:
    ctx = Context(profile.values, profile.hints)
    options = [ref_option(kb, reg, ctx) for reg in kb.regimens.values()]
    derived = {"her2": profile.values.get("her2")}
    derived |= {name: ref_jsonable(rule.fn(ctx)[0]) for name, rule in kb.derived.items()}
    return {
        "options": options,
        "warnings": ref_warnings(kb, profile, ctx, options, today),
        "profile": {"given": profile.given, "derived": derived},
        "knowledge": ref_summary(kb, today),
    }


# --- profiles ---------------------------------------------------------------------------------------------

DRUG_NAMES = sorted({n for d in KB.drugs.values() for n in (d.id, d.name, *d.brands)})
UNKNOWN = ["Unknownumab", " xyz "]
DATES = ["2019-05-01", "2022-03-01", "2023-07-15", "2024-12-31", "2025-06-30", "2026-01-20"]
TODAYS = [date(2024, 3, 8), date(2025, 12, 1), date(2026, 11, 22), date(2030, 1, 1)]


def treatment() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"drugs": st.lists(st.sampled_from(DRUG_NAMES) | st.sampled_from(UNKNOWN), min_size=1, max_size=4)},
        optional={
            "setting": st.sampled_from(["early", "advanced"]),
            "start_date": st.sampled_from(DATES[:3]),
            "end_date": st.sampled_from(DATES[3:]),
            "ongoing": st.booleans(),
        },
    )


def fields() -> dict[str, st.SearchStrategy[Any]]:
    out: dict[str, st.SearchStrategy[Any]] = {}
    for fact in KB.facts.base:
        if fact.type == "enum":
            out[fact.name] = st.sampled_from(fact.values)
        elif fact.type == "bool":
            out[fact.name] = st.booleans()
        elif fact.type == "date":
            out[fact.name] = st.sampled_from(DATES)
        elif fact.type == "enum_list":
            out[fact.name] = st.lists(st.sampled_from(fact.values), max_size=4, unique=True)
        else:
            out[fact.name] = st.lists(treatment(), max_size=4)
    return out


FIELDS = fields()


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    """Any subset of the fields, mostly consistent (a few contradictions are left for the reader to refuse)."""
    every = draw(st.booleans())  # every field given (more options settled) or any subset (more unknowns)
    raw: dict[str, Any] = draw(st.fixed_dictionaries(FIELDS) if every else st.fixed_dictionaries({}, optional=FIELDS))
    if draw(st.sampled_from(range(10))) != 7:  # repair most contradictions, so most drawn profiles are assessed
        ihc, ish, stated = raw.get("her2_ihc"), raw.get("her2_ish"), raw.get("her2")
        if her2_rules.discordant(ihc, ish):
            raw.pop("her2_ish")
            ish = None
        if stated and not her2_rules.STATED[stated] & her2_rules.allowed_by_tests(ihc, ish):
            raw.pop("her2")
        if raw.get("sex") == "male":
            raw.pop("menopausal_status", None)
        if raw.get("extent") == "early":
            raw.pop("metastatic_sites", None)
        for item in raw.get("prior_treatments", []):
            if item.get("ongoing") and "end_date" in item:
                del item["ongoing"]
    return raw


def valid(raw: dict[str, Any]) -> Profile | None:
    try:
        return parse_profile(raw, KB)
    except ProfileError:
        return None


def assert_same(fast: dict[str, Any], ref: dict[str, Any]) -> None:
    assert fast == ref
    assert orjson.dumps(fast) == orjson.dumps(ref)  # same key order and list order, byte for byte
    assert json.dumps(fast) == json.dumps(ref)
    assert assessment_json(fast) == orjson.dumps(ref)


# --- tests ------------------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(profiles(), st.sampled_from(TODAYS))
def test_fast_assess_equals_the_reference_on_drawn_profiles(raw: dict[str, Any], today: date) -> None:
    profile = valid(raw)
    if profile is None:
        return
    assert_same(assess(profile, KB, today=today), reference_assess(profile, KB, today))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_fast_assess_equals_the_reference_on_the_examples(path: Path) -> None:
    profile = parse_profile(json.loads(path.read_text(encoding="utf-8")), KB)
    for today in TODAYS:
        assert_same(assess(profile, KB, today=today), reference_assess(profile, KB, today))


def test_an_empty_profile_and_repeated_calls_give_the_reference_every_time() -> None:
    profile = parse_profile({}, KB)
    first = reference_assess(profile, KB, TODAYS[0])
    for _ in range(3):
        assert_same(assess(profile, KB, today=TODAYS[0]), first)


def test_assess_option_and_knowledge_summary_keep_their_output() -> None:
    profile = parse_profile(json.loads((EXAMPLES / "her2-positive.json").read_text(encoding="utf-8")), KB)
    for reg in KB.regimens.values():
        ctx, ref_ctx = Context(profile.values, profile.hints), Context(profile.values, profile.hints)
        assert orjson.dumps(assess_option(KB, reg, ctx)) == orjson.dumps(ref_option(KB, reg, ref_ctx))
    for today in TODAYS:
        assert orjson.dumps(knowledge_summary(KB, today)) == orjson.dumps(ref_summary(KB, today))


def test_shared_parts_are_read_only_and_still_copy_and_pickle() -> None:
    result = assess(parse_profile({}, KB), KB, today=TODAYS[0])
    cite = result["options"][0]["about"][0]
    with pytest.raises(TypeError, match="read-only"):
        cite["quote"] = "invented words"
    with pytest.raises(TypeError, match="read-only"):
        cite.update(quote="invented words")
    assert copy.deepcopy(result) == result
    assert pickle.loads(pickle.dumps(result)) == result
    assert dict(cite) | {"quote": "x"} != cite  # a copy can be changed; the shared cite cannot


def test_assessment_json_encodes_text_that_orjson_refuses() -> None:
    """A lone surrogate (possible from a JSON file read by the CLI) still gives valid JSON of the same data."""
    raw = {"prior_treatments": [{"drugs": ["bad\ud800name"], "setting": "early"}]}
    result = assess(parse_profile(raw, KB), KB, today=TODAYS[0])
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(result)
    assert json.loads(assessment_json(result)) == json.loads(json.dumps(result))
