"""``POST /api/v1/assess/fhir``: a FHIR R4 Bundle in, the assessment out (as ``POST /api/v1/assess``, plus "fhir")."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from mbc_navigator.engine import assess
from mbc_navigator.engine.encode import assessment_json
from mbc_navigator.fhir.read import FhirError, read_bundle
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import ProfileError, parse_profile
from mbc_navigator.web.api import TODAY, parse_today
from mbc_navigator.web.http import HTTPProblem, read_json
from mbc_navigator.web.schemas import ASSESSMENT, error_responses

MAX_BUNDLE = 5 * 1024 * 1024


def assess_bundle(raw: Any, kb: KnowledgeBase, today: date | None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for a decoded bundle: 200 with the assessment and "fhir", or 422 with the problems."""
    try:
        reading = read_bundle(raw, kb)
    except FhirError as exc:
        return 422, {"detail": [p.as_dict() for p in exc.problems]}
    try:
        profile = parse_profile(reading.profile, kb)
    except ProfileError as exc:  # a bundle whose facts contradict each other (early extent with places of spread)
        return 422, {"detail": [{"field": f"profile.{p.field}", "message": p.message} for p in exc.problems]}
    result = assess(profile, kb, today=today)
    result["fhir"] = reading.as_json()
    return 200, result


def make_router(kb: KnowledgeBase) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["api v1"])

    @router.post(
        "/assess/fhir",
        summary="Assess every option for the patient in a FHIR R4 Bundle (mCODE)",
        description=(
            "A FHIR R4 Bundle (collection, transaction, searchset or document) in; the assessment out, as from "
            'POST /api/v1/assess, plus "fhir": the resource behind each fact (provenance), the codes not '
            "understood, and results that disagree. 400: not JSON; 413: too large; 422: not a valid Bundle, "
            "each problem naming the resource and the path. Information to discuss with a care team, never a "
            "prescription."
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/fhir+json": {"schema": {"type": "object"}}, "application/json": {}},
            }
        },
        responses={
            200: {
                "description": "The assessment, with provenance.",
                "content": {"application/json": {"schema": ASSESSMENT}},
            },
            **error_responses(400, 413, 422),
        },
        response_class=Response,
    )
    async def assess_fhir(request: Request, today: str | None = TODAY) -> Response:
        day = parse_today(today)
        raw = await read_json(request, MAX_BUNDLE)
        status, data = assess_bundle(raw, kb, day)
        if status != 200:
            raise HTTPProblem(status, data["detail"])
        return Response(assessment_json(data), media_type="application/json")

    return router
