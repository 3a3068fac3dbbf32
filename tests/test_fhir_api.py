"""``POST /api/v1/assess/fhir`` on a real server (uvicorn on 127.0.0.1), called over HTTP as a client would."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.web.app import create_app

DATA = Path(__file__).parent / "data" / "fhir"


@pytest.fixture(scope="module")
def base(kb: KnowledgeBase) -> Iterator[str]:
    app = create_app(kb)  # the real app: its error handlers and headers too
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(5)
    sock.close()


def post(base: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/assess/fhir?today=2026-11-22",
        content=body,
        headers={"Content-Type": "application/fhir+json"},
        timeout=30,
    )


def test_bundle_in_assessment_and_provenance_out(base: str) -> None:
    response = post(base, (DATA / "mcode-jenny-m-secondary.json").read_bytes())
    assert response.status_code == 200
    data = response.json()
    assert {o["id"]: o["status"] for o in data["options"]}["denosumab"] == "eligible"
    assert data["fhir"]["provenance"]["er"][0]["resource"] == "Observation/tumor-marker-test-er-jenny-m"
    assert any(u.get("code") == "35489007" for u in data["fhir"]["unrecognised"])
    assert data["knowledge"]["disclaimer"]


def test_invalid_bundle_is_422_with_the_resource_and_path(base: str) -> None:
    response = post(base, (DATA / "invalid-resource.json").read_bytes())
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["detail"]]
    assert "Observation/tumor-marker-test-er-jenny-m (entry[1]).code.coding[0].code" in fields


def test_not_a_bundle_is_422(base: str) -> None:
    response = post(base, (DATA / "not-a-bundle.json").read_bytes())
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "Bundle.resourceType"


def test_not_json_is_400(base: str) -> None:
    response = post(base, b"{not json")
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "(body)"


def test_a_record_whose_facts_contradict_each_other_is_422_named_as_profile_fields(base: str) -> None:
    bundle = json.loads((DATA / "mcode-jenny-m-secondary.json").read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["gender"] = "male"  # with a postmenopausal status in the record
    response = post(base, json.dumps(bundle).encode())
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "profile.menopausal_status"


def test_a_bundle_with_fewer_facts_is_assessed_with_unknowns(base: str) -> None:
    bundle = json.loads((DATA / "mcode-jenny-m-secondary.json").read_text(encoding="utf-8"))
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Observation"]
    response = post(base, json.dumps(bundle).encode())
    assert response.status_code == 200
    assert {o["id"]: o["status"] for o in response.json()["options"]}["trastuzumab"] == "needs_info"
