"""Assess one profile against every option in the knowledge base.

Status, by the safety rules: ``eligible`` only when every criterion is met; ``ineligible`` when any is not
met; otherwise ``needs_info``, with the fields whose values would settle it. The result is plain JSON-ready data;
renderers (table, explain, web) only present it. What does not depend on the profile comes ready-made from
``plan.py``; here only the rules are evaluated and the person's values filled in.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mbc_navigator.engine.plan import Plan, RegimenPlan, plan
from mbc_navigator.engine.warnings import collect_warnings
from mbc_navigator.knowledge.loader import CompiledRegimen, KnowledgeBase
from mbc_navigator.profile import Profile
from mbc_navigator.rules import Context, Count

RESULT = {True: "met", False: "not_met", None: "unknown"}
PRIOR = "prior_treatments"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Count):
        return value.lo if value.exact else {"at_least": value.lo, "at_most": value.hi}
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def fact_values(kb: KnowledgeBase, ctx: Context) -> dict[str, Any]:
    """Every base and derived fact as the output shows it (None = unknown), each computed once."""
    p = plan(kb)
    get = ctx.values.get
    out = {name: _jsonable(get(name)) for name in p.base_facts}
    out.update({name: _jsonable(fn(ctx)[0]) for name, fn in p.derived})
    return out


def _ask(p: Plan, fields: list[str]) -> list[dict[str, str]]:
    """For each missing field, the question that would settle it (from the facts catalogue)."""
    out, seen = [], set()
    for name in fields:
        fact = p.questions.get(name.split(".")[0])
        if fact is None or fact[1] in seen:
            continue
        seen.add(fact[1])
        out.append({"field": name, "question": fact[0], "ask": fact[1]})
    return out


def assess_option(kb: KnowledgeBase, reg: CompiledRegimen, ctx: Context) -> dict[str, Any]:
    """One option for one profile."""
    p = plan(kb)
    return _option(p, p.by_id[reg.spec.id], ctx, fact_values(kb, ctx))


def _option(p: Plan, reg: RegimenPlan, ctx: Context, facts: dict[str, Any]) -> dict[str, Any]:
    criteria = []
    missing: set[str] = set()
    any_false, all_true = False, True
    for crit in reg.criteria:
        value, miss = crit.fn(ctx)
        if value is not True:
            all_true = False
            if value is False:
                any_false = True
        entry: dict[str, Any] = {
            "id": crit.id,
            "text": crit.text,
            "result": RESULT[value],
            "rule": crit.rule,
            "facts": {name: facts[name] for name in crit.facts},
            "missing": [],
            "sources": [*crit.sources],
        }
        if value is None:
            missing |= miss
            entry["missing"] = sorted(miss)
        if crit.extra:
            entry.update(crit.extra)
        criteria.append(entry)

    status = "ineligible" if any_false else "eligible" if all_true else "needs_info"
    cautions = []
    shown = []
    for caution in reg.cautions:
        applies = "yes"
        if caution.when is not None:
            value = caution.when(ctx)[0]
            if value is False:
                shown.append(False)
                continue
            applies = "yes" if value else "maybe"
        shown.append(True)
        cautions.append(
            {
                "id": caution.id,
                "title": caution.title,
                "applies": applies,
                "warn": caution.warn,
                "from": caution.origin,
                "sources": [*caution.sources],
            }
        )
    settle = sorted(missing) if status == "needs_info" else []
    return {
        "id": reg.id,
        "name": reg.name,
        "status": status,
        "drugs": [*reg.drugs],
        "about": [*reg.about],
        "criteria": criteria,
        "missing": settle,
        "questions": _ask(p, settle) if settle else [],
        "cautions": cautions,
        "availability": [*reg.availability],
        "conflicts": [*reg.conflicts],
        "sources": [*reg.sources(tuple(shown))],
    }


def assess(profile: Profile, kb: KnowledgeBase, today: date | None = None) -> dict[str, Any]:
    """The assessment of every option for one profile, with warnings and what the knowledge base is.

    Parts that do not depend on the profile (cites, drug lists) are shared read-only objects: treat the
    result as read-only data (``engine.encode.assessment_json`` turns it into JSON bytes).
    """
    today = today or date.today()
    ctx = Context(profile.values, profile.hints)
    p = plan(kb)
    facts = fact_values(kb, ctx)
    options = [_option(p, reg, ctx, facts) for reg in p.regimens]
    derived = {"her2": profile.values.get("her2")}  # as read from the stated status or the test results
    derived.update({name: facts[name] for name, _ in p.derived})
    return {
        "options": options,
        "warnings": collect_warnings(kb, profile, ctx, options, today),
        "profile": {"given": profile.given, "derived": derived},
        "knowledge": knowledge_summary(kb, today),
    }


def knowledge_summary(kb: KnowledgeBase, today: date) -> dict[str, Any]:
    """The knowledge base's version, its pages with their review dates as of ``today``, and where they disagree."""
    p = plan(kb)
    statements = p.conflict_statements
    return {
        "version": kb.meta.version,
        "as_of": today.isoformat(),
        "disclaimer": kb.meta.disclaimer,
        "sources": [*p.day(today).pages],
        "conflicts": [
            {
                "id": c.id,
                "topic": c.topic,
                "summary": c.summary,
                "statements": list(statements[c.id]),
                "bears_on": c.bears_on,
            }
            for c in kb.conflicts.values()
        ],
    }
