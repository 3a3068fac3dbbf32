"""Screening on Spark (``local[*]`` or a cluster): the same compiled SQL, generated for Spark's dialect.

The output is a folder of part files named OUTPUT (Spark's way, so many machines can write at once); the
rejects file beside it is one CSV. Row numbers in the rejects count the rows of each file, as DuckDB's do.
CSV in and out is RFC 4180, as DuckDB and Python's ``csv`` read and write it; CSV files are read by their own headers.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import reduce
from pathlib import Path
from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.screen import inputs
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.output import STATUSES, Report, atomic, notes, output_format, rejects_path
from mbc_navigator.screen.query import build

_SESSIONS: dict[str, Any] = {}
REJECT_COLUMNS = ("row", "file", "patient_id", "field", "reason")
# RFC 4180: a quote inside a quoted cell is doubled (Spark's own default escapes it with a backslash)
CSV_OPTIONS = {"header": "true", "quote": '"', "escape": '"'}
# the master URLs Spark 4 takes (SparkMasterRegex, spark-submit; Mesos is gone since Spark 4.0)
_LOCAL = re.compile(r"local|local\[([0-9]+|\*)\]|local\[([0-9]+|\*)\s*,\s*([0-9]+)\]")
_LOCAL_CLUSTER = re.compile(r"local-cluster\[\s*[0-9]+\s*,\s*[0-9]+\s*,\s*[0-9]+\s*\]")
_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")
MASTERS = "local, local[N], local[*], local[N,F], spark://HOST:PORT[,HOST:PORT...], yarn or k8s://HOST:PORT"
CONNECT_SECONDS = 10.0
# the driver's log4j2 setup from its start: Spark's own logs WARN and up to standard error before a session
# exists to set a level (a master that fails to register: three stack traces and more, some 200 lines)
_QUIET_LOG = """\
rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.spark.name = org.apache.spark
logger.spark.level = fatal
"""


def check_master(master: str) -> list[tuple[str, int]]:
    """``master`` if Spark takes it (else ``InputProblem``, naming ``--spark-master``): a standalone master's
    (host, port) pairs, or none."""
    bad = inputs.InputProblem(f"--spark-master: {master!r} is not a Spark master URL; use {MASTERS}")
    local = _LOCAL.fullmatch(master)
    if local:
        if any(n is not None and n != "*" and int(n) < 1 for n in local.groups()):
            raise bad
        return []
    if master == "yarn" or _LOCAL_CLUSTER.fullmatch(master) or (master.startswith("k8s://") and master[6:].strip()):
        return []
    if not master.startswith("spark://"):
        raise bad
    found = [_HOST_PORT.fullmatch(part) for part in master[len("spark://") :].split(",")]
    pairs = [(m["host"].strip("[]"), int(m["port"])) for m in found if m]
    if len(pairs) < len(found) or not all(0 < port < 65536 for _, port in pairs):
        raise bad
    return pairs


def _reach(master: str, pairs: list[tuple[str, int]]) -> None:
    """A standalone master takes a connection, or ``InputProblem`` now: Spark itself would retry for a minute
    (three tries, 20 s apart, fixed in Spark) and then fail with a stopped SparkContext."""
    problems = []
    for host, port in pairs:
        try:
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
            return
        except OSError as exc:  # unknown host, refused, timed out
            shown = f"[{host}]" if ":" in host else host
            problems.append(f"{shown}:{port}: {exc.strerror or exc}")
    raise inputs.InputProblem(f"--spark-master: cannot reach the Spark master {master} ({'; '.join(problems)})")


def session(master: str | None = None, progress: bool = False) -> Any:
    """One SparkSession per process and master (ANSI mode off: an invalid cast is NULL, as in the rejects)."""
    from pyspark.sql import SparkSession

    key = master or "local[*]"
    if key not in _SESSIONS:
        pairs = check_master(key)
        if pairs:
            _reach(key, pairs)
        builder = (
            SparkSession.builder.master(key)
            .appName("mbcnav-screen")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "true" if progress else "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.session.timeZone", "UTC")
        )
        if key.startswith("local"):  # all in this process: no network beyond the loopback
            builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        try:
            with _quiet_start():
                _SESSIONS[key] = builder.getOrCreate()
        except Exception as exc:
            if not pairs:
                raise
            raise inputs.InputProblem(
                f"--spark-master: the Spark master {key} did not accept the application (is it a Spark "
                f"{_version()} standalone master?)"
            ) from exc
        # FATAL: Spark logs an ERROR when a plan is too large to compile and then runs it interpreted
        _SESSIONS[key].sparkContext.setLogLevel("FATAL")
    return _SESSIONS[key]


@contextmanager
def _quiet_start() -> Iterator[None]:
    """A driver JVM started within logs FATAL only, from its start (``org.apache.spark`` set too, or Spark, taking
    pyspark for a shell, says it sets WARN); with MBCNAV_DEBUG set, Spark's own logging. The JVM reads the
    setting from SPARK_SUBMIT_OPTS, so a user's ``spark.driver.extraJavaOptions`` stays as it is."""
    from pyspark import SparkContext

    if os.environ.get("MBCNAV_DEBUG") or SparkContext._jvm is not None:
        yield
        return
    before = os.environ.get("SPARK_SUBMIT_OPTS")
    with tempfile.TemporaryDirectory(prefix="mbcnav-spark-") as tmp:
        config = Path(tmp) / "log4j2.properties"
        config.write_text(_QUIET_LOG, encoding="utf-8")
        os.environ["SPARK_SUBMIT_OPTS"] = f"{before or ''} -Dlog4j2.configurationFile={config.as_uri()}".strip()
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("SPARK_SUBMIT_OPTS", None)
            else:
                os.environ["SPARK_SUBMIT_OPTS"] = before


