"""MedicationStatement, MedicationRequest and MedicationAdministration records -> earlier treatments.

Records of the same drug that are one course (an administration of a request, or the same start date) are
merged; drugs started within three weeks of the first drug of a treatment, in the same setting, are one
treatment (a course such as AC then T); a drug without a start date is a treatment of its own.

The setting (early or advanced) is read from the dates: a treatment that started before the first secondary
cancer's onset was for early breast cancer, one that started on or after it was for advanced breast cancer;
without both dates the setting stays unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mbc_navigator.fhir.codes import CodeTables
from mbc_navigator.fhir.collect import Collected
from mbc_navigator.fhir.elements import Code, codes, day, onset, text_of
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.names import normalise_drug_name

KINDS = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")
NOT_GIVEN = {"entered-in-error", "not-taken", "not-done", "cancelled", "draft", "intended", "unknown"}
ONGOING = {"active", "in-progress", "on-hold"}
ENDED = {"completed", "stopped"}
COURSE_DAYS = 21


@dataclass
class Record:
    """One drug given to the patient, from one or more resources."""

    drug: str
    start: str | None
    end: str | None
    ongoing: bool | None
    resources: list[str] = field(default_factory=list)
    code: Code | None = None
    request: str | None = None


def drug_name(text: str, kb: KnowledgeBase) -> str | None:
    """The knowledge base's drug named in ``text`` ('PACLitaxel', 'doxorubicin hydrochloride 20 MG ...')."""
    words = normalise_drug_name(text).split()
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            drug = kb.find_drug(" ".join(words[i : i + size]))
            if drug is not None:
                return drug.name
    return None


def _concept(res: dict[str, Any], index: dict[str, dict[str, Any]]) -> tuple[Any, str]:
    if "medicationCodeableConcept" in res:
        return res["medicationCodeableConcept"], "medicationCodeableConcept"
    ref = str((res.get("medicationReference") or {}).get("reference") or "")
    med = index.get(ref) or index.get(ref.split("/")[-1] and f"Medication/{ref.split('/')[-1]}")
    return (med or {}).get("code"), "medicationReference"


def _dates(res: dict[str, Any]) -> tuple[str | None, str | None]:
    start, end, _ = onset(res, "effective")
    if start or end:
        return start, end
    for dose in res.get("dosageInstruction") or []:
        bounds = ((dose.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
        if bounds.get("start"):
            return day(bounds["start"]), day(bounds.get("end"))
    return day(res.get("authoredOn")), None


def record(
    res: dict[str, Any], name: str, kb: KnowledgeBase, t: CodeTables, index: dict[str, dict[str, Any]], out: Collected
) -> Record | None:
    """The drug in one medication resource, or None (with a note) when it was not given."""
    status = str(res.get("status") or "")
    if status in NOT_GIVEN:
        out.note(name, "status", f"status {status!r}: not counted as a treatment")
        return None
    concept, path = _concept(res, index)
    found = codes(concept, path, t)
    drug, code = None, None
    for c in found:
        if c.alias == "rxnorm" and c.code in t.rxnorm:
            drug, code = str(t.rxnorm[c.code].meaning), c
            break
        if c.display and (drug := drug_name(c.display, kb)):
            code = c
            break
    text = text_of(concept)
    if drug is None and text:
        drug = drug_name(text, kb)
    if drug is None:
        out.unknown_code(name, found, "medication not known to the knowledge base; kept by its name", path)
        drug = text or (found[0].display or found[0].code if found else "")
        if not drug:
            return None
    start, end = _dates(res)
    ongoing = True if status in ONGOING and end is None else False if status in ENDED or end else None
    request = str((res.get("request") or {}).get("reference") or "") or None
    return Record(drug, start, end, ongoing, [name], code, request)


def merge(records: list[Record]) -> list[Record]:
    """Records of one course of one drug merged: same drug and same start, or an administration of a request."""
    merged: list[Record] = []
    for rec in records:
        twin = next(
            (
                m
                for m in merged
                if m.drug.lower() == rec.drug.lower()
                and (m.start == rec.start or (rec.request and rec.request.split("/")[-1] in str(m.resources)))
            ),
            None,
        )
        if twin is None:
            merged.append(rec)
            continue
        twin.resources += rec.resources
        twin.start = min(filter(None, [twin.start, rec.start]), default=None)
        twin.end = max(filter(None, [twin.end, rec.end]), default=None)
        if twin.ongoing is None or rec.ongoing:
            twin.ongoing = rec.ongoing
    return merged


def _setting(start: str | None, spread: str | None) -> str | None:
    if start and spread:
        return "early" if start < spread else "advanced"
    return None


def _groups(records: list[Record], spread: str | None) -> list[list[Record]]:
    dated = sorted((r for r in records if r.start), key=lambda r: str(r.start))
    groups: list[list[Record]] = []
    for rec in dated:
        last = groups[-1] if groups else None
        if (
            last
            and _days(str(last[0].start), str(rec.start)) <= COURSE_DAYS
            and _setting(last[0].start, spread) == _setting(rec.start, spread)
        ):
            last.append(rec)
        else:
            groups.append([rec])
    return groups + [[r] for r in records if not r.start]


def _days(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def treatments(records: list[Record], spread: str | None) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Profile treatments (drugs of one course together), each with the provenance of its drugs."""
    out = []
    for recs in _groups(merge(records), spread):
        start = recs[0].start
        ends = [r.end for r in recs]
        item: dict[str, Any] = {"drugs": sorted({r.drug for r in recs}, key=str.lower)}
        how = "setting unknown: no start date or no onset of spread in the record"
        if setting := _setting(start, spread):
            item["setting"] = setting
            how = f"setting {setting}: started {start}, first spread {spread}"
        if start:
            item["start_date"] = start
        if any(r.ongoing for r in recs):
            item["ongoing"] = True
        elif all(ends):
            item["end_date"] = max(e for e in ends if e)
        elif all(r.ongoing is False for r in recs):
            item["ongoing"] = False
        prov = [
            {"resource": res, "drug": r.drug, "how": how}
            | ({"code": f"{r.code.system}|{r.code.code}"} if r.code else {})
            for r in recs
            for res in r.resources
        ]
        out.append((item, prov))
    return out
