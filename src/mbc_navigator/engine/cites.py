"""How a cite appears in output."""

from __future__ import annotations

from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import Cite


def cite_json(kb: KnowledgeBase, cite: Cite) -> dict[str, Any]:
    """The page file and its words, or the external source marked as such (never passed off as the pages)."""
    if cite.ref is not None:
        ext = kb.external[cite.ref]
        return {"source": ext.id, "quote": cite.says, "external": True, "title": ext.title, "url": ext.url}
    return {"source": kb.cite_file(cite), "quote": cite.quote}
