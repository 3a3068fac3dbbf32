"""How long one assessment takes: parse the profile, assess it, encode the result as JSON bytes.

Loads the knowledge base once, then runs the example profiles (examples/profiles) and generated ones (fixed
seed, drawn from the facts catalogue, unknowns and unrecognised drugs included), and prints microseconds per
profile for each step. Run: ``.venv/bin/python benchmarks/assess_speed.py [--profiles 200] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import date
from pathlib import Path
from typing import Any

from mbc_navigator.engine import assess
from mbc_navigator.engine.encode import assessment_json
from mbc_navigator.knowledge import KnowledgeBase, default_knowledge
from mbc_navigator.profile import ProfileError, parse_profile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "profiles"
TODAY = date(2026, 11, 22)
DATES = ["2019-05-01", "2022-03-01", "2023-07-15", "2024-12-31", "2025-06-30"]


def generated(kb: KnowledgeBase, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` valid profiles, each with a random subset of the facts filled in."""
    rng = random.Random(seed)
    drug_names = [*sorted({n for d in kb.drugs.values() for n in (d.id, d.name, *d.brands)}), "Unknownumab"]
    out: list[dict[str, Any]] = []
    while len(out) < count:
        raw: dict[str, Any] = {}
        for fact in kb.facts.base:
            if rng.random() < 0.3:
                continue  # unknown
            if fact.type == "enum":
                raw[fact.name] = rng.choice(fact.values)
            elif fact.type == "bool":
                raw[fact.name] = rng.random() < 0.5
            elif fact.type == "date":
                raw[fact.name] = rng.choice(DATES)
            elif fact.type == "enum_list":
                raw[fact.name] = rng.sample(fact.values, rng.randint(0, min(3, len(fact.values))))
            else:
                raw[fact.name] = [
                    {
                        "drugs": rng.sample(drug_names, rng.randint(1, 3)),
                        "setting": rng.choice(["early", "advanced"]),
                        "end_date": rng.choice(DATES),
                    }
                    for _ in range(rng.randint(0, 3))
                ]
        try:
            parse_profile(raw, kb)
        except ProfileError:
            continue  # contradictory draw (HER2 results that disagree, ...): draw again
        out.append(raw)
    return out


def one_round(kb: KnowledgeBase, raws: list[dict[str, Any]]) -> tuple[list[float], int]:
    """Microseconds per step (parse, assess, encode, stdlib json.dumps) summed over ``raws``, and bytes out.

    Each result is dropped after use, as a web server would, so garbage collection sees what it would there.
    """
    clock = time.perf_counter
    sums = [0.0, 0.0, 0.0, 0.0]
    size = 0
    for raw in raws:
        t0 = clock()
        profile = parse_profile(raw, kb)
        t1 = clock()
        result = assess(profile, kb, today=TODAY)
        t2 = clock()
        body = assessment_json(result)
        t3 = clock()
        json.dumps(result)
        t4 = clock()
        sums[0] += t1 - t0
        sums[1] += t2 - t1
        sums[2] += t3 - t2
        sums[3] += t4 - t3
        size += len(body)
    return [x * 1e6 for x in sums], size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", type=int, default=200, help="generated profiles besides the examples")
    ap.add_argument("--rounds", type=int, default=5, help="rounds over all profiles (the best is shown)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    start = time.perf_counter()
    kb = default_knowledge()
    load_ms = (time.perf_counter() - start) * 1e3
    raws = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    raws += generated(kb, args.profiles, args.seed)

    for raw in raws[:3]:  # warm up: first use builds the engine's per-knowledge-base tables
        assessment_json(assess(parse_profile(raw, kb), kb, today=TODAY))

    rounds = [one_round(kb, raws) for _ in range(args.rounds)]
    best = min(rounds, key=lambda r: sum(r[0][:3]))  # the least disturbed round (other work shares the cores)
    parse_us, assess_us, encode_us, stdlib_us = (x / len(raws) for x in best[0])

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"knowledge base loaded in {load_ms:.0f} ms; {len(raws)} profiles, best of {args.rounds} rounds")
    print(f"load average {load} on {os.cpu_count()} cores (a busy machine slows every figure)")
    print(f"mean result size: {best[1] / len(raws) / 1024:.1f} KiB")
    print(f"parse_profile       {parse_us:8.1f} us/profile")
    print(f"assess              {assess_us:8.1f} us/profile")
    print(f"assessment_json     {encode_us:8.1f} us/profile")
    print(f"total               {parse_us + assess_us + encode_us:8.1f} us/profile")
    print(f"(json.dumps, for comparison: {stdlib_us:.1f} us/profile)")


if __name__ == "__main__":
    main()
