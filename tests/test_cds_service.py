"""The CDS Hooks service in the real app on a real server (uvicorn on 127.0.0.1), called over HTTP as a record
system calls it: discovery, patient-view with prefetch or a FHIR server, 412, feedback, and the Bearer JWT rules."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from mbc_navigator.cds.auth import CdsAuth, Issuer
from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.web.app import create_app

DATA = Path(__file__).parent / "data" / "fhir"
SECRET = b"a-shared-secret-of-at-least-32-bytes!"
EHR = "https://ehr.example.org"
SERVICE = "/cds-services/mbc-options"
DENOSUMAB = "Denosumab (for cancer that has spread to the bones): may be suitable"


def record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "mcode-jenny-m-secondary.json").read_text(encoding="utf-8"))
    return data


def prefetch() -> dict[str, Any]:
    """The record as a record system prefetches it: the Patient, and searchset Bundles of the rest."""
    resources = [e["resource"] for e in record()["entry"]]

    def search(*kinds: str) -> dict[str, Any]:
        found = [{"resource": r, "search": {"mode": "match"}} for r in resources if r["resourceType"] in kinds]
        return {"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": found}

    return {
        "patient": next(r for r in resources if r["resourceType"] == "Patient"),
        "conditions": search("Condition"),
        "observations": search("Observation"),
        "medications": search("MedicationStatement", "MedicationRequest", "MedicationAdministration"),
    }


def fhir_server(app: FastAPI) -> None:
    """A small FHIR server on the same test app, answering the service's prefetch queries."""
    data = prefetch()

    @app.get("/fhir/Patient/{pid}")
    async def patient(pid: str) -> JSONResponse:
        return JSONResponse(data["patient"])

    @app.get("/fhir/{kind}")
    async def search(kind: str) -> JSONResponse:
        key = {"Condition": "conditions", "Observation": "observations", "MedicationStatement": "medications"}[kind]
        return JSONResponse(data[key])


class Server:
    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def servers(
    kb: KnowledgeBase, ec_key: ec.EllipticCurvePrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Three services: HS256 + JWKS issuers; open (--cds-no-auth); configured with no issuer (refuses all)."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    jwks = tmp_path_factory.mktemp("keys") / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk | {"kid": "ehr-key-1", "alg": "ES384", "use": "sig"}]}))
    auth = CdsAuth({EHR: Issuer(EHR, SECRET, str(jwks))})
    apps = {"secured": create_app(kb, auth), "open": create_app(kb, "open"), "unconfigured": create_app(kb)}
    running = {}
    for name, app in apps.items():
        fhir_server(app)
        app.add_api_route("/keys", lambda: JSONResponse(json.loads(jwks.read_text())))
        running[name] = Server(app)
    # a service that fetches the client's keys from its JWKS URL (served by the first server)
    by_url = CdsAuth({EHR: Issuer(EHR, None, running["secured"].base + "/keys")})
    running["jwks-url"] = Server(create_app(kb, by_url))
    yield {name: s.base for name, s in running.items()}
    for s in running.values():
        s.stop()


def token(aud: str, key: Any = SECRET, alg: str = "HS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": EHR, "sub": "ehr-client", "aud": aud, "iat": now, "exp": now + 240, "jti": str(uuid.uuid4())}
    headers = {"kid": "ehr-key-1"} if alg != "HS256" else None
    return jwt.encode(body | claims, key, algorithm=alg, headers=headers)


def call(base: str, body: dict[str, Any] | None = None, path: str = SERVICE, auth: str | None = "ok") -> httpx.Response:
    headers = {}
    if auth == "ok":
        headers["Authorization"] = f"Bearer {token(base + path)}"
    elif auth:
        headers["Authorization"] = auth
    if body is None:
        return httpx.get(base + path, headers=headers, timeout=30)
    return httpx.post(base + path, json=body, headers=headers, timeout=30)


def hook(**extra: Any) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/owen", "patientId": "cancer-patient-jenny-m"},
    } | extra


class TestDiscovery:
    def test_lists_the_patient_view_service_with_prefetch_templates(self, servers: dict[str, str]) -> None:
        response = call(servers["secured"], path="/cds-services")
        assert response.status_code == 200
        (service,) = response.json()["services"]
        assert service["hook"] == "patient-view" and service["id"] == "mbc-options"
        assert set(service["prefetch"]) == {"patient", "conditions", "observations", "medications"}
        assert service["prefetch"]["observations"] == "Observation?patient={{context.patientId}}"


