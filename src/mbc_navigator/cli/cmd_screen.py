"""``mbcnav screen``: screen a whole cohort (Parquet, CSV or NDJSON) against every option, in SQL."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mbc_navigator.cli.errors import EXIT_OK, UsageError
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.screen.inputs import InputProblem
from mbc_navigator.screen.output import Report
from mbc_navigator.screen.progress import Progress

ENGINES = ("duckdb", "spark")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: dict[str, argparse.ArgumentParser],
    kb: KnowledgeBase | None,
) -> None:
    p = sub.add_parser(
        "screen",
        parents=[parents["format"]],
        help="screen a cohort file or folder: each option's status and missing facts per patient",
        description=(
            "Screen every patient of a cohort (one row each: patient_id and profile fields; Parquet, CSV or NDJSON, "
            "or a folder of them) against every option. Writes one row per patient (status and missing fields per "
            "option) to OUTPUT, invalid rows to OUTPUT's name + .rejects.csv, and prints a summary."
        ),
    )
    p.add_argument("input", metavar="INPUT", help="cohort file (.parquet, .csv, .ndjson) or a folder of them")
    p.add_argument("--out", required=True, metavar="OUTPUT", help="result file: .parquet or .csv")
    p.add_argument("--engine", choices=ENGINES, default="duckdb", help="SQL engine (default: duckdb)")
    p.add_argument("--spark-master", metavar="URL", help="Spark master (default: local[*]); implies --engine spark")
    p.add_argument("--threads", type=int, metavar="N", help="DuckDB threads (default: all cores)")


def run(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"--out: {args.out!r} must end in .parquet or .csv")
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads: must be 1 or more")
    progress = Progress()
    engine = "spark" if args.spark_master else args.engine
    progress.stage(f"screening {args.input} on {engine}")
    try:
        if engine == "spark":
            try:
                import pyspark  # noqa: F401
            except ImportError:
                raise UsageError(
                    "--engine spark: pyspark is not installed (pip install pyspark; needs Java 17)"
                ) from None
            from mbc_navigator.screen.spark_engine import screen as spark_screen

            report: Report = spark_screen(kb, Path(args.input), out, args.spark_master, progress.enabled)
        else:
            from mbc_navigator.screen.duckdb_engine import screen as duck_screen

            # DuckDB draws its bar on standard output: only when that is a terminal too
            report = duck_screen(kb, Path(args.input), out, args.threads, progress.enabled and sys.stdout.isatty())
    except InputProblem as exc:
        raise UsageError(str(exc)) from None
    progress.stage("done")
    if (args.format or ("table" if sys.stdout.isatty() else "json")) == "json":
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.table())
    return EXIT_OK
