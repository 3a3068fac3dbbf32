"""Screening on Spark agrees with DuckDB and with the Python evaluator, row by row (one Spark session)."""

from __future__ import annotations

import csv
import json
import socket
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mbc_navigator.cli.launch import main
from mbc_navigator.screen import duckdb_engine, spark_engine
from mbc_navigator.screen.output import Report
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


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cohort" / "cohort.csv"


def _csv_rows(*files: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            rows.extend(csv.DictReader(f))
    return rows


def _csv_output(*files: Path) -> dict[str, dict[str, tuple[str, list[str]]]]:
    """An output CSV as Python's csv module reads it: each missing list must parse as JSON."""
    return {
        r["patient_id"]: {rid: (r[rid], json.loads(r[f"{rid}__missing"])) for rid in KB.regimens}
        for r in _csv_rows(*files)
    }


def _rejects(path: Path | None) -> list[tuple[str, int, str, str, str]]:
    assert path is not None
    rows = _csv_rows(path)
    return sorted((Path(r["file"]).name, int(r["row"]), r["patient_id"], r["field"], r["reason"]) for r in rows)


def _both(tmp_path: Path, src: Path, suffix: str) -> tuple[Report, Report]:
    spark = spark_engine.screen(KB, src, tmp_path / f"spark{suffix}", "local[2]")
    duck = duckdb_engine.screen(KB, src, tmp_path / f"duck{suffix}")
    return spark, duck


def test_example_csv_screens_on_spark_as_on_duckdb(tmp_path: Path, spark: Any) -> None:
    """The example CSV (JSON cells with doubled quotes, RFC 4180) reads on Spark as on DuckDB: the same six
    patients screened with the same statuses and missing lists, and the one invalid row rejected alike."""
    report, duck = _both(tmp_path, EXAMPLE, ".parquet")
    got = read_output(tmp_path / "spark.parquet" / "*.parquet")
    assert got == read_output(tmp_path / "duck.parquet") and len(got) == 6
    assert (report.rows_in, report.screened, report.rejected) == (7, 6, 1)
    assert (report.screened, report.rejected, report.summary) == (duck.screened, duck.rejected, duck.summary)
    assert _rejects(report.rejects) == _rejects(duck.rejects)


def test_a_folder_of_csv_files_with_other_column_orders_reads_by_name(tmp_path: Path, spark: Any) -> None:
    """CSV files whose headers differ in order (and one lacking a column) are read by name, as DuckDB does; Spark
    by itself would read every file by the first one's header. Rejects keep the row number in their own file."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "1.csv").write_text("patient_id,er,her2,extent\na,positive,negative,metastatic\n", encoding="utf-8")
    (folder / "2.csv").write_text(
        "patient_id,her2,extent\nb,positive,metastatic\nc,maybe,metastatic\n", encoding="utf-8"
    )
    report, duck = _both(tmp_path, folder, ".parquet")
    got = read_output(tmp_path / "spark.parquet" / "*.parquet")
    assert got == read_output(tmp_path / "duck.parquet")
    assert got["b"]["trastuzumab"][0] == "eligible" and got["a"]["trastuzumab"][0] == "ineligible"
    assert _rejects(report.rejects) == _rejects(duck.rejects) and [r[:3] for r in _rejects(report.rejects)] == [
        ("2.csv", 2, "c")
    ]


def test_spark_csv_output_and_rejects_read_back_with_python_csv(tmp_path: Path, spark: Any) -> None:
    """Spark writes RFC 4180 CSV (a quote in a cell doubled, not backslash-escaped): Python's csv module reads
    each missing list back as the JSON text DuckDB writes, and a reject's reason holding quotes as it is."""
    src = tmp_path / "in.csv"
    src.write_text(EXAMPLE.read_text(encoding="utf-8") + 'P008,female,,metastatic,,,,,,,,,,,"[{""drug"": 1}]",\n')
    report, duck = _both(tmp_path, src, ".csv")
    got = _csv_output(*sorted((tmp_path / "spark.csv").glob("part-*.csv")))
    assert got == _csv_output(tmp_path / "duck.csv") and len(got) == 6
    assert any(missing for statuses in got.values() for _, missing in statuses.values())
    assert report.summary == duck.summary
    rejects = _rejects(report.rejects)
    assert rejects == _rejects(duck.rejects)
    assert any(r[2:4] == ("P008", "prior_treatments") and '"drugs"' in r[4] for r in rejects), rejects


def test_a_line_break_in_a_quoted_cell_reads_on_spark_as_on_duckdb(tmp_path: Path, spark: Any) -> None:
    """A quoted CSV cell may hold a line break (RFC 4180): Spark reads that file whole (multiLine) and agrees
    with DuckDB on the statuses and on the reject's row, counted in records, not lines; a file without one is
    not read that way (it keeps Spark's split reading)."""
    src = tmp_path / "in.csv"
    src.write_text(
        'patient_id,sex,extent,her2,metastatic_sites\r\nP1,female,metastatic,positive,"[""bone"",\r\n ""liver""]"\r\n'
        'P2,female,metastatic,maybe,"[""bone""]"\r\nP3,female,metastatic,negative,"[""lung""]"\r\n',
        encoding="utf-8",
    )
    assert spark_engine.has_line_break_in_quotes([str(src)]) and not spark_engine.has_line_break_in_quotes(
        [str(EXAMPLE)]
    )
    report, duck = _both(tmp_path, src, ".parquet")
    assert read_output(tmp_path / "spark.parquet" / "*.parquet") == read_output(tmp_path / "duck.parquet")
    assert (report.rows_in, report.screened, report.rejected, report.summary) == (
        duck.rows_in,
        duck.screened,
        duck.rejected,
        duck.summary,
    )
    assert _rejects(report.rejects) == _rejects(duck.rejects) and [r[1:3] for r in _rejects(duck.rejects)] == [
        (2, "P2")
    ]


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 16])
def test_line_breaks_in_quotes_are_found_across_chunks(tmp_path: Path, chunk: int) -> None:
    """The check for a quoted line break (CR, LF or CRLF) carries an open quote from one chunk read into the
    next, and takes doubled quotes and quoted commas for what they are."""
    cases = {
        'a,b\n"x,""y""",z\n': False,
        'a,b\n"x,""y""",z': False,
        'a,b\r\n"x\r\ny",z\r\n': True,
        'a,b\r"x\ry",z\r': True,
        'a,b\n1,"""\n"""\n': True,
        'a,b\n1,"2\n3"': True,
    }
    for text, want in cases.items():
        (tmp_path / "c.csv").write_bytes(text.encode())
        assert spark_engine.has_line_break_in_quotes([str(tmp_path / "c.csv")], chunk) is want, text


