"""Passages of the source pages and search over them (lexical BM25, semantic embeddings, combined)."""

from mbc_navigator.search.passages import Passage, load_passages
from mbc_navigator.search.rank import Hit, Searcher

__all__ = ["Hit", "Passage", "Searcher", "load_passages"]
