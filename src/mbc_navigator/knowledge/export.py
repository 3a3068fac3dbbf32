"""The whole knowledge base as JSON-ready data, each cite expanded to its page file or marked external."""

from __future__ import annotations

from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase


def export(kb: KnowledgeBase) -> dict[str, Any]:
    """The whole knowledge base as JSON-ready data, cites expanded to page files or marked external."""

    def dump(model: Any) -> Any:
        return _expand(kb, model.model_dump(mode="json", exclude_defaults=False))

    return {
        "meta": dump(kb.meta),
        "pages": [dump(p) for p in kb.pages.values()],
        "external_sources": [dump(e) for e in kb.external.values()],
        "conflicts": [dump(c) for c in kb.conflicts.values()],
        "facts": dump(kb.facts),
        "classes": [dump(c) for c in kb.classes.values()],
        "drugs": [dump(d) for d in kb.drugs.values()],
        "regimens": [dump(r.spec) for r in kb.regimens.values()],
        "notices": [dump(n.spec) for n in kb.notices],
        "research": [dump(r) for r in kb.research],
        "glossary": [dump(g) for g in kb.glossary],
    }


def _expand(kb: KnowledgeBase, obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"source", "quote", "ref", "says"}:
            if obj["ref"]:
                ext = kb.external[obj["ref"]]
                return {
                    "source": ext.id,
                    "quote": obj["says"],
                    "external": True,
                    "title": ext.title,
                    "url": ext.url,
                }
            return {"source": kb.pages[obj["source"]].file, "quote": obj["quote"]}
        return {k: _expand(kb, v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_expand(kb, v) for v in obj]
    return obj
