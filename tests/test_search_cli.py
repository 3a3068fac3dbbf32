"""``mbcnav search``: a real process; JSON and table output; bad input exits 2 with the field named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MBCNAV = str(Path(sys.executable).parent / "mbcnav")


def mbcnav(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MBCNAV, *args], capture_output=True, text=True, timeout=120, check=False)


def test_json_results() -> None:
    proc = mbcnav("search", "can I keep having Herceptin if it spreads to my brain?", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ranking"] == "combined" and len(data["results"]) == 5
    top = data["results"][0]
    assert {"source", "heading", "text", "score"} <= set(top)
    assert top["source"] == "001_4f67eeb2b0e502b7.txt" and "continue taking it" in top["text"]
    assert "Traceback" not in proc.stderr and "Loading weights" not in proc.stderr


def test_table_shows_quote_source_and_where_to_look() -> None:
    proc = mbcnav("search", "how", "often", "is", "Xgeva", "--limit", "1", "--ranking", "lexical", "--format", "table")
    assert proc.returncode == 0, proc.stderr
    assert "1. 002_3f8214fb433ae307.txt, line 55, under “Denosumab (Prolia, Xgeva)”" in proc.stdout
    assert "every 4 weeks" in proc.stdout and "mbcnav drug denosumab" in proc.stdout
    assert "no answer is written" in proc.stdout


def test_nothing_found() -> None:
    proc = mbcnav("search", "zyxwv", "--ranking", "lexical", "--format", "table")
    assert proc.returncode == 0 and "No passage of the pages matches" in proc.stdout


def test_bad_input_exits_2_naming_the_field() -> None:
    for args, message in [
        (("herceptin", "--limit", "0"), "--limit: '0' is not allowed; use a whole number from 1 to 50"),
        (("herceptin", "--limit", "ten"), "--limit: 'ten' is not allowed"),
        (("  ",), "QUESTION: the question is empty"),
        (("x" * 501,), "QUESTION: 501 characters is too long; at most 500"),
        (("herceptin", "--ranking", "fuzzy"), "--ranking: 'fuzzy' is not allowed; use one of: combined, lexical"),
        (("herceptin", "--sources", "/nonexistent"), "sources folder '/nonexistent'"),
    ]:
        proc = mbcnav("search", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr
