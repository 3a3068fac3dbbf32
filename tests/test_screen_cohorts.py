"""Random cohorts for the screening tests (hypothesis), and the Python evaluator's answer for each row."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from mbc_navigator.engine import assess
from mbc_navigator.knowledge import KnowledgeBase, default_knowledge
from mbc_navigator.profile import ProfileError, parse_profile
from tests.conftest import TODAY

KB = default_knowledge()
FACTS = {f.name: f for f in KB.facts.base}
DRUG_NAMES = [
    "trastuzumab",
    "Herceptin",
    "Kadcyla",
    "pertuzumab",
    "docetaxel",
    "paclitaxel",
    "capecitabine",
    "letrozole",
    "exemestane",
    "tamoxifen",
    "palbociclib",
    "Ibrance",
    "fulvestrant",
    "epirubicin",
    "Trastuzumab-Deruxtecan",
    "  Enhertu ",
    "Trastuzumab\u00a0deruxtecan",  # a no-break space, as pasted from a web page
    "letrozole\u2003",
    "Unknownumab",
]
DATES = [date(2021, 12, 31), date(2022, 1, 15), date(2022, 8, 31), date(2023, 2, 28), date(2023, 6, 30)]
BAD = "bogus"

TREATMENT_TYPE = pa.struct(
    [
        ("drugs", pa.list_(pa.string())),
        ("setting", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("ongoing", pa.bool_()),
    ]
)


def treatment(clean: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    settings = ["early", "advanced"] if clean else ["early", "advanced", "Advanced"]
    return st.fixed_dictionaries(
        {
            "drugs": st.lists(st.sampled_from(DRUG_NAMES), min_size=1, max_size=3),
            "setting": st.one_of(st.none(), st.sampled_from(settings)),
            "start_date": st.one_of(st.none(), st.sampled_from(DATES[:2])),
            "end_date": st.one_of(st.none(), st.sampled_from(DATES)),
            "ongoing": st.one_of(st.none(), st.booleans()),
        }
    )


FIELDS = {
    name: (
        st.sampled_from(fact.values)
        if fact.type == "enum"
        else st.booleans()
        if fact.type == "bool"
        else st.sampled_from(DATES)
        if fact.type == "date"
        else st.lists(st.sampled_from(fact.values), max_size=3, unique=True)
        if fact.type == "enum_list"
        else st.lists(treatment(), max_size=3)
    )
    for name, fact in FACTS.items()
}
INVALID = {"enum": BAD, "enum_list": [BAD], "treatments": [{"drugs": [], "setting": "advanced"}]}


def consistent(t: dict[str, Any]) -> dict[str, Any]:
    """A treatment the reader takes: not ongoing with an end date, not ending before it starts."""
    if t["ongoing"]:
        t = {**t, "end_date": None}
    if t["start_date"] and t["end_date"] and t["end_date"] < t["start_date"]:
        t = {**t, "start_date": t["end_date"], "end_date": t["start_date"]}
    return t


@st.composite
def patient(draw: st.DrawFn, invalid: bool = True, clean: bool = False) -> dict[str, Any]:
    """Every field known or unknown; contradictions (HER2 tests, early with sites, men) are kept rare, and with
    ``invalid`` one row in six gets one value that is not allowed. ``clean``: every value exactly as the reader
    spells it and no contradiction (the rows a cohort survey lets through unchecked)."""
    fields = {**FIELDS, "prior_treatments": st.lists(treatment(clean).map(consistent), max_size=3)} if clean else FIELDS
    row = {name: draw(st.one_of(st.none(), strategy, strategy)) for name, strategy in fields.items()}
    if clean or draw(st.integers(0, 9)) > 0:
        row["her2_ish"] = None if row["her2_ihc"] in ("3+", "1+", "0") else row["her2_ish"]
        if row["her2_ihc"] is not None or row["her2_ish"] is not None:
            row["her2"] = None
        if row["sex"] == "male":
            row["menopausal_status"] = None
        if row["extent"] == "early":
            row["metastatic_sites"] = None
    if invalid and draw(st.integers(0, 5)) == 0:
        name = draw(st.sampled_from([n for n in FACTS if FACTS[n].type in INVALID]))
        row[name] = INVALID[FACTS[name].type]
    return row


def cohorts(max_size: int = 25, invalid: bool = True, clean: bool = False) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(patient(invalid and not clean, clean), min_size=1, max_size=max_size).map(
        lambda rows: [{"patient_id": f"p{i}", **row} for i, row in enumerate(rows)]
    )


def write_parquet(rows: list[dict[str, Any]], path: Path, columns: set[str] | None = None) -> None:
    """The rows as Parquet with native types; ``columns``: only these profile fields (the rest left out)."""
    schema = [pa.field("patient_id", pa.string())]
    for name, fact in FACTS.items():
        if columns is not None and name not in columns:
            continue
        kind = {
            "enum": pa.string(),
            "bool": pa.bool_(),
            "date": pa.date32(),
            "enum_list": pa.list_(pa.string()),
            "treatments": pa.list_(TREATMENT_TYPE),
        }[fact.type]
        schema.append(pa.field(name, kind))
    names = {f.name for f in schema}
    table = [{k: v for k, v in row.items() if k in names} for row in rows]
    pq.write_table(pa.Table.from_pylist(table, schema=pa.schema(schema)), path)


def profile_json(row: dict[str, Any]) -> dict[str, Any]:
    """A cohort row as the profile JSON the per-patient reader takes (None = left out)."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name == "patient_id" or value is None:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        if name == "prior_treatments":
            value = [
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in t.items() if v is not None} for t in value
            ]
        out[name] = value
    return out


