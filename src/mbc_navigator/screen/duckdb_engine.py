"""Screening on DuckDB (embedded, the default): the compiled query streams from the input files to the output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.screen import inputs
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.output import STATUSES, Report, atomic, output_format, rejects_path
from mbc_navigator.screen.prep import Prep
from mbc_navigator.screen.query import build
from mbc_navigator.screen.sqlgen import Fields
from mbc_navigator.screen.survey import survey

MEMORY_LIMIT = "1GB"
REJECT_COLUMNS = ("row", "file", "patient_id", "field", "reason")


def connect(threads: int | None = None, progress: bool = False) -> duckdb.DuckDBPyConnection:
    # rows need not keep the input's order (each carries its patient_id): DuckDB then streams with less memory
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "preserve_insertion_order": "false"})
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}")
    return con


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source_sql(con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, cohort: inputs.Cohort) -> tuple[str, dict[str, str]]:
    """A SELECT over the cohort files with ``row_`` (1-based, per file) and ``file_``, and the columns' layout."""
    files = "[" + ", ".join(_quote(str(p)) for p in cohort.files) + "]"
    if cohort.format == "parquet":
        reader = f"read_parquet({files}, union_by_name = true, filename = true, file_row_number = true)"
        row = "file_row_number + 1"
        drop = "filename, file_row_number"
    elif cohort.format == "csv":
        reader = f"read_csv({files}, all_varchar = true, header = true, union_by_name = true, filename = true)"
        row, drop = "", "filename"
    else:
        reader = f"read_json({files}, format = 'newline_delimited', union_by_name = true, filename = true)"
        row, drop = "", "filename"
    try:
        rel = con.sql(f"SELECT * EXCLUDE ({drop}) FROM {reader} LIMIT 0")
    except duckdb.Error as exc:
        raise inputs.InputProblem(
            f"INPUT: cannot read the {cohort.format} file(s): {str(exc).splitlines()[0]}"
        ) from None
    kinds: dict[str, str] = {}
    struct_keys: dict[str, str] | None = None
    for name, dtype in zip(rel.columns, rel.types, strict=True):
        kinds[name] = _kind(dtype)
        if name == "prior_treatments" and kinds[name] == "struct_list":
            struct_keys = {k: _kind(t) for k, t in dtype.child.children}
    layout = inputs.layout(kb, kinds, struct_keys)
    casts = []
    for name in rel.columns:
        quoted = '"' + name.replace('"', '""') + '"'
        text = layout.get(name) == "text" and cohort.format == "ndjson"
        casts.append(f"CAST({quoted} AS VARCHAR) AS {quoted}" if text else quoted)
    if row:
        return f"SELECT {row} AS row_, filename AS file_, {', '.join(casts)} FROM {reader}", layout
    # CSV and NDJSON carry no row numbers: each file is numbered in its own order (insertion order kept, one
    # streaming window per file; a window partitioned by file would not follow the file's order)
    con.execute("SET preserve_insertion_order = true")
    types = {name: str(dtype) for name, dtype in zip(rel.columns, rel.types, strict=True)}
    numbered = " UNION ALL BY NAME ".join(
        f"SELECT row_number() OVER () AS row_, {_quote(str(p))} AS file_, * FROM {_one_file(cohort.format, p, types)}"
        for p in cohort.files
    )
    return f"SELECT row_, file_, {', '.join(casts)} FROM ({numbered})", layout


def _one_file(fmt: str, path: Path, types: dict[str, str]) -> str:
    if fmt == "csv":
        return f"read_csv({_quote(str(path))}, all_varchar = true, header = true)"
    # the cohort's column types, so that every file's columns line up
    columns = "{" + ", ".join(f"{_quote(name)}: {_quote(t)}" for name, t in types.items()) + "}"
    return f"read_json({_quote(str(path))}, format = 'newline_delimited', columns = {columns})"


def _kind(dtype: Any) -> str:
    text = str(dtype)
    if text == "DATE":
        return "date"
    if text.startswith("STRUCT(") and text.endswith("[]"):
        return "struct_list"
    if text.endswith("[]"):
        return "list"
    return "scalar"


def screen(
    kb: KnowledgeBase, input_path: Path, output: Path, threads: int | None = None, progress: bool = False
) -> Report:
    """Screen every row of the cohort; write the output and rejects atomically; return the counts and summary."""
    fmt = output_format(output)
    cohort = inputs.find(input_path)
    con = connect(threads, progress)
    src, layout = source_sql(con, kb, cohort)
    con.execute(f"CREATE TEMP VIEW cohort_ AS {src}")
    dialect = DIALECTS["duckdb"]
    clean = survey(con, kb, "cohort_", Prep(kb, dialect, Fields(kb)))
    drug_bits = clean.drug_bits if clean else None
    queries = build(kb, dialect, layout, "cohort_", json_lists=fmt == "csv", drug_bits=drug_bits)
    for statement in queries.setup:
        con.execute(statement)
    rejects = rejects_path(output)
    rows_in = clean.rows if clean else _one(con, "SELECT count(*) FROM cohort_")
    with atomic(output) as tmp_out, atomic(rejects) as tmp_rej:
        options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
        written = _one(con, f"COPY ({queries.output}) TO {_quote(str(tmp_out))} ({options})")
        if written < rows_in:  # some rows were invalid: a second pass lists their problems
            con.execute(f"COPY ({queries.rejects}) TO {_quote(str(tmp_rej))} (FORMAT csv, HEADER true)")
            rejected = _one(
                con, f'SELECT count(DISTINCT (file, "row")) FROM read_csv({_quote(str(tmp_rej))}, all_varchar = true)'
            )
        else:
            tmp_rej.write_text(",".join(REJECT_COLUMNS) + "\n", encoding="utf-8")
            rejected = 0
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        screened, distinct, summary = _summary(con, f"{reader}({_quote(str(tmp_out))})", list(kb.regimens))
    return Report.of(kb, (rows_in, screened, distinct, rejected), output, rejects, summary, fast=clean is not None)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _summary(
    con: duckdb.DuckDBPyConnection, table: str, regimens: list[str]
) -> tuple[int, int, dict[str, dict[str, int]]]:
    """Rows, distinct patient_ids, and patients per regimen per status, read back from the output."""
    # one histogram per column: a quarter of the time of a filtered count per (column, status)
    cols = ", ".join(f'histogram("{rid}")' for rid in regimens)
    row = con.execute(f"SELECT count(*), count(DISTINCT patient_id), {cols} FROM {table}").fetchone()
    assert row is not None
    summary = {
        rid: {status: int((counts or {}).get(status, 0)) for status in STATUSES}
        for rid, counts in zip(regimens, row[2:], strict=True)
    }
    return int(row[0]), int(row[1]), summary
