"""What the knowledge base and the pages say about one drug, as JSON-ready data (for the CLI, the API and the
drug pages): how it is given, how often, side effects, checks, cautions, availability, and every passage that
names it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mbc_navigator.engine.cites import cite_json
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import Cite, Drug, DrugClass
from mbc_navigator.sources import SourcesNotFound, locate


def drug_info(kb: KnowledgeBase, drug: Drug) -> dict[str, Any]:
    """What the knowledge base says about one drug, as JSON-ready data."""

    def cj(cites: Iterable[Cite]) -> list[dict[str, Any]]:
        return [cite_json(kb, c) for c in cites]

    classes = [kb.classes[c] for c in drug.classes]
    return {
        "id": drug.id,
        "name": drug.name,
        "brands": drug.brands,
        "classes": [{"id": c.id, "label": c.label} for c in classes],
        "about": cj(drug.about),
        "how_given": cj(drug.how_given),
        "how_often": cj(drug.how_often),
        "side_effects": cj(drug.side_effects),
        "class_side_effects": _class_side_effects(kb, classes),
        "checks": cj(drug.checks),
        "cautions": [
            {"id": c.id, "title": c.title, "when": c.when, "sources": cj(c.sources)}
            for c in [*drug.cautions, *(x for cls in classes for x in cls.cautions)]
        ],
        "availability": [
            {"regimen": {"id": r.spec.id, "name": r.spec.name}, "sources": cj(r.spec.availability)}
            for r in kb.regimens.values()
            if r.spec.drugs[0] == drug.id and r.spec.availability
        ],
        "regimens": [{"id": r.spec.id, "name": r.spec.name} for r in kb.regimens.values() if drug.id in r.spec.drugs],
        "research": [{"id": r.id, "name": r.name} for r in kb.research if drug.name.lower() in r.name.lower()],
        "mentions": _mentions(kb, drug),
    }


def _mentions(kb: KnowledgeBase, drug: Drug) -> list[dict[str, Any]]:
    """The passages of the pages that name the drug (or follow one that does, "It ..."), with place and
    topics; none when the sources folder cannot be found."""
    from mbc_navigator.search.passages import cached_passages  # here: the CLI starts without the search code

    try:
        passages = cached_passages(kb, locate())
    except (SourcesNotFound, OSError):
        return []
    return [
        {
            "passage": p.id,
            "source": p.source,
            "line": p.line,
            "heading": p.heading,
            "text": p.text,
            "topics": list(p.topics),
        }
        for p in passages
        if drug.id in p.drugs
    ]


def _class_side_effects(kb: KnowledgeBase, classes: list[DrugClass]) -> list[dict[str, Any]]:
    """Side effects the pages give for the drug's kinds, each quote once, under the kinds that cite it."""
    labels: list[str] = []
    cites: list[Cite] = []
    for cls in classes:
        new = [c for c in cls.side_effects if c not in cites]
        if cls.side_effects:
            labels.append(cls.label)
        cites += new
    return [{"class": " / ".join(labels), "sources": [cite_json(kb, c) for c in cites]}] if cites else []
