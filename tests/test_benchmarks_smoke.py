"""The benchmarks run and print their figures (a tiny run: no timing is asserted here; the figures are in the
issue notes, printed by the full runs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="run scripts/setup: it installs wrk")
def test_api_load_prints_its_figures() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "api_load.py"), "--seconds", "1", "--profiles", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["benchmark"] == "api_load" and last["requests_per_s"] > 0 and last["non_2xx"] == 0
