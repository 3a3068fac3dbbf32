"""Read Patient, Condition and Observation resources into facts (medications are in ``medications.py``)."""

from __future__ import annotations

from typing import Any

from mbc_navigator.fhir.codes import CodeTables, Known, by_prefix
from mbc_navigator.fhir.collect import Collected, Fact
from mbc_navigator.fhir.elements import Code, codes, ihc_score, onset, text_of, word_result

OBS_USABLE = {"final", "amended", "corrected"}
SECONDARY_PROFILE = "mcode-secondary-cancer-condition"
PRIMARY_PROFILE = "mcode-primary-cancer-condition"
UNCONFIRMED = {"unconfirmed", "provisional", "differential", "refuted", "entered-in-error"}


def patient(res: dict[str, Any], name: str, out: Collected) -> None:
    gender = res.get("gender")
    if gender in ("female", "male"):
        out.add(Fact("sex", gender, name, "gender", how="Patient.gender"))
    elif gender is not None:
        out.note(name, "gender", f"gender {gender!r} is not female or male: sex left unknown")


def _profiles(res: dict[str, Any]) -> list[str]:
    return [str(p) for p in (res.get("meta") or {}).get("profile") or []]


def _secondary(c: Code, t: CodeTables) -> Known | None:
    if c.alias == "snomed":
        return t.secondary_snomed.get(c.code)
    if c.alias == "icd10cm":
        return by_prefix(t.secondary_icd_prefixes, c.code)
    return None


def _breast(c: Code, t: CodeTables) -> Known | None:
    if c.alias == "snomed":
        return t.breast_snomed.get(c.code)
    if c.alias == "icd10cm":
        return by_prefix(t.breast_icd_prefixes, c.code)
    return None


def condition(res: dict[str, Any], name: str, t: CodeTables, out: Collected) -> None:
    verification = {c.code for c in codes(res.get("verificationStatus"), "verificationStatus", t)}
    if verification & UNCONFIRMED:
        out.note(name, "verificationStatus", f"not confirmed ({', '.join(sorted(verification))}): not read")
        return
    found = codes(res.get("code"), "code", t)
    start, _, when = onset(res, "onset")
    for c in found:
        known = _secondary(c, t)
        if known is not None:
            _spread(res, name, c, known, start, when, t, out)
            return
        if _breast(c, t) is not None:
            _stage(res, name, t, out)
            return
        if c.alias == "snomed" and c.code in t.menopause:
            dated = start or onset(res, "recordedDate")[0]
            out.add(Fact("menopausal_status", t.menopause[c.code].meaning, name, c.path, c, when=dated))
            return
    if any(SECONDARY_PROFILE in p for p in _profiles(res)):
        out.add(Fact("extent", "metastatic", name, "meta.profile", how="an mCODE secondary cancer condition"))
        out.sites_unsettled.append(name)
        out.unknown_code(name, found, "secondary cancer code not known: the place of spread is unknown", "code")
        return
    why = "condition code not known to the reader"
    if any(PRIMARY_PROFILE in p for p in _profiles(res)):
        why = "primary cancer code not known as breast cancer"
    out.unknown_code(name, found, why, "code")


def _spread(
    res: dict[str, Any], name: str, c: Code, known: Known, start: str | None, when: str, t: CodeTables, out: Collected
) -> None:
    out.add(Fact("extent", "metastatic", name, c.path, c, how="a secondary (metastatic) cancer condition"))
    site = known.meaning
    if site is None:  # generic code: the place is in bodySite
        for i, body in enumerate(res.get("bodySite") or []):
            for b in codes(body, f"bodySite[{i}]", t):
                if b.alias == "snomed" and b.code in t.body_sites:
                    out.add(Fact("metastatic_sites", t.body_sites[b.code].meaning, name, b.path, b))
                    site = t.body_sites[b.code].meaning
                else:
                    out.unknown_code(name, [b], "body site not known to the reader")
    else:
        out.add(Fact("metastatic_sites", site, name, c.path, c))
    if site is None:
        out.sites_unsettled.append(name)
    if start:
        out.add(Fact("recurrence_date", start, name, when, how="onset of a secondary cancer condition"))


def _stage(res: dict[str, Any], name: str, t: CodeTables, out: Collected) -> None:
    for i, stage in enumerate(res.get("stage") or []):
        for c in codes((stage or {}).get("summary"), f"stage[{i}].summary", t):
            if c.code.upper() in t.stage_metastatic:
                out.add(Fact("extent", "metastatic", name, c.path, c, how="stage IV"))


