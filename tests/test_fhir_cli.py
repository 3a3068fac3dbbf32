"""``mbcnav options/explain --fhir BUNDLE.json``, run as a user runs it: a real process and real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data" / "fhir"
MBCNAV = str(Path(sys.executable).parent / "mbcnav")


def mbcnav(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MBCNAV, *args], input=stdin, capture_output=True, text=True, env=dict(os.environ), timeout=60, check=False
    )


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {o["id"]: o["status"] for o in result["options"]}


def test_fhir_bundle_gives_the_same_options_as_the_hand_written_profile() -> None:
    fhir = mbcnav("options", "--fhir", str(DATA / "mcode-jenny-m-secondary.json"), "--format", "json")
    hand = mbcnav("options", "--profile", str(DATA / "mcode-jenny-m-secondary.profile.json"), "--format", "json")
    assert fhir.returncode == 0, fhir.stderr
    assert statuses(json.loads(fhir.stdout)) == statuses(json.loads(hand.stdout))


BUNDLE = str(DATA / "mcode-jenny-m-secondary.json")


def test_flags_add_to_the_bundle() -> None:
    proc = mbcnav("options", "--fhir", BUNDLE, "--pd-l1", "negative", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    given = json.loads(proc.stdout)["profile"]["given"]
    assert given["pd_l1"] == "negative" and given["er"] == "positive"


def test_a_flag_that_contradicts_the_record_is_named() -> None:
    proc = mbcnav("options", "--fhir", BUNDLE, "--her2", "positive", "--format", "json")
    assert proc.returncode == 2  # HER2 IHC 1+ in the record contradicts a stated positive: named, not guessed
    assert "her2" in proc.stderr


def test_standard_input_and_explain() -> None:
    text = (DATA / "mcode-jenny-m-secondary.json").read_text(encoding="utf-8")
    proc = mbcnav("explain", "denosumab", "--fhir", "-", "--format", "json", stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["option"]["status"] == "eligible"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invalid-resource.json", "Observation/tumor-marker-test-er-jenny-m (entry[1]).code.coding[0].code"),
        ("not-a-bundle.json", "Bundle.resourceType: is 'Patient'"),
        ("missing.json", "does not exist"),
    ],
)
def test_a_bad_bundle_exits_2_naming_the_resource_and_path(name: str, expected: str) -> None:
    proc = mbcnav("options", "--fhir", str(DATA / name), "--format", "json")
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_fhir_and_profile_cannot_both_be_given() -> None:
    proc = mbcnav("options", "--fhir", str(DATA / "empty-bundle.json"), "--profile", "x.json")
    assert proc.returncode == 2
    assert "not allowed with" in proc.stderr


def test_json_output_has_provenance_and_unrecognised_codes() -> None:
    proc = mbcnav("options", "--fhir", str(DATA / "mcode-jenny-m-secondary.json"), "--format", "json")
    fhir = json.loads(proc.stdout)["fhir"]
    assert fhir["provenance"]["er"][0]["resource"] == "Observation/tumor-marker-test-er-jenny-m"
    assert any(u.get("code") == "35489007" for u in fhir["unrecognised"])
