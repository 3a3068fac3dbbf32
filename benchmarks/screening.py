"""Benchmark: screening a synthetic cohort, five ways, on the same Parquet file.

(a) ``mbcnav screen`` on DuckDB (the real command, in a subprocess: start-up, the compiled plan, the survey pass
    that decides whether rows need checks, screen, write output and rejects, summary; the first run compiles the
    plan and caches it, as a user's first screening does (``a_first_run_seconds``), later runs read it;
    ``a_fixed_seconds`` is a later run on one patient, ``a_patients_per_s_after_start`` the rate without it);
(b) a hand-written DuckDB query for the same 17 options (the floor: statuses by the same three-valued logic,
    drug classes by an ENUM lookup, no row checks, no missing lists; ``b_statuses_differing_from_a`` checks it
    against (a)); and (b2), the same with a missing list per option by hand (the fields its rule reads that are
    empty: coarser than (a)'s, the same shape and a like cost), the floor for the output the issue asks for
    (``b2_with_lists_seconds``, ``a/b2``);
(c) the per-patient Python evaluator (profile reader + compiled criteria, statuses and missing lists; on a
    sample);
(d) a generic rule engine, CEL (``common-expression-language``), each option compiled once (two-valued:
    eligible or not, the cheapest form; on a sample);
(e) ``mbcnav screen --engine spark`` on ``local[*]`` (session start excluded).

Prints patients/s for each and, as the last line, JSON with the figures and the speed ratios a/b, a/c, a/d.
(a) and (b) run ``--repeat`` times each (default 3) and the fastest run counts, for both alike (for (a), the
fastest after its first).
``--measure-memory`` also reports the peak resident memory of the (a) process.

    python benchmarks/screening.py --patients 1000000
    python benchmarks/screening.py --patients 10000000 --only a --measure-memory
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from mbc_navigator.knowledge import default_knowledge
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import Drug
from mbc_navigator.profile import ProfileError, parse_profile
from mbc_navigator.rules import Context
from mbc_navigator.screen.plan import CACHE_ENV

MBCNAV = str(Path(sys.executable).with_name("mbcnav"))

# Drug combinations given before, as a clinic would record them (generic or brand names; one unknown name).
TEMPLATES = [
    ["trastuzumab", "pertuzumab", "docetaxel"],
    ["Kadcyla"],
    ["letrozole"],
    ["anastrozole"],
    ["tamoxifen"],
    ["palbociclib", "letrozole"],
    ["Kisqali", "letrozole"],
    ["fulvestrant"],
    ["epirubicin", "cyclophosphamide"],
    ["paclitaxel"],
    ["capecitabine"],
    ["exemestane", "everolimus"],
    ["Enhertu"],
    ["carboplatin", "gemcitabine"],
    ["Unknownumab"],
]


def generate(path: Path, n: int) -> None:
    """A synthetic cohort: HR+/HER2- ~70%, HER2+ ~18%, triple negative ~12%; unknowns in every field."""
    templates = "[" + ", ".join("[" + ", ".join(f"'{d}'" for d in t) + "]" for t in TEMPLATES) + "]"

    def unk(expr: str, p: float = 0.1) -> str:
        return f"CASE WHEN random() < {p} THEN NULL ELSE {expr} END"

    sql = f"""
    COPY (
      SELECT 'P' || lpad(CAST(i AS VARCHAR), 9, '0') AS patient_id,
        {unk("CASE WHEN male THEN 'male' ELSE 'female' END", 0.05)} AS sex,
        CASE WHEN NOT male THEN {
        unk("['premenopausal', 'perimenopausal', 'postmenopausal'][1 + CAST(floor(random() * 3) AS INT)]", 0.2)
    } END AS menopausal_status,
        {unk("CASE WHEN random() < 0.85 THEN 'metastatic' ELSE 'locally_advanced' END")} AS extent,
        {unk("random() < 0.3")} AS local_recurrence,
        {unk("random() < 0.2", 0.3)} AS operable,
        CASE WHEN u < 0.70 THEN {unk("CASE WHEN random() < 0.5 THEN 'low' ELSE 'negative' END", 0.15)}
             WHEN u < 0.88 THEN {unk("'positive'", 0.15)} ELSE {unk("'zero'", 0.15)} END AS her2,
        CASE WHEN u >= 0.70 AND u < 0.88 AND random() < 0.3 THEN '3+' END AS her2_ihc,
        CAST(NULL AS VARCHAR) AS her2_ish,
        {unk("CASE WHEN u < 0.70 OR (u < 0.88 AND random() < 0.5) THEN 'positive' ELSE 'negative' END")} AS er,
        {unk("CASE WHEN u < 0.70 AND random() < 0.8 THEN 'positive' ELSE 'negative' END", 0.15)} AS pr,
        {unk("CASE WHEN random() < 0.4 THEN 'positive' ELSE 'negative' END", 0.6)} AS pd_l1,
        {unk("random() < 0.4", 0.5)} AS pik3ca_mutation,
        {
        unk(
            "list_distinct([['bone', 'liver', 'lung', 'lymph_nodes', 'brain', 'skin']"
            "[1 + CAST(floor(random() * 6) AS INT)], CASE WHEN random() < 0.5 THEN 'bone' ELSE 'lung' END])"
        )
    }
          AS metastatic_sites,
        {
        unk(
            f'''list_transform(range(CAST(floor(random() * 4) AS INT)), lambda k: {{
              'drugs': {templates}[1 + CAST(floor(random() * {len(TEMPLATES)}) AS INT)],
              'setting': CASE WHEN random() < 0.1 THEN NULL WHEN random() < 0.5 THEN 'early' ELSE 'advanced' END,
              'start_date': DATE '2018-01-01' + CAST(floor(random() * 1400) AS INT),
              'end_date': CASE WHEN random() < 0.3 THEN NULL
                          ELSE DATE '2022-01-01' + CAST(floor(random() * 700) AS INT) END}})''',
            0.1,
        )
    }
          AS prior_treatments,
        {unk("DATE '2022-06-01' + CAST(floor(random() * 900) AS INT)", 0.3)} AS recurrence_date
      FROM (SELECT range AS i, random() AS u, random() < 0.01 AS male FROM range({n}))
    ) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)
    """
    duckdb.connect().execute(sql)


# The floor: what a skilled engineer would write by hand for DuckDB. Drug names -> class bits through an ENUM
# (one hash lookup per name), counts by list filters, statuses as an ENUM (cheap to write).
HAND_SETUP = [
    "CREATE OR REPLACE TYPE hand_drug AS ENUM ({drug_names})",
    "CREATE OR REPLACE TYPE hand_status AS ENUM ('eligible', 'needs_info', 'ineligible')",
    "CREATE OR REPLACE TYPE hand_field AS ENUM ({field_names})",
]
HAND_SQL = """
WITH p AS (
  SELECT patient_id, menopausal_status, extent, local_recurrence, operable, er, pr, pd_l1, pik3ca_mutation,
    metastatic_sites, recurrence_date,
    COALESCE(her2, CASE her2_ihc WHEN '3+' THEN 'positive' WHEN '1+' THEN 'low' WHEN '0' THEN 'zero' END,
             CASE WHEN her2_ihc = '2+' AND her2_ish = 'positive' THEN 'positive'
                  WHEN her2_ihc = '2+' AND her2_ish = 'negative' THEN 'low' END) AS her2,
    list_transform(prior_treatments, lambda t: {
      'setting': t.setting, 'end_date': t.end_date,
      'codes': list_transform(t.drugs, lambda d: {drug_bits}[enum_code(TRY_CAST(lower(d) AS hand_drug)) + 1])})
      AS pt
  FROM read_parquet('{src}')
), k AS (  -- per treatment: class bits (1 anti-HER2, 2 chemo, 4 hormone, 8 taxane, 16 AI, 32 CDK4/6, 64 trastuzumab)
  SELECT *,
    list_transform(pt, lambda t: {
      'setting': t.setting, 'bits': COALESCE(list_bit_or(t.codes), 0), 'known': list_count(t.codes) = len(t.codes),
      'recent': t.setting = 'early' AND (CASE WHEN t.end_date IS NOT NULL THEN FALSE END
                                         OR CAST(t.end_date + INTERVAL 6 MONTH AS DATE) >= recurrence_date)})
      AS tt
  FROM p
), d AS (
  SELECT patient_id, menopausal_status, extent, local_recurrence, operable, pd_l1, pik3ca_mutation,
    her2, er, pr, metastatic_sites, recurrence_date, pt,
    her2 = 'positive' AS her2_pos,
    her2 IN ('low', 'zero', 'negative') AS her2_neg,
    er = 'positive' OR pr = 'positive' AS hr_pos,
    her2 IN ('low', 'zero', 'negative') AND er = 'negative' AND pr = 'negative' AS tn,
    extent IN ('locally_advanced', 'metastatic') AS adv,
    extent = 'metastatic' AS met,
    list_contains(metastatic_sites, 'bone') AS bone,
    len(tt) AS n_lo, len(tt) AS n_hi,
    len(list_filter(tt, lambda t: t.setting = 'advanced')) AS adv_lo,
    len(list_filter(tt, lambda t: t.setting IS NULL OR t.setting = 'advanced')) AS adv_hi,
    len(list_filter(tt, lambda t: t.bits & 1 <> 0)) AS h_lo,
    len(list_filter(tt, lambda t: t.bits & 1 <> 0 OR NOT t.known)) AS h_hi,
    len(list_filter(tt, lambda t: t.setting = 'advanced' AND t.bits & 2 <> 0)) AS c_lo,
    len(list_filter(tt, lambda t: COALESCE(t.setting, 'advanced') = 'advanced' AND (t.bits & 2 <> 0 OR NOT t.known)))
      AS c_hi,
    len(list_filter(tt, lambda t: t.setting = 'advanced' AND t.bits & 3 <> 0)) AS hc_lo,
    len(list_filter(tt, lambda t: COALESCE(t.setting, 'advanced') = 'advanced' AND (t.bits & 3 <> 0 OR NOT t.known)))
      AS hc_hi,
    len(list_filter(tt, lambda t: t.setting = 'advanced' AND t.bits & 4 <> 0)) AS ho_lo,
    len(list_filter(tt, lambda t: COALESCE(t.setting, 'advanced') = 'advanced' AND (t.bits & 4 <> 0 OR NOT t.known)))
      AS ho_hi,
    list_transform(tt, lambda t: t.bits) AS bits,
    list_bool_and(list_transform(tt, lambda t: t.known)) AS all_known,
    list_transform(tt, lambda t: t.recent) AS recent
  FROM k
), e AS (  -- "has had": yes if a treatment surely had it, unknown if one has a name we do not know, else no
  SELECT *,
    CASE WHEN bits IS NULL THEN NULL WHEN list_bit_or(bits) & 64 <> 0 THEN TRUE
         WHEN NOT all_known THEN NULL ELSE FALSE END AS had_tras,
    CASE WHEN bits IS NULL THEN NULL WHEN list_bit_or(bits) & 8 <> 0 THEN TRUE
         WHEN NOT all_known THEN NULL ELSE FALSE END AS had_taxane,
    CASE WHEN bits IS NULL THEN NULL WHEN list_bit_or(bits) & 16 <> 0 THEN TRUE
         WHEN NOT all_known THEN NULL ELSE FALSE END AS had_ai,
    CASE WHEN bits IS NULL THEN NULL WHEN list_bool_or(list_transform(bits, lambda b: b & 36 = 36)) THEN TRUE
         WHEN NOT all_known THEN NULL ELSE FALSE END AS had_cdk_ht,
    CASE WHEN recent IS NULL THEN NULL WHEN list_bool_or(recent) THEN TRUE
         WHEN list_bool_or(list_transform(recent, lambda r: r IS NULL)) THEN NULL ELSE FALSE END AS recurred
  FROM d
)
SELECT patient_id,
{statuses}
FROM e
"""

# each option's criteria, by hand (Kleene AND through SQL NULLs; counts as bounds)
HAND_RULES = {
    "trastuzumab": "her2_pos AND adv",
    "trastuzumab-deruxtecan": "her2_pos AND (NOT operable OR met) AND {ge2_h}",
    "tucatinib-trastuzumab-capecitabine": "her2_pos AND adv AND {ge2_h}",
    "trastuzumab-emtansine": "her2_pos AND (NOT operable OR met) AND had_tras AND had_taxane "
    "AND ({ge1_adv} OR recurred)",
    "pertuzumab-trastuzumab-docetaxel": "her2_pos AND (met OR (local_recurrence AND NOT operable)) AND {eq0_hc}",
    "lapatinib-capecitabine": "her2_pos AND adv",
    "lapatinib-aromatase-inhibitor": "her2_pos AND adv AND hr_pos AND menopausal_status = 'postmenopausal'",
    "bevacizumab-paclitaxel": "tn AND adv",
    "everolimus-exemestane": "hr_pos AND her2_neg AND adv AND menopausal_status = 'postmenopausal' AND had_ai",
    "palbociclib-aromatase-inhibitor": "hr_pos AND her2_neg AND adv AND {eq0_ho}",
    "ribociclib-aromatase-inhibitor": "hr_pos AND her2_neg AND adv AND {eq0_ho}",
    "abemaciclib-aromatase-inhibitor": "hr_pos AND her2_neg AND adv AND {eq0_ho}",
    "alpelisib-fulvestrant": "adv AND hr_pos AND her2_neg AND pik3ca_mutation AND had_cdk_ht",
    "atezolizumab-nab-paclitaxel": "tn AND (NOT operable OR met) AND {eq0_c} AND pd_l1 = 'positive'",
    "pembrolizumab-chemotherapy": "tn AND {eq0_c} AND ((local_recurrence AND NOT operable) OR met) "
    "AND pd_l1 = 'positive'",
    "sacituzumab-govitecan": "adv AND tn AND {ge2_n} AND {ge1_adv}",
    "denosumab": "bone",
}


# (b2) also writes each option's missing list, by hand: the fields its rule reads that are empty, when the option
# needs information (coarser than (a)'s lists, which name only the fields that would settle the unknown criteria)
HAND_FIELDS = {  # a word of HAND_RULES -> the input fields (column, NULL test) behind it
    "her2_pos": ["her2"],
    "her2_neg": ["her2"],
    "tn": ["her2", "er", "pr"],
    "hr_pos": ["er", "pr"],
    "adv": ["extent"],
    "met": ["extent"],
    "operable": ["operable"],
    "local_recurrence": ["local_recurrence"],
    "menopausal_status": ["menopausal_status"],
    "pd_l1": ["pd_l1"],
    "pik3ca_mutation": ["pik3ca_mutation"],
    "bone": ["metastatic_sites"],
    "recurred": ["pt", "recurrence_date"],
    "had_": ["pt"],
    "{": ["pt"],
}
FIELD_NAMES = {"pt": "prior_treatments"}


def _missing_list(rule: str) -> str:
    fields = sorted({f for word, fs in HAND_FIELDS.items() if word in rule for f in fs})
    items = ", ".join(f"CASE WHEN {f} IS NULL THEN '{FIELD_NAMES.get(f, f)}'::hand_field END" for f in fields)
    return f"list_filter([{items}], lambda f: f IS NOT NULL)"


def _bounds(lo: str, hi: str, op: str, k: int) -> str:
    if op == ">=":
        return f"(CASE WHEN {lo} >= {k} THEN TRUE WHEN {hi} < {k} THEN FALSE END)"
    return f"(CASE WHEN {hi} = 0 THEN TRUE WHEN {lo} > 0 THEN FALSE END)"


def hand_written_sql(kb: KnowledgeBase, src: Path, lists: bool = False) -> tuple[list[str], str]:
    """The setup statements and the query of (b); ``lists``: (b2), with each option's missing list too."""
    counts = {
        "ge2_h": _bounds("h_lo", "h_hi", ">=", 2),
        "ge1_adv": _bounds("adv_lo", "adv_hi", ">=", 1),
        "ge2_n": _bounds("n_lo", "n_hi", ">=", 2),
        "eq0_hc": _bounds("hc_lo", "hc_hi", "==", 0),
        "eq0_ho": _bounds("ho_lo", "ho_hi", "==", 0),
        "eq0_c": _bounds("c_lo", "c_hi", "==", 0),
    }
    statuses = ",\n".join(
        f"  CASE WHEN ({rule.format(**counts)}) THEN 'eligible'::hand_status "
        f"WHEN NOT ({rule.format(**counts)}) THEN 'ineligible'::hand_status "
        f"ELSE 'needs_info'::hand_status END AS \"{rid}\""
        + (
            f",\n  CASE WHEN ({rule.format(**counts)}) IS NULL THEN {_missing_list(rule)} "
            f'ELSE []::hand_field[] END AS "{rid}__missing"'
            if lists
            else ""
        )
        for rid, rule in HAND_RULES.items()
    )
    classes: list[Callable[[Drug], bool]] = [
        lambda d: "anti_her2" in d.classes,
        lambda d: "chemotherapy" in d.classes,
        lambda d: "hormone_therapy" in d.classes,
        lambda d: "taxane" in d.classes,
        lambda d: "aromatase_inhibitor" in d.classes,
        lambda d: "cdk4_6_inhibitor" in d.classes,
        lambda d: d.id == "trastuzumab" or "trastuzumab" in d.components,
    ]
    bits: dict[str, int] = {}
    for d in kb.drugs.values():
        for name in [d.id, d.name, *d.brands]:
            key = name.lower().replace("-", " ")
            bits[key] = bits.get(key, 0) | sum(1 << i for i, has in enumerate(classes) if has(d))
    names = sorted(bits)
    values = {
        "src": str(src),
        "statuses": statuses,
        "drug_names": ", ".join("'" + n.replace("'", "''") + "'" for n in names),
        "drug_bits": "[" + ", ".join(str(bits[n]) for n in names) + "]",
        "field_names": ", ".join(sorted({f"'{FIELD_NAMES.get(f, f)}'" for fs in HAND_FIELDS.values() for f in fs})),
    }
    setup = list(HAND_SETUP)
    sql = HAND_SQL
    for key, value in values.items():
        sql = sql.replace("{" + key + "}", value)
        setup = [s.replace("{" + key + "}", value) for s in setup]
    return setup, sql


