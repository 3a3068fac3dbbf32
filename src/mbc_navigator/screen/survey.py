"""One quick pass over a typed (Parquet) cohort before screening it: does any row need checking?

It lists the distinct values of every column and every drug name, and counts the rows that break a rule across
several values (discordant HER2 results, a man with a menopausal status, a treatment ending before it starts ...).
When every value is exactly one the profile reader takes and no row breaks such a rule, the screening query can
read the columns as they are (``Prep.trusted``): no per-row checks, no text clean-up, drug names looked up once
each, by the Python reader's own normaliser. Any doubt and the caller checks every row (``Prep.checked``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from sqlglot import exp

from mbc_navigator.knowledge.loader import KnowledgeBase, normalise_drug_name
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.prep import EDGE_SPACE, ID, UNKNOWN_DRUG, Prep
from mbc_navigator.screen.sqlgen import PRIOR

# the native type each kind of fact must have for the survey to vouch for it
NATIVE = {"enum": "VARCHAR", "bool": "BOOLEAN", "date": "DATE", "enum_list": "VARCHAR[]"}
TREATMENT_NATIVE = {
    "drugs": "VARCHAR[]",
    "setting": "VARCHAR",
    "start_date": "DATE",
    "end_date": "DATE",
    "ongoing": "BOOLEAN",
}
MAX_SPELLINGS = 5000  # distinct drug names the unchecked query looks up as written


@dataclass(frozen=True)
class Survey:
    """A cohort found clean: its row count, and every drug name in it with its flag bits (``Prep.drug_table``),
    ``UNKNOWN_DRUG`` for a name the knowledge base lacks."""

    rows: int
    drug_bits: dict[str, int]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed(kb: KnowledgeBase, types: dict[str, str]) -> bool:
    """Every column present has the native type the trusted stage reads (text columns need the checks)."""
    if types.get(ID) != "VARCHAR":
        return False
    for fact in kb.facts.base:
        kind = types.get(fact.name)
        if kind is None:
            continue
        if fact.type == "treatments":
            inner = kind.removeprefix("STRUCT(").removesuffix(")[]")
            if inner == kind:
                return False
            wanted = {f"{k} {v}" for k, v in TREATMENT_NATIVE.items()}
            if not inner or any(part not in wanted for part in inner.split(", ")) or "drugs VARCHAR[]" not in inner:
                return False
        elif NATIVE[fact.type] != kind:
            return False
    return True


def survey(con: duckdb.DuckDBPyConnection, kb: KnowledgeBase, source: str, prep: Prep) -> Survey | None:
    """The cohort in ``source`` (a view with the input columns) when no row needs checking, else None."""
    rel = con.sql(f"SELECT * FROM {source} LIMIT 0")
    types = {name: str(t) for name, t in zip(rel.columns, rel.types, strict=True)}
    if not typed(kb, types):
        return None
    facts = {f.name: f for f in kb.facts.base}
    present = {f.name for f in kb.facts.base if f.name in types}
    keys = set()
    if PRIOR in present:
        inner = types[PRIOR].removeprefix("STRUCT(").removesuffix(")[]")
        keys = {part.split(" ")[0] for part in inner.split(", ")}
    listed = [n for n in present if facts[n].type in ("enum", "enum_list")]
    # the rows, then (unnested: cheaper than walking each list) the earlier treatments
    aggs = ["count(*)", f"count(*) FILTER (WHERE {_broken(prep, present)})"]
    aggs += [f"list(DISTINCT {_q(n)})" for n in listed]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {source}").fetchone()
    assert row is not None
    rows, broken, *values = row
    if broken:
        return None
    found = dict(zip(listed, values, strict=True))
    for name in listed:
        # a list's items must all be given; a single value may be unknown
        values_seen = found[name] or []  # NULL for a cohort without rows
        seen = _flat(values_seen) if facts[name].type == "enum_list" else set(values_seen) - {None}
        if not seen <= set(facts[name].values):
            return None
    if PRIOR not in present:
        return Survey(int(rows), {})
    setting = "t_.setting" if "setting" in keys else "NULL"
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {_broken_treatment(keys)}), list(DISTINCT {setting}), list(DISTINCT t_.drugs) "
        f"FROM (SELECT unnest({_q(PRIOR)}) AS t_ FROM {source})"
    ).fetchone()
    assert row is not None
    broken, settings, names = row  # the lists are NULL when no patient has a treatment
    allowed = {f.name: f for f in kb.facts.treatment_fields}["setting"].values
    if broken or not set(settings or []) <= {None, *allowed}:
        return None
    spellings = _flat(names or [])
    if len(spellings) > MAX_SPELLINGS:
        return None  # a lookup table that large costs more than normalising each name in SQL
    table = dict(zip(*prep.drug_table(), strict=True))
    bits: dict[str, int] = {}
    for name in spellings:
        if name is None or not normalise_drug_name(name):
            return None  # a missing or blank drug name: the checks say so, row by row
        bits[name] = table.get(normalise_drug_name(name), UNKNOWN_DRUG)
    return Survey(int(rows), bits)


def _flat(lists: list[list[Any] | None]) -> set[Any]:
    return {x for xs in lists if xs is not None for x in xs}


def _broken(prep: Prep, present: set[str]) -> str:
    """A row breaks a rule across values: a blank or untrimmed id, HER2 results that disagree, or the reader's
    consistency rules."""
    d = DIALECTS["duckdb"]
    values: dict[str, exp.Expression] = {
        name: exp.column(name, quoted=True) if name in present else exp.Null() for name in prep.facts
    }
    pid = _q(ID)
    # white space at either end (as str.strip() sees it): a regular expression is far cheaper than trimming
    untrimmed = d.sql(exp.RegexpLike(this=exp.column(ID, quoted=True), expression=exp.Literal.string(EDGE_SPACE)))
    conds = [f"{pid} IS NULL", f"{pid} = ''", untrimmed]
    conds += [d.sql(c) for c, _ in prep.her2(values)[2] + prep.consistency(values)]
    return " OR ".join(f"COALESCE({c}, FALSE)" for c in conds)


def _broken_treatment(keys: set[str]) -> str:
    """An earlier treatment (``t_``) the reader refuses: none, without drugs, ending before it starts, or
    ongoing with an end date."""
    item = ["t_ IS NULL", "t_.drugs IS NULL", "len(t_.drugs) = 0"]
    if {"start_date", "end_date"} <= keys:
        item.append("t_.end_date < t_.start_date")
    if {"ongoing", "end_date"} <= keys:
        item.append("(t_.ongoing AND t_.end_date IS NOT NULL)")
    return " OR ".join(f"COALESCE({c}, FALSE)" for c in item)