class TestPatientView:
    def test_cards_from_prefetch(self, servers: dict[str, str], kb: KnowledgeBase) -> None:
        base = servers["secured"]
        response = call(base, hook(prefetch=prefetch()))
        assert response.status_code == 200
        cards = response.json()["cards"]
        by_summary = {c["summary"]: c for c in cards}
        assert DENOSUMAB in by_summary
        for card in cards:
            assert len(card["summary"]) < 140
            assert card["indicator"] in {"info", "warning", "critical"}
            assert card["source"]["label"] and card["source"]["url"].startswith(base + "/sources")
            assert " ".join(kb.meta.disclaimer.split())[:60] in card["detail"].replace("\\", "")
        denosumab = by_summary[DENOSUMAB]
        assert denosumab["source"]["url"].startswith(base + "/sources/")
        spec = kb.regimens["denosumab"].spec
        assert all(c.text[:40] in denosumab["detail"].replace("\\", "") for c in spec.criteria)

    def test_needs_info_cards_say_what_is_missing(self, servers: dict[str, str]) -> None:
        data = prefetch()
        data["observations"]["entry"] = [
            e for e in data["observations"]["entry"] if "her2" not in e["resource"]["id"]
        ]  # no HER2 result
        cards = call(servers["secured"], hook(prefetch=data)).json()["cards"]
        waiting = [c for c in cards if c["summary"].endswith("more information needed first")]
        assert waiting and all("What is missing:" in c["detail"] for c in waiting)

    def test_fetches_from_the_fhir_server_when_prefetch_is_missing(self, servers: dict[str, str]) -> None:
        base = servers["secured"]
        body = hook(fhirServer=base + "/fhir", fhirAuthorization={"access_token": "t", "token_type": "Bearer"})
        response = call(base, body)
        assert response.status_code == 200
        assert any(c["summary"] == DENOSUMAB for c in response.json()["cards"])

    def test_412_when_prefetch_is_missing_and_no_fhir_server(self, servers: dict[str, str]) -> None:
        data = prefetch()
        data["medications"] = None  # the record system could not prefetch it
        response = call(servers["secured"], hook(prefetch=data))
        assert response.status_code == 412
        assert response.json()["detail"][0]["field"] == "prefetch.medications"
        assert call(servers["secured"], hook()).status_code == 412

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"hook": "order-select"}, "hook"),
            ({"hook": "patient-view", "hookInstance": "x", "context": {}}, "context.patientId"),
        ],
    )
    def test_bad_requests_are_400_naming_the_field(self, servers: dict[str, str], body: Any, field: str) -> None:
        response = call(servers["secured"], body)
        assert response.status_code == 400
        assert response.json()["detail"][0]["field"] == field

    def test_feedback(self, servers: dict[str, str]) -> None:
        path = SERVICE + "/feedback"
        item = {"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-11-26T10:00:00Z"}
        assert call(servers["secured"], {"feedback": [item]}, path).status_code == 200
        bad = call(servers["secured"], {"feedback": [item | {"outcome": "maybe"}]}, path)
        assert bad.status_code == 400 and bad.json()["detail"][0]["field"] == "feedback[0].outcome"
        assert call(servers["secured"], {"feedback": [item]}, path, auth=None).status_code == 401


class TestAuthorisation:
    def test_no_token_is_401(self, servers: dict[str, str]) -> None:
        response = call(servers["secured"], hook(prefetch=prefetch()), auth=None)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_es384_token_from_the_jwks(self, servers: dict[str, str], ec_key: ec.EllipticCurvePrivateKey) -> None:
        base = servers["secured"]
        bearer = f"Bearer {token(base + '/cds-services', key=ec_key, alg='ES384')}"
        assert call(base, path="/cds-services", auth=bearer).status_code == 200

    def test_es384_token_with_keys_from_a_jwks_url(
        self, servers: dict[str, str], ec_key: ec.EllipticCurvePrivateKey
    ) -> None:
        base = servers["jwks-url"]
        bearer = f"Bearer {token(base + '/cds-services', key=ec_key, alg='ES384')}"
        assert call(base, path="/cds-services", auth=bearer).status_code == 200
        hs256 = call(base, path="/cds-services")  # this issuer has no shared secret
        assert hs256.status_code == 401 and "HS256" in hs256.json()["detail"][0]["message"]

    @pytest.mark.parametrize(
        ("claims", "why"),
        [
            ({"aud": "https://elsewhere.example.org/cds-services"}, "Audience"),
            ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3700}, "expired"),
            ({"exp": int(time.time()) + 3600}, "five minutes"),
            ({"iss": "https://stranger.example.org"}, "issuer"),
            ({"jti": None}, "jti"),
        ],
    )
    def test_bad_tokens_are_401(self, servers: dict[str, str], claims: dict[str, Any], why: str) -> None:
        base = servers["secured"]
        now = int(time.time())
        jti = str(uuid.uuid4())
        base_claims = {"iss": EHR, "aud": base + "/cds-services", "iat": now, "exp": now + 240, "jti": jti}
        body = {k: v for k, v in (base_claims | claims).items() if v is not None}  # None: the claim is left out
        raw = jwt.encode(body, SECRET, algorithm="HS256")
        response = call(base, path="/cds-services", auth=f"Bearer {raw}")
        assert response.status_code == 401
        assert why in response.json()["detail"][0]["message"]

    def test_wrong_key_is_401(self, servers: dict[str, str]) -> None:
        base = servers["secured"]
        raw = token(base + "/cds-services", key=b"another-secret-that-is-32-bytes-long!!")
        assert call(base, path="/cds-services", auth=f"Bearer {raw}").status_code == 401

    def test_a_token_is_accepted_once(self, servers: dict[str, str]) -> None:
        base = servers["secured"]
        bearer = f"Bearer {token(base + '/cds-services')}"
        assert call(base, path="/cds-services", auth=bearer).status_code == 200
        replay = call(base, path="/cds-services", auth=bearer)
        assert replay.status_code == 401 and "already used" in replay.json()["detail"][0]["message"]

    def test_without_configured_issuers_every_call_is_401(self, servers: dict[str, str]) -> None:
        base = servers["unconfigured"]
        response = call(base, hook(prefetch=prefetch()))
        assert response.status_code == 401
        assert "--cds-no-auth" in response.json()["detail"][0]["message"]

    def test_open_only_when_started_without_auth(self, servers: dict[str, str]) -> None:
        response = call(servers["open"], hook(prefetch=prefetch()), auth=None)
        assert response.status_code == 200 and response.json()["cards"]
