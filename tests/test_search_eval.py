"""The evaluation questions: every answer is on its page, and combined ranking (BM25 + the bundled
sentence-embedding model) finds the answering passage in its top 3 for at least 95% of them.
Speed is measured by benchmarks/search_eval.py, not here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.search.evaluate import evaluate, load_questions, missing_answers
from mbc_navigator.search.rank import Searcher
from mbc_navigator.search.semantic import SemanticIndex, load_model


@pytest.fixture(scope="module")
def searcher(kb: KnowledgeBase) -> Searcher:
    return Searcher(kb).load()


def test_the_model_is_used_offline(searcher: Searcher) -> None:
    assert searcher.ranking == "combined", searcher.note


def test_questions_are_many_and_every_answer_is_in_a_passage(searcher: Searcher) -> None:
    questions = load_questions()
    assert len(questions) >= 40
    assert missing_answers(searcher, questions) == []


def test_combined_recall_at_3_meets_the_target(searcher: Searcher) -> None:
    report = evaluate(searcher, load_questions(), ("combined", "lexical", "semantic"))
    results = report["results"]
    assert results["combined"]["recall@3"] >= 0.95, results["combined"]["missed@3"]
    # combining is worth it: better than either ranking alone
    assert results["combined"]["recall@3"] > max(results["lexical"]["recall@3"], results["semantic"]["recall@3"])


def test_semantic_ranking_finds_meaning_without_shared_words(searcher: Searcher) -> None:
    """No word of this question is on the page's passage, yet the meaning is."""
    hits = searcher.search("will I feel exhausted and queasy on checkpoint drugs", limit=3, ranking="semantic")
    assert any("Fatigue" in h.text for h in hits)


def test_passage_embeddings_are_kept_between_runs(searcher: Searcher, tmp_path: Path) -> None:
    """The second index over the same passages reads the stored embeddings: it needs no model at all."""
    first = SemanticIndex(searcher.passages, load_model(), tmp_path)
    assert len(list(tmp_path.glob("embeddings-*.npy"))) == 1 and not list(tmp_path.glob("*.tmp"))
    second = SemanticIndex(searcher.passages, None, tmp_path)
    assert first._matrix is not None and second._matrix is not None
    assert np.array_equal(first._matrix, second._matrix)
