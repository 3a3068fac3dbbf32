"""The screening benchmark runs end to end on a tiny cohort and ends with its JSON line (a smoke run, no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_smoke_run_prints_figures_and_ratios(tmp_path: Path) -> None:
    pytest.importorskip("cel")
    cmd = [sys.executable, str(ROOT / "benchmarks" / "screening.py"), "--patients", "2000", "--sample", "200"]
    out = subprocess.run(
        [*cmd, "--only", "abcd", "--repeat", "1", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["patients"] == 2000
    assert set(result["patients_per_s"]) == {
        "a_mbcnav_duckdb",
        "b_hand_written_duckdb",
        "c_python_evaluator",
        "d_cel_rule_engine",
    }
    assert {"a/b", "a/b2", "a/c", "a/d"} <= set(result)
    assert all((tmp_path / f"{name}.parquet").exists() for name in ("a", "b", "b2"))