def expected(row: dict[str, Any], kb: KnowledgeBase = KB) -> dict[str, tuple[str, list[str]]] | None:
    """The Python evaluator's (status, missing) per regimen, or None when the reader refuses the row."""
    try:
        profile = parse_profile(profile_json(row), kb)
    except ProfileError:
        return None
    return {o["id"]: (o["status"], o["missing"]) for o in assess(profile, kb, today=TODAY)["options"]}


def test_rows_convert_to_profiles_the_reader_accepts() -> None:
    """The helpers above speak the reader's language: a plain valid row is read, a bogus value is refused."""
    row = {"patient_id": "p", "her2": "positive", "prior_treatments": [{"drugs": ["Herceptin"], "setting": None}]}
    assert expected(row) is not None
    assert expected({**row, "her2": BAD}) is None


def random_cohort(seed: int, size: int) -> list[dict[str, Any]]:
    """A seeded random cohort drawn like ``patient()`` (for engines too slow to start per hypothesis example)."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.3 else value

    def one_treatment() -> dict[str, Any]:
        return {
            "drugs": rng.sample(DRUG_NAMES, rng.randint(1, 3)),
            "setting": maybe(rng.choice(["early", "advanced", "Advanced"])),
            "start_date": maybe(rng.choice(DATES[:2])),
            "end_date": maybe(rng.choice(DATES)),
            "ongoing": maybe(rng.choice([True, False])),
        }

    rows = []
    for i in range(size):
        row: dict[str, Any] = {"patient_id": f"p{i}"}
        for name, fact in FACTS.items():
            value: Any
            if fact.type == "enum":
                value = rng.choice(fact.values)
            elif fact.type == "bool":
                value = rng.choice([True, False])
            elif fact.type == "date":
                value = rng.choice(DATES)
            elif fact.type == "enum_list":
                value = rng.sample(fact.values, rng.randint(0, 3))
            else:
                value = [one_treatment() for _ in range(rng.randint(0, 3))]
            row[name] = maybe(value)
        if rng.random() < 0.9:
            row["her2_ish"] = None if row["her2_ihc"] in ("3+", "1+", "0") else row["her2_ish"]
            if row["her2_ihc"] is not None or row["her2_ish"] is not None:
                row["her2"] = None
            row["menopausal_status"] = None if row["sex"] == "male" else row["menopausal_status"]
            row["metastatic_sites"] = None if row["extent"] == "early" else row["metastatic_sites"]
        if rng.random() < 0.15:
            name = rng.choice([n for n in FACTS if FACTS[n].type in INVALID])
            row[name] = INVALID[FACTS[name].type]
        rows.append(row)
    return rows
