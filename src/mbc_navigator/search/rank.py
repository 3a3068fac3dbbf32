"""Combined ranking and the ``Searcher``: the best passages of the pages for a question, never an answer.

Lexical (BM25) and semantic (sentence-embedding) scores are each scaled to 0..1 over the passages and added
with equal weight. Without the model package, ranking is lexical only and ``Searcher.note`` says so.
The index is built once, on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mbc_navigator import sources as sources_mod
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.search import semantic
from mbc_navigator.search.lexical import Expander, LexicalIndex, Tokenizer
from mbc_navigator.search.passages import Passage, load_passages
from mbc_navigator.search.settings import MAX_LIMIT, RANKINGS, Ranking
from mbc_navigator.search.synonyms import PHRASES, brand_phrases, class_phrases

LEXICAL_WEIGHT = 0.4  # chosen on evaluation/search_questions.yaml (0.3 to 0.4 best there; 0.5 a little worse)
SEMANTIC_FLOOR = 0.25  # a passage no word of the question finds must be at least this close in meaning


@dataclass(frozen=True)
class Hit:
    """A passage found for a question, with its score (higher is better)."""

    source: str
    heading: str
    text: str
    score: float
    drugs: tuple[str, ...]
    regimens: tuple[str, ...]
    passage: str  # passage id
    line: int
    topics: tuple[str, ...]

    def to_json(self, kb: KnowledgeBase) -> dict[str, Any]:
        """The hit as JSON, with links to the drug and option pages it concerns."""
        return {
            "source": self.source,
            "heading": self.heading,
            "text": self.text,
            "score": self.score,
            "passage": self.passage,
            "line": self.line,
            "topics": list(self.topics),
            "drugs": [{"id": d, "name": kb.drugs[d].name, "url": f"/drugs/{d}"} for d in self.drugs if d in kb.drugs],
            "regimens": [
                {"id": r, "name": kb.regimens[r].spec.name, "url": f"/regimens/{r}"}
                for r in self.regimens
                if r in kb.regimens
            ],
        }


class Searcher:
    """Search over the passages of the source pages; builds its indexes on first use."""

    def __init__(self, kb: KnowledgeBase, sources: str | Path | None = None, ranking: Ranking = "combined") -> None:
        if ranking not in RANKINGS:
            raise ValueError(f"ranking: {ranking!r} is not one of {', '.join(RANKINGS)}")
        self.kb = kb
        self._sources = sources
        self._wanted: Ranking = ranking
        self._lock = threading.Lock()
        self._ready = False
        self._passages: list[Passage] = []
        self._lexical: LexicalIndex | None = None
        self._semantic: semantic.SemanticIndex | None = None
        self._expander = Expander(brand_phrases(kb), PHRASES | class_phrases(kb))
        self.ranking: Ranking = ranking
        self.note = ""

    def load(self) -> Searcher:
        """Read the pages and build the indexes now (otherwise done by the first search)."""
        with self._lock:
            if not self._ready:
                self._build()
                self._ready = True
        return self

    def _build(self) -> None:
        self._passages = load_passages(self.kb, sources_mod.locate(self._sources))
        self._lexical = LexicalIndex(self._passages, Tokenizer(), self._expander)
        if self._wanted == "lexical":
            return
        why = semantic.unavailable()
        if why is None:
            try:
                self._semantic = semantic.SemanticIndex(self._passages, semantic.load_model(), semantic.cache_dir())
            except (OSError, RuntimeError, ValueError) as exc:
                why = f"the model could not be loaded ({exc})"
        if why is not None:
            self.ranking = "lexical"
            self.note = f"semantic ranking is off: {why}; ranking is lexical (BM25) only"

    @property
    def passages(self) -> list[Passage]:
        self.load()
        return self._passages

    def scores(self, query: str, ranking: Ranking | None = None) -> np.ndarray:
        """Each passage's score for the query (0 = not a match), by this searcher's ranking or the one given
        (semantic and combined fall back to lexical when the model is off)."""
        self.load()
        assert self._lexical is not None
        how = ranking or self.ranking
        lexical = self._lexical.scores(query)
        if how == "lexical" or self._semantic is None:
            return lexical
        cosine = self._semantic.scores(self._expander.expand(query, related=False))
        close = cosine >= SEMANTIC_FLOOR
        if how == "semantic":
            return np.where(close, cosine, 0.0)
        top = float(lexical.max())
        lex = lexical / top if top > 0 else lexical
        low, high = float(cosine.min()), float(cosine.max())
        sem = (cosine - low) / (high - low) if high > low else np.zeros_like(cosine)
        combined = LEXICAL_WEIGHT * lex + (1 - LEXICAL_WEIGHT) * sem
        return np.where((lexical > 0) | close, combined, 0.0)

    def search(self, query: str, limit: int = 5, ranking: Ranking | None = None) -> list[Hit]:
        """The best passages for a question, best first; none when nothing on the pages matches."""
        if not query.strip():
            raise ValueError("q: the question is empty")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit: must be from 1 to {MAX_LIMIT}")
        scores = self.scores(query, ranking)
        order = np.argsort(-scores, kind="stable")[:limit]
        out: list[Hit] = []
        for i in order:
            if scores[i] <= 0:
                break
            p = self._passages[int(i)]
            out.append(
                Hit(
                    source=p.source,
                    heading=p.heading,
                    text=p.text,
                    score=round(float(scores[i]), 4),
                    drugs=p.drugs,
                    regimens=p.regimens,
                    passage=p.id,
                    line=p.line,
                    topics=p.topics,
                )
            )
        return out
