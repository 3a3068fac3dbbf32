"""Screening on DuckDB (embedded, the default): the compiled query streams from the input files to the output.

The queries come from a plan (``plan.py``): read from the cache when one was compiled for this knowledge base,
code and input shape, else compiled (``compile.py``) and kept for the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from mbc_navigator.screen import inputs, plan
from mbc_navigator.screen.output import STATUSES, Report, atomic, output_format, rejects_path
from mbc_navigator.screen.plan import DRUG_VALUES, LOOKUP_TYPE, UNKNOWN_DRUG, ScreenPlan
from mbc_navigator.screen.survey import survey

if TYPE_CHECKING:
    from mbc_navigator.knowledge.loader import KnowledgeBase

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


@dataclass(frozen=True)
class KnowledgeDir:
    """The knowledge base by its folder (None: as ``load`` finds it), so that a cached plan can be used without
    loading it; ``loaded``: the same knowledge base when the caller has it already."""

    path: Path | None = None
    loaded: KnowledgeBase | None = None


class NotCached(Exception):
    """No plan is cached for this cohort's shape (``screen(..., cached_only=True)``)."""


def describe(con: duckdb.DuckDBPyConnection, cohort: inputs.Cohort) -> inputs.Shape:
    """The cohort's columns as DuckDB reads them."""
    reader, _, drop = _reader(cohort)
    try:
        rel = con.sql(f"SELECT * EXCLUDE ({drop}) FROM {reader} LIMIT 0")
    except duckdb.Error as exc:
        raise inputs.InputProblem(f"INPUT: cannot read the {cohort.format} file(s): {read_error(exc)}") from None
    types: dict[str, str] = {}
    kinds: dict[str, str] = {}
    struct_keys: dict[str, str] | None = None
    for name, dtype in zip(rel.columns, rel.types, strict=True):
        types[name], kinds[name] = str(dtype), _kind(dtype)
        if name == "prior_treatments" and kinds[name] == "struct_list":
            struct_keys = {k: _kind(t) for k, t in dtype.child.children}
    return inputs.Shape(cohort.format, types, kinds, struct_keys)


def _reader(cohort: inputs.Cohort) -> tuple[str, str, str]:
    """The table function over all the files, the row number it gives ('' for none), the columns to drop."""
    files = "[" + ", ".join(_quote(str(p)) for p in cohort.files) + "]"
    if cohort.format == "parquet":
        reader = f"read_parquet({files}, union_by_name = true, filename = true, file_row_number = true)"
        return reader, "file_row_number + 1", "filename, file_row_number"
    if cohort.format == "csv":
        reader = f"read_csv({files}, all_varchar = true, header = true, union_by_name = true, filename = true)"
        return reader, "", "filename"
    # every line sampled for the columns and their types: a key first seen late must not be dropped unread
    options = "format = 'newline_delimited', union_by_name = true, filename = true, sample_size = -1"
    return f"read_json({files}, {options})", "", "filename"


def source_sql(
    con: duckdb.DuckDBPyConnection, cohort: inputs.Cohort, shape: inputs.Shape, layout: dict[str, str]
) -> str:
    """A SELECT over the cohort files with ``row_`` (1-based, per file), ``file_`` and the input columns."""
    reader, row, _ = _reader(cohort)
    casts = []
    for name in shape.types:
        quoted = '"' + name.replace('"', '""') + '"'
        if cohort.format != "ndjson":
            casts.append(quoted)
        elif layout.get(name) == "text":  # a JSON value as its text; a list as JSON (a cast would not quote items)
            listed = shape.kinds[name] in ("list", "struct_list")
            casts.append(f"CAST({f'to_json({quoted})' if listed else quoted} AS VARCHAR) AS {quoted}")
        elif shape.types[name] == "JSON":  # values of several JSON types: a string as itself, others as text
            casts.append(f"json_extract_string({quoted}, '$') AS {quoted}")
        else:
            casts.append(quoted)
    if row:
        return f"SELECT {row} AS row_, filename AS file_, {', '.join(casts)} FROM {reader}"
    # CSV and NDJSON carry no row numbers: each file is numbered in its own order (insertion order kept, one
    # streaming window per file; a window partitioned by file would not follow the file's order)
    con.execute("SET preserve_insertion_order = true")
    files = [f"{_quote(str(p))} AS file_, * FROM {_one_file(cohort.format, p, shape.types)}" for p in cohort.files]
    numbered = " UNION ALL BY NAME ".join(f"SELECT row_number() OVER () AS row_, {f}" for f in files)
    return f"SELECT row_, file_, {', '.join(casts)} FROM ({numbered})"


