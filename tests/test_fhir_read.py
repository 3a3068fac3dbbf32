"""Reading FHIR R4 (mCODE) bundles into profiles: real bundles in tests/data/fhir (see its README for origins)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mbc_navigator.engine import assess
from mbc_navigator.fhir import FhirError, read_bundle, read_bundle_text
from mbc_navigator.fhir.codes import CODES_FILE, tables
from mbc_navigator.fhir.write import write_bundle
from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.profile import parse_profile
from tests.conftest import TODAY

DATA = Path(__file__).parent / "data" / "fhir"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """What a clinician compares: each option's status, criteria results and missing facts; derived facts; warnings."""
    return {
        "options": [
            (o["id"], o["status"], [(c["id"], c["result"]) for c in o["criteria"]], o["missing"])
            for o in result["options"]
        ],
        "derived": result["profile"]["derived"],
        "warnings": [w["kind"] for w in result["warnings"]],
    }


class TestSecondaryBreastCancerBundle:
    """Done-when: the mCODE extended example (patient Jenny M) with her metastatic recurrence (bone, liver)."""

    def test_gives_the_same_assessment_as_the_hand_written_profile(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("mcode-jenny-m-secondary.json"), kb)
        from_fhir = assess(parse_profile(reading.profile, kb), kb, today=TODAY)
        by_hand = assess(parse_profile(load("mcode-jenny-m-secondary.profile.json"), kb), kb, today=TODAY)
        assert comparable(from_fhir) == comparable(by_hand)
        statuses = {o["id"]: o["status"] for o in from_fhir["options"]}
        assert statuses["palbociclib-aromatase-inhibitor"] == "eligible"
        assert statuses["denosumab"] == "eligible"  # bone spread, from SNOMED 94222008
        assert statuses["trastuzumab"] == "ineligible"  # HER2 negative (LOINC 48676-1, LA6577-6)

    def test_every_fact_names_the_resource_it_came_from(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("mcode-jenny-m-secondary.json"), kb)
        prov = reading.provenance
        assert prov["er"][0]["resource"] == "Observation/tumor-marker-test-er-jenny-m"
        assert prov["er"][0]["code"] == "http://loinc.org|LA6576-8"
        assert {p["resource"] for p in prov["metastatic_sites"]} == {
            "Condition/secondary-cancer-condition-bone-jenny-m",
            "Condition/secondary-cancer-condition-liver-jenny-m",
        }
        assert prov["pik3ca_mutation"][0]["resource"] == "Observation/cancer-genomic-variant-pik3ca-jenny-m"
        assert prov["menopausal_status"][0]["resource"] == "Observation/menopausal-status-jenny-m"
        chemo = prov["prior_treatments[0]"]
        assert "MedicationAdministration/cancer-related-medication-administration-doxorubicin-jenny-m" in {
            p["resource"] for p in chemo
        }
        assert all("setting early" in p["how"] for p in chemo)

    def test_codes_not_understood_are_listed_not_dropped(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("mcode-jenny-m-secondary.json"), kb)
        listed = {(u["resource"], u.get("code")) for u in reading.unrecognised}
        assert ("Condition/us-core-condition-depression-jenny-m", "35489007") in listed
        assert ("Observation/us-core-smokingstatus-jenny-m", "72166-2") in listed


class TestEarlyBreastCancerBundle:
    """The mCODE extended example as published: early breast cancer, stage IIB, M0."""

    def test_facts_it_states_and_nothing_it_does_not(self, kb: KnowledgeBase) -> None:
        profile = read_bundle(load("mcode-jenny-m-early.json"), kb).profile
        assert profile["er"] == "positive" and profile["pr"] == "negative" and profile["her2"] == "negative"
        assert "extent" not in profile  # M0 at diagnosis is not "never spread": unknown
        assert "pik3ca_mutation" not in profile  # a PALB2 variant says nothing about PIK3CA
        assert "menopausal_status" not in profile  # never inferred from the birth date

    def test_a_request_and_its_administration_are_one_course(self, kb: KnowledgeBase) -> None:
        treatments = read_bundle(load("mcode-jenny-m-early.json"), kb).profile["prior_treatments"]
        assert [t["drugs"] for t in treatments] == [["cyclophosphamide", "doxorubicin", "paclitaxel"], ["anastrozole"]]
        assert all("setting" not in t for t in treatments)  # no spread in the record: setting unknown
        assert treatments[1]["ongoing"] is True


