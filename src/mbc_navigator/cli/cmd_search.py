"""``mbcnav search "QUESTION"``: the passages of the pages that best answer a question, with their sources.

Only the pages' own words are shown; no answer is written.
"""

from __future__ import annotations

import argparse
import json
import sys

from mbc_navigator.cli.errors import EXIT_OK, UsageError
from mbc_navigator.cli.render import wrap
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.search.settings import MAX_LIMIT, RANKINGS

MAX_QUESTION = 500


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: dict[str, argparse.ArgumentParser],
    kb: KnowledgeBase | None,
) -> None:
    p = sub.add_parser(
        "search",
        parents=[parents["format"]],
        help="find the passages of the pages that answer a question (quotes with their sources)",
    )
    p.add_argument("question", nargs="+", metavar="QUESTION", help='a question in plain words, e.g. "how often"')
    p.add_argument("--limit", default="5", metavar="N", help=f"how many passages (1 to {MAX_LIMIT}; default 5)")
    p.add_argument(
        "--ranking",
        default="combined",
        metavar="HOW",
        help="combined (default), lexical (BM25 only) or semantic (embeddings only)",
    )
    p.add_argument("--sources", metavar="DIR", help="folder of source pages (env MBCNAV_SOURCES)")


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise UsageError(f"--limit: {text!r} is not allowed; use a whole number from 1 to {MAX_LIMIT}")
    return value


def run(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    question = " ".join(" ".join(args.question).split())
    if not question:
        raise UsageError('QUESTION: the question is empty; ask in plain words, e.g. mbcnav search "how often"')
    if len(question) > MAX_QUESTION:
        raise UsageError(f"QUESTION: {len(question)} characters is too long; at most {MAX_QUESTION}")
    limit = _limit(args.limit)
    if args.ranking not in RANKINGS:
        raise UsageError(f"--ranking: {args.ranking!r} is not allowed; use one of: {', '.join(RANKINGS)}")
    from mbc_navigator.search.rank import Searcher  # here, not at the top: other commands start without it

    searcher = Searcher(kb, args.sources, ranking=args.ranking).load()
    hits = searcher.search(question, limit)
    fmt = args.format or ("table" if sys.stdout.isatty() else "json")
    if fmt == "json":
        data = {"query": question, "ranking": searcher.ranking, "results": [h.to_json(kb) for h in hits]}
        if searcher.note:
            data["note"] = searcher.note
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    if searcher.note:
        print(wrap(f"note: {searcher.note}"))
    if not hits:
        print("No passage of the pages matches this question. Ask your care team.")
    for n, hit in enumerate(hits, start=1):
        where = f"{hit.source}, line {hit.line}" + (f", under \u201c{hit.heading}\u201d" if hit.heading else "")
        print(f"{n}. {where}  (score {hit.score:.3f})")
        for line in hit.text.splitlines():
            print(wrap(line, "       ", "     "))
        about = [f"mbcnav drug {d}" for d in hit.drugs] + [f"mbcnav explain {r}" for r in hit.regimens]
        if about:
            print(wrap("see: " + "; ".join(about), "       ", "     "))
        print()
    print(wrap(f"{kb.meta.disclaimer} These are the pages' own words, found by search; no answer is written."))
    return EXIT_OK
