"""Load benchmark for ``POST /api/v1/assess``: starts ``mbcnav serve`` as a user would, then drives it with wrk
(50 connections on loopback, a fixed time) over a set of varied profiles, and prints requests/s and p50/p99
latency. The last line is JSON.

    .venv/bin/python benchmarks/api_load.py [--seconds 10] [--connections 50] [--workers 2]

Needs Debian's wrk (scripts/setup installs it).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.live_server import serve  # noqa: E402

TARGET_RPS, TARGET_P99_MS = 1500, 25.0


def profiles(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Varied, valid profiles: the examples, then random ones with unknowns in every field."""
    rng = random.Random(seed)
    out = [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "profiles").glob("*.json"))]
    regimens = [
        ["trastuzumab", "pertuzumab", "docetaxel"],
        ["Kadcyla"],
        ["letrozole", "palbociclib"],
        ["capecitabine"],
        ["epirubicin", "cyclophosphamide", "paclitaxel"],
        ["tamoxifen"],
        ["Enhertu"],
    ]
    while len(out) < n:
        p: dict[str, Any] = {}
        pick: Callable[..., Any] = lambda *values: rng.choice([*values, None])  # noqa: E731
        p["sex"] = pick("female", "male")
        if p["sex"] != "male":
            p["menopausal_status"] = pick("premenopausal", "postmenopausal")
        p["extent"] = pick("locally_advanced", "metastatic")
        p["her2"] = pick("positive", "low", "zero", "negative")
        p["er"] = pick("positive", "negative")
        p["pr"] = pick("positive", "negative")
        p["pd_l1"] = pick("positive", "negative")
        p["pik3ca_mutation"] = pick(True, False)
        if p["extent"] == "metastatic" and rng.random() < 0.7:
            p["metastatic_sites"] = rng.sample(["bone", "brain", "liver", "lung", "lymph_nodes"], rng.randint(1, 3))
        if rng.random() < 0.7:
            p["prior_treatments"] = [
                {"drugs": rng.choice(regimens), "setting": rng.choice(["early", "advanced"]), "end_date": "2024-01-31"}
                for _ in range(rng.randint(0, 3))
            ]
            p["recurrence_date"] = "2024-05-01"
        out.append({k: v for k, v in p.items() if v is not None})
    return out[:n]


def lua_script(bodies: list[str]) -> str:
    items = ",\n".join(f"[==[{b}]==]" for b in bodies)
    return f"""
local bodies = {{
{items}
}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = (i % #bodies) + 1
  return wrk.format(nil, "/api/v1/assess", nil, bodies[i])
end
"""


def parse_wrk(text: str) -> dict[str, float]:
    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "requests_per_s": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="server worker processes (2 cores here)")
    ap.add_argument("--profiles", type=int, default=500)
    args = ap.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("api_load: wrk is not installed (run scripts/setup, or apt-get install wrk)", file=sys.stderr)
        return 2
    bodies = [json.dumps(p) for p in profiles(args.profiles)]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "assess.lua"
        script.write_text(lua_script(bodies))
        extra = ["--workers", str(args.workers), "--no-access-log"]
        with serve(Path(tmp) / "server.log", *extra) as server:
            for body in bodies[:50]:  # warm up every worker, and check the bodies are valid
                resp = httpx.post(server.url + "/api/v1/assess", content=body)
                assert resp.status_code == 200, resp.text
            time.sleep(0.5)
            cmd = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
            out = subprocess.run([*cmd, "-s", str(script), server.url], capture_output=True, text=True, check=True)
    figures = parse_wrk(out.stdout)
    print(out.stdout)
    print(
        f"POST /api/v1/assess, {args.connections} connections, {args.seconds} s, {args.workers} workers, "
        f"{len(bodies)} distinct profiles: {figures['requests_per_s']:.0f} requests/s, "
        f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms "
        f"(target: >= {TARGET_RPS} requests/s, p99 < {TARGET_P99_MS} ms)"
    )
    summary = {
        "benchmark": "api_load",
        **figures,
        "connections": args.connections,
        "seconds": args.seconds,
        "workers": args.workers,
        "meets_target": figures["requests_per_s"] >= TARGET_RPS and figures["p99_ms"] < TARGET_P99_MS,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