def _version() -> str:
    import pyspark

    return ".".join(pyspark.__version__.split(".")[:2])


def has_line_break_in_quotes(files: list[str], chunk: int = 1 << 24) -> bool:
    """Whether a quoted cell of these CSV files holds a line break: a line (to CR or LF) has an odd number of
    quotes (in RFC 4180 a quote inside a quoted cell is doubled). About 0.5 GB/s. Spark must read such files
    with ``multiLine``, each file whole in one task, so only files that need it are read that way."""
    for name in files:
        with open(name, "rb") as f:
            odd = False  # the part of a line read so far has an odd number of quotes
            while data := f.read(chunk):
                parts = data.replace(b"\r", b"\n").split(b"\n")
                if len(parts) > 1:  # lines end in this chunk: the first began before it, the last goes on
                    if odd ^ bool(parts[0].count(b'"') & 1) or any(p.count(b'"') & 1 for p in parts[1:-1]):
                        return True
                    odd = False
                odd ^= bool(parts[-1].count(b'"') & 1)
    return False


def _kind(dtype: Any) -> str:
    from pyspark.sql.types import ArrayType, DateType, StructType

    if isinstance(dtype, DateType):
        return "date"
    if isinstance(dtype, ArrayType):
        return "struct_list" if isinstance(dtype.elementType, StructType) else "list"
    return "scalar"


