"""Screening on Spark (``local[*]`` or a cluster): the same compiled SQL, generated for Spark's dialect.

The output is a folder of part files named OUTPUT (Spark's way, so many machines can write at once); the
rejects file beside it is one CSV. Row numbers in the rejects count the rows of each file, as DuckDB's do.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.screen import inputs
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.output import STATUSES, Report, atomic, notes, output_format, rejects_path
from mbc_navigator.screen.query import build

_SESSIONS: dict[str, Any] = {}
REJECT_COLUMNS = ("row", "file", "patient_id", "field", "reason")


def session(master: str | None = None, progress: bool = False) -> Any:
    """One SparkSession per process and master (ANSI mode off: an invalid cast is NULL, as in the rejects)."""
    from pyspark.sql import SparkSession

    key = master or "local[*]"
    if key not in _SESSIONS:
        _SESSIONS[key] = (
            SparkSession.builder.master(key)
            .appName("mbcnav-screen")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "true" if progress else "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        # FATAL: Spark logs an ERROR when a plan is too large to compile and then runs it interpreted
        _SESSIONS[key].sparkContext.setLogLevel("FATAL")
    return _SESSIONS[key]


def _kind(dtype: Any) -> str:
    from pyspark.sql.types import ArrayType, DateType, StructType

    if isinstance(dtype, DateType):
        return "date"
    if isinstance(dtype, ArrayType):
        return "struct_list" if isinstance(dtype.elementType, StructType) else "list"
    return "scalar"


def _source(spark: Any, kb: KnowledgeBase, cohort: inputs.Cohort) -> tuple[dict[str, str], Callable[[], None]]:
    """Register the cohort as the view ``cohort_``; return its layout, and a call that re-registers it with the
    row numbers of CSV/NDJSON files (a join: the rejects pass needs them, the output does not)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StructType

    files = [str(p) for p in cohort.files]
    if cohort.format == "parquet":
        df = spark.read.parquet(*files)
    elif cohort.format == "csv":
        df = spark.read.csv(files, header=True)
    else:
        df = spark.read.json(files)
    kinds = {f.name: _kind(f.dataType) for f in df.schema.fields}
    struct_keys = None
    field = next((f for f in df.schema.fields if f.name == "prior_treatments"), None)
    if (
        field is not None
        and isinstance(field.dataType, ArrayType)
        and isinstance(field.dataType.elementType, StructType)
    ):
        struct_keys = {f.name: _kind(f.dataType) for f in field.dataType.elementType.fields}
    layout = inputs.layout(kb, kinds, struct_keys)
    columns = [F.col("_metadata.file_path").alias("file_"), *[F.col(f"`{c}`") for c in df.columns]]

    def register(row: Any) -> None:
        df.select(row.alias("row_"), *columns).createOrReplaceTempView("cohort_")

    if cohort.format == "parquet":
        register(F.col("_metadata.row_index") + 1)
        return layout, lambda: None
    register(F.lit(None).cast("long"))
    return layout, lambda: _numbered(df, columns)


def _numbered(df: Any, columns: list[Any]) -> None:
    """``cohort_`` with each CSV/NDJSON row's number in its file. Spark reads a file in blocks, rows in order
    within a block: a row's number is the rows of the file's earlier blocks plus its place in its block (its
    ``monotonically_increasing_id`` less the block's first). Both scans of the files plan the same partitions,
    so the ids agree."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keyed = df.select(
        F.col("_metadata.file_path").alias("f_"),
        F.col("_metadata.file_block_start").alias("b_"),
        F.monotonically_increasing_id().alias("id_"),
        *columns,
    )
    earlier = Window.partitionBy("f_").orderBy("b_").rowsBetween(Window.unboundedPreceding, -1)
    blocks = keyed.groupBy("f_", "b_").agg(F.min("id_").alias("first_"), F.count("*").alias("n_"))
    blocks = blocks.select("f_", "b_", "first_", F.coalesce(F.sum("n_").over(earlier), F.lit(0)).alias("before_"))
    row = F.col("before_") + F.col("id_") - F.col("first_") + 1
    numbered = keyed.join(F.broadcast(blocks), ["f_", "b_"])
    kept = [F.col(f"`{c}`") for c in keyed.columns if c not in ("f_", "b_", "id_")]
    numbered.select(row.alias("row_"), *kept).createOrReplaceTempView("cohort_")


def _write_rejects(spark: Any, query: str, path: Path) -> None:
    """The rejects query as one CSV file at ``path``."""
    part_dir = path.with_name(path.name + ".d")
    try:
        spark.sql(query).coalesce(1).write.mode("overwrite").option("header", "true").csv(str(part_dir))
        part = next(part_dir.glob("part-*.csv"), None)
        if part is None or part.stat().st_size == 0:
            path.write_text(",".join(REJECT_COLUMNS) + "\n", encoding="utf-8")
        else:
            shutil.move(str(part), str(path))
    finally:
        shutil.rmtree(part_dir, ignore_errors=True)


def _distinct_rows(rejects: Path) -> int:
    """Rows with at least one problem (the file holds one line per problem)."""
    with rejects.open(newline="", encoding="utf-8") as f:
        return len({(r["file"], r["row"], r["patient_id"]) for r in csv.DictReader(f)})


def screen(
    kb: KnowledgeBase, input_path: Path, output: Path, master: str | None = None, progress: bool = False
) -> Report:
    """Screen the cohort on Spark; the output folder and the rejects file appear only when complete."""
    fmt = output_format(output)
    cohort = inputs.find(input_path)
    spark = session(master, progress)
    layout, number_rows = _source(spark, kb, cohort)
    queries = build(kb, DIALECTS["spark"], layout, "cohort_", json_lists=fmt == "csv")
    rows_in = spark.sql("SELECT count(*) AS n FROM cohort_").collect()[0][0]
    rejects = rejects_path(output)
    with atomic(output) as tmp_out, atomic(rejects) as tmp_rej:
        writer = spark.sql(queries.output).write.mode("overwrite")
        if fmt == "parquet":
            writer.parquet(str(tmp_out))
        else:
            writer.option("header", "true").csv(str(tmp_out))
        result = spark.read.parquet(str(tmp_out)) if fmt == "parquet" else spark.read.csv(str(tmp_out), header=True)
        result.createOrReplaceTempView("screened_")
        cols = ", ".join(f"count_if(`{rid}` = '{s}')" for rid in kb.regimens for s in STATUSES)
        row = spark.sql(f"SELECT count(*), count(DISTINCT patient_id), {cols} FROM screened_").collect()[0]
        rejected = 0
        if int(row[0]) < rows_in:  # some rows were invalid: a second pass lists their problems
            number_rows()
            _write_rejects(spark, queries.rejects, tmp_rej)
            rejected = _distinct_rows(tmp_rej)
        else:
            tmp_rej.write_text(",".join(REJECT_COLUMNS) + "\n", encoding="utf-8")
    counts = iter(row[2:])
    summary = {rid: {s: int(next(counts)) for s in STATUSES} for rid in kb.regimens}
    counts_in = (int(rows_in), int(row[0]), int(row[1]), int(rejected))
    return Report.of(notes(kb), counts_in, output, rejects, summary)
