"""How a cite appears in output, and the shared read-only cite objects the engine hands out."""

from __future__ import annotations

from typing import Any, NoReturn

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import Cite


def cite_json(kb: KnowledgeBase, cite: Cite) -> dict[str, Any]:
    """The page file and its words, or the external source marked as such (never passed off as the pages)."""
    if cite.ref is not None:
        ext = kb.external[cite.ref]
        return {"source": ext.id, "quote": cite.says, "external": True, "title": ext.title, "url": ext.url}
    return {"source": kb.cite_file(cite), "quote": cite.quote}


class Frozen(dict[str, Any]):
    """A dict that refuses changes: built once at load and shared by every assessment (JSON sees a dict)."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("this part of an assessment is shared and read-only; copy it with dict(...) to change it")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type[Frozen], tuple[dict[str, Any]]]:
        return (Frozen, (dict(self),))

    def __copy__(self) -> Frozen:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Frozen:
        return self


class CiteTable:
    """One read-only object per distinct cite output, so equal cites are the same object (dedupe by id)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._by_value: dict[tuple[tuple[str, Any], ...], Frozen] = {}

    def get(self, cite: Cite) -> Frozen:
        item = cite_json(self.kb, cite)
        key = tuple(item.items())
        shared = self._by_value.get(key)
        if shared is None:
            shared = self._by_value[key] = Frozen(item)
        return shared

    def many(self, cites: list[Cite]) -> tuple[Frozen, ...]:
        return tuple(self.get(c) for c in cites)
