"""Search evaluation: recall@1 and recall@3 of lexical, semantic and combined ranking over the questions in
evaluation/search_questions.yaml, and the median time per query once loaded. The last line is JSON.

Run: .venv/bin/python benchmarks/search_eval.py [--sources DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from mbc_navigator.knowledge import default_knowledge
from mbc_navigator.search.evaluate import evaluate, load_questions, missing_answers
from mbc_navigator.search.rank import Searcher
from mbc_navigator.search.settings import RANKINGS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", metavar="DIR", help="folder of source pages (env MBCNAV_SOURCES)")
    args = parser.parse_args()
    questions = load_questions()
    start = time.perf_counter()
    searcher = Searcher(default_knowledge(), args.sources).load()
    load_s = time.perf_counter() - start
    missing = missing_answers(searcher, questions)
    if missing:
        print("answers not found in any passage:", *missing, sep="\n  ", file=sys.stderr)
        return 2
    rankings = RANKINGS if searcher.ranking == "combined" else ("lexical",)
    if searcher.note:
        print(f"note: {searcher.note}")
    report = evaluate(searcher, questions, rankings)
    report["passages"] = len(searcher.passages)
    report["load_seconds"] = round(load_s, 2)
    print(f"{len(questions)} questions, {len(searcher.passages)} passages, loaded in {load_s:.1f} s")
    held = sum(q.held_out for q in questions)
    print(f"{'ranking':<10} {'recall@1':>9} {'recall@3':>9} {f'held-out@3 ({held})':>17} {'median ms':>10}")
    for name, r in report["results"].items():
        ho = r["held_out_recall@3"]
        ho_text = f"{ho:.1%}" if ho is not None else "-"
        print(f"{name:<10} {r['recall@1']:>9.1%} {r['recall@3']:>9.1%} {ho_text:>17} {r['median_ms']:>10.2f}")
        for q in r["missed@3"]:
            print(f"    missed at 3: {q}")
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
