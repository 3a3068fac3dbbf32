"""The JSON API, called over HTTP on a real ``mbcnav serve``: same answers as the CLI, one error shape, no 5xx,
security headers everywhere, and an access log that never holds profile content."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import MBCNAV, LiveServer, serve

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples" / "profiles").glob("*.json"))
TODAY = "2026-11-22"


def post(server: LiveServer, path: str, body: Any = None, content: bytes | None = None, **kw: Any) -> httpx.Response:
    if content is None:
        content = json.dumps(body).encode()
    return httpx.post(server.url + path, content=content, headers={"content-type": "application/json"}, **kw)


def assert_problem(resp: httpx.Response, status: int, field: str) -> list[dict[str, str]]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    detail = resp.json()["detail"]
    assert detail and all(set(p) == {"field", "message"} for p in detail)
    assert field in [p["field"] for p in detail], detail
    return list(detail)


@pytest.mark.parametrize("profile", EXAMPLES, ids=lambda p: p.stem)
def test_assess_returns_what_the_cli_prints(server: LiveServer, profile: Path) -> None:
    """POST /api/v1/assess gives the same JSON as `mbcnav options --format json` for the same profile and date."""
    cli = subprocess.run(
        [MBCNAV, "options", "--profile", str(profile), "--format", "json", "--today", TODAY],
        capture_output=True,
        text=True,
        check=True,
    )
    resp = post(server, f"/api/v1/assess?today={TODAY}", content=profile.read_bytes())
    assert resp.status_code == 200
    assert resp.json() == json.loads(cli.stdout)


def test_unknown_facts_stay_unknown(server: LiveServer) -> None:
    """An empty profile is all unknown: nothing is eligible, nothing is ruled out by a missing fact."""
    result = post(server, "/api/v1/assess", {}).json()
    assert {o["status"] for o in result["options"]} == {"needs_info"}
    assert all(o["missing"] for o in result["options"])


def test_not_json_is_400_naming_the_place(server: LiveServer) -> None:
    detail = assert_problem(post(server, "/api/v1/assess", content=b'{"her2": '), 400, "(body)")
    assert "line 1" in detail[0]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"her2": "maybe"}, "her2"),
        ({"her2s": "positive"}, "her2s"),
        ([1, 2], "(profile)"),
        ({"prior_treatments": [{"drugs": ["Herceptin"], "setting": "later"}]}, "prior_treatments[0].setting"),
        ({"extent": "early", "metastatic_sites": ["bone"]}, "metastatic_sites"),
        ({"recurrence_date": "2024-13-40"}, "recurrence_date"),
    ],
)
def test_bad_profile_is_422_naming_the_field(server: LiveServer, body: Any, field: str) -> None:
    assert_problem(post(server, "/api/v1/assess", body), 422, field)


def test_bad_date_parameter_is_422(server: LiveServer) -> None:
    assert_problem(post(server, "/api/v1/assess?today=tomorrow", {}), 422, "today")


def test_oversized_body_is_413(server: LiveServer) -> None:
    big = b'{"sex": "female", "pad": "' + b"x" * 70_000 + b'"}'
    assert_problem(post(server, "/api/v1/assess", content=big), 413, "(body)")


def test_oversized_body_without_length_is_413(server: LiveServer) -> None:
    """A chunked body (no Content-Length) is cut off as it streams in."""

    def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    resp = httpx.post(server.url + "/api/v1/assess", content=chunks(), headers={"content-type": "application/json"})
    assert_problem(resp, 413, "(body)")


def test_knowledge_endpoints(server: LiveServer) -> None:
    get: Callable[[str], httpx.Response] = lambda path: httpx.get(server.url + path)  # noqa: E731
    regimens = get("/api/v1/regimens").json()["regimens"]
    assert len(regimens) == 17
    one = get("/api/v1/regimens/trastuzumab-emtansine").json()
    assert one["criteria"] and all(c["sources"] for c in one["criteria"])
    drugs = get("/api/v1/drugs").json()["drugs"]
    assert any(d["id"] == "trastuzumab" for d in drugs)
    by_brand = get("/api/v1/drugs/Kadcyla").json()
    assert by_brand["id"] == "trastuzumab-emtansine"
    assert get("/api/v1/drugs/kadcyla").json() == by_brand
    sources = get("/api/v1/sources?today=2026-11-22").json()
    stale = [p for p in sources["pages"] if p["past_review_date"]]
    assert [p["id"] for p in stale] == ["000"]
    assert sources["conflicts"] and sources["external"]
    research = get("/api/v1/research").json()["research"]
    assert any(r["name"].lower() == "camizestrant" for r in research)


def test_unknown_items_are_404_in_the_error_shape(server: LiveServer) -> None:
    assert_problem(httpx.get(server.url + "/api/v1/regimens/nope"), 404, "regimen_id")
    assert_problem(httpx.get(server.url + "/api/v1/drugs/aspirin"), 404, "name")
    assert_problem(httpx.get(server.url + "/api/v1/nothing"), 404, "(path)")


def test_wrong_method_is_405_not_500(server: LiveServer) -> None:
    resp = httpx.get(server.url + "/api/v1/assess")
    assert resp.status_code == 405
    assert resp.json()["detail"][0]["field"] == "(request)"


def test_openapi_describes_every_endpoint(server: LiveServer) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for path in [
        "/api/v1/assess",
        "/api/v1/regimens",
        "/api/v1/regimens/{regimen_id}",
        "/api/v1/drugs",
        "/api/v1/drugs/{name}",
        "/api/v1/sources",
        "/api/v1/research",
        "/api/v1/search",
    ]:
        assert path in paths
    body = spec["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["her2"]["enum"] == ["positive", "low", "zero", "negative", None]
    assert not any(p.startswith(("/check", "/drugs", "/search")) for p in paths), "HTML pages are not in the API"
    docs = httpx.get(server.url + "/api", headers={"accept": "text/html"})
    assert docs.status_code == 200 and "/api/v1/assess" in docs.text


@pytest.mark.parametrize("path", ["/", "/api/v1/drugs", "/openapi.json", "/static/style.css", "/nope"])
def test_security_headers_on_every_response(server: LiveServer, path: str) -> None:
    headers = httpx.get(server.url + path).headers
    csp = headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_access_log_holds_no_profile_content(server: LiveServer) -> None:
    """The log keeps method, path, status and time: no body, no query string."""
    secret = "2019-07-13"
    post(server, "/api/v1/assess?today=2026-01-02", {"recurrence_date": secret, "her2": "positive"})
    httpx.post(server.url + "/check", data={"step": "3", "recurrence_date": secret, "go": "results"})
    deadline = time.monotonic() + 5  # the line is written once the response has gone out
    while "POST /check 200" not in (log := server.log_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "POST /api/v1/assess 200" in log and "POST /check 200" in log
    assert secret not in log and "2026-01-02" not in log and "positive" not in log


def test_cds_hooks_refuse_without_configured_keys(server: LiveServer) -> None:
    """A plain `mbcnav serve` has no trusted CDS client: the CDS endpoints answer 401, never open by default."""
    resp = httpx.get(server.url + "/cds-services")
    assert resp.status_code == 401
    assert resp.json()["detail"][0]["field"] == "Authorization"


def test_cds_hooks_allow_browser_clients_only_there(server: LiveServer) -> None:
    preflight = {"origin": "https://sandbox.example", "access-control-request-method": "POST"}
    resp = httpx.options(server.url + "/cds-services/mbc-options", headers=preflight)
    assert resp.status_code == 200 and resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in httpx.get(server.url + "/", headers=preflight).headers


def test_cds_no_auth_opens_discovery_for_local_use(tmp_path: Path) -> None:
    with serve(tmp_path / "open.log", "--cds-no-auth") as live:
        services = httpx.get(live.url + "/cds-services").json()["services"]
        assert services[0]["id"] == "mbc-options" and services[0]["hook"] == "patient-view"


def test_fhir_bundle_over_http(server: LiveServer) -> None:
    bundle = ROOT / "tests" / "data" / "fhir" / "mcode-jenny-m-secondary.json"
    resp = post(server, "/api/v1/assess/fhir?today=2026-11-22", content=bundle.read_bytes())
    assert resp.status_code == 200
    assert resp.json()["fhir"]["provenance"]
    not_a_bundle = post(server, "/api/v1/assess/fhir", {"resourceType": "Patient"})
    detail = assert_problem(not_a_bundle, 422, "Bundle.resourceType")
    assert "Bundle" in detail[0]["message"]


def test_serve_on_a_port_in_use_is_a_clear_error(server: LiveServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    proc = subprocess.run([MBCNAV, "serve", "--port", port], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr
