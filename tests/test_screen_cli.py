"""``mbcnav screen`` end to end: CSV, NDJSON, Parquet and folders give the same answers; rejects, counts,
usage errors, and an interrupted write that leaves nothing half-written."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mbc_navigator.cli.launch import main
from mbc_navigator.screen.output import atomic
from tests.test_screen_cohorts import KB, random_cohort, write_parquet
from tests.test_screen_duckdb import check_agrees

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "cohort"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, default=lambda d: d.isoformat())
    return str(value)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _text(v) for k, v in row.items()})


def write_ndjson(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, default=lambda d: d.isoformat()) + "\n")


def read_csv_output(path: Path) -> dict[str, dict[str, tuple[str, list[str]]]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {
            r["patient_id"]: {rid: (r[rid], json.loads(r[f"{rid}__missing"])) for rid in KB.regimens}
            for r in csv.DictReader(f)
        }


def rejected_ids(path: Path) -> set[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return {r["patient_id"] for r in csv.DictReader(f)}


def screen_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["screen", *args, "--format", "json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_text_inputs_agree_with_the_python_evaluator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    rows = random_cohort(seed=11, size=150)
    src = tmp_path / f"cohort.{fmt}"
    (write_csv if fmt == "csv" else write_ndjson)(rows, src)
    report = screen_json(capsys, str(src), "--out", str(tmp_path / "out.csv"))
    assert report["rows_in"] == 150 == report["rows_screened"] + report["rows_rejected"]
    check_agrees(rows, read_csv_output(tmp_path / "out.csv"), rejected_ids(tmp_path / "out.rejects.csv"))


def test_ndjson_keys_and_types_first_seen_late_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NDJSON has no header: DuckDB samples lines for the columns. A key first seen after 30,000 lines is still
    read (values, an invalid value, a type no earlier line had), and an unknown one still stops the run."""
    early = [{"patient_id": f"p{i}"} for i in range(30_000)]
    late = {
        "patient_id": "z",
        "her2": "positive",
        "er": "negative",
        "extent": "metastatic",
        "metastatic_sites": ["bone"],
        "prior_treatments": [],
    }
    src = tmp_path / "late.ndjson"
    write_ndjson([*early, late], src)
    screen_json(capsys, str(src), "--out", str(tmp_path / "o.parquet"))
    rel = duckdb.sql(f"SELECT trastuzumab, denosumab FROM '{tmp_path / 'o.parquet'}' WHERE patient_id = 'z'")
    assert rel is not None
    assert rel.fetchall() == [("eligible", "eligible")]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"er": "maybe"}, "er"),
        ({"er": 5}, "er"),
        ({"metastatic_sites": "bone"}, "metastatic_sites"),
    ]
    for bad, field in cases:
        write_ndjson([{"patient_id": "p", "er": "positive", "metastatic_sites": ["bone"]}] * 30_000, src)
        with src.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"patient_id": "z", **bad}) + "\n")
        report = screen_json(capsys, str(src), "--out", str(tmp_path / "o.parquet"))
        assert (report["rows_screened"], report["rows_rejected"]) == (30_000, 1)
        with (tmp_path / "o.rejects.csv").open(newline="", encoding="utf-8") as f:
            assert [(r["patient_id"], r["field"]) for r in csv.DictReader(f)] == [("z", field)]
    with src.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"patient_id": "y", "foo": 1}) + "\n")
    assert main(["screen", str(src), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "foo: is not a profile field" in capsys.readouterr().err


def test_files_duckdb_cannot_read_are_named_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV that is not UTF-8, and a line with a field too many past the part DuckDB samples: exit 2, one line
    with DuckDB's reason (not an internal error), and no output."""
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("patient_id,er\nMüller,positive\n".encode("latin-1"))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("patient_id,er\n" + "".join(f"p{i},positive\n" for i in range(40_000)) + "z,positive,x\n")
    for src, said in [(latin1, "not utf-8 encoded"), (ragged, "Line: 40002 (Expected Number of Columns: 2 Found: 3)")]:
        assert main(["screen", str(src), "--out", str(tmp_path / "o.parquet")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mbcnav: INPUT: cannot read") and said in err and len(err.splitlines()) == 1
    assert not list(tmp_path.glob("*o.*"))


def test_json_null_in_a_csv_list_cell_is_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV list cell holding JSON's ``null`` reads as unknown, as an empty cell does (and as null in a profile)."""
    src = tmp_path / "c.csv"
    src.write_text("patient_id,metastatic_sites,prior_treatments\na,null,null\nb,,\n", encoding="utf-8")
    report = screen_json(capsys, str(src), "--out", str(tmp_path / "o.csv"))
    assert (report["rows_screened"], report["rows_rejected"]) == (2, 0)
    rows = read_csv_output(tmp_path / "o.csv")
    assert rows["a"] == rows["b"] and rows["a"]["denosumab"] == ("needs_info", ["metastatic_sites"])


def test_a_folder_of_parquet_files_is_one_cohort(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = random_cohort(seed=3, size=120)
    (tmp_path / "in").mkdir()
    write_parquet(rows[:70], tmp_path / "in" / "a.parquet")
    write_parquet(rows[70:], tmp_path / "in" / "b.parquet")
    report = screen_json(capsys, str(tmp_path / "in"), "--out", str(tmp_path / "out.parquet"))
    assert report["rows_in"] == 120 == report["rows_screened"] + report["rows_rejected"]
    total = {rid: sum(c.values()) for rid, c in report["summary"].items()}
    assert set(total.values()) == {report["rows_screened"]}


def test_rejects_name_row_patient_field_and_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"patient_id": "ok", "her2": "positive", "extent": "metastatic"},
        {"patient_id": "bad-her2", "her2": "maybe"},
        {"patient_id": "bad-date", "recurrence_date": "2024-02-30"},
        {"patient_id": "", "er": "positive"},
    ]
    src = tmp_path / "c.csv"
    write_csv(rows, src)
    report = screen_json(capsys, str(src), "--out", str(tmp_path / "o.parquet"))
    assert (report["rows_in"], report["rows_screened"], report["rows_rejected"]) == (4, 1, 3)
    with (tmp_path / "o.rejects.csv").open(newline="", encoding="utf-8") as f:
        rejects = [(r["row"], r["patient_id"], r["field"]) for r in csv.DictReader(f)]
    assert sorted(rejects) == [("2", "bad-her2", "her2"), ("3", "bad-date", "recurrence_date"), ("4", "", "patient_id")]
    rel = duckdb.sql(f"SELECT patient_id, trastuzumab FROM read_parquet('{tmp_path / 'o.parquet'}')")
    assert rel is not None
    got = rel.fetchall()
    assert got == [("ok", "eligible")]


def test_bad_arguments_and_columns_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "c.csv"
    write_csv([{"patient_id": "a", "her2_status": "positive"}], src)
    assert main(["screen", str(src), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "her2_status: is not a profile field" in capsys.readouterr().err
    assert main(["screen", str(src), "--out", str(tmp_path / "o.txt")]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["screen", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "INPUT" in capsys.readouterr().err
    assert main(["screen", str(src), "--out", str(tmp_path / "no-such-folder" / "o.csv")]) == 2
    assert "--out: the folder" in capsys.readouterr().err
    src.write_text("patient_id,er,er\na,positive,negative\n")  # DuckDB would call the second one er_1
    assert main(["screen", str(src), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "er: the cohort has more than one er column" in capsys.readouterr().err
    pq = tmp_path / "c.parquet"  # drugs as one string, not a list: refused by name, not an internal error
    duckdb.sql(f"COPY (SELECT 'a' AS patient_id, [{{'drugs': 'letrozole'}}] AS prior_treatments) TO '{pq}'")
    assert main(["screen", str(pq), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "prior_treatments.drugs: must be a list of drug names" in capsys.readouterr().err
    assert not list(tmp_path.glob("o.*"))


def test_output_that_would_overwrite_the_cohort_or_is_of_the_wrong_kind_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming INPUT itself (or through a link), a file in the INPUT folder, a folder, or a rejects file
    that is a folder: exit 2 with a line naming --out, and the cohort untouched; --threads beyond reason too."""
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    src = cohort / "c.csv"
    write_csv([{"patient_id": "a", "er": "positive"}], src)
    before = src.read_bytes()
    (tmp_path / "link.csv").symlink_to(src)
    (tmp_path / "dir.parquet").mkdir()
    (tmp_path / "r.rejects.csv").mkdir()
    for given, out, said in [
        (src, src, "--out"),
        (src, tmp_path / "link.csv", "--out"),
        (cohort, cohort / "o.parquet", "--out"),
        (src, tmp_path / "dir.parquet", "is a folder"),
        (src, tmp_path / "r.parquet", "the rejects file"),
        (src, Path("/proc/o.parquet"), "cannot write in the folder"),
    ]:
        assert main(["screen", str(given), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mbcnav: --out") and said in err and len(err.splitlines()) == 1
    assert src.read_bytes() == before and sorted(p.name for p in cohort.iterdir()) == ["c.csv"]
    assert main(["screen", str(src), "--out", str(tmp_path / "o.parquet"), "--threads", "100000"]) == 2
    assert "--threads: must be from 1 to" in capsys.readouterr().err


def test_an_interrupted_write_leaves_the_old_output_whole(tmp_path: Path) -> None:
    out = tmp_path / "result.parquet"
    out.write_text("the previous complete result")
    with pytest.raises(KeyboardInterrupt), atomic(out) as tmp:
        tmp.write_text("half of a new res")
        raise KeyboardInterrupt
    assert out.read_text() == "the previous complete result"
    assert [p.name for p in tmp_path.iterdir()] == ["result.parquet"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_screening_stops_it_cleanly(tmp_path: Path, signum: signal.Signals) -> None:
    """Ctrl-C (SIGINT) or ``kill`` (SIGTERM) while DuckDB writes, to a real ``mbcnav`` process: exit code 128 +
    the signal and one line, no "internal error"; the previous output is left whole, no temporary file remains."""
    src, out = tmp_path / "big.parquet", tmp_path / "result.parquet"
    duckdb.sql(  # the example cohort, many times over: long enough a run to interrupt
        f"COPY (SELECT c.* REPLACE (c.patient_id || '-' || i AS patient_id) FROM range(200000) r(i), "
        f"read_parquet('{EXAMPLES / 'cohort.parquet'}') c) TO '{src}' (FORMAT parquet)"
    )
    out.write_text("the previous complete result")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("mbcnav")), "screen", str(src), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".result.parquet.tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert err.strip() == f"mbcnav: interrupted ({signum.name})"
    assert out.read_text() == "the previous complete result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet", "result.parquet"]


def test_the_example_cohorts_screen_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The files in examples/cohort (the README's example) give the same summary as Parquet and as CSV."""
    a = screen_json(capsys, str(EXAMPLES / "cohort.parquet"), "--out", str(tmp_path / "a.parquet"))
    b = screen_json(capsys, str(EXAMPLES / "cohort.csv"), "--out", str(tmp_path / "b.csv"))
    assert a["summary"] == b["summary"] and a["rows_screened"] == b["rows_screened"] > 0


def test_the_report_counts_repeated_ids_and_says_where_the_pages_fall_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A patient_id on two rows is screened twice and counted as a repeat; every report carries the pages'
    disagreements that bear on options, and the disclaimer, in JSON and on the terminal table."""
    rows = [
        {"patient_id": "a", "her2": "positive", "extent": "metastatic"},
        {"patient_id": "a", "her2": "negative", "extent": "metastatic"},
        {"patient_id": "b", "er": "positive"},
    ]
    src = tmp_path / "c.parquet"
    write_parquet(rows, src)
    report = screen_json(capsys, str(src), "--out", str(tmp_path / "o.parquet"))
    assert (report["rows_screened"], report["duplicate_patient_ids"]) == (3, 1)
    assert report["disclaimer"] == KB.meta.disclaimer
    bearing = {c.id for c in KB.conflicts.values() if c.bears_on}
    assert {c["id"] for c in report["conflicts"]} == bearing and bearing
    assert main(["screen", str(src), "--out", str(tmp_path / "o.parquet"), "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "1 screened row(s) repeat a patient_id" in table
    assert "where the pages disagree or fall short" in table and "care team" in table


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_rejects_give_the_row_in_its_file_when_the_file_is_read_in_parallel(tmp_path: Path, fmt: str) -> None:
    """A file big enough for DuckDB to read in parallel still gets each reject's row as counted in that file
    (a window partitioned by file once numbered rows in no particular order)."""
    n = 1_500_000
    con = duckdb.connect()
    her2 = f"CASE WHEN range = {n - 2} THEN 'maybe' ELSE 'positive' END"
    rows = f"SELECT 'p' || range AS patient_id, {her2} AS her2 FROM range({n})"
    if fmt == "csv":
        con.execute(f"COPY ({rows}) TO '{tmp_path / 'big.csv'}' (HEADER true)")
    else:
        con.execute(f"COPY ({rows}) TO '{tmp_path / 'big.ndjson'}' (FORMAT json)")
    (tmp_path / "small.csv" if fmt == "csv" else tmp_path / "small.ndjson").write_text(
        "patient_id,her2\nq1,positive\nq2,bogus\n" if fmt == "csv" else '{"patient_id": "q1", "her2": "bogus"}\n'
    )
    (tmp_path / "in").mkdir()
    for name in (f"big.{fmt}", f"small.{fmt}"):
        (tmp_path / name).rename(tmp_path / "in" / name)
    assert main(["screen", str(tmp_path / "in"), "--out", str(tmp_path / "o.parquet")]) == 0
    with (tmp_path / "o.rejects.csv").open(newline="", encoding="utf-8") as f:
        got = sorted((Path(r["file"]).name, r["row"], r["patient_id"]) for r in csv.DictReader(f))
    small = ("small.csv", "2", "q2") if fmt == "csv" else ("small.ndjson", "1", "q1")
    assert got == sorted([(f"big.{fmt}", str(n - 1), f"p{n - 2}"), small])


def test_cohorts_without_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Parquet file or a CSV header without rows screens nobody (and says so); a file of no bytes at all is a
    usage error naming INPUT."""
    write_parquet([], tmp_path / "none.parquet")
    (tmp_path / "header.csv").write_text("patient_id,her2\n", encoding="utf-8")
    for name in ("none.parquet", "header.csv"):
        report = screen_json(capsys, str(tmp_path / name), "--out", str(tmp_path / f"{name}.out.csv"))
        assert (report["rows_in"], report["rows_screened"], report["rows_rejected"]) == (0, 0, 0)
    (tmp_path / "nothing.ndjson").write_text("", encoding="utf-8")
    assert main(["screen", str(tmp_path / "nothing.ndjson"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "INPUT" in capsys.readouterr().err and not (tmp_path / "o.csv").exists()
