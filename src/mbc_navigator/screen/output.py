"""Writing results safely: a temporary name in the same folder, renamed only when complete; the summary."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mbc_navigator.screen.inputs import InputProblem

OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv"}
STATUSES = ("eligible", "needs_info", "ineligible")


def output_format(path: Path) -> str:
    """ "parquet" or "csv", by the output's suffix; any other suffix is bad input named as ``--out``."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputProblem(f"--out: {str(path)!r} must end in .parquet or .csv")
    return fmt


def rejects_path(output: Path) -> Path:
    """The rejects file beside the output: ``cohort.parquet`` -> ``cohort.rejects.csv``."""
    return output.with_name(output.stem + ".rejects.csv")


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


@dataclass
class Report:
    """What a screening run did: rows in = rows screened + rows rejected, and patients per regimen per status."""

    rows_in: int
    screened: int
    rejected: int
    output: Path
    rejects: Path | None
    summary: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows_in": self.rows_in,
            "rows_screened": self.screened,
            "rows_rejected": self.rejected,
            "output": str(self.output),
            "rejects": str(self.rejects) if self.rejects else None,
            "summary": self.summary,
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
        lines.append(f"output: {self.output}")
        return "\n".join(lines)
