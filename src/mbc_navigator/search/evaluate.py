"""Recall of the search against a set of questions with known answering passages, and its speed.

A question is answered at k when one of the top k passages comes from an answer's page and holds its snippet.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mbc_navigator.search.passages import contains
from mbc_navigator.search.rank import Hit, Searcher
from mbc_navigator.search.settings import Ranking

QUESTIONS = Path(__file__).resolve().parents[3] / "evaluation" / "search_questions.yaml"


@dataclass(frozen=True)
class Answer:
    source: str
    snippet: str


@dataclass(frozen=True)
class Question:
    q: str
    answers: tuple[Answer, ...]
    held_out: bool = False


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    """The questions file; every question needs a question and at least one answer with source and snippet."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[Question] = []
    for n, item in enumerate(data["questions"], start=1):
        answers = tuple(Answer(a["source"], a["snippet"]) for a in item.get("answers", []))
        if not item.get("q") or not answers:
            raise ValueError(f"{path.name}: question {n} needs 'q' and at least one answer")
        out.append(Question(item["q"], answers, bool(item.get("held_out", False))))
    return out


def missing_answers(searcher: Searcher, questions: list[Question]) -> list[str]:
    """Answers whose snippet is in no passage of its page (the question file or the splitting is wrong)."""
    out = []
    for question in questions:
        for a in question.answers:
            if not any(p.source == a.source and contains(p, a.snippet) for p in searcher.passages):
                out.append(f"{question.q!r}: {a.source}: {a.snippet!r}")
    return out


def answered(hits: list[Hit], question: Question, k: int) -> bool:
    return any(h.source == a.source and contains_text(h.text, a.snippet) for h in hits[:k] for a in question.answers)


def contains_text(text: str, snippet: str) -> bool:
    return " ".join(snippet.split()).lower() in " ".join(text.replace("• ", "").split()).lower()


def evaluate(searcher: Searcher, questions: list[Question], rankings: tuple[Ranking, ...]) -> dict[str, Any]:
    """recall@1, recall@3, median milliseconds per query and the questions missed at 3, for each ranking."""
    searcher.load()
    searcher.search(questions[0].q, 3)  # warm up
    out: dict[str, Any] = {"questions": len(questions), "ranking_available": searcher.ranking, "results": {}}
    for ranking in rankings:
        at1 = at3 = held = held3 = 0
        times: list[float] = []
        missed: list[str] = []
        for question in questions:
            start = time.perf_counter()
            hits = searcher.search(question.q, 3, ranking)
            times.append((time.perf_counter() - start) * 1000)
            at1 += answered(hits, question, 1)
            found = answered(hits, question, 3)
            at3 += found
            held += question.held_out
            held3 += found and question.held_out
            if not found:
                missed.append(question.q)
        out["results"][ranking] = {
            "recall@1": round(at1 / len(questions), 3),
            "recall@3": round(at3 / len(questions), 3),
            "held_out_recall@3": round(held3 / held, 3) if held else None,
            "median_ms": round(statistics.median(times), 2),
            "missed@3": missed,
        }
    return out