def _source(
    spark: Any, kb: KnowledgeBase, cohort: inputs.Cohort, multiline: bool
) -> tuple[dict[str, str], Callable[[], None]]:
    """Register the cohort as the view ``cohort_``; return its layout, and a call that re-registers it with the
    row numbers of CSV/NDJSON files (a join: the rejects pass needs them, the output does not)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StructType

    files = [str(p) for p in cohort.files]
    # each row's file, block and (Parquet) index, as columns: Spark's _metadata does not survive a union
    meta = [F.col("_metadata.file_path").alias("file_"), F.col("_metadata.file_block_start").alias("b_")]
    if cohort.format == "parquet":
        df = spark.read.parquet(*files).select("*", *meta, F.col("_metadata.row_index").alias("i_"))
    elif cohort.format == "csv":
        reader = spark.read.options(**CSV_OPTIONS, multiLine=str(multiline).lower())
        if len({tuple(_header(f)) for f in files}) == 1:
            df = reader.csv(files).select("*", *meta)
        else:  # Spark would read every file by the first one's header: each by its own, joined by name
            parts = [reader.csv(f).select("*", *meta) for f in files]
            df = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)
    else:
        df = spark.read.json(files).select("*", *meta)
    kinds = {f.name: _kind(f.dataType) for f in df.schema.fields if f.name not in ("file_", "b_", "i_")}
    struct_keys = None
    field = next((f for f in df.schema.fields if f.name == "prior_treatments"), None)
    if (
        field is not None
        and isinstance(field.dataType, ArrayType)
        and isinstance(field.dataType.elementType, StructType)
    ):
        struct_keys = {f.name: _kind(f.dataType) for f in field.dataType.elementType.fields}
    layout = inputs.layout(kb, kinds, struct_keys)
    columns = [F.col("file_"), *[F.col(f"`{c}`") for c in kinds]]

    def register(row: Any) -> None:
        df.select(row.alias("row_"), *columns).createOrReplaceTempView("cohort_")

    if cohort.format == "parquet":
        register(F.col("i_") + 1)
        return layout, lambda: None
    register(F.lit(None).cast("long"))
    return layout, lambda: _numbered(df, columns)


def _numbered(df: Any, columns: list[Any]) -> None:
    """``cohort_`` with each CSV/NDJSON row's number in its file. Spark reads a file in blocks, rows in order
    within a block: a row's number is the rows of the file's earlier blocks plus its place in its block (its
    ``monotonically_increasing_id`` less the block's first; a file read with ``multiLine`` is one block). Both
    scans of the files plan the same partitions, so the ids agree."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keyed = df.select(F.col("file_").alias("f_"), F.col("b_"), F.monotonically_increasing_id().alias("id_"), *columns)
    earlier = Window.partitionBy("f_").orderBy("b_").rowsBetween(Window.unboundedPreceding, -1)
    blocks = keyed.groupBy("f_", "b_").agg(F.min("id_").alias("first_"), F.count("*").alias("n_"))
    blocks = blocks.select("f_", "b_", "first_", F.coalesce(F.sum("n_").over(earlier), F.lit(0)).alias("before_"))
    row = F.col("before_") + F.col("id_") - F.col("first_") + 1
    numbered = keyed.join(F.broadcast(blocks), ["f_", "b_"])
    kept = [F.col(f"`{c}`") for c in keyed.columns if c not in ("f_", "b_", "id_")]
    numbered.select(row.alias("row_"), *kept).createOrReplaceTempView("cohort_")


def _header(path: str) -> list[str]:
    """A CSV file's column names, as its first line gives them."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        return next(csv.reader(f), [])


def _write_rejects(spark: Any, query: str, path: Path) -> None:
    """The rejects query as one CSV file at ``path``."""
    part_dir = path.with_name(path.name + ".d")
    try:
        spark.sql(query).coalesce(1).write.mode("overwrite").options(**CSV_OPTIONS).csv(str(part_dir))
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
    check_master(master or "local[*]")
    cohort = inputs.find(input_path)
    multiline = cohort.format == "csv" and has_line_break_in_quotes([str(p) for p in cohort.files])
    spark = session(master, progress)
    layout, number_rows = _source(spark, kb, cohort, multiline)
    queries = build(kb, DIALECTS["spark"], layout, "cohort_", json_lists=fmt == "csv")
    rows_in = spark.sql("SELECT count(*) AS n FROM cohort_").collect()[0][0]
    rejects = rejects_path(output)
    with atomic(output) as tmp_out, atomic(rejects) as tmp_rej:
        writer = spark.sql(queries.output).write.mode("overwrite")
        if fmt == "parquet":
            writer.parquet(str(tmp_out))
            result = spark.read.parquet(str(tmp_out))
        else:  # a patient_id holds a line break only if a cell of the input does
            writer.options(**CSV_OPTIONS).csv(str(tmp_out))
            result = spark.read.options(**CSV_OPTIONS, multiLine=str(multiline).lower()).csv(str(tmp_out))
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
