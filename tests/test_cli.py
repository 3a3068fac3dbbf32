"""The ``mbcnav`` command, run as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "profiles"
MBCNAV = str(Path(sys.executable).parent / "mbcnav")
SEEDS = ROOT.parent / "shared" / "seeds"


def mbcnav(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [MBCNAV, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=60, check=False
    )


def as_json(*args: str, stdin: str | None = None) -> Any:
    proc = mbcnav(*args, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {o["id"]: o["status"] for o in result["options"]}


class TestOptions:
    def test_json_has_every_option_with_criteria_and_sources(self) -> None:
        result = as_json("options", "--profile", str(EXAMPLES / "her2-positive.json"), "--format", "json")
        assert len(result["options"]) == 17
        for o in result["options"]:
            assert {"id", "name", "status", "criteria", "missing", "cautions", "sources"} <= set(o)
            assert o["status"] in ("eligible", "ineligible", "needs_info")
            for c in o["criteria"]:
                assert {"id", "text", "result", "sources"} <= set(c)
                assert c["result"] in ("met", "not_met", "unknown")
        assert {"warnings", "knowledge"} <= set(result)
        assert "care team" in result["knowledge"]["disclaimer"]

    def test_her2_positive_example(self) -> None:
        result = as_json("options", "--profile", str(EXAMPLES / "her2-positive.json"), "--today", "2026-11-22")
        s = statuses(result)
        assert s["trastuzumab"] == "eligible"
        assert s["trastuzumab-deruxtecan"] == "eligible"  # two earlier anti-HER2 treatments
        assert s["pertuzumab-trastuzumab-docetaxel"] == "ineligible"  # already had anti-HER2 for advanced
        assert s["denosumab"] == "eligible"  # bone spread
        assert s["palbociclib-aromatase-inhibitor"] == "ineligible"
        kinds = {w["kind"] for w in result["warnings"]}
        assert "stale_source" in kinds  # 000 was due for review on 09 Mar 2024
        assert any(w["id"] == "heart-checks" for w in result["warnings"])

    def test_triple_negative_example(self) -> None:
        result = as_json("options", "--profile", str(EXAMPLES / "triple-negative.json"))
        s = statuses(result)
        assert s["pembrolizumab-chemotherapy"] == "needs_info"  # PD-L1 unknown
        pembro = next(o for o in result["options"] if o["id"] == "pembrolizumab-chemotherapy")
        assert pembro["missing"] == ["pd_l1"]
        assert s["trastuzumab"] == "ineligible"

    def test_default_format_off_a_terminal_is_json(self) -> None:
        proc = mbcnav("options", "--her2", "positive")
        assert proc.returncode == 0 and json.loads(proc.stdout)["options"]

    def test_table_is_grouped_by_status_with_the_disclaimer(self) -> None:
        proc = mbcnav("options", "--profile", str(EXAMPLES / "her2-positive.json"), "--format", "table")
        assert proc.returncode == 0
        out = proc.stdout
        assert out.index("MAY BE SUITABLE") < out.index("MORE INFORMATION NEEDED") < out.index("NOT SUITABLE")
        assert "not a prescription" in out

    def test_profile_from_standard_input(self) -> None:
        result = as_json("options", "--profile", "-", stdin='{"her2": "positive", "extent": "metastatic"}')
        assert statuses(result)["trastuzumab"] == "eligible"

    def test_flags_without_json(self) -> None:
        result = as_json(
            "options",
            "--her2",
            "positive",
            "--er",
            "negative",
            "--site",
            "bone",
            "--extent",
            "metastatic",
            "--prior",
            "trastuzumab+pertuzumab+docetaxel:advanced",
        )
        s = statuses(result)
        assert s["denosumab"] == "eligible"
        assert s["pertuzumab-trastuzumab-docetaxel"] == "ineligible"
        assert result["profile"]["given"]["prior_treatments"][0]["setting"] == "advanced"

    def test_flags_add_to_the_file(self) -> None:
        result = as_json("options", "--profile", str(EXAMPLES / "triple-negative.json"), "--pd-l1", "positive")
        assert statuses(result)["pembrolizumab-chemotherapy"] == "eligible"

    def test_unrecognised_drug_is_a_warning_naming_it(self) -> None:
        result = as_json("options", "--prior", "Zzzumab:advanced", "--her2", "positive")
        assert any("'Zzzumab'" in w["message"] for w in result["warnings"])


BAD_INPUT = [
    (["--her2", "postive"], None, "her2: 'postive' is not allowed; use one of: positive, low, zero, negative"),
    (["--operable", "maybe"], None, "--operable: 'maybe' is not allowed; use yes or no"),
    (["--recurrence-date", "2023-02-30"], None, "recurrence_date: '2023-02-30' is not a real date"),
    (["--profile", "-"], '{"her2": "positive",\n "er": }', "not valid JSON: Expecting value at line 2, column 8"),
    (["--profile", "-"], "[1, 2]", "must be a JSON object"),
    (["--profile", "-"], '{"operable": "no"}', "operable: must be true or false"),
    (["--profile", "-"], "", "standard input is empty"),
    (["--profile", "/nonexistent/profile.json"], None, "profile file '/nonexistent/profile.json' does not exist"),
    (["--profile", "-"], '{"extent": "early", "metastatic_sites": ["bone"]}', "metastatic_sites: lists places"),
    (["--prior", ":advanced"], None, "--prior: ':advanced' is not DRUGS:SETTING"),
    (["--format", "xml"], None, "invalid choice: 'xml'"),
]


@pytest.mark.parametrize(("args", "stdin", "says"), BAD_INPUT)
def test_bad_input_exits_2_naming_the_field_without_a_traceback(args: list[str], stdin: str | None, says: str) -> None:
    proc = mbcnav("options", *args, stdin=stdin)
    assert proc.returncode == 2
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


class TestExplain:
    def test_criterion_by_criterion_with_quotes(self) -> None:
        proc = mbcnav(
            "explain", "trastuzumab-emtansine", "--profile", str(EXAMPLES / "her2-positive.json"), "--format", "table"
        )
        assert proc.returncode == 0, proc.stderr
        assert "[met]" in proc.stdout
        assert "\u201cYou need to have had previous treatment with trastuzumab and docetaxel or paclitaxel.\u201d" in (
            " ".join(proc.stdout.split())
        )
        assert "not a prescription" in proc.stdout

    def test_json(self) -> None:
        data = as_json("explain", "denosumab", "--site", "bone")
        assert data["option"]["status"] == "eligible"

    def test_unknown_regimen(self) -> None:
        proc = mbcnav("explain", "herceptin-forever")
        assert proc.returncode == 2 and "'herceptin-forever' is not an option; use one of: trastuzumab" in proc.stderr


class TestDrugs:
    @pytest.mark.parametrize("name", ["Herceptin", "trastuzumab", "HERCEPTIN"])
    def test_drug_by_generic_or_brand_name(self, name: str) -> None:
        data = as_json("drug", name, "--format", "json")
        assert data["id"] == "trastuzumab"
        assert "Herceptin" in data["brands"]
        assert data["how_often"] and data["checks"]

    def test_drug_text(self) -> None:
        proc = mbcnav("drug", "Xgeva", "--format", "table")
        assert proc.returncode == 0 and "every 4 weeks" in proc.stdout

    def test_unknown_drug(self) -> None:
        proc = mbcnav("drug", "unobtainium")
        assert proc.returncode == 2 and "'unobtainium' is not a drug" in proc.stderr

    def test_drugs_list(self) -> None:
        data = as_json("drugs", "--format", "json")
        assert {"trastuzumab", "denosumab", "sacituzumab-govitecan"} <= {d["id"] for d in data["drugs"]}

    def test_research(self) -> None:
        data = as_json("research", "--format", "json")
        names = " ".join(r["name"].lower() for r in data["research"])
        assert "camizestrant" in names and "datopotamab deruxtecan" in names


class TestKnowledgeCommands:
    def test_export_has_regimens_as_a_list_with_criteria_and_sources(self) -> None:
        data = as_json("kb", "export", "--format", "json")
        assert [r["id"] for r in data["regimens"]][:2] == ["trastuzumab", "trastuzumab-deruxtecan"]
        assert len(data["regimens"]) == 17
        crit = data["regimens"][0]["criteria"][0]
        assert crit["rule"] and crit["sources"][0]["source"].endswith(".txt")

    def test_check_passes_on_the_pages(self) -> None:
        proc = mbcnav("kb", "check", "--sources", str(SEEDS))
        assert proc.returncode == 0, proc.stdout
        assert "kb check: OK" in proc.stdout
        assert "was due for review on 2024-03-09" in proc.stdout

    def test_check_names_each_citation_a_changed_page_breaks(self, tmp_path: Path) -> None:
        pages = tmp_path / "seeds"
        shutil.copytree(SEEDS, pages)
        page = pages / "002_3f8214fb433ae307.txt"
        page.write_text(page.read_text().replace("once it every 4 weeks", "once every 3 months"))
        proc = mbcnav("kb", "check", "--sources", str(pages))
        assert proc.returncode == 2
        assert "You usually have once it every 4 weeks." in proc.stdout
        assert "closest now on the page" in proc.stdout and "every 3 months" in proc.stdout
        assert "denosumab" in proc.stdout

    def test_check_reads_the_sources_folder_from_the_environment(self, tmp_path: Path) -> None:
        proc = mbcnav("kb", "check", env={"MBCNAV_SOURCES": str(tmp_path)})
        assert proc.returncode == 2
        assert "is not in" in proc.stdout  # every page file is missing from the empty folder

    def test_check_without_a_sources_folder(self) -> None:
        proc = mbcnav("kb", "check", "--sources", "/nonexistent/seeds")
        assert proc.returncode == 2 and "does not exist" in proc.stderr

    def test_check_names_a_broken_rule(self, tmp_path: Path) -> None:
        data = tmp_path / "kb"
        shutil.copytree(ROOT / "src" / "mbc_navigator" / "knowledge" / "data", data)
        regimens = data / "regimens.yaml"
        regimens.write_text(regimens.read_text().replace("rule: bone_spread", 'rule: bone_spread == "yes"'))
        proc = mbcnav("--knowledge", str(data), "kb", "check", "--sources", str(SEEDS))
        assert proc.returncode == 2
        assert "regimen denosumab: criterion bone-spread" in proc.stdout
        # other commands refuse to run on a broken knowledge base, and point to kb check
        proc = mbcnav("--knowledge", str(data), "options")
        assert proc.returncode == 2 and "kb check" in proc.stderr