@pytest.mark.parametrize(
    "master",
    [
        "notaurl",
        "mesos://host:5050",
        "local[0]",
        "local[2",
        "spark://host",
        "spark://host:7077/",
        "spark://a_b:1",
        "k8s://",
    ],
)
def test_a_malformed_spark_master_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], master: str
) -> None:
    """A --spark-master Spark 4 would not take stops the command at once, before Spark starts: exit 2 and one
    line naming --spark-master and the URLs allowed (Mesos is not one since Spark 4)."""
    code = main(["screen", str(EXAMPLE), "--out", str(tmp_path / "o.parquet"), "--spark-master", master])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"mbcnav: --spark-master: {master!r} is not a Spark master URL; use local, local[N]"), err
    assert all(form in err for form in ("local[*]", "local[N,F]", "spark://HOST:PORT", "yarn", "k8s://")), err


def test_an_unreachable_spark_master_is_a_usage_error_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A standalone master nobody answers at (here a closed port) stops the command in well under the minute
    Spark would retry for: exit 2 and one line naming --spark-master and the address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    master = f"spark://127.0.0.1:{port}"
    code = main(["screen", str(EXAMPLE), "--out", str(tmp_path / "o.parquet"), "--spark-master", master])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and time.monotonic() - start < 15, err
    assert err.startswith(f"mbcnav: --spark-master: cannot reach the Spark master {master} (127.0.0.1:{port}: "), err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    ("master", "pairs"),
    [
        ("local", []),
        ("local[4]", []),
        ("local[*]", []),
        ("local[2,3]", []),
        ("local[*, 2]", []),
        ("local-cluster[2,1,1024]", []),
        ("yarn", []),
        ("k8s://https://example.org:6443", []),
        ("spark://a.example.org:7077", [("a.example.org", 7077)]),
        ("spark://a:7077,10.0.0.2:7078", [("a", 7077), ("10.0.0.2", 7078)]),
        ("spark://[::1]:7077", [("::1", 7077)]),
    ],
)
def test_spark_master_urls_spark_takes_are_accepted(master: str, pairs: list[tuple[str, int]]) -> None:
    """Every master URL form Spark 4 takes passes the check, a standalone one with its hosts and ports."""
    assert spark_engine.check_master(master) == pairs
