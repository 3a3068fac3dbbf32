"""Compile a screening plan (``plan.py``) from the knowledge base for one input shape: the survey's SQL and both
queries, row-checked and trusted. The only part of a DuckDB run that needs the knowledge loader and sqlglot."""

from __future__ import annotations

import gc

from sqlglot import exp

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.screen import inputs
from mbc_navigator.screen.dialects import DIALECTS
from mbc_navigator.screen.output import notes
from mbc_navigator.screen.plan import Queries, ScreenPlan, SurveyPlan
from mbc_navigator.screen.prep import EDGE_SPACE, ID, Prep
from mbc_navigator.screen.query import ScreenQueries, build
from mbc_navigator.screen.sqlgen import PRIOR, Fields

SOURCE = "cohort_"  # the view the queries read: the input's columns with ``row_`` and ``file_``
# the native type each kind of fact must have for the survey to vouch for it
NATIVE = {"enum": "VARCHAR", "bool": "BOOLEAN", "date": "DATE", "enum_list": "VARCHAR[]"}
TREATMENT_NATIVE = {
    "drugs": "VARCHAR[]",
    "setting": "VARCHAR",
    "start_date": "DATE",
    "end_date": "DATE",
    "ongoing": "BOOLEAN",
}


def compile_plan(kb: KnowledgeBase, shape: inputs.Shape, json_lists: bool) -> ScreenPlan:
    """The plan for a cohort of this shape (raises ``InputProblem`` for columns that are not allowed)."""
    # sqlglot's trees link children to parents: each pass of the cycle collector walks them all, and compiling
    # took two to four times as long with it running
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(kb, shape, json_lists)
    finally:
        if enabled:
            gc.enable()


def _compile(kb: KnowledgeBase, shape: inputs.Shape, json_lists: bool) -> ScreenPlan:
    layout = inputs.layout(kb, shape.kinds, shape.struct_keys, json_text=shape.format == "ndjson")
    dialect = DIALECTS["duckdb"]
    checked = build(kb, dialect, layout, SOURCE, json_lists=json_lists)
    survey = survey_plan(kb, Prep(kb, dialect, Fields(kb)), shape.view_types(layout))
    trusted = build(kb, dialect, layout, SOURCE, json_lists=json_lists, trusted=True) if survey else None
    return ScreenPlan(
        layout=layout,
        checked=_queries(checked),
        survey=survey,
        trusted=_queries(trusted) if trusted else None,
        drug_values=trusted.drug_values if trusted else {},
        regimens=list(kb.regimens),
        notes=notes(kb),
    )


def _queries(q: ScreenQueries) -> Queries:
    return Queries(q.output, q.rejects, list(q.setup))


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


def survey_plan(kb: KnowledgeBase, prep: Prep, types: dict[str, str]) -> SurveyPlan | None:
    """The survey's SQL over ``SOURCE`` (with these column types), or None when a column's type is not native:
    such a cohort is checked row by row."""
    if not typed(kb, types):
        return None
    facts = {f.name: f for f in kb.facts.base}
    present = {f.name for f in kb.facts.base if f.name in types}
    listed = [n for n in facts if n in present and facts[n].type in ("enum", "enum_list")]
    # the rows, then (unnested: cheaper than walking each list) the earlier treatments
    aggs = ["count(*)", f"count(*) FILTER (WHERE {_broken(prep, present)})"]
    aggs += [f"list(DISTINCT {_q(n)})" for n in listed]
    treatments = None
    if PRIOR in present:
        inner = types[PRIOR].removeprefix("STRUCT(").removesuffix(")[]")
        keys = {part.split(" ")[0] for part in inner.split(", ")}
        setting = "t_.setting" if "setting" in keys else "NULL"
        treatments = (
            f"SELECT count(*) FILTER (WHERE {_broken_treatment(keys)}), list(DISTINCT {setting}), "
            f"list(DISTINCT t_.drugs) FROM (SELECT unnest({_q(PRIOR)}) AS t_ FROM {SOURCE})"
        )
    return SurveyPlan(
        rows_sql=f"SELECT {', '.join(aggs)} FROM {SOURCE}",
        listed=[(n, facts[n].type, list(facts[n].values)) for n in listed],
        treatments_sql=treatments,
        settings=list({f.name: f for f in kb.facts.treatment_fields}["setting"].values),
        drug_table=dict(zip(*prep.drug_table(), strict=True)),
    )


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
