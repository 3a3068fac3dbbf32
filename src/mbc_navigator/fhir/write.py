"""A profile -> a FHIR R4 collection Bundle in mCODE shapes, with the codes the reader knows (for round trips).

What FHIR cannot say in these shapes is left out and named in ``not_written``: extent "early" or
"locally_advanced" (no secondary cancer), a known "no PIK3CA mutation", a known empty list of places of spread,
and the setting of a treatment (the reader takes it from the dates).
"""

from __future__ import annotations

from typing import Any

from mbc_navigator.fhir.codes import tables

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
HGNC = "http://www.genenames.org/geneId"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PATIENT = {"reference": "Patient/patient"}

SITE_CODES = {
    "bone": (SNOMED, "94222008"),
    "brain": (SNOMED, "94225005"),
    "liver": (SNOMED, "94381002"),
    "lung": (SNOMED, "94391008"),
    "lymph_nodes": (ICD10CM, "C77.9"),
    "skin": (ICD10CM, "C79.2"),
    "other": (ICD10CM, "C79.89"),
}
MARKER_CODES = {"er": "85337-4", "pr": "85339-0", "her2": "48676-1", "her2_ihc": "85319-2", "her2_ish": "85318-4"}
MARKER_CODES["pd_l1"] = "83052-1"
RESULT = {"positive": (SNOMED, "10828004"), "negative": (SNOMED, "260385009")}
MENOPAUSE = {"postmenopausal": "76498008", "premenopausal": "22636003"}


def _cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _obs(
    rid: str, code: dict[str, Any], value: dict[str, Any], profile: str = "mcode-tumor-marker-test"
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "meta": {"profile": [MCODE + profile]},
        "status": "final",
        "code": code,
        "subject": PATIENT,
        "valueCodeableConcept": value,
    }


def write_bundle(profile: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(bundle, fields not written) for a raw profile as ``parse_profile`` takes it."""
    t = tables()
    res: list[dict[str, Any]] = [{"resourceType": "Patient", "id": "patient"}]
    not_written: list[str] = []
    if profile.get("sex"):
        res[0]["gender"] = profile["sex"]
    res.append(
        {
            "resourceType": "Condition",
            "id": "primary",
            "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
            "code": _cc(SNOMED, "254837009"),
            "subject": PATIENT,
        }
    )
    sites = profile.get("metastatic_sites") or []
    for site in sites:
        system, code = SITE_CODES.get(site, (SNOMED, "128462008"))
        cond: dict[str, Any] = {
            "resourceType": "Condition",
            "id": f"secondary-{site.replace('_', '-')}",
            "meta": {"profile": [MCODE + "mcode-secondary-cancer-condition"]},
            "code": _cc(system, code),
            "subject": PATIENT,
        }
        if site == "spinal_cord":
            cond["bodySite"] = [_cc(SNOMED, "2748008")]
        if profile.get("recurrence_date"):
            cond["onsetDateTime"] = profile["recurrence_date"]
        res.append(cond)
    if profile.get("extent") == "metastatic" and not sites:
        res.append(
            _obs("stage-group", _cc(LOINC, "21908-9"), _cc("http://cancerstaging.org", "4"), "mcode-tnm-stage-group")
        )
    elif profile.get("extent") not in (None, "metastatic"):
        not_written.append("extent")
    if profile.get("metastatic_sites") == []:
        not_written.append("metastatic_sites")
    if profile.get("recurrence_date") and not sites:
        not_written.append("recurrence_date")
    for name, loinc in MARKER_CODES.items():
        value = profile.get(name)
        if value is None:
            continue
        if name == "her2" and value not in RESULT:
            not_written.append("her2")  # low / zero: read from the IHC and ISH results, not coded here
            continue
        coded = RESULT.get(value) if name != "her2_ihc" else None
        res.append(_obs(name.replace("_", "-"), _cc(LOINC, loinc), _cc(*coded) if coded else {"text": value}))
    if profile.get("pik3ca_mutation") is True:
        variant = _obs("pik3ca", _cc(LOINC, "69548-6"), _cc(LOINC, "LA9633-4"), "mcode-cancer-genomic-variant")
        variant["component"] = [{"code": _cc(LOINC, "48018-6"), "valueCodeableConcept": _cc(HGNC, t.pik3ca_hgnc)}]
        res.append(variant)
    elif profile.get("pik3ca_mutation") is False:
        not_written.append("pik3ca_mutation")
    meno = profile.get("menopausal_status")
    if meno:
        value = _cc(SNOMED, MENOPAUSE[meno]) if meno in MENOPAUSE else {"text": meno}
        res.append(_obs("menopause", {"text": "Menopausal status"}, value, "menopausal-status"))
    for i, treatment in enumerate(profile.get("prior_treatments") or []):
        res += _medications(i, treatment)
    if any("setting" in tr for tr in profile.get("prior_treatments") or []):
        not_written.append("prior_treatments[].setting (read back from the dates)")
    entries = [{"fullUrl": f"urn:uuid:{r['resourceType'].lower()}-{r['id']}", "resource": r} for r in res]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, not_written


def _medications(i: int, treatment: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for j, drug in enumerate(treatment.get("drugs") or []):
        med: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": f"treatment-{i}-{j}",
            "status": "active" if treatment.get("ongoing") else "completed",
            "medicationCodeableConcept": {"text": drug},
            "subject": PATIENT,
        }
        period = {k: treatment[f"{k}_date"] for k in ("start", "end") if treatment.get(f"{k}_date")}
        if period:
            med["effectivePeriod"] = period
        out.append(med)
    return out
