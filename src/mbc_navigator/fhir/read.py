"""A FHIR R4 Bundle -> the profile JSON that ``parse_profile`` takes, with provenance and the codes not understood.

Rules: a fact the record does not state stays unknown (a genomic report that does not mention PIK3CA is not a
negative result; menopause is never inferred from age); results that disagree are not chosen between: the field
stays unknown and the disagreement is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mbc_navigator.fhir import medications, resources
from mbc_navigator.fhir.codes import tables
from mbc_navigator.fhir.collect import Collected, Fact
from mbc_navigator.fhir.validate import FhirError, label, parse_json, validate_bundle
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import FieldProblem, ProfileError, parse_profile

__all__ = ["FhirError", "FhirReading", "read_bundle", "read_bundle_text"]

HER2_FIELDS = ("her2", "her2_ihc", "her2_ish")
SKIP_STATUS = {"entered-in-error"}


@dataclass
class FhirReading:
    """The profile read from a bundle, and what the output says about where each fact came from."""

    profile: dict[str, Any]
    provenance: dict[str, list[dict[str, Any]]]
    unrecognised: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    notes: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "unrecognised": self.unrecognised,
            "conflicts": self.conflicts,
            "notes": self.notes,
        }


def read_bundle_text(text: str, kb: KnowledgeBase, name: str = "the bundle") -> FhirReading:
    """Read a bundle from JSON text; ``FhirError`` names the bad resource and path."""
    return read_bundle(parse_json(text, name), kb)


def _entries(bundle: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    out = []
    for i, entry in enumerate(bundle.get("entry") or []):
        res = entry.get("resource")
        if isinstance(res, dict):
            out.append((res, label(res, i)))
    return out


def read_bundle(raw: Any, kb: KnowledgeBase) -> FhirReading:
    """Validate ``raw`` as an R4 Bundle and read it into a profile."""
    bundle = validate_bundle(raw)
    t = tables()
    out = Collected()
    entries = _entries(bundle)
    index: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(bundle.get("entry") or []):
        res = entry.get("resource")
        if isinstance(res, dict):
            index[f"{res.get('resourceType')}/{res.get('id')}"] = res
            if entry.get("fullUrl"):
                index[str(entry["fullUrl"])] = res
            index[f"#entry{i}"] = res
    records = []
    mine = _patient_refs(bundle)
    for res, name in entries:
        kind = res.get("resourceType")
        ref = _subject(res)
        if ref is not None and mine is not None and not any(ref == m or ref.endswith("/" + m) for m in mine):
            out.note(name, "subject", f"about another patient ({ref}): not read")
        elif res.get("status") in SKIP_STATUS:
            out.note(name, "status", "entered in error: not read")
        elif kind == "Patient":
            resources.patient(res, name, out)
        elif kind == "Condition":
            resources.condition(res, name, t, out)
        elif kind == "Observation":
            resources.observation(res, name, t, out)
        elif kind in medications.KINDS:
            rec = medications.record(res, name, kb, t, index, out)
            if rec is not None:
                records.append(rec)
    return _settle(out, records, kb)


def _subject(res: dict[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = (res.get(key) or {}).get("reference") if isinstance(res.get(key), dict) else None
        if isinstance(ref, str):
            return ref
    return None


def _patient_refs(bundle: dict[str, Any]) -> set[str] | None:
    """How resources may refer to the bundle's one patient; None when the bundle has no Patient.

    A bundle about more than one patient is refused: facts of two people must never be mixed."""
    patients = [e for e in bundle.get("entry") or [] if (e.get("resource") or {}).get("resourceType") == "Patient"]
    ids = {str(e["resource"].get("id") or e.get("fullUrl") or "") for e in patients}
    if len(ids) > 1:
        raise FhirError(
            [FieldProblem("Bundle.entry", f"holds {len(ids)} patients ({', '.join(sorted(ids))}); give one patient")]
        )
    if not patients:
        return None
    entry = patients[0]
    refs = {f"Patient/{entry['resource'].get('id')}"} if entry["resource"].get("id") else set()
    if entry.get("fullUrl"):
        refs.add(str(entry["fullUrl"]))
    return refs


def _settle(out: Collected, records: list[medications.Record], kb: KnowledgeBase) -> FhirReading:
    profile: dict[str, Any] = {}
    provenance: dict[str, list[dict[str, Any]]] = {}
    conflicts: list[dict[str, Any]] = []
    for name, facts in out.facts.items():
        provenance[name] = [f.as_dict() for f in facts]
        values = {_key(f.value) for f in facts}
        if name == "metastatic_sites":
            if out.sites_unsettled:
                out.note(
                    ", ".join(out.sites_unsettled),
                    "code",
                    "a secondary cancer whose place is not known: metastatic_sites left unknown",
                )
            else:
                profile[name] = sorted(values)
        elif name == "recurrence_date":
            profile[name] = min(values)
        elif len(values) == 1:
            profile[name] = facts[0].value
        elif name == "menopausal_status" and (latest := _latest(facts)) is not None:
            profile[name] = latest.value  # it changes with time: the most recent record holds
            out.note(latest.resource, latest.path, "menopausal status changed over time: the most recent is used")
        else:
            conflicts.append(_conflict(name, facts))
    _her2_consistent(profile, provenance, conflicts, kb)
    spread = profile.get("recurrence_date")
    if records:
        items = medications.treatments(records, spread)
        profile["prior_treatments"] = [item for item, _ in items]
        for i, (_, prov) in enumerate(items):
            provenance[f"prior_treatments[{i}]"] = prov
    return FhirReading(profile, provenance, out.unrecognised, conflicts, out.notes)


def _latest(facts: list[Fact]) -> Fact | None:
    """The fact with the latest date, when every fact is dated and one date is the latest."""
    if not all(f.when for f in facts):
        return None
    ordered = sorted(facts, key=lambda f: str(f.when))
    return ordered[-1] if ordered[-1].when != ordered[-2].when else None


def _key(value: Any) -> Any:
    return value if not isinstance(value, list) else tuple(value)


def _conflict(name: str, facts: list[Fact]) -> dict[str, Any]:
    return {
        "field": name,
        "message": "the record holds results that disagree; the field is left unknown: ask the care team which holds",
        "results": [f.as_dict() for f in facts],
    }


def _her2_consistent(
    profile: dict[str, Any],
    provenance: dict[str, list[dict[str, Any]]],
    conflicts: list[dict[str, Any]],
    kb: KnowledgeBase,
) -> None:
    """HER2 status, IHC and ISH read together by the project's HER2 rules; if they disagree, none is used."""
    given = {k: profile[k] for k in HER2_FIELDS if k in profile}
    if len(given) < 2:
        return
    try:
        parse_profile(given, kb)
    except ProfileError as exc:
        for k in given:
            del profile[k]
        conflicts.append(
            {
                "field": "her2",
                "message": "the HER2 results disagree ("
                + "; ".join(p.message for p in exc.problems)
                + "); HER2 is left unknown: ask the care team which holds",
                "results": [r for k in given for r in provenance.get(k, [])],
            }
        )
