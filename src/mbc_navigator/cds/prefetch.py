"""The patient's record for a CDS call: from the request's prefetch, or fetched from its FHIR server."""

from __future__ import annotations

from typing import Any

import httpx

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
}
FETCH_TIMEOUT = 10.0


class MissingPrefetch(Exception):
    """Prefetch is incomplete and no FHIR server was given: the service answers 412, as the spec says."""


class FetchFailed(Exception):
    """The FHIR server given in the request could not be read."""


def _query(template: str, patient_id: str) -> str:
    return template.replace("{{context.patientId}}", patient_id)


def _fetch(server: str, query: str, token: str | None) -> Any:
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = server.rstrip("/") + "/" + query
    try:
        response = httpx.get(url, headers=headers, timeout=FETCH_TIMEOUT)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{query}: {exc}") from None
    if response.status_code != 200:
        raise FetchFailed(f"{query}: the FHIR server answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise FetchFailed(f"{query}: the FHIR server's answer is not JSON") from None


def gather(body: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """Each prefetch key's data: from ``prefetch`` when given (not null), else from ``fhirServer``."""
    given = body.get("prefetch") or {}
    server = body.get("fhirServer")
    token = (body.get("fhirAuthorization") or {}).get("access_token")
    out: dict[str, Any] = {}
    for key, template in PREFETCH.items():
        if isinstance(given, dict) and given.get(key) is not None:
            out[key] = given[key]
        elif isinstance(server, str) and server:
            out[key] = _fetch(server, _query(template, patient_id), token if isinstance(token, str) else None)
        else:
            raise MissingPrefetch(key)
    return out


def as_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """One collection Bundle of every resource in the prefetched data (resources, or searchset Bundles)."""
    entries = []
    for value in data.values():
        if not isinstance(value, dict):
            entries.append({"resource": value})  # the validator names it
        elif value.get("resourceType") == "Bundle":
            for entry in value.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                mode = ((entry.get("search") or {}).get("mode") if isinstance(entry, dict) else None) or "match"
                if (
                    isinstance(resource, dict)
                    and resource.get("resourceType") != "OperationOutcome"
                    and mode != "outcome"
                ):
                    entries.append({"resource": resource})
        else:
            entries.append({"resource": value})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
