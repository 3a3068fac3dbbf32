"""Find the cohort files (a file or a folder of them), check their columns, and describe their layout.

Layout per column: "typed" (Parquet lists and structs), "text" (CSV cells, NDJSON values: lists as JSON text)
or "absent". ``prior_treatments.<key>`` entries say which keys a typed treatment struct has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the loader is not needed to read a cohort's shape (``plan.py``)
    from mbc_navigator.knowledge.loader import KnowledgeBase

FORMATS = {".parquet": "parquet", ".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
ID = "patient_id"
LIST_FACTS = ("enum_list", "treatments")
TREATMENT_KEYS = ("drugs", "setting", "start_date", "end_date", "ongoing")


class InputProblem(ValueError):
    """The cohort cannot be read as a whole (no files, mixed formats, unknown columns): one line, naming it."""


@dataclass(frozen=True)
class Cohort:
    files: tuple[Path, ...]
    format: str  # parquet | csv | ndjson


@dataclass(frozen=True)
class Shape:
    """A cohort's columns as the engine reads them: ``types`` (the engine's names, in order), ``kinds`` ("list",
    "struct_list", "date" or "scalar"; for ``layout``) and the treatment struct's keys and their kinds."""

    format: str
    types: dict[str, str]
    kinds: dict[str, str]
    struct_keys: dict[str, str] | None

    def view_types(self, layout: dict[str, str]) -> dict[str, str]:
        """The column types of the view the queries read: NDJSON values read as text become VARCHAR."""
        text = self.format == "ndjson"
        return {n: "VARCHAR" if text and layout.get(n) == "text" else t for n, t in self.types.items()}

    def key(self) -> list[str]:
        return [self.format, *(f"{n} {t}" for n, t in self.types.items())]


def _hidden(file: Path, root: Path) -> bool:
    """Temporary and hidden files (``.name``, ``_SUCCESS``-style) are no part of a cohort."""
    return any(part.startswith((".", "_")) for part in file.relative_to(root).parts)


def find(path: Path) -> Cohort:
    """The files of a cohort: ``path`` itself, or every cohort file in the folder (one format only)."""
    if not path.exists():
        raise InputProblem(
            f"INPUT: {str(path)!r} does not exist; give a .parquet, .csv or .ndjson file or a folder of them"
        )
    files = (
        sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS and not _hidden(p, path))
        if path.is_dir()
        else [path]
    )
    if not files:
        raise InputProblem(f"INPUT: the folder {str(path)!r} holds no .parquet, .csv or .ndjson files")
    if all(p.stat().st_size == 0 for p in files):
        raise InputProblem(f"INPUT: {str(path)!r} is empty; give a file with a header (CSV) or rows")
    kinds = {FORMATS.get(p.suffix.lower()) for p in files}
    if None in kinds:
        raise InputProblem(f"INPUT: {str(path)!r} is not a .parquet, .csv, .ndjson or .jsonl file")
    if len(kinds) > 1:
        raise InputProblem(
            f"INPUT: the folder {str(path)!r} mixes formats ({', '.join(sorted(str(k) for k in kinds))}); use one"
        )
    return Cohort(tuple(files), str(kinds.pop()))


def layout(
    kb: KnowledgeBase, columns: dict[str, str], struct_keys: dict[str, str] | None, json_text: bool = False
) -> dict[str, str]:
    """Check the columns (name -> "list", "struct_list", "date" (native) or "scalar"; the treatment struct's keys
    -> "date" or "scalar") and say how each fact is laid out. ``json_text`` (NDJSON): a list column of another
    kind than its fact's (``[]`` only, mixed items) is read as JSON text, and checked row by row."""
    facts = {f.name: f for f in kb.facts.base}
    if ID not in columns:
        raise InputProblem(f"{ID}: the cohort has no {ID} column; columns found: {', '.join(columns)}")
    unknown = [c for c in columns if c != ID and c not in facts]
    if unknown:
        name = unknown[0]
        base, _, number = name.rpartition("_")
        if number.isdigit() and base in columns:  # DuckDB's name for a second column of the same name
            raise InputProblem(f"{base}: the cohort has more than one {base} column; keep one")
        raise InputProblem(f"{name}: is not a profile field; allowed columns: {ID}, {', '.join(facts)}")
    out: dict[str, str] = {}
    for name, kind in columns.items():
        if name == ID:
            continue
        fact = facts[name]
        if fact.type in LIST_FACTS:
            want = "struct_list" if fact.type == "treatments" else "list"
            if kind == want:
                out[name] = "typed"
            elif kind == "scalar" or json_text:
                out[name] = "text"
            else:
                raise InputProblem(
                    f"{name}: must be a list of {'structs' if want == 'struct_list' else 'strings'} or JSON text"
                )
        elif kind not in ("scalar", "date"):
            raise InputProblem(f"{name}: must be a single value per row, not a list")
        else:
            out[name] = "date" if kind == "date" and fact.type == "date" else "typed"
    if out.get("prior_treatments") == "typed":
        for key, key_kind in (struct_keys or {}).items():
            if key not in TREATMENT_KEYS:
                raise InputProblem(
                    f"prior_treatments.{key}: is not a treatment field; allowed: {', '.join(TREATMENT_KEYS)}"
                )
            if (key == "drugs") != (key_kind == "list"):
                allowed = "a list of drug names" if key == "drugs" else "a single value per treatment"
                raise InputProblem(f"prior_treatments.{key}: must be {allowed}")
            out[f"prior_treatments.{key}"] = "date" if key_kind == "date" and key.endswith("_date") else "typed"
    return out
