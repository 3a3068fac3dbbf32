"""Writing results safely: a temporary name in the same folder, renamed only when complete; the summary."""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mbc_navigator.screen.inputs import InputProblem

if TYPE_CHECKING:
    from mbc_navigator.knowledge.loader import KnowledgeBase

OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv"}
STATUSES = ("eligible", "needs_info", "ineligible")


def output_format(path: Path) -> str:
    """ "parquet" or "csv", by the output's suffix; any other suffix, or a folder that is not there, is bad
    input named as ``--out``."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputProblem(f"--out: {str(path)!r} must end in .parquet or .csv")
    if not path.parent.is_dir():
        raise InputProblem(f"--out: the folder {str(path.parent)!r} does not exist; create it first")
    return fmt


def rejects_path(output: Path) -> Path:
    """The rejects file beside the output: ``cohort.parquet`` -> ``cohort.rejects.csv``."""
    return output.with_name(output.stem + ".rejects.csv")


def check_targets(input_path: Path, output: Path, folder: bool = False) -> None:
    """Refuse, as bad ``--out``, output that would overwrite the cohort or land in its folder (the next run would
    read it), a target of the wrong kind (a folder where a file goes; ``folder``: the engine writes a folder of
    part files, as Spark does), and a folder we cannot write in."""
    output_format(output)  # the suffix, and a folder that is there
    source, rejects = input_path.resolve(), rejects_path(output)
    for target, what in ((output, "--out"), (rejects, f"--out: the rejects file {str(rejects)!r}")):
        where = target.resolve()
        if where == source or (source.is_dir() and where.is_relative_to(source)):
            raise InputProblem(f"{what} would overwrite or join the cohort in INPUT; write it elsewhere")
    if output.is_dir() and not folder:
        raise InputProblem(f"--out: {str(output)!r} is a folder; give a file name ending in .parquet or .csv")
    if output.is_file() and folder:
        raise InputProblem(f"--out: {str(output)!r} is a file; Spark writes a folder of part files there")
    if rejects.is_dir():
        raise InputProblem(f"--out: the rejects file {str(rejects)!r} is a folder; remove it first")
    try:  # a file of our own in the output's folder: cheaper to learn now than after the screening
        tempfile.TemporaryFile(dir=output.parent).close()
    except OSError as exc:
        raise InputProblem(f"--out: cannot write in the folder {str(output.parent)!r} ({exc.strerror})") from None


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block completes.

    On any error or interrupt the temporary file (or folder) is removed and ``path`` is left as it was.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path) if not (path.is_dir() and tmp.is_dir()) else _replace_dir(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def _replace_dir(tmp: Path, path: Path) -> None:
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def notes(kb: KnowledgeBase) -> dict[str, Any]:
    """What every screening report says: the disclaimer, and where the pages disagree or fall short
    (SOURCES.md) with the options each bears on, since the statuses rest on the knowledge base's reading there."""
    conflicts = [
        {"id": c.id, "topic": c.topic, "summary": c.summary, "bears_on": list(c.bears_on)}
        for c in kb.conflicts.values()
        if c.bears_on
    ]
    return {"disclaimer": kb.meta.disclaimer, "conflicts": conflicts}


@dataclass
class Report:
    """What a screening run did: rows in = rows screened + rows rejected, and patients per regimen per status;
    ``duplicate_ids``: screened rows sharing a patient_id with an earlier one (each row is still screened)."""

    rows_in: int
    screened: int
    rejected: int
    output: Path
    rejects: Path | None
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicate_ids: int = 0
    disclaimer: str = ""
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    fast: bool = False  # the survey found no row to check (``survey.py``): screened without row checks

    @classmethod
    def of(
        cls,
        kb_notes: dict[str, Any],
        counts: tuple[int, int, int, int],
        output: Path,
        rejects: Path,
        summary: dict[str, dict[str, int]],
        fast: bool = False,
    ) -> Report:
        """A run's report from its counts (rows in, screened, distinct patient_ids screened, rejected), with
        the knowledge base's ``notes``."""
        rows_in, screened, distinct, rejected = counts
        return cls(
            rows_in,
            screened,
            rejected,
            output,
            rejects,
            summary,
            screened - distinct,
            kb_notes["disclaimer"],
            kb_notes["conflicts"],
            fast,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "rows_in": self.rows_in,
            "rows_screened": self.screened,
            "rows_rejected": self.rejected,
            "duplicate_patient_ids": self.duplicate_ids,
            "output": str(self.output),
            "rejects": str(self.rejects) if self.rejects else None,
            "summary": self.summary,
            "conflicts": self.conflicts,
            "disclaimer": self.disclaimer,
        }

    def table(self) -> str:
        width = max([len("regimen"), *(len(r) for r in self.summary)])
        lines = [f"{'regimen':<{width}}  " + "  ".join(f"{s:>10}" for s in STATUSES)]
        for rid, counts in self.summary.items():
            lines.append(f"{rid:<{width}}  " + "  ".join(f"{counts.get(s, 0):>10}" for s in STATUSES))
        lines.append(
            f"rows in: {self.rows_in} = screened {self.screened} + rejected {self.rejected}"
            + (f" (see {self.rejects})" if self.rejected and self.rejects else "")
        )
        if self.duplicate_ids:
            lines.append(
                f"warning: {self.duplicate_ids} screened row(s) repeat a patient_id of another row; "
                "each row was screened on its own and counted above"
            )
        lines.append(f"output: {self.output}")
        if self.conflicts:
            lines.append("where the pages disagree or fall short (see `mbcnav explain <option>`):")
            for c in self.conflicts:
                text = f"{c['topic']}: {c['summary']} [{', '.join(map(str, c['bears_on']))}]"
                lines.append(
                    textwrap.fill(text, 110, initial_indent="  - ", subsequent_indent="    ", break_on_hyphens=False)
                )
        if self.disclaimer:
            lines.append(textwrap.fill(self.disclaimer, 110))
        return "\n".join(lines)
