"""Passages of the source pages and search over them (lexical BM25, semantic embeddings, combined).

Import from the submodules (``search.rank.Searcher``, ``search.passages``): this package loads nothing itself,
so commands that do not search start fast.
"""
