"""Compiled screening plans are cached by content: a cached plan screens exactly as a fresh compile does and
starts without the knowledge loader or sqlglot; any change to the knowledge base compiles afresh; a cache file
that does not read is compiled again; ``MBCNAV_CACHE=off`` keeps nothing; old plans are pruned."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mbc_navigator.knowledge.names import DATA_DIR, KNOWLEDGE_ENV
from mbc_navigator.screen import inputs, plan
from mbc_navigator.screen.compile import compile_plan
from mbc_navigator.screen.plan import CACHE_ENV
from tests.test_screen_cohorts import KB, random_cohort, write_parquet

# run the real entry point in a fresh process; report the exit code and which heavy modules it imported
PROBE = """
import json, sys
from mbc_navigator.cli.launch import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pydantic", "sqlglot", "yaml"})
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def mbcnav(cache: Path | str, *args: str, knowledge: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``mbcnav screen ARGS --format json`` in a fresh process: (its report, {code, heavy modules imported})."""
    env = {**os.environ, CACHE_ENV: str(cache)}
    if knowledge is not None:
        env[KNOWLEDGE_ENV] = str(knowledge)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "screen", *args, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    return (json.loads(done.stdout) if probe["code"] == 0 else {}), probe


def rows_of(path: Path) -> list[tuple[Any, ...]]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY patient_id")
    assert rel is not None
    return rel.fetchall()


def test_a_cached_plan_screens_alike_and_starts_without_the_compiler(tmp_path: Path) -> None:
    src = tmp_path / "cohort.parquet"
    write_parquet(random_cohort(seed=11, size=300), src)
    first, cold = mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "cold.parquet"))
    assert cold == {"code": 0, "heavy": ["pydantic", "sqlglot", "yaml"]}  # compiled, then kept
    assert len(list((tmp_path / "cache").glob("screen-*.json"))) == 1
    second, warm = mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "warm.parquet"))
    assert warm == {"code": 0, "heavy": []}
    paths = ("output", "rejects")
    assert {k: v for k, v in first.items() if k not in paths} == {k: v for k, v in second.items() if k not in paths}
    assert rows_of(tmp_path / "cold.parquet") == rows_of(tmp_path / "warm.parquet")
    assert first["rows_rejected"] > 0 and first["disclaimer"], "the cohort takes the row-checked query"
    # CSV output writes its lists as JSON text: a plan of its own, not the Parquet one
    mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "out.csv"))
    _, warm_csv = mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "out.csv"))
    assert warm_csv == {"code": 0, "heavy": []} and len(list((tmp_path / "cache").glob("screen-*.json"))) == 2
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        assert all(isinstance(json.loads(v), list) for r in csv.DictReader(f) for k, v in r.items() if "__" in k)


def test_a_clean_cohort_binds_its_own_drug_names_to_a_cached_plan(tmp_path: Path) -> None:
    """The trusted query's plan holds no drug names: two clean cohorts of one shape, with different names
    (known, brand, unknown), share a plan and each gets the statuses of a fresh compile."""
    for i, names in enumerate([["Herceptin", "letrozole"], ["Kadcyla", "Unknownumab", "paclitaxel"]]):
        rows = [
            {
                "patient_id": f"p{j}",
                "her2": "positive",
                "extent": "metastatic",
                "prior_treatments": [{"drugs": [name], "setting": "advanced"}],
            }
            for j, name in enumerate(names)
        ]
        src = tmp_path / f"clean{i}.parquet"
        write_parquet(rows, src, {"her2", "extent", "prior_treatments"})
        mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / f"warm{i}.parquet"))
        _, fresh = mbcnav("off", str(src), "--out", str(tmp_path / f"fresh{i}.parquet"))
        assert fresh["heavy"], "compiled afresh"
        assert rows_of(tmp_path / f"warm{i}.parquet") == rows_of(tmp_path / f"fresh{i}.parquet")
    assert len(list((tmp_path / "cache").glob("screen-*.json"))) == 1


def test_a_changed_knowledge_base_is_compiled_afresh(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DATA_DIR, knowledge)
    src = tmp_path / "cohort.parquet"
    write_parquet(random_cohort(seed=3, size=50), src)
    before, _ = mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "a.parquet"), knowledge=knowledge)
    meta = knowledge / "meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("disclaimer: >-", "disclaimer: >-\n  REVISED.", 1))
    after, probe = mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "b.parquet"), knowledge=knowledge)
    assert probe["heavy"] and after["disclaimer"].startswith("REVISED.")
    assert not before["disclaimer"].startswith("REVISED.")
    assert len(list((tmp_path / "cache").glob("screen-*.json"))) == 2


def test_a_cache_file_that_does_not_read_is_compiled_again(tmp_path: Path) -> None:
    src = tmp_path / "cohort.parquet"
    write_parquet(random_cohort(seed=5, size=50), src)
    mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "a.parquet"))
    (plan_file,) = (tmp_path / "cache").glob("screen-*.json")
    plan_file.write_text('{"format": 1, "plan": {"layout": ', encoding="utf-8")  # cut short
    _, probe = mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "b.parquet"))
    assert probe == {"code": 0, "heavy": ["pydantic", "sqlglot", "yaml"]}
    assert rows_of(tmp_path / "a.parquet") == rows_of(tmp_path / "b.parquet")
    json.loads(plan_file.read_text(encoding="utf-8"))  # written whole again


def test_no_cache_keeps_nothing_and_bad_input_is_named_either_way(tmp_path: Path) -> None:
    """Without a cache every run compiles; with a plan cached, bad arguments still get the full command line's
    messages (the quick start steps aside)."""
    src = tmp_path / "cohort.parquet"
    write_parquet(random_cohort(seed=9, size=20), src)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    for cache in ("off", "off", tmp_path / "a-file"):  # nothing kept (a cache that cannot be written only costs time)
        report, probe = mbcnav(cache, str(src), "--out", str(tmp_path / "a.parquet"))
        assert probe["code"] == 0 and probe["heavy"] and report["rows_in"] == 20
    mbcnav(tmp_path / "cache", str(src), "--out", str(tmp_path / "a.parquet"))  # a plan for this shape
    env = {**os.environ, CACHE_ENV: str(tmp_path / "cache")}
    for args, named in (
        (["--out", str(tmp_path / "nowhere" / "o.parquet")], "--out"),
        (["--out", str(tmp_path / "o.txt")], "--out"),
        (["--out", str(tmp_path / "o.parquet"), "--threads", "0"], "--threads"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "mbc_navigator", "screen", str(src), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2 and named in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_the_cache_keeps_the_plans_used_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Old plans do not pile up: past ``KEEP`` plans, the least recently used go (a plan read counts as used)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(plan, "KEEP", 3)
    shape = inputs.Shape("parquet", {"patient_id": "VARCHAR"}, {"patient_id": "scalar"}, None)
    compiled = compile_plan(KB, shape, json_lists=False)
    for i in range(5):
        plan.save(f"k{i}", compiled)
        os.utime(tmp_path / f"screen-k{i}.json", (1000 + i, 1000 + i))  # k0 the oldest
        assert plan.load("k0") == compiled  # read, so used last (k1 ages instead)
    assert sorted(p.name for p in tmp_path.glob("screen-*.json")) == [
        "screen-k0.json",
        "screen-k3.json",
        "screen-k4.json",
    ]