def observation(res: dict[str, Any], name: str, t: CodeTables, out: Collected) -> None:
    status = res.get("status")
    if status not in OBS_USABLE:
        out.note(name, "status", f"status {status!r}: not a final result, not read")
        return
    found = codes(res.get("code"), "code", t)
    loinc = [c for c in found if c.alias == "loinc"]
    for c in loinc:
        if c.code in t.tumour_markers:
            _marker(res, name, c, t, out)
            return
        if c.code in t.stage_group_codes or c.code in t.m_category_codes:
            _stage_observation(res, name, c, t, out)
            return
        if c.code in t.variant_codes:
            _variant(res, name, t, out)
            return
    values = codes(res.get("valueCodeableConcept"), "valueCodeableConcept", t)
    when = onset(res, "effective")[0] or onset(res, "issued")[0]
    for c in [*found, *values]:
        if c.alias == "snomed" and c.code in t.menopause:
            out.add(Fact("menopausal_status", t.menopause[c.code].meaning, name, c.path, c, when=when))
            return
    if "menopaus" in text_of(res.get("code")).lower():
        word = " ".join(text_of(res.get("valueCodeableConcept")).lower().split()) or str(res.get("valueString", ""))
        if word in ("premenopausal", "perimenopausal", "postmenopausal"):
            out.add(Fact("menopausal_status", word, name, "value", how="the result's text", when=when))
            return
    if _genes_studied(res, t):
        out.note(name, "component", "PIK3CA was among the genes studied; no variant is read from this resource")
        return
    out.unknown_code(name, found, "observation code not known to the reader", "code")


def _result(res: dict[str, Any], t: CodeTables, kind: str) -> tuple[str | None, str, Code | None, bool]:
    """(value, path, code, undetermined): the result of a tumour marker test."""
    value_cc = res.get("valueCodeableConcept")
    for c in codes(value_cc, "valueCodeableConcept", t):
        if kind == "ihc" and (c.alias, c.code) in t.ihc_scores:
            return str(t.ihc_scores[(c.alias, c.code)].meaning), c.path, c, False
        known = t.result_values.get((c.alias, c.code))
        if known is not None and known.meaning == "undetermined":
            return None, c.path, c, True
        if known is not None:
            return str(known.meaning), c.path, c, False
    texts = [("valueCodeableConcept.text", text_of(value_cc)), ("valueString", str(res.get("valueString") or ""))]
    for path, text in texts:
        if kind == "ihc" and (score := ihc_score(text)):
            return score, path, None, False
        if word := word_result(text):
            return word, path, None, False
    for i, interp in enumerate(res.get("interpretation") or []):
        for c in codes(interp, f"interpretation[{i}]", t):
            known = t.result_values.get((c.alias, c.code))
            if known is not None and known.meaning != "undetermined":
                return str(known.meaning), c.path, c, False
    return None, "", None, False


def _marker(res: dict[str, Any], name: str, test: Code, t: CodeTables, out: Collected) -> None:
    fact, kind, _ = t.tumour_markers[test.code]
    value, path, code, undetermined = _result(res, t, kind)
    if value is None:
        if undetermined:
            out.note(name, path, f"{test.display or test.code}: equivocal or indeterminate, read as unknown")
        else:
            vcodes = codes(res.get("valueCodeableConcept"), "valueCodeableConcept", t)
            out.unknown_code(name, vcodes, f"result of {test.code} not understood; {fact} left unknown", "value[x]")
        return
    how = f"{test.code} {test.display}".strip()
    if kind == "ihc" and value in ("positive", "negative"):
        out.add(Fact("her2", value, name, path, code, how=f"{how}: an IHC result given as {value}"))
    else:
        out.add(Fact(fact, value, name, path, code, how=how))


def _stage_observation(res: dict[str, Any], name: str, test: Code, t: CodeTables, out: Collected) -> None:
    wanted = t.stage_metastatic if test.code in t.stage_group_codes else t.m_metastatic
    for c in codes(res.get("valueCodeableConcept"), "valueCodeableConcept", t):
        if c.code.upper() in wanted:
            out.add(Fact("extent", "metastatic", name, c.path, c, how=f"{test.code}: {c.code}"))


def _gene_is_pik3ca(c: Code, t: CodeTables) -> bool:
    hgnc = c.code if c.code.upper().startswith("HGNC:") else f"HGNC:{c.code}"
    return (c.alias == "hgnc" and hgnc.upper() == t.pik3ca_hgnc) or c.display.upper() == t.pik3ca_symbol


def _genes_studied(res: dict[str, Any], t: CodeTables) -> list[Code]:
    genes = []
    for i, comp in enumerate(res.get("component") or []):
        comp_codes = codes(comp.get("code"), f"component[{i}].code", t)
        if any(c.code in t.gene_studied_codes for c in comp_codes):
            value = comp.get("valueCodeableConcept")
            found = codes(value, f"component[{i}].valueCodeableConcept", t)
            genes += [g for g in found if _gene_is_pik3ca(g, t)]
            if not found and text_of(value).upper() == t.pik3ca_symbol:
                genes.append(Code(f"component[{i}].valueCodeableConcept.text", "", "", "", t.pik3ca_symbol))
    return genes


def _variant(res: dict[str, Any], name: str, t: CodeTables, out: Collected) -> None:
    genes = _genes_studied(res, t)
    if not genes:
        return  # a variant in another gene says nothing about PIK3CA: left unknown
    values = codes(res.get("valueCodeableConcept"), "valueCodeableConcept", t)
    said = word_result(text_of(res.get("valueCodeableConcept")))
    present = (not values and said is None) or any((v.alias, v.code) in t.variant_present for v in values)
    if present or said == "positive":
        out.add(Fact("pik3ca_mutation", True, name, genes[0].path, genes[0], how="a PIK3CA genomic variant"))
    else:
        out.note(name, "valueCodeableConcept", "a PIK3CA variant is not reported as present: PIK3CA left unknown")
