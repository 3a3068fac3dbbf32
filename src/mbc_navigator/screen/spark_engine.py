"""Screening on Spark (``local[*]`` or a cluster): the same compiled SQL, generated for Spark's dialect.

The output is a folder of part files named OUTPUT (Spark's way, so many machines can write at once); the
rejects file beside it is one CSV. Row numbers in the rejects are per file for Parquet, empty for CSV/NDJSON.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.screen import inputs
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.output import STATUSES, Report, atomic, output_format, rejects_path
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


def _source(spark: Any, kb: KnowledgeBase, cohort: inputs.Cohort) -> dict[str, str]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StructType

    files = [str(p) for p in cohort.files]
    if cohort.format == "parquet":
        df = spark.read.parquet(*files)
        row = F.col("_metadata.row_index") + 1
    elif cohort.format == "csv":
        df = spark.read.csv(files, header=True)
        row = F.lit(None).cast("long")
    else:
        df = spark.read.json(files)
        row = F.lit(None).cast("long")
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
    df.select(
        row.alias("row_"), F.col("_metadata.file_path").alias("file_"), *[F.col(f"`{c}`") for c in df.columns]
    ).createOrReplaceTempView("cohort_")
    return layout


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
    layout = _source(spark, kb, cohort)
    queries = build(kb, DIALECTS["spark"], layout, "cohort_", json_lists=fmt == "csv")
    rows_in = spark.sql("SELECT count(*) AS n FROM cohort_").collect()[0][0]
    rejects = rejects_path(output)
    with atomic(output) as tmp_out, atomic(rejects) as tmp_rej:
        writer = spark.sql(queries.output).write.mode("overwrite")
        if fmt == "parquet":
            writer.parquet(str(tmp_out))
        else:
            writer.option("header", "true").csv(str(tmp_out))
        part_dir = tmp_rej.with_name(tmp_rej.name + ".d")
        try:
            spark.sql(queries.rejects).coalesce(1).write.mode("overwrite").option("header", "true").csv(str(part_dir))
            part = next(part_dir.glob("part-*.csv"), None)
            if part is None or part.stat().st_size == 0:
                tmp_rej.write_text(",".join(REJECT_COLUMNS) + "\n", encoding="utf-8")
            else:
                shutil.move(str(part), str(tmp_rej))
        finally:
            shutil.rmtree(part_dir, ignore_errors=True)
        result = spark.read.parquet(str(tmp_out)) if fmt == "parquet" else spark.read.csv(str(tmp_out), header=True)
        result.createOrReplaceTempView("screened_")
        cols = ", ".join(f"count_if(`{rid}` = '{s}')" for rid in kb.regimens for s in STATUSES)
        row = spark.sql(f"SELECT count(*), count(DISTINCT patient_id), {cols} FROM screened_").collect()[0]
        rejected = _distinct_rows(tmp_rej)
    counts = iter(row[2:])
    summary = {rid: {s: int(next(counts)) for s in STATUSES} for rid in kb.regimens}
    counts_in = (int(rows_in), int(row[0]), int(row[1]), int(rejected))
    return Report.of(kb, counts_in, output, rejects, summary)