class TestEdgeCases:
    def test_conflicting_her2_results_leave_her2_unknown_and_are_reported(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("her2-conflict.json"), kb)
        assert "her2" not in reading.profile
        assert reading.conflicts[0]["field"] == "her2"
        assert {r["value"] for r in reading.conflicts[0]["results"]} == {"positive", "negative"}

    def test_ihc_and_ish_that_disagree_leave_her2_unknown(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("her2-ihc-ish-discordant.json"), kb)
        assert not {"her2", "her2_ihc", "her2_ish"} & set(reading.profile)
        assert "disagree" in reading.conflicts[0]["message"]
        parse_profile(reading.profile, kb)  # what is left is a valid profile

    def test_unknown_codes_are_listed_and_facts_stay_unknown(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("unknown-codes.json"), kb)
        whys = {(u["resource"], u.get("code")): u["why"] for u in reading.unrecognised}
        assert "place of spread is unknown" in whys[("Condition/secondary-unknown-code", "999999999")]
        assert ("Observation/ki67", "85329-1") in whys
        assert ("MedicationStatement/med-unknown", "123456") in whys
        assert any(r == "Observation/er-percent" for r, _ in whys)
        assert reading.profile["extent"] == "metastatic"
        assert "metastatic_sites" not in reading.profile  # one place unknown: the list is not complete
        assert "er" not in reading.profile
        assert reading.profile["prior_treatments"][0]["drugs"] == ["Wonderdrug"]
        result = assess(parse_profile(reading.profile, kb), kb, today=TODAY)
        assert any(w["kind"] == "unrecognised_drug" for w in result["warnings"])

    def test_empty_bundle_is_an_empty_profile(self, kb: KnowledgeBase) -> None:
        reading = read_bundle(load("empty-bundle.json"), kb)
        assert reading.profile == {} and reading.unrecognised == [] and reading.conflicts == []

    def test_not_a_bundle_is_refused_by_name(self, kb: KnowledgeBase) -> None:
        with pytest.raises(FhirError) as err:
            read_bundle(load("not-a-bundle.json"), kb)
        assert err.value.problems[0].field == "Bundle.resourceType"
        assert "'Patient'" in err.value.problems[0].message

    def test_invalid_resource_names_the_resource_and_the_path(self, kb: KnowledgeBase) -> None:
        with pytest.raises(FhirError) as err:
            read_bundle(load("invalid-resource.json"), kb)
        fields = [p.field for p in err.value.problems]
        assert "Observation/tumor-marker-test-er-jenny-m (entry[1]).code.coding[0].code" in fields

    @pytest.mark.parametrize("text", ["", "[1, 2]", '{"resourceType": "Bundle", "type": "message"}', "{oops"])
    def test_bad_input_is_a_named_error(self, kb: KnowledgeBase, text: str) -> None:
        with pytest.raises(FhirError) as err:
            read_bundle_text(text, kb, "input.json")
        assert err.value.problems and all(p.message for p in err.value.problems)

    @pytest.mark.parametrize("kind", ["collection", "transaction", "searchset", "document"])
    def test_each_bundle_type_is_read(self, kb: KnowledgeBase, kind: str) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        bundle["type"] = kind
        if kind == "document":
            bundle["identifier"] = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d"}
            bundle["timestamp"] = "2021-07-03T10:00:00Z"
        assert read_bundle(bundle, kb).profile["metastatic_sites"] == ["bone", "liver"]

    def test_a_pik3ca_variant_not_present_is_not_a_negative(self, kb: KnowledgeBase) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        for entry in bundle["entry"]:
            if entry["resource"]["id"] == "cancer-genomic-variant-pik3ca-jenny-m":
                entry["resource"]["valueCodeableConcept"] = {"text": "Not detected"}
        reading = read_bundle(bundle, kb)
        assert "pik3ca_mutation" not in reading.profile
        assert any("PIK3CA" in n["message"] for n in reading.notes)

    @pytest.mark.parametrize(
        "gene",
        [
            {"coding": [{"system": "http://www.genenames.org", "code": "8975"}]},
            {"coding": [{"system": "http://example.org/local-genes", "code": "g-17", "display": "PIK3CA"}]},
            {"text": "PIK3CA"},
        ],
    )
    def test_pik3ca_named_by_hgnc_number_display_or_text(self, kb: KnowledgeBase, gene: dict[str, Any]) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        for entry in bundle["entry"]:
            if entry["resource"]["id"] == "cancer-genomic-variant-pik3ca-jenny-m":
                entry["resource"]["component"][0]["valueCodeableConcept"] = gene
        assert read_bundle(bundle, kb).profile["pik3ca_mutation"] is True

    def test_entered_in_error_and_unconfirmed_records_are_not_read(self, kb: KnowledgeBase) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        for entry in bundle["entry"]:
            res = entry["resource"]
            if res["id"] == "secondary-cancer-condition-liver-jenny-m":
                res["verificationStatus"]["coding"][0]["code"] = "refuted"
            if res["id"] == "tumor-marker-test-er-jenny-m":
                res["status"] = "entered-in-error"
        reading = read_bundle(bundle, kb)
        assert reading.profile["metastatic_sites"] == ["bone"]
        assert "er" not in reading.profile


