"""Screening on DuckDB agrees with the Python evaluator row by row: statuses, missing lists and rejects."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings

from mbc_navigator.screen.duckdb_engine import screen
from tests.test_screen_cohorts import KB, cohorts, expected, write_parquet


def read_output(path: Path) -> dict[str, dict[str, tuple[str, list[str]]]]:
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()
    cols = duckdb.sql(f"SELECT * FROM read_parquet('{path}')").columns
    out = {}
    for row in rows:
        rec = dict(zip(cols, row, strict=True))
        out[rec["patient_id"]] = {rid: (rec[rid], list(rec[f"{rid}__missing"])) for rid in KB.regimens}
    return out


def check_agrees(rows: list[dict[str, Any]], got: dict[str, Any], rejected: set[str]) -> None:
    for row in rows:
        want = expected(row)
        pid = row["patient_id"]
        if want is None:
            assert pid in rejected and pid not in got, (pid, row)
            continue
        assert pid in got, (pid, row)
        for rid, (status, missing) in want.items():
            assert got[pid][rid] == (status, missing), (rid, row, got[pid][rid], (status, missing))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cohorts())
def test_duckdb_agrees_with_the_python_evaluator(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cohort.parquet", Path(tmp) / "out.parquet"
        write_parquet(rows, src)
        report = screen(KB, src, out)
        rejected = {r[0] for r in duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')").fetchall()}
        check_agrees(rows, read_output(out), rejected)
        assert report.rows_in == len(rows) == report.screened + report.rejected


def test_blank_drug_names_are_rejected_beside_known_and_unknown_names(tmp_path: Path) -> None:
    """A blank or missing drug name is refused as the Python reader refuses it, whatever names stand beside it."""
    lists: list[list[str | None]] = [
        ["trastuzumab", "  "],
        ["Unknownumab", ""],
        [None, "Kadcyla"],
        ["Unknownumab"],
        ["  Enhertu ", "letrozole"],
    ]
    rows = [
        {"patient_id": f"p{i}", "her2": "positive", "prior_treatments": [{"drugs": drugs, "setting": "advanced"}]}
        for i, drugs in enumerate(lists)
    ]
    src, out = tmp_path / "cohort.parquet", tmp_path / "out.parquet"
    write_parquet(rows, src)
    report = screen(KB, src, out)
    rejected = {r[0] for r in duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')").fetchall()}
    assert rejected == {"p0", "p1", "p2"}
    check_agrees(rows, read_output(out), rejected)
