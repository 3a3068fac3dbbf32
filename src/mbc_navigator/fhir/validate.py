"""Check that input is a FHIR R4 Bundle, with the ``fhir.resources`` R4B models, naming each bad resource and path."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from mbc_navigator.profile.model import FieldProblem, ProfileError

BUNDLE_TYPES = ("collection", "transaction", "searchset", "document")
MAX_PROBLEMS = 20


class FhirError(ProfileError):
    """The input is not a FHIR R4 Bundle we can read; ``problems`` name the resource and the path of each."""


def label(resource: Any, index: int | None = None) -> str:
    """How output names a resource: ``Observation/er-1``, else its type and entry number."""
    if not isinstance(resource, dict):
        return f"entry[{index}]" if index is not None else "(bundle)"
    kind = str(resource.get("resourceType", "resource"))
    if resource.get("id"):
        return f"{kind}/{resource['id']}"
    return f"{kind} (entry[{index}])" if index is not None else kind


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """``Observation/er-1 (entry[2]).valueCodeableConcept.coding[0].code`` for an error inside an entry."""
    if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        entries = raw.get("entry") or []
        resource = (
            entries[loc[1]].get("resource") if loc[1] < len(entries) and isinstance(entries[loc[1]], dict) else None
        )
        name = label(resource, loc[1])
        if isinstance(resource, dict) and resource.get("id"):
            name += f" (entry[{loc[1]}])"
        rest = _path(loc[3:])
        return f"{name}.{rest}" if rest else name
    return "Bundle." + _path(loc) if loc else "Bundle"


def parse_json(text: str, name: str) -> Any:
    """Decode JSON text, or raise ``FhirError`` with the line and column."""
    if not text.strip():
        raise FhirError([FieldProblem("(bundle)", f"{name} is empty; a FHIR R4 Bundle (JSON) is needed")])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise FhirError([FieldProblem("(bundle)", f"{name} is not valid JSON: {exc.msg} at {where}")]) from None


def validate_bundle(raw: Any) -> dict[str, Any]:
    """Return ``raw`` when it is a valid R4 Bundle of an allowed type; raise ``FhirError`` otherwise."""
    if not isinstance(raw, dict):
        kind = "a list" if isinstance(raw, list) else type(raw).__name__
        raise FhirError([FieldProblem("(bundle)", f"must be a JSON object (a FHIR Bundle), not {kind}")])
    resource_type = raw.get("resourceType")
    if resource_type != "Bundle":
        found = f"{resource_type!r}" if resource_type else "missing"
        raise FhirError(
            [
                FieldProblem(
                    "Bundle.resourceType",
                    f"is {found}; a FHIR R4 Bundle is needed (type {', '.join(BUNDLE_TYPES)})",
                )
            ]
        )
    from fhir.resources.R4B.bundle import Bundle  # imported here: the models take a tenth of a second to load

    try:
        Bundle.model_validate(raw)
    except ValidationError as exc:
        problems = [FieldProblem(_where(raw, tuple(e["loc"])), str(e["msg"])) for e in exc.errors()[:MAX_PROBLEMS]]
        if exc.error_count() > MAX_PROBLEMS:
            problems.append(FieldProblem("(bundle)", f"and {exc.error_count() - MAX_PROBLEMS} more problems"))
        raise FhirError(problems) from None
    if raw.get("type") not in BUNDLE_TYPES:
        raise FhirError(
            [
                FieldProblem(
                    "Bundle.type", f"{raw.get('type')!r} is not read here; use one of: {', '.join(BUNDLE_TYPES)}"
                )
            ]
        )
    return raw
