"""Everything about an assessment that does not depend on the profile, prepared once per knowledge base.

Per option: its cites (shared read-only objects), drug list, about and availability; per criterion: its text,
rule, compiled evaluator, the facts it shows and its sources; per caution and notice the same. The engine then
only evaluates rules and fills in the values that depend on the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mbc_navigator.engine.cites import CiteTable, Frozen
from mbc_navigator.knowledge.loader import CompiledRegimen, KnowledgeBase
from mbc_navigator.rules import Fn, names

MEMO_KEY = "engine.plan"


@dataclass(frozen=True, slots=True)
class CriterionPlan:
    id: str
    text: str
    rule: str
    fn: Fn
    facts: tuple[str, ...]  # the facts it reads that the output shows, sorted
    sources: tuple[Frozen, ...]
    extra: Frozen  # conflict, note, from_outside_the_pages: only those that apply, in output order


@dataclass(frozen=True, slots=True)
class CautionPlan:
    id: str
    title: str
    warn: bool
    origin: str
    when: Fn | None
    sources: tuple[Frozen, ...]


@dataclass(frozen=True, slots=True)
class RegimenPlan:
    id: str
    name: str
    drugs: tuple[Frozen, ...]
    about: tuple[Frozen, ...]
    availability: tuple[Frozen, ...]
    criteria: tuple[CriterionPlan, ...]
    cautions: tuple[CautionPlan, ...]
    conflicts: tuple[str, ...]
    # the option's "sources" (its cites in first-use order, once each), by which cautions are shown
    _sources: dict[tuple[bool, ...], tuple[Frozen, ...]] = field(default_factory=dict)

    def sources(self, shown: tuple[bool, ...]) -> tuple[Frozen, ...]:
        """Cites of the criteria, the shown cautions, about and availability, first use first, no repeats."""
        cached = self._sources.get(shown)
        if cached is None:
            seen: set[int] = set()
            out: list[Frozen] = []
            groups = [c.sources for c in self.criteria]
            groups += [c.sources for c, show in zip(self.cautions, shown, strict=True) if show]
            groups += [self.about, self.availability]
            for group in groups:
                for cite in group:
                    if id(cite) not in seen:
                        seen.add(id(cite))
                        out.append(cite)
            cached = self._sources[shown] = tuple(out)
        return cached


@dataclass(frozen=True, slots=True)
class Plan:
    regimens: tuple[RegimenPlan, ...]
    by_id: dict[str, RegimenPlan]
    base_facts: tuple[str, ...]
    derived: tuple[tuple[str, Fn], ...]
    questions: dict[str, tuple[str, str]]  # base fact -> (question, what settles it)
    notices: tuple[tuple[Fn, str, str, str, tuple[Frozen, ...]], ...]  # when, kind, id, message, sources
    conflict_statements: dict[str, tuple[Frozen, ...]]
    disputed: dict[str, frozenset[str]]  # conflict -> regimens with a criterion the pages disagree on
    kb: KnowledgeBase
    _days: dict[date, Day] = field(default_factory=dict)

    def day(self, today: date) -> Day:
        """What depends only on the date: the pages past their review date, and each page's summary."""
        cached = self._days.get(today)
        if cached is None:
            if len(self._days) > 64:  # a long-running server sees one new day a day; keep the table small
                self._days.clear()
            cached = self._days[today] = _day(self.kb, today)
        return cached


@dataclass(frozen=True, slots=True)
class Day:
    stale: tuple[Frozen, ...]  # the stale_source warnings
    pages: tuple[Frozen, ...]  # the pages as knowledge_summary shows them


def _day(kb: KnowledgeBase, today: date) -> Day:
    stale = tuple(
        Frozen(
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
        for page in kb.pages.values()
        if page.next_review and page.next_review < today
    )
    pages = tuple(
        Frozen(
            {
                "id": p.id,
                "file": p.file,
                "title": p.title,
                "publisher": p.publisher,
                "reviewed": p.reviewed.isoformat() if p.reviewed else None,
                "next_review": p.next_review.isoformat() if p.next_review else None,
                "past_review_date": bool(p.next_review and p.next_review < today),
            }
        )
        for p in kb.pages.values()
    )
    return Day(stale, pages)


def plan(kb: KnowledgeBase) -> Plan:
    """The plan for ``kb``, built on first use and kept with it."""
    return kb.memo(MEMO_KEY, _build)


def _build(kb: KnowledgeBase) -> Plan:
    cites = CiteTable(kb)
    disputed: dict[str, set[str]] = {}
    regimens = []
    for reg in kb.regimens.values():
        regimens.append(_regimen(kb, reg, cites))
        for crit in reg.criteria:
            if crit.spec.conflict:
                disputed.setdefault(crit.spec.conflict, set()).add(reg.spec.id)
    return Plan(
        regimens=tuple(regimens),
        by_id={r.id: r for r in regimens},
        base_facts=tuple(kb.vocab.facts),
        derived=tuple((name, rule.fn) for name, rule in kb.derived.items()),
        questions={f.name: (f.question, f.settled_by) for f in kb.facts.base},
        notices=tuple(
            (n.when.fn, n.spec.kind, n.spec.id, n.spec.message, cites.many(n.spec.sources)) for n in kb.notices
        ),
        conflict_statements={c.id: cites.many(c.statements) for c in kb.conflicts.values()},
        disputed={cid: frozenset(regs) for cid, regs in disputed.items()},
        kb=kb,
    )


def _regimen(kb: KnowledgeBase, reg: CompiledRegimen, cites: CiteTable) -> RegimenPlan:
    criteria = []
    for crit in reg.criteria:
        shown = tuple(n for n in sorted(names(crit.rule.tree)) if n in kb.derived or n in kb.vocab.facts)
        extra: dict[str, Any] = {}
        if crit.spec.conflict:
            extra["conflict"] = crit.spec.conflict
        if crit.spec.note:
            extra["note"] = crit.spec.note
        if any(c.ref for c in crit.spec.sources) and not any(c.source for c in crit.spec.sources):
            extra["from_outside_the_pages"] = True
        criteria.append(
            CriterionPlan(
                crit.spec.id,
                crit.spec.text,
                crit.rule.text,
                crit.rule.fn,
                shown,
                cites.many(crit.spec.sources),
                Frozen(extra),
            )
        )
    cautions = tuple(
        CautionPlan(
            c.spec.id,
            c.spec.title,
            c.spec.warn,
            c.origin,
            c.when.fn if c.when is not None else None,
            cites.many(c.spec.sources),
        )
        for c in reg.cautions
    )
    drugs = tuple(Frozen({"id": d, "name": kb.drugs[d].name, "brands": kb.drugs[d].brands}) for d in reg.spec.drugs)
    return RegimenPlan(
        id=reg.spec.id,
        name=reg.spec.name,
        drugs=drugs,
        about=cites.many(reg.spec.about),
        availability=cites.many(reg.spec.availability),
        criteria=tuple(criteria),
        cautions=cautions,
        conflicts=tuple(c.id for c in reg.conflicts),
    )