class TestOnePatient:
    def test_a_bundle_of_two_patients_is_refused(self, kb: KnowledgeBase) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        other = copy.deepcopy(bundle["entry"][0])
        other["resource"]["id"] = "someone-else"
        bundle["entry"].append(other)
        with pytest.raises(FhirError, match="2 patients"):
            read_bundle(bundle, kb)

    def test_a_resource_about_another_patient_is_not_read(self, kb: KnowledgeBase) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        for entry in bundle["entry"]:
            if entry["resource"]["id"] == "secondary-cancer-condition-liver-jenny-m":
                entry["resource"]["subject"] = {"reference": "Patient/someone-else"}
        reading = read_bundle(bundle, kb)
        assert reading.profile["metastatic_sites"] == ["bone"]
        assert any("another patient" in n["message"] for n in reading.notes)

    def test_menopausal_status_is_the_most_recent(self, kb: KnowledgeBase) -> None:
        bundle = load("mcode-jenny-m-secondary.json")
        earlier = copy.deepcopy(next(e for e in bundle["entry"] if e["resource"]["id"] == "menopausal-status-jenny-m"))
        earlier["resource"]["id"] = "menopausal-status-2018"
        earlier["resource"]["effectiveDateTime"] = "2018-03-16"
        earlier["resource"]["valueCodeableConcept"] = {
            "coding": [{"system": "http://snomed.info/sct", "code": "22636003"}]
        }
        bundle["entry"].append(earlier)
        reading = read_bundle(bundle, kb)
        assert reading.profile["menopausal_status"] == "postmenopausal"
        assert len(reading.provenance["menopausal_status"]) == 2


class TestRoundTrip:
    """profile -> bundle -> profile keeps every fact the mCODE shapes can carry."""

    @pytest.mark.parametrize(
        "source",
        [
            DATA / "mcode-jenny-m-secondary.profile.json",
            Path(__file__).parents[1] / "examples" / "profiles" / "her2-positive.json",
            Path(__file__).parents[1] / "examples" / "profiles" / "triple-negative.json",
        ],
    )
    def test_round_trip(self, kb: KnowledgeBase, source: Path) -> None:
        original = json.loads(source.read_text(encoding="utf-8"))
        bundle, not_written = write_bundle(original)
        back = read_bundle(copy.deepcopy(bundle), kb)
        assert back.unrecognised == [] and back.conflicts == []
        dropped = {name.split("[")[0].split(" ")[0] for name in not_written}
        expected = {k: v for k, v in original.items() if k not in dropped or k == "prior_treatments"}

        def given(raw: dict[str, Any]) -> dict[str, Any]:
            out = dict(parse_profile(raw, kb).given)
            for t in out.get("prior_treatments", []):
                t["drugs"] = sorted(t["drugs"])
            return out

        assert given(back.profile) == given(expected)


def test_every_code_names_a_known_source() -> None:
    """Each mapping in codes.yaml says where it comes from, and that source is described."""
    data = yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))
    sources = set(data["sources"])
    text = CODES_FILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "source:" in line]
    used = {line.split("source:")[1].split(",")[0].split("}")[0].strip() for line in lines}
    assert used <= sources, used - sources
    assert tables().pik3ca_hgnc == "HGNC:8975"