def plan_for(
    kb: KnowledgeBase | KnowledgeDir, shape: inputs.Shape, json_lists: bool, cached_only: bool = False
) -> ScreenPlan:
    """The plan for this shape: compiled for a knowledge base given as such; for one given by its folder, the
    cached plan, else compiled and cached. Raises ``InputProblem`` for columns that are not allowed, and
    ``NotCached`` if ``cached_only`` and no plan is cached."""
    if not isinstance(kb, KnowledgeDir):
        return _compile(kb, shape, json_lists)
    key = plan.key(kb.path, [*shape.key(), "json_lists" if json_lists else "lists"])
    found = plan.load(key)
    if found is not None:
        return found
    if cached_only:
        raise NotCached
    knowledge = kb.loaded
    if knowledge is None:
        from mbc_navigator.knowledge.loader import load

        knowledge = load(kb.path)
    compiled = _compile(knowledge, shape, json_lists)
    plan.save(key, compiled)
    return compiled


def _compile(kb: KnowledgeBase, shape: inputs.Shape, json_lists: bool) -> ScreenPlan:
    from mbc_navigator.screen.compile import compile_plan  # sqlglot and the rule compiler: only when needed

    return compile_plan(kb, shape, json_lists)


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
    kb: KnowledgeBase | KnowledgeDir,
    input_path: Path,
    output: Path,
    threads: int | None = None,
    progress: bool = False,
    cached_only: bool = False,
    started: Callable[[], None] | None = None,
) -> Report:
    """Screen every row of the cohort; write the output and rejects atomically; return the counts and summary.
    ``cached_only``: raise ``NotCached`` unless a plan is cached; ``started``: called once the plan is at hand.
    Ctrl-C during a query raises ``KeyboardInterrupt`` (DuckDB reports it as an error of its own)."""
    try:
        return _screen(kb, input_path, output, threads, progress, cached_only, started)
    except (duckdb.InterruptException, RuntimeError) as exc:
        if isinstance(exc, duckdb.InterruptException) or str(exc) == "Query interrupted":
            raise KeyboardInterrupt from None
        raise
    except duckdb.InvalidInputException as exc:  # a line DuckDB cannot read, past the part it sampled
        raise inputs.InputProblem(f"INPUT: cannot read the file(s): {read_error(exc)}") from None


def read_error(exc: duckdb.Error) -> str:
    """DuckDB's error in one line: its first, and the reason when it gives one on a line of its own."""
    lines = [line.strip() for line in str(exc).splitlines()]
    reasons = [line for line in lines[1:] if line and not line.startswith(("Original Line", "Possible Solution"))]
    return lines[0] + (f" ({reasons[0].rstrip('.')})" if reasons and "=" not in reasons[0] else "")


def _screen(
    kb: KnowledgeBase | KnowledgeDir,
    input_path: Path,
    output: Path,
    threads: int | None,
    progress: bool,
    cached_only: bool,
    started: Callable[[], None] | None,
) -> Report:
    fmt = output_format(output)
    cohort = inputs.find(input_path)
    con = connect(threads, progress)
    shape = describe(con, cohort)
    compiled = plan_for(kb, shape, fmt == "csv", cached_only)
    if started:
        started()
    con.execute(f"CREATE TEMP VIEW cohort_ AS {source_sql(con, cohort, shape, compiled.layout)}")
    clean = survey(con, compiled.survey) if compiled.survey else None
    queries = compiled.checked
    if clean is not None and compiled.trusted is not None:
        queries = compiled.trusted
        _bind_drug_names(con, clean.drug_bits, compiled.drug_values)
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
        screened, distinct, summary = _summary(con, f"{reader}({_quote(str(tmp_out))})", compiled.regimens)
    counts = (rows_in, screened, distinct, rejected)
    return Report.of(compiled.notes, counts, output, rejects, summary, fast=clean is not None)


def _bind_drug_names(con: duckdb.DuckDBPyConnection, drug_bits: dict[str, int], values: dict[int, int]) -> None:
    """The trusted query's drug names: the cohort's spellings as the ENUM ``LOOKUP_TYPE``, and the value of
    each (by its flag bits) in the variable ``DRUG_VALUES``."""
    names = sorted(drug_bits) or [""]  # an ENUM needs a value
    con.execute(f"DROP TYPE IF EXISTS {LOOKUP_TYPE}")
    con.execute(f"CREATE TYPE {LOOKUP_TYPE} AS ENUM ({', '.join(_quote(n) for n in names)})")
    bound = [values[drug_bits.get(n, UNKNOWN_DRUG)] for n in names]
    con.execute(f"SET VARIABLE {DRUG_VALUES} = CAST([{', '.join(map(str, bound))}] AS BIGINT[])")


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
