"""Screening on Spark agrees with DuckDB and with the Python evaluator, row by row (one Spark session)."""

from __future__ import annotations

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
    rejected = {r[0] for r in duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')").fetchall()}
    check_agrees(rows, got, rejected)
    assert got == read_output(tmp_path / "duck.parquet")
    assert report.rows_in == 400 == report.screened + report.rejected
    assert (report.screened, report.rejected, report.summary) == (duck.screened, duck.rejected, duck.summary)
    statuses = {s for counts in report.summary.values() for s, n in counts.items() if n}
    assert statuses == {"eligible", "ineligible", "needs_info"} and report.rejected > 0, "the cohort exercises all"
