"""Read a profile from JSON-like data, checking every field against the facts catalogue (``facts.yaml``).

Missing or null fields are unknown; an empty list is a known "none". Every problem is collected and named by
its field with what is allowed, so a person can fix them all at once.
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import BaseFact, TreatmentField
from mbc_navigator.profile import her2 as her2_rules
from mbc_navigator.profile.model import FieldProblem, Profile, ProfileError
from mbc_navigator.rules import DrugRef, Treatment

TREATMENT_KEYS = ("drugs", "setting", "start_date", "end_date", "ongoing")


def parse_profile(raw: Any, kb: KnowledgeBase) -> Profile:
    """Validate ``raw`` (decoded JSON) into a Profile, or raise ``ProfileError`` listing every problem."""
    problems: list[FieldProblem] = []
    if not isinstance(raw, dict):
        kind = _kind(raw)
        raise ProfileError([FieldProblem("(profile)", f"must be a JSON object {{...}}, not {kind}")])
    facts = kb.memo("profile.base_facts", _base_facts)
    given: dict[str, Any] = {}
    values: dict[str, Any] = {}
    warnings: list[dict[str, Any]] = []

    for key, value in raw.items():
        spec = facts.get(key)
        if spec is None:
            problems.append(FieldProblem(key, _unknown_key(key, list(facts))))
            continue
        if value is None:
            continue
        if spec.type == "treatments":
            parsed = _treatments(value, kb, problems, warnings)
            if parsed is not None:
                given[key] = [t for t, _ in parsed]
                values[key] = tuple(t for _, t in parsed)
            continue
        ok = _scalar(spec, value, key, problems)
        if ok is not None:
            given[key] = sorted(ok) if isinstance(ok, frozenset) else ok.isoformat() if isinstance(ok, date) else ok
            values[key] = ok

    hints: dict[str, frozenset[str]] = {}
    if not problems:
        _her2(given, values, hints, problems)
        _consistency(given, problems)
    if problems:
        raise ProfileError(problems)
    return Profile(given=given, values=values, hints=hints, warnings=warnings)


def _base_facts(kb: KnowledgeBase) -> dict[str, BaseFact]:
    return {f.name: f for f in kb.facts.base}


def _treatment_fields(kb: KnowledgeBase) -> dict[str, TreatmentField]:
    return {f.name: f for f in kb.facts.treatment_fields}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _unknown_key(key: str, allowed: list[str]) -> str:
    prefixes = sorted((a for a in allowed if key.startswith(a + "_") or a.startswith(key)), key=len)
    close = prefixes[-1:] or difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"is not a profile field.{hint} Allowed fields: {', '.join(allowed)}"


def _allowed(spec: BaseFact | TreatmentField) -> str:
    return ", ".join(spec.values)


def _scalar(spec: BaseFact | TreatmentField, value: Any, where: str, problems: list[FieldProblem]) -> Any:
    """One value of a fact; None (with a problem recorded) when it is not allowed."""
    match spec.type:
        case "enum":
            if isinstance(value, str) and (v := value.strip().lower()) in spec.values:
                return v
            problems.append(FieldProblem(where, f"{value!r} is not allowed; use one of: {_allowed(spec)}"))
        case "bool":
            if isinstance(value, bool):
                return value
            problems.append(FieldProblem(where, f"must be true or false, not {_kind(value)} {value!r}"))
        case "date":
            return _date(value, where, problems)
        case "enum_list":
            if not isinstance(value, list):
                problems.append(FieldProblem(where, f"must be a list of: {_allowed(spec)}; not {_kind(value)}"))
                return None
            out = set()
            for i, item in enumerate(value):
                if isinstance(item, str) and (v := item.strip().lower()) in spec.values:
                    out.add(v)
                else:
                    problems.append(
                        FieldProblem(f"{where}[{i}]", f"{item!r} is not allowed; use one of: {_allowed(spec)}")
                    )
            return frozenset(out)
    return None


def _date(value: Any, where: str, problems: list[FieldProblem]) -> date | None:
    if not isinstance(value, str):
        problems.append(FieldProblem(where, f"must be a date as text, YYYY-MM-DD; not {_kind(value)}"))
        return None
    parts = value.strip().split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or [len(p) for p in parts] != [4, 2, 2]:
        problems.append(FieldProblem(where, f"{value!r} is not a date in the form YYYY-MM-DD"))
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        problems.append(FieldProblem(where, f"{value!r} is not a real date"))
        return None


def _treatments(
    value: Any, kb: KnowledgeBase, problems: list[FieldProblem], warnings: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], Treatment]] | None:
    where = "prior_treatments"
    if not isinstance(value, list):
        problems.append(FieldProblem(where, f"must be a list of treatments, not {_kind(value)}"))
        return None
    fields = kb.memo("profile.treatment_fields", _treatment_fields)
    out = []
    for i, item in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.append(
                FieldProblem(
                    here,
                    f'must be an object like {{"drugs": ["trastuzumab"], "setting": "advanced"}}, not {_kind(item)}',
                )
            )
            continue
        n_before = len(problems)
        for key in item:
            if key not in TREATMENT_KEYS:
                problems.append(FieldProblem(f"{here}.{key}", _unknown_key(key, list(TREATMENT_KEYS))))
        drugs = _drugs(item.get("drugs"), f"{here}.drugs", kb, problems, warnings)
        parsed = {
            name: _scalar(spec, item[name], f"{here}.{name}", problems)
            for name, spec in fields.items()
            if item.get(name) is not None
        }
        start, end, ongoing = parsed.get("start_date"), parsed.get("end_date"), parsed.get("ongoing")
        if start and end and end < start:
            problems.append(FieldProblem(f"{here}.end_date", f"{end} is before start_date {start}"))
        if ongoing is True and end is not None:
            problems.append(FieldProblem(f"{here}.ongoing", "is true but an end_date is given; leave one of them out"))
        if len(problems) > n_before or drugs is None:
            continue
        if ongoing is None and end is not None:
            ongoing = False  # an end date means it has ended
        given: dict[str, Any] = {"drugs": [d.name for d in drugs]}
        given.update({k: (v.isoformat() if isinstance(v, date) else v) for k, v in parsed.items()})
        out.append((given, Treatment(drugs, parsed.get("setting"), start, end, ongoing)))
    return out


def _drugs(
    value: Any, where: str, kb: KnowledgeBase, problems: list[FieldProblem], warnings: list[dict[str, Any]]
) -> tuple[DrugRef, ...] | None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(FieldProblem(where, 'must be a non-empty list of drug names, e.g. ["trastuzumab"]'))
        return None
    refs = []
    for i, name in enumerate(value):
        drug = kb.find_drug(name)
        if drug is None:
            warnings.append(
                {
                    "kind": "unrecognised_drug",
                    "field": f"{where}[{i}]",
                    "message": (
                        f"{name.strip()!r} is not a drug this knowledge base knows, so the facts that depend on "
                        "its kind of drug (for example earlier chemotherapy) are unknown, not guessed."
                    ),
                }
            )
            refs.append(DrugRef(name.strip(), None, None, None))
            continue
        ids = frozenset({drug.id, *drug.components})
        refs.append(DrugRef(drug.name, drug.id, ids, frozenset(drug.classes)))
    return tuple(refs)


def _her2(
    given: dict[str, Any],
    values: dict[str, Any],
    hints: dict[str, frozenset[str]],
    problems: list[FieldProblem],
) -> None:
    """Derive HER2 status from IHC/ISH, and refuse a stated status that the test results contradict."""
    ihc, ish, stated = given.get("her2_ihc"), given.get("her2_ish"), given.get("her2")
    if her2_rules.discordant(ihc, ish):
        problems.append(
            FieldProblem(
                "her2_ish",
                f"{ish!r} disagrees with her2_ihc {ihc!r}; ask your care team how they read these results, and give "
                "only 'her2' with their reading",
            )
        )
        return
    by_tests = her2_rules.allowed_by_tests(ihc, ish)
    if stated is not None:
        allowed = her2_rules.STATED[stated]
        if not (allowed & by_tests):
            tests = ", ".join(f"{k} {v}" for k, v in (("her2_ihc", ihc), ("her2_ish", ish)) if v is not None)
            possible = her2_rules.status(by_tests) or " or ".join(sorted(by_tests))
            problems.append(
                FieldProblem("her2", f"{stated!r} contradicts the test results ({tests}), which read as {possible}")
            )
            return
        settled = allowed & by_tests
    else:
        settled = by_tests
    value = her2_rules.status(settled)
    if value is not None:
        values["her2"] = value
    elif ihc == "2+" and ish is None:
        hints["her2"] = frozenset({"her2_ish"})


def _consistency(given: dict[str, Any], problems: list[FieldProblem]) -> None:
    """Facts that cannot all be true at once."""
    if given.get("extent") == "early" and given.get("metastatic_sites"):
        problems.append(
            FieldProblem(
                "metastatic_sites",
                "lists places the cancer has spread to, but extent is 'early'; "
                "use extent 'metastatic', or leave metastatic_sites out",
            )
        )
    if given.get("sex") == "male" and given.get("menopausal_status") is not None:
        problems.append(FieldProblem("menopausal_status", "is given for a man; leave it out"))
