"""The knowledge base: reviewed YAML data, validated at load, every statement cited.

The loader is imported on first use, so that ``knowledge.names`` serves a start without it (a cached screening).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mbc_navigator.knowledge.loader import KnowledgeBase, KnowledgeError, default_knowledge, load

__all__ = ["KnowledgeBase", "KnowledgeError", "default_knowledge", "load"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("mbc_navigator.knowledge.loader"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
