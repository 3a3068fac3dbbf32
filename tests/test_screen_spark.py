"""Screening on Spark agrees with DuckDB and with the Python evaluator, row by row (one Spark session)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mbc_navigator.screen import duckdb_engine, spark_engine
from tests.test_screen_cohorts import KB, random_cohort, write_parquet
from tests.test_screen_duckdb import check_agrees, read_output

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark() -> Any:
    return spark_engine.session("local[2]")


def test_spark_duckdb_and_python_agree_on_a_random_cohort(tmp_path: Path, spark: Any) -> None:
    rows = random_cohort(seed=7, size=400)
    src = tmp_path / "cohort.parquet"
    write_parquet(rows, src)
    report = spark_engine.screen(KB, src, tmp_path / "spark.parquet", "local[2]")
    duck = duckdb_engine.screen(KB, src, tmp_path / "duck.parquet")
    got = read_output(tmp_path / "spark.parquet" / "*.parquet")
    rel = duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')")
    assert rel is not None
    rejected = {r[0] for r in rel.fetchall()}
    check_agrees(rows, got, rejected)
    assert got == read_output(tmp_path / "duck.parquet")
    assert report.rows_in == 400 == report.screened + report.rejected
    assert (report.screened, report.rejected, report.summary) == (duck.screened, duck.rejected, duck.summary)
    statuses = {s for counts in report.summary.values() for s, n in counts.items() if n}
    assert statuses == {"eligible", "ineligible", "needs_info"} and report.rejected > 0, "the cohort exercises all"


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_rejects_give_the_row_in_its_file_when_spark_splits_it(tmp_path: Path, spark: Any, fmt: str) -> None:
    """Spark reads a file in blocks, in no fixed order; each reject still gets its row as counted in its file,
    and a small file read beside a big one keeps its own count."""
    n = 60_000
    bad = {5, 31_337, n - 2}
    her2 = "CASE WHEN range IN (" + ", ".join(map(str, bad)) + ") THEN 'maybe' ELSE 'positive' END"
    rows = f"SELECT 'p' || range AS patient_id, {her2} AS her2 FROM range({n})"
    (tmp_path / "in").mkdir()
    options = "HEADER true" if fmt == "csv" else "FORMAT json"
    duckdb.execute(f"COPY ({rows}) TO '{tmp_path / 'in' / f'big.{fmt}'}' ({options})")
    (tmp_path / "in" / f"small.{fmt}").write_text(
        "patient_id,her2\nq1,positive\nq2,bogus\n" if fmt == "csv" else '{"patient_id": "q1", "her2": "bogus"}\n'
    )
    spark.conf.set("spark.sql.files.maxPartitionBytes", "65536")  # many blocks per file
    try:
        report = spark_engine.screen(KB, tmp_path / "in", tmp_path / "o.parquet", "local[2]")
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert report.rejects is not None
    with report.rejects.open(newline="", encoding="utf-8") as f:
        got = sorted((Path(r["file"]).name, int(r["row"]), r["patient_id"]) for r in csv.DictReader(f))
    small = (f"small.{fmt}", 2, "q2") if fmt == "csv" else (f"small.{fmt}", 1, "q1")
    assert got == sorted([*[(f"big.{fmt}", i + 1, f"p{i}") for i in bad], small])
    assert report.rejected == 4 and report.rows_in == n + (2 if fmt == "csv" else 1) == report.screened + 4
