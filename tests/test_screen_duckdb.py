"""Screening on DuckDB agrees with the Python evaluator row by row: statuses, missing lists and rejects."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mbc_navigator.screen import inputs, treatments
from mbc_navigator.screen.compile import survey_plan
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.duckdb_engine import connect, describe, screen, source_sql
from mbc_navigator.screen.prep import Prep
from mbc_navigator.screen.sqlgen import Fields
from mbc_navigator.screen.survey import MAX_SPELLINGS, Survey, survey
from tests.test_screen_cohorts import DATES, FACTS, KB, cohorts, expected, write_parquet

SPOILERS: dict[str, dict[str, Any]] = {
    "capitalised value": {"er": "Positive"},
    "padded value": {"pd_l1": " negative"},
    "tab and no-break space around a value": {"er": "\tpositive\u00a0"},
    "tab-padded id": {"patient_id": "p-tab\t"},
    "drug name of white space only": {"prior_treatments": [{"drugs": ["\t\u00a0"], "setting": "early"}]},
    "blank id": {"patient_id": " "},
    "padded id": {"patient_id": " p-padded"},
    "discordant HER2": {"her2_ihc": "3+", "her2_ish": "negative", "her2": None},
    "man with menopausal status": {"sex": "male", "menopausal_status": "postmenopausal"},
    "early with sites": {"extent": "early", "metastatic_sites": ["bone"]},
    "capitalised site": {"metastatic_sites": ["Bone"]},
    "empty site list item": {"metastatic_sites": [None]},
    "blank drug name": {"prior_treatments": [{"drugs": [" "], "setting": "early"}]},
    "no drugs": {"prior_treatments": [{"drugs": [], "setting": "early"}]},
    "capitalised setting": {"prior_treatments": [{"drugs": ["letrozole"], "setting": "Early"}]},
    "ends before it starts": {
        "prior_treatments": [{"drugs": ["letrozole"], "start_date": DATES[3], "end_date": DATES[0]}]
    },
    "ongoing with an end date": {"prior_treatments": [{"drugs": ["letrozole"], "end_date": DATES[0], "ongoing": True}]},
}


def surveyed(src: Path) -> Survey | None:
    """The survey's answer for a cohort file, as ``screen`` gets it."""
    con = connect()
    cohort = inputs.find(src)
    shape = describe(con, cohort)
    layout = inputs.layout(KB, shape.kinds, shape.struct_keys)
    plan = survey_plan(KB, Prep(KB, DIALECTS["duckdb"], Fields(KB)), shape.view_types(layout))
    con.execute(f"CREATE TEMP VIEW cohort_ AS {source_sql(con, cohort, shape, layout)}")
    return survey(con, plan) if plan else None


def read_output(path: Path) -> dict[str, dict[str, tuple[str, list[str]]]]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    assert rel is not None
    rows = rel.fetchall()
    cols = rel.columns
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
        rel = duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')")
        assert rel is not None
        rejected = {r[0] for r in rel.fetchall()}
        check_agrees(rows, read_output(out), rejected)
        assert report.rows_in == len(rows) == report.screened + report.rejected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cohorts(clean=True))
def test_clean_cohorts_are_screened_unchecked_and_agree_with_the_python_evaluator(rows: list[dict[str, Any]]) -> None:
    """A typed cohort with only allowed, exactly spelt values and no contradiction passes the survey, so its rows
    go through the unchecked (trusted) query, which must still agree with the reader and evaluator row by row."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cohort.parquet", Path(tmp) / "out.parquet"
        write_parquet(rows, src)
        assert surveyed(src) is not None
        report = screen(KB, src, out)
        assert report.rejected == 0 and report.screened == len(rows)
        check_agrees(rows, read_output(out), set())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cohorts(clean=True), st.sets(st.sampled_from(sorted(FACTS))))
def test_clean_cohorts_with_columns_left_out_take_the_unchecked_path_and_agree(
    rows: list[dict[str, Any]], kept: set[str]
) -> None:
    """Any profile column may be left out (unknown for everyone), prior_treatments and dates included."""
    rows = [{k: v for k, v in r.items() if k == "patient_id" or k in kept} for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cohort.parquet", Path(tmp) / "out.parquet"
        write_parquet(rows, src, kept)
        report = screen(KB, src, out)
        assert report.fast and report.screened == len(rows)
        check_agrees(rows, read_output(out), set())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cohorts(clean=True), st.data())
def test_one_contradiction_sends_the_cohort_to_the_row_checks(rows: list[dict[str, Any]], data: st.DataObject) -> None:
    """Spoil one row of a clean cohort (a value spelt otherwise, a contradiction, a blank name): the survey refuses
    the cohort, every row is checked, and the spoilt row is rejected or read as the Python reader reads it."""
    i = data.draw(st.integers(0, len(rows) - 1))
    spoil = data.draw(st.sampled_from(sorted(SPOILERS)))
    rows[i] = {**rows[i], **SPOILERS[spoil]}
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cohort.parquet", Path(tmp) / "out.parquet"
        write_parquet(rows, src)
        assert surveyed(src) is None, spoil
        report = screen(KB, src, out)
        rel = duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')")
        assert rel is not None
        rejected = {r[0] for r in rel.fetchall()}
        if spoil == "blank id":  # the one rule of the cohort, not of the profile: rejected, with no id to name
            assert None in rejected
            del rows[i]
        check_agrees([{**r, "patient_id": r["patient_id"].strip()} for r in rows], read_output(out), rejected)


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
    rel = duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')")
    assert rel is not None
    rejected = {r[0] for r in rel.fetchall()}
    assert rejected == {"p0", "p1", "p2"}
    check_agrees(rows, read_output(out), rejected)


def test_very_many_drug_spellings_take_the_checked_path_and_still_agree(tmp_path: Path) -> None:
    """Past MAX_SPELLINGS distinct drug names a lookup table costs more than normalising each name in SQL: the
    survey declines, the row-checked query runs, and the answers are the same."""
    rows = [
        {
            "patient_id": f"p{i}",
            "her2": "positive",
            "extent": "metastatic",
            "prior_treatments": [{"drugs": [f"Drug {i}", "Herceptin"], "setting": "advanced"}],
        }
        for i in range(MAX_SPELLINGS + 1)
    ]
    src, out = tmp_path / "cohort.parquet", tmp_path / "out.parquet"
    write_parquet(rows, src)
    assert surveyed(src) is None
    report = screen(KB, src, out)
    assert report.screened == len(rows)
    check_agrees(rows[:50], read_output(out), set())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cohorts(clean=True), cohorts())
def test_conditions_past_the_bits_of_one_integer_are_compiled_the_long_way(
    clean: list[dict[str, Any]], dirty: list[dict[str, Any]]
) -> None:
    """With room in a treatment's code for only a few conditions (``CODE_BITS`` shrunk), the rest compile to
    the walk-the-treatments SQL, on the unchecked and the row-checked query alike, with the same answers."""
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as tmp:
        mp.setattr(treatments, "CODE_BITS", 8)
        for name, rows in (("clean", clean), ("dirty", dirty)):
            src, out = Path(tmp) / f"{name}.parquet", Path(tmp) / f"{name}-out.parquet"
            write_parquet(rows, src)
            report = screen(KB, src, out)
            rel = duckdb.sql(f"SELECT patient_id FROM read_csv('{report.rejects}')")
            assert rel is not None
            rejected = {r[0] for r in rel.fetchall()}
            check_agrees(rows, read_output(out), rejected)