def hand_written(kb: KnowledgeBase, src: Path, out: Path, repeat: int, lists: bool = False) -> float:
    """The fastest of ``repeat`` runs of (b) (or (b2), ``lists``), in seconds, in this process."""
    setup, sql = hand_written_sql(kb, src, lists)
    times = []
    for _ in range(repeat):
        con = duckdb.connect(config={"preserve_insertion_order": "false"})  # as mbcnav screen does
        start = time.perf_counter()
        for statement in setup:
            con.execute(statement)
        con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
        times.append(time.perf_counter() - start)
        con.close()
    return min(times)


def disagreements(kb: KnowledgeBase, a: Path, b: Path) -> int:
    """How many (patient, option) statuses differ between the outputs of (a) and (b), patient by patient."""
    differ = " + ".join(f'CAST(a."{rid}" IS DISTINCT FROM b."{rid}" AS INT)' for rid in kb.regimens)
    both = f"read_parquet('{a}') a JOIN read_parquet('{b}') b USING (patient_id)"
    row = duckdb.connect().execute(f"SELECT COALESCE(sum({differ}), 0) FROM {both}").fetchone()
    return int(row[0]) if row else -1


def rows_of(src: Path, limit: int) -> list[dict[str, Any]]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{src}') LIMIT {limit}")
    assert rel is not None
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def profile_json(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k == "patient_id" or v is None:
            continue
        if isinstance(v, date):
            v = v.isoformat()
        if k == "prior_treatments":
            v = [{a: (b.isoformat() if isinstance(b, date) else b) for a, b in t.items() if b is not None} for t in v]
        out[k] = v
    return out


def python_evaluator(kb: KnowledgeBase, rows: list[dict[str, Any]]) -> float:
    """Per patient: read the profile, run every option's compiled criteria, status and missing fields."""
    start = time.perf_counter()
    for row in rows:
        try:
            profile = parse_profile(profile_json(row), kb)
        except ProfileError:
            continue
        ctx = Context(profile.values, profile.hints)
        for reg in kb.regimens.values():
            results = [c.rule.fn(ctx) for c in reg.criteria]
            if any(v is False for v, _ in results):
                continue
            missing: set[str] = set()
            for v, m in results:
                if v is None:
                    missing |= m
    return time.perf_counter() - start


CEL_DERIVED = {
    "her2_pos": 'p.her2 == "positive"',
    "her2_neg": 'p.her2 in ["low", "zero", "negative"]',
    "hr_pos": '(p.er == "positive" || p.pr == "positive")',
    "tn": '(p.her2 in ["low", "zero", "negative"] && p.er == "negative" && p.pr == "negative")',
    "adv": 'p.extent in ["locally_advanced", "metastatic"]',
    "met": 'p.extent == "metastatic"',
    "post": 'p.menopausal_status == "postmenopausal"',
    "n_h": 'p.prior.filter(t, "anti_her2" in t.classes).size()',
    "n_adv": 'p.prior.filter(t, t.setting == "advanced").size()',
    "n_hc": 'p.prior.filter(t, t.setting == "advanced" && ("anti_her2" in t.classes '
    '|| "chemotherapy" in t.classes)).size()',
    "n_ho": 'p.prior.filter(t, t.setting == "advanced" && "hormone_therapy" in t.classes).size()',
    "n_c": 'p.prior.filter(t, t.setting == "advanced" && "chemotherapy" in t.classes).size()',
}
CEL_RULES = {
    "trastuzumab": "{her2_pos} && {adv}",
    "trastuzumab-deruxtecan": "{her2_pos} && (!p.operable || {met}) && {n_h} >= 2",
    "tucatinib-trastuzumab-capecitabine": "{her2_pos} && {adv} && {n_h} >= 2",
    "trastuzumab-emtansine": '{her2_pos} && (!p.operable || {met}) && p.prior.exists(t, "trastuzumab" in t.ids) '
    '&& p.prior.exists(t, "taxane" in t.classes) && {n_adv} >= 1',
    "pertuzumab-trastuzumab-docetaxel": "{her2_pos} && ({met} || (p.local_recurrence && !p.operable)) && {n_hc} == 0",
    "lapatinib-capecitabine": "{her2_pos} && {adv}",
    "lapatinib-aromatase-inhibitor": "{her2_pos} && {adv} && {hr_pos} && {post}",
    "bevacizumab-paclitaxel": "{tn} && {adv}",
    "everolimus-exemestane": "{hr_pos} && {her2_neg} && {adv} && {post} "
    '&& p.prior.exists(t, "aromatase_inhibitor" in t.classes)',
    "palbociclib-aromatase-inhibitor": "{hr_pos} && {her2_neg} && {adv} && {n_ho} == 0",
    "ribociclib-aromatase-inhibitor": "{hr_pos} && {her2_neg} && {adv} && {n_ho} == 0",
    "abemaciclib-aromatase-inhibitor": "{hr_pos} && {her2_neg} && {adv} && {n_ho} == 0",
    "alpelisib-fulvestrant": "{adv} && {hr_pos} && {her2_neg} && p.pik3ca_mutation && p.prior.exists(t, "
    '"cdk4_6_inhibitor" in t.classes && "hormone_therapy" in t.classes)',
    "atezolizumab-nab-paclitaxel": '{tn} && (!p.operable || {met}) && {n_c} == 0 && p.pd_l1 == "positive"',
    "pembrolizumab-chemotherapy": "{tn} && {n_c} == 0 && ((p.local_recurrence && !p.operable) || {met}) "
    '&& p.pd_l1 == "positive"',
    "sacituzumab-govitecan": "{adv} && {tn} && p.prior.size() >= 2 && {n_adv} >= 1",
    "denosumab": '"bone" in p.metastatic_sites',
}


def cel_engine(kb: KnowledgeBase, rows: list[dict[str, Any]]) -> float:
    """CEL, compiled once per option; per patient: a dict with drug classes looked up, every option run.
    Two-valued: an unknown fact (absent key) makes the option not eligible; errors count as not eligible."""
    import cel

    programs = [cel.compile(rule.format(**CEL_DERIVED)) for rule in CEL_RULES.values()]
    defaults = {
        "her2": "",
        "er": "",
        "pr": "",
        "extent": "",
        "menopausal_status": "",
        "pd_l1": "",
        "operable": True,
        "local_recurrence": False,
        "pik3ca_mutation": False,
        "metastatic_sites": [],
    }
    start = time.perf_counter()
    for row in rows:
        prior = []
        for t in row.get("prior_treatments") or []:
            drugs = [kb.find_drug(name) for name in t["drugs"]]
            prior.append(
                {
                    "setting": t["setting"] or "",
                    "classes": sorted({c for d in drugs if d for c in d.classes}),
                    "ids": sorted({i for d in drugs if d for i in [d.id, *d.components]}),
                }
            )
        p = {**defaults, **{k: v for k, v in row.items() if v is not None and not isinstance(v, date | list)}}
        p["metastatic_sites"] = row.get("metastatic_sites") or []
        p["prior"] = prior
        ctx = {"p": p}
        for program in programs:
            with contextlib.suppress(Exception):  # a rule engine's error is "not eligible" here
                program.execute(ctx)
    return time.perf_counter() - start


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall time of a subprocess and its peak resident memory (KiB, from the kernel's accounting)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    return elapsed, max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=20_000, help="rows for the per-patient engines (c, d)")
    ap.add_argument("--only", default="abcde", help="which measurements to run, e.g. 'ab'")
    ap.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); the fastest counts (default 3)")
    ap.add_argument("--measure-memory", action="store_true", help="report the peak RSS of the (a) process")
    ap.add_argument("--workdir", type=Path, help="keep files here (default: a temporary folder)")
    args = ap.parse_args()
    kb = default_knowledge()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        src = work / f"cohort-{args.patients}.parquet"
        n = args.patients
        if not src.exists():
            t = time.perf_counter()
            generate(src, n)
            print(f"generated {n} patients in {time.perf_counter() - t:.1f}s: {src}")
        speed: dict[str, float] = {}
        extra: dict[str, Any] = {}
        if "a" in args.only:
            # the first run compiles the plan and caches it (as a user's first screening does); later runs read it
            plans = work / "plans"
            shutil.rmtree(plans, ignore_errors=True)
            os.environ[CACHE_ENV] = str(plans)
            runs = [
                timed([MBCNAV, "screen", str(src), "--out", str(work / "a.parquet"), "--format", "json"])
                for _ in range(max(args.repeat, 2))
            ]
            elapsed, rss = min(r[0] for r in runs[1:]), max(r[1] for r in runs)
            speed["a_mbcnav_duckdb"] = n / elapsed
            extra["a_seconds"] = round(elapsed, 3)
            extra["a_first_run_seconds"] = round(runs[0][0], 3)
            if args.measure_memory:
                extra["a_peak_rss_mb"] = round(rss / 1024, 1)
                print(f"(a) peak RSS: {rss / 1024:.0f} MB")
            # the fixed part of (a): start-up, reading the plan, DuckDB planning the queries, on one patient
            one = work / "cohort-1.parquet"
            if not one.exists():
                generate(one, 1)
            extra["a_fixed_seconds"] = round(
                min(timed([MBCNAV, "screen", str(one), "--out", str(work / "a1.parquet")])[0] for _ in range(4)), 3
            )
            # the rate once started: what a larger cohort approaches (not the figure the targets are about)
            extra["a_patients_per_s_after_start"] = round(n / max(elapsed - extra["a_fixed_seconds"], 1e-9))
        if "b" in args.only:
            elapsed = hand_written(kb, src, work / "b.parquet", args.repeat)
            speed["b_hand_written_duckdb"] = n / elapsed
            extra["b_seconds"] = round(elapsed, 3)
            # (b2): the same with the missing lists, the output's other half
            extra["b2_with_lists_seconds"] = round(hand_written(kb, src, work / "b2.parquet", args.repeat, True), 3)
            if "a" in args.only:
                extra["a/b2"] = round(extra["b2_with_lists_seconds"] / extra["a_seconds"], 3)
            if "a" in args.only:  # the floor must be the same criteria: count the statuses where it differs
                extra["b_statuses_differing_from_a"] = disagreements(kb, work / "a.parquet", work / "b.parquet")
        sample = rows_of(src, min(args.sample, n)) if ("c" in args.only or "d" in args.only) else []
        if "c" in args.only:
            speed["c_python_evaluator"] = len(sample) / python_evaluator(kb, sample)
        if "d" in args.only:
            speed["d_cel_rule_engine"] = len(sample) / cel_engine(kb, sample)
        if "e" in args.only:
            from mbc_navigator.screen import spark_engine

            spark_engine.session(None)
            start = time.perf_counter()
            spark_engine.screen(kb, src, work / "e.parquet")
            elapsed = time.perf_counter() - start
            speed["e_spark_local"] = n / elapsed
            extra["e_seconds"] = round(elapsed, 3)
        for name, value in speed.items():
            print(f"{name:24} {value:>14,.0f} patients/s")
        result: dict[str, Any] = {
            "patients": n,
            "cores": os.cpu_count(),
            "patients_per_s": {k: round(v) for k, v in speed.items()},
        }
        a = speed.get("a_mbcnav_duckdb")
        for key, other in (
            ("a/b", "b_hand_written_duckdb"),
            ("a/c", "c_python_evaluator"),
            ("a/d", "d_cel_rule_engine"),
        ):
            if a and other in speed:
                result[key] = round(a / speed[other], 3)
        result.update(extra)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
