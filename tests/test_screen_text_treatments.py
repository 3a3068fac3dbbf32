"""Earlier treatments written as JSON text (CSV cells): DuckDB and Spark refuse the same rows, as the profile
reader would, and screen the rest alike."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mbc_navigator.cli.launch import main

ROWS = [
    ("ok", '[{"drugs": ["letrozole"], "setting": "advanced"}]'),
    ("stray-key", '[{"drugs": ["letrozole"], "dose": 1}]'),  # a key the shape lacks would be dropped unread
    ("lone-object", '{"drugs": ["letrozole"]}'),  # Spark's from_json reads it as a list of one
    ("null", "null"),  # JSON null: unknown
]


def rejected(tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Each patient_id of ROWS rejected, with the field its rejection names."""
    src = tmp_path / "c.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["patient_id", "er", "prior_treatments"])
        writer.writerows([(pid, "positive", text) for pid, text in ROWS])
    out = tmp_path / f"o-{engine}.parquet"
    assert main(["screen", str(src), "--out", str(out), "--engine", engine, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    with (tmp_path / f"o-{engine}.rejects.csv").open(newline="", encoding="utf-8") as f:
        rejects = {r["patient_id"]: r["field"] for r in csv.DictReader(f)}
    assert (report["rows_in"], report["rows_screened"] + report["rows_rejected"]) == (len(ROWS), len(ROWS))
    return rejects


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_stray_keys_and_lone_objects_are_refused_alike(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if engine == "spark":
        pytest.importorskip("pyspark")
    assert rejected(tmp_path, engine, capsys) == {"stray-key": "prior_treatments", "lone-object": "prior_treatments"}
