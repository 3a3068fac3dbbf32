"""``mbcnav screen``: screen a whole cohort (Parquet, CSV or NDJSON) against every option, in SQL.

``run_cached`` is the quick start of ``launch.py``: on DuckDB with a plan already compiled for this knowledge
base and input shape, the command runs without loading the knowledge base or the SQL compiler.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mbc_navigator.cli.errors import EXIT_OK, UsageError, guard, stop_on_signals
from mbc_navigator.screen.inputs import InputProblem
from mbc_navigator.screen.output import Report, check_targets
from mbc_navigator.screen.progress import Progress

if TYPE_CHECKING:
    from mbc_navigator.knowledge.loader import KnowledgeBase
    from mbc_navigator.screen.duckdb_engine import KnowledgeDir

ENGINES = ("duckdb", "spark")
FORMATS = ("table", "json")  # as the shared ``--format`` of main.py


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
            "option) to OUTPUT, invalid rows to OUTPUT's name with .rejects.csv for its suffix (result.parquet -> "
            "result.rejects.csv), and prints a summary. The SQL compiled for an input's shape is cached in "
            "~/.cache/mbcnav (MBCNAV_CACHE=DIR elsewhere, =off none)."
        ),
    )
    _arguments(p)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="cohort file (.parquet, .csv, .ndjson) or a folder of them")
    p.add_argument("--out", required=True, metavar="OUTPUT", help="result file: .parquet or .csv")
    p.add_argument("--engine", choices=ENGINES, default="duckdb", help="SQL engine (default: duckdb)")
    p.add_argument("--spark-master", metavar="URL", help="Spark master (default: local[*]); implies --engine spark")
    p.add_argument("--threads", type=int, metavar="N", help="DuckDB threads (default: all cores)")


def run(args: argparse.Namespace, kb: KnowledgeBase) -> int:
    from mbc_navigator.screen.duckdb_engine import KnowledgeDir

    return _run(args, KnowledgeDir(Path(args.knowledge) if args.knowledge else None, kb))


class _NotQuick(Exception):
    """The quick start does not apply: the full command line takes over (and says what is wrong, if anything)."""


class _QuickParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotQuick(message)


def run_cached(argv: Sequence[str]) -> int | None:
    """``mbcnav screen ARGS`` on DuckDB with its plan cached: the exit code; else None (no plan yet, Spark,
    anything unusual in ARGS or INPUT: the full command line runs instead)."""
    from mbc_navigator.screen.duckdb_engine import KnowledgeDir, NotCached

    parser = _QuickParser(prog="mbcnav screen", add_help=False)
    parser.add_argument("--format", choices=FORMATS)
    _arguments(parser)
    try:
        args = parser.parse_args(argv)
    except _NotQuick:
        return None
    if args.engine != "duckdb" or args.spark_master:
        return None
    fallback = False

    def command() -> int:
        nonlocal fallback
        try:
            return _run(args, KnowledgeDir(), cached_only=True)
        except (NotCached, UsageError):
            fallback = True  # the full command line compiles the plan, or names the problem
            return EXIT_OK

    code = guard(command)
    return None if fallback else code


def _run(args: argparse.Namespace, knowledge: KnowledgeDir, cached_only: bool = False) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"--out: {args.out!r} must end in .parquet or .csv")
    most = 4 * (os.cpu_count() or 1)  # far more threads than cores only slows DuckDB down (or hangs it)
    if args.threads is not None and not 1 <= args.threads <= most:
        raise UsageError(f"--threads: must be from 1 to {most} (this machine has {os.cpu_count()} cores)")
    progress = Progress()
    engine = "spark" if args.spark_master else args.engine
    report: Report
    try:
        with stop_on_signals():
            check_targets(Path(args.input), out, folder=engine == "spark")
            if engine == "spark":
                try:
                    import pyspark  # noqa: F401
                except ImportError:
                    raise UsageError(
                        "--engine spark: pyspark is not installed (pip install pyspark; needs Java 17)"
                    ) from None
                from mbc_navigator.screen.spark_engine import screen as spark_screen

                progress.stage(f"screening {args.input} on {engine}")
                assert knowledge.loaded is not None
                report = spark_screen(knowledge.loaded, Path(args.input), out, args.spark_master, progress.enabled)
            else:
                from mbc_navigator.screen.duckdb_engine import screen as duck_screen

                # DuckDB draws its bar on standard output: only when that is a terminal too
                bar = progress.enabled and sys.stdout.isatty()
                report = duck_screen(
                    knowledge,
                    Path(args.input),
                    out,
                    args.threads,
                    bar,
                    cached_only,
                    lambda: progress.stage(f"screening {args.input} on {engine}"),
                )
    except InputProblem as exc:
        raise UsageError(str(exc)) from None
    progress.stage("done")
    _print(report, args.format)
    return EXIT_OK


def _print(report: Report, fmt: str | None) -> None:
    if (fmt or ("table" if sys.stdout.isatty() else "json")) == "json":
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.table())
