"""JSON Schemas for the API, built from the knowledge base so the documentation cannot drift from the data.

The profile schema is generated from the facts catalogue (``facts.yaml``); the others describe what the
engine and the knowledge endpoints return. They feed ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import BaseFact, TreatmentField

PROBLEM = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "the field's path, e.g. prior_treatments[0].setting"},
        "message": {"type": "string", "description": "what is wrong and what is allowed"},
    },
}
ERROR = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": PROBLEM}},
    "description": "Every error has this shape: one entry per problem, each naming its field.",
}


MEANING = {
    400: "The body is not JSON, or not the shape asked for.",
    401: "No valid Bearer token (CDS Hooks): the message says why.",
    404: "No such item.",
    412: "Prefetch data is missing and no FHIR server was given to fetch it from (CDS Hooks).",
    413: "The body is too large.",
    422: "Invalid input: each problem names its field and what is allowed.",
    502: "The record system's FHIR server could not be read (CDS Hooks).",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error codes, all in the one error shape."""
    return {code: {"description": MEANING[code], "content": {"application/json": {"schema": ERROR}}} for code in codes}


def use_one_error_shape(spec: dict[str, Any]) -> dict[str, Any]:
    """Document FastAPI's own 422 (a bad query parameter) in the project's error shape, which the app's handler
    turns it into, instead of FastAPI's default ``HTTPValidationError``."""
    for methods in spec.get("paths", {}).values():
        for op in methods.values():
            resp = op.get("responses", {}).get("422")
            if resp and "HTTPValidationError" in str(resp):
                op["responses"]["422"] = error_responses(422)[422]
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return spec


def _fact_schema(fact: BaseFact | TreatmentField) -> dict[str, Any]:
    if fact.type == "enum":
        return {"type": ["string", "null"], "enum": [*fact.values, None]}
    if fact.type == "bool":
        return {"type": ["boolean", "null"]}
    if fact.type == "date":
        return {"type": ["string", "null"], "format": "date"}
    if fact.type == "enum_list":
        return {"type": ["array", "null"], "items": {"type": "string", "enum": fact.values}}  # repeats are read once
    raise AssertionError(fact.type)


def profile_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The profile: every field optional; missing or null is unknown; an empty list is a known none."""
    treatment: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "drugs": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "generic or brand names, any case",
            },
            **{f.name: _fact_schema(f) for f in kb.facts.treatment_fields},
        },
    }
    props: dict[str, Any] = {}
    for fact in kb.facts.base:
        schema = {"type": ["array", "null"], "items": treatment} if fact.type == "treatments" else _fact_schema(fact)
        props[fact.name] = {**schema, "description": f"{fact.label}. {fact.question}"}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "description": "A patient profile. Every field is optional: missing or null means unknown.",
    }


CITE = {
    "type": "object",
    "required": ["source", "quote"],
    "properties": {
        "source": {"type": "string", "description": "page file name, or external source id"},
        "quote": {"type": "string"},
        "external": {"type": "boolean", "description": "true when the words are not the pages'"},
        "title": {"type": "string"},
        "url": {"type": "string"},
    },
}

OPTION = {
    "type": "object",
    "required": ["id", "name", "status", "criteria", "missing", "questions", "sources"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["eligible", "ineligible", "needs_info"]},
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "text", "result", "missing", "sources"],
                "properties": {
                    "id": {"type": "string"},
                    "text": {"type": "string"},
                    "result": {"type": "string", "enum": ["met", "not_met", "unknown"]},
                    "rule": {"type": "string"},
                    "facts": {"type": "object"},
                    "missing": {"type": "array", "items": {"type": "string"}},
                    "sources": {"type": "array", "items": CITE},
                },
            },
        },
        "missing": {"type": "array", "items": {"type": "string"}},
        "questions": {"type": "array", "items": {"type": "object"}},
        "cautions": {"type": "array", "items": {"type": "object"}},
        "availability": {"type": "array", "items": CITE},
        "sources": {"type": "array", "items": CITE},
    },
}

ASSESSMENT = {
    "type": "object",
    "required": ["options", "warnings", "profile", "knowledge"],
    "properties": {
        "options": {"type": "array", "items": OPTION},
        "warnings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "message"],
                "properties": {
                    "kind": {"type": "string"},
                    "id": {"type": "string"},
                    "field": {"type": "string", "description": "for a warning about one input field"},
                    "message": {"type": "string"},
                },
            },
        },
        "profile": {"type": "object", "required": ["given", "derived"]},
        "knowledge": {
            "type": "object",
            "required": ["version", "disclaimer", "sources", "conflicts"],
            "properties": {"disclaimer": {"type": "string"}},
        },
    },
}

OBJECT = {"type": "object"}


def listing(key: str) -> dict[str, Any]:
    """``{"<key>": [{...}, ...]}``."""
    return {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": OBJECT}}}
