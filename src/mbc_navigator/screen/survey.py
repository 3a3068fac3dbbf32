"""One quick pass over a typed (Parquet) cohort before screening it: does any row need checking?

It lists the distinct values of every column and every drug name, and counts the rows that break a rule across
several values (discordant HER2 results, a man with a menopausal status, a treatment ending before it starts ...).
When every value is exactly one the profile reader takes and no row breaks such a rule, the screening query can
read the columns as they are (``Prep.trusted``): no per-row checks, no text clean-up, drug names looked up once
each, by the Python reader's own normaliser. Any doubt and the caller checks every row (``Prep.checked``).
The survey's SQL comes compiled in the plan (``compile.survey_plan``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from mbc_navigator.knowledge.names import normalise_drug_name
from mbc_navigator.screen.plan import UNKNOWN_DRUG, SurveyPlan

MAX_SPELLINGS = 5000  # distinct drug names the unchecked query looks up as written


@dataclass(frozen=True)
class Survey:
    """A cohort found clean: its row count, and every drug name in it with its flag bits (``Prep.drug_table``),
    ``UNKNOWN_DRUG`` for a name the knowledge base lacks."""

    rows: int
    drug_bits: dict[str, int]


def survey(con: duckdb.DuckDBPyConnection, plan: SurveyPlan) -> Survey | None:
    """The cohort (the view the plan's SQL reads) when no row needs checking, else None."""
    row = con.execute(plan.rows_sql).fetchone()
    assert row is not None
    rows, broken, *values = row
    if broken:
        return None
    for (_, kind, allowed), values_seen in zip(plan.listed, values, strict=True):
        # a list's items must all be given; a single value may be unknown
        values_seen = values_seen or []  # NULL for a cohort without rows
        seen = _flat(values_seen) if kind == "enum_list" else set(values_seen) - {None}
        if not seen <= set(allowed):
            return None
    if plan.treatments_sql is None:
        return Survey(int(rows), {})
    row = con.execute(plan.treatments_sql).fetchone()
    assert row is not None
    broken, settings, names = row  # the lists are NULL when no patient has a treatment
    if broken or not set(settings or []) <= {None, *plan.settings}:
        return None
    spellings = _flat(names or [])
    if len(spellings) > MAX_SPELLINGS:
        return None  # a lookup table that large costs more than normalising each name in SQL
    bits: dict[str, int] = {}
    for name in spellings:
        if name is None or not normalise_drug_name(name):
            return None  # a missing or blank drug name: the checks say so, row by row
        bits[name] = plan.drug_table.get(normalise_drug_name(name), UNKNOWN_DRUG)
    return Survey(int(rows), bits)


def _flat(lists: list[list[Any] | None]) -> set[Any]:
    return {x for xs in lists if xs is not None for x in xs}
