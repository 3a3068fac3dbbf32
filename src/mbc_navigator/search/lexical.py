"""Lexical ranking: BM25 (``bm25s``) over stemmed words, the query widened with the words patients use."""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s  # type: ignore[import-untyped,import-not-found,unused-ignore]
import numpy as np
import Stemmer  # type: ignore[import-untyped,import-not-found,unused-ignore]  # PyStemmer

from mbc_navigator.search.passages import Passage

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "during",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "might",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "i'm",
        "i've",
        "it's",
        "can't",
        "don't",
        "doesn't",
        "isn't",
        "won't",
        "wouldn't",
    ]
)
_WORD = re.compile(r"[a-z0-9]+(?:[+'][a-z0-9]*)?")


class Tokenizer:
    """Lower case, words and numbers, stop words dropped, English Snowball stems."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def words(self, text: str) -> list[str]:
        text = text.lower().replace("’", "'").replace("®", "")
        words = [w.rstrip("'") for w in _WORD.findall(text)]
        kept = [w.replace("'", "") for w in words if w and w not in STOPWORDS]
        return [w for w in kept if w]

    def tokens(self, text: str) -> list[str]:
        return list(self._stemmer.stemWords(self.words(text)))


class Expander:
    """Adds to a query the page words for the patient words it contains: ``same`` names (a brand name's
    generic name) count as much as the query's own words, ``related`` words (synonyms) half as much."""

    def __init__(self, same: dict[str, str], related: dict[str, str]) -> None:
        self._table = {k: (v, True) for k, v in related.items()} | {k: (v, False) for k, v in same.items()}
        keys = sorted(self._table, key=len, reverse=True)
        self._re = re.compile(r"(?<![\w])(" + "|".join(re.escape(k) for k in keys) + r")(?=\W|$)", re.IGNORECASE)

    def extra(self, query: str, related: bool | None = None) -> list[str]:
        """The words to add, in order, each once (only ``same`` or only ``related`` ones when asked)."""
        out: list[str] = []
        for m in self._re.finditer(query):
            add, is_related = self._table[m.group(1).lower()]
            if (related is None or related == is_related) and add not in out:
                out.append(add)
        return out

    def expand(self, query: str, related: bool | None = None) -> str:
        """The query with the words to add in brackets (for the embedding model)."""
        extra = self.extra(query, related)
        return f"{query} ({'; '.join(extra)})" if extra else query


class LexicalIndex:
    """BM25 scores of every passage for a query."""

    def __init__(self, passages: Sequence[Passage], tokenizer: Tokenizer, expander: Expander) -> None:
        self._tokenizer = tokenizer
        self._expander = expander
        corpus = [tokenizer.tokens(p.index_text() + " " + _drug_words(p)) for p in passages]
        self._vocab = {t for doc in corpus for t in doc}
        self._size = len(corpus)
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per passage (0 where no word matches), for the query and its added words."""
        tokens = self._tokenizer.tokens(" ".join([query, *self._expander.extra(query, related=False)]))
        related = self._tokenizer.tokens(" ".join(self._expander.extra(query, related=True)))
        extra = [t for t in related if t not in tokens]
        known = [t for t in tokens if t in self._vocab]
        added = [t for t in dict.fromkeys(extra) if t in self._vocab]
        if not known and not added:
            return np.zeros(self._size, dtype=np.float32)
        out = np.asarray(self._bm25.get_scores(known), dtype=np.float32) if known else 0.0
        if added:
            out = out + 0.5 * np.asarray(self._bm25.get_scores(added), dtype=np.float32)
        return np.asarray(out, dtype=np.float32)


def _drug_words(passage: Passage) -> str:
    """Drug ids a passage concerns only by "it", so that the drug's name finds it."""
    return " ".join(d.replace("-", " ") for d in passage.drugs) if passage.inherited else ""
