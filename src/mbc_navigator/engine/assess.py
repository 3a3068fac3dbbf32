"""Assess one profile against every option in the knowledge base.

Status, by the safety rules: ``eligible`` only when every criterion is met; ``ineligible`` when any is not
met; otherwise ``needs_info``, with the fields whose values would settle it. The result is plain JSON-ready data;
renderers (table, explain, web) only present it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mbc_navigator.engine.cites import cite_json
from mbc_navigator.engine.warnings import collect_warnings
from mbc_navigator.knowledge.loader import CompiledRegimen, KnowledgeBase, Rule
from mbc_navigator.knowledge.schema import Cite
from mbc_navigator.profile import Profile
from mbc_navigator.rules import Context, Count, names

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


def _facts_used(kb: KnowledgeBase, rule: Rule, ctx: Context) -> dict[str, Any]:
    """The facts a rule reads, with the values it saw (None = unknown)."""
    out: dict[str, Any] = {}
    for name in sorted(names(rule.tree)):
        if name in kb.derived:
            out[name] = _jsonable(kb.derived[name].fn(ctx)[0])
        elif name in kb.vocab.facts:
            out[name] = _jsonable(ctx.values.get(name))
    return out


def _status(results: list[bool | None]) -> str:
    if any(r is False for r in results):
        return "ineligible"
    if all(r is True for r in results):
        return "eligible"
    return "needs_info"


def _ask(kb: KnowledgeBase, fields: list[str]) -> list[dict[str, str]]:
    """For each missing field, the question that would settle it (from the facts catalogue)."""
    base = {f.name: f for f in kb.facts.base}
    out, seen = [], set()
    for name in fields:
        root = name.split(".")[0]
        fact = base.get(root)
        if fact is None or fact.settled_by in seen:
            continue
        seen.add(fact.settled_by)
        out.append({"field": name, "question": fact.question, "ask": fact.settled_by})
    return out


def assess_option(kb: KnowledgeBase, reg: CompiledRegimen, ctx: Context) -> dict[str, Any]:
    criteria = []
    results: list[bool | None] = []
    missing: set[str] = set()
    cites: list[dict[str, Any]] = []

    def add(cite: Cite) -> dict[str, Any]:
        item = cite_json(kb, cite)
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
            "result": RESULT[value],
            "rule": crit.rule.text,
            "facts": _facts_used(kb, crit.rule, ctx),
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

    status = _status(results)
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
        "questions": _ask(kb, settle),
        "cautions": cautions,
        "availability": availability,
        "conflicts": [c.id for c in reg.conflicts],
        "sources": cites,
    }


def assess(profile: Profile, kb: KnowledgeBase, today: date | None = None) -> dict[str, Any]:
    """The assessment of every option for one profile, with warnings and what the knowledge base is."""
    today = today or date.today()
    ctx = Context(profile.values, profile.hints)
    options = [assess_option(kb, reg, ctx) for reg in kb.regimens.values()]
    derived = {"her2": profile.values.get("her2")}  # as read from the stated status or the test results
    derived |= {name: _jsonable(rule.fn(ctx)[0]) for name, rule in kb.derived.items()}
    return {
        "options": options,
        "warnings": collect_warnings(kb, profile, ctx, options, today),
        "profile": {"given": profile.given, "derived": derived},
        "knowledge": knowledge_summary(kb, today),
    }


def knowledge_summary(kb: KnowledgeBase, today: date) -> dict[str, Any]:
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
                "statements": [cite_json(kb, s) for s in c.statements],
                "bears_on": c.bears_on,
            }
            for c in kb.conflicts.values()
        ],
    }
