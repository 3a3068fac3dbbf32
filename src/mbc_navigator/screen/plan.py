"""A compiled screening plan: everything a DuckDB run needs from the knowledge base for one input shape (the SQL
of the survey and of both queries, the drug table, the report's notes), kept as JSON in a cache.

Compiling needs the knowledge loader and sqlglot (about 0.4 s of a command's start); a plan read back from the
cache needs neither. A plan is keyed by the content of the package's code and of the knowledge base folder, the
DuckDB and Python versions, and the input's format, columns and types: any change there compiles afresh. The
drug names of a cohort are not in the plan: they are bound at run time (an ENUM type and a SQL variable).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

import mbc_navigator
from mbc_navigator.knowledge.names import knowledge_dir

UNKNOWN_DRUG = 1 << 30  # trusted query: the flag of a drug name the knowledge base lacks (tested by no rule)
LOOKUP_TYPE = "mbcnav_drug_name"  # DuckDB ENUM of the cohort's drug names (trusted) or the known names (checked)
DRUG_VALUES = "mbcnav_drug_values"  # DuckDB variable: the value of each LOOKUP_TYPE name, in ENUM order
CACHE_ENV = "MBCNAV_CACHE"  # a folder for compiled plans, or "off"
KEEP = 50  # plans kept (each about 0.2 MB; every change of code or knowledge adds one per input shape)


@dataclass(frozen=True)
class SurveyPlan:
    """``rows_sql``: count, rows breaking a rule, then the distinct values of each ``listed`` column (name, type,
    allowed values); ``treatments_sql`` (None without treatments): treatments breaking a rule, distinct settings,
    distinct drug lists; ``drug_table``: each known normalised drug name -> its flag bits."""

    rows_sql: str
    listed: list[tuple[str, str, list[str]]]
    treatments_sql: str | None
    settings: list[str]
    drug_table: dict[str, int]


@dataclass(frozen=True)
class Queries:
    output: str
    rejects: str
    setup: list[str]


@dataclass(frozen=True)
class ScreenPlan:
    """``checked``: every row checked, invalid rows to the rejects; ``trusted`` (with ``survey``): for a cohort the
    survey finds clean, its drug names bound by ``drug_values`` (flag bits -> lookup value)."""

    layout: dict[str, str]
    checked: Queries
    survey: SurveyPlan | None
    trusted: Queries | None
    drug_values: dict[int, int]
    regimens: list[str]
    notes: dict[str, Any]  # the report's disclaimer and the pages' disagreements

    def to_json(self) -> str:
        data = asdict(self)
        data["drug_values"] = {str(k): v for k, v in self.drug_values.items()}
        return json.dumps({"plan": data})  # its shape is code: a change to it changes every key

    @classmethod
    def from_json(cls, text: str) -> ScreenPlan:
        data = json.loads(text)["plan"]
        survey = data["survey"]
        return cls(
            layout=data["layout"],
            checked=Queries(**data["checked"]),
            survey=SurveyPlan(**{**survey, "listed": [tuple(x) for x in survey["listed"]]}) if survey else None,
            trusted=Queries(**data["trusted"]) if data["trusted"] else None,
            drug_values={int(k): int(v) for k, v in data["drug_values"].items()},
            regimens=data["regimens"],
            notes=data["notes"],
        )


def cache_dir() -> Path | None:
    """$MBCNAV_CACHE ("off": no cache), else $XDG_CACHE_HOME/mbcnav, else ~/.cache/mbcnav."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() in ("off", "0", "no"):
        return None
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mbcnav"


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def key(knowledge: Path | None, shape: list[str]) -> str:
    """The plan's key: the code, the knowledge base folder (``knowledge``, as ``load`` finds it), the versions,
    and ``shape`` (the input's format, columns and types, the output's format)."""
    h = hashlib.sha256()
    package = Path(mbc_navigator.__file__).parent
    folder = knowledge_dir(knowledge)
    for root, pattern in ((package, "*.py"), (folder, "*")):
        for path in _files(root, pattern):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for part in [duckdb.__version__, platform.python_version(), sys.platform, *shape]:
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:32]


def load(plan_key: str) -> ScreenPlan | None:
    """The cached plan, or None (none yet, no cache, or a file that does not read: it is compiled again)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"screen-{plan_key}.json"
    try:
        found = ScreenPlan.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    with contextlib.suppress(OSError):
        path.touch()  # recently used: kept when older plans are pruned
    return found


def save(plan_key: str, plan: ScreenPlan) -> None:
    """Keep the plan for later runs; written whole or not at all (a failure to write only costs speed)."""
    folder = cache_dir()
    if folder is None:
        return
    path = folder / f"screen-{plan_key}.json"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(plan.to_json(), encoding="utf-8")
        os.replace(tmp, path)
        _prune(folder)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Keep the ``KEEP`` plans used or written last (a plan read is touched)."""
    plans = sorted(folder.glob("screen-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in plans[KEEP:]:
        old.unlink(missing_ok=True)
