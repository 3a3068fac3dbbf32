"""The JSON API, version 1. Bodies in and out are those of ``mbcnav options --format json``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from mbc_navigator.engine import assess
from mbc_navigator.engine.assess import knowledge_summary
from mbc_navigator.engine.cites import cite_json
from mbc_navigator.engine.drug_info import drug_info
from mbc_navigator.engine.encode import assessment_json
from mbc_navigator.knowledge.export import export
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import ProfileError, parse_profile
from mbc_navigator.web import schemas
from mbc_navigator.web.http import JSON, HTTPProblem, json_response, problem, read_json

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TODAY = Query(
    None,
    description="judge the pages' review dates by this date, YYYY-MM-DD (default: today)",
    json_schema_extra={"format": "date"},
)


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {JSON: {"schema": schema}}}


def parse_today(text: str | None) -> date | None:
    """The ``today`` parameter: an ISO date only (no timestamps, no numbers)."""
    if text is None:
        return None
    try:
        if ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise problem(422, "today", f"{text!r} is not a date in the form YYYY-MM-DD")


def assess_raw(raw: Any, kb: KnowledgeBase, today: date | None) -> dict[str, Any]:
    """Profile JSON -> assessment, with profile problems as a 422."""
    try:
        profile = parse_profile(raw, kb)
    except ProfileError as exc:
        raise HTTPProblem(422, [p.as_dict() for p in exc.problems]) from None
    return assess(profile, kb, today=today)


def make_router(kb: KnowledgeBase) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["api v1"])
    exported = export(kb)
    regimens = {r["id"]: r for r in exported["regimens"]}
    drug_list = [{"id": d.id, "name": d.name, "brands": d.brands, "classes": d.classes} for d in kb.drugs.values()]
    research = [
        {"id": r.id, "name": r.name, "kind": r.kind, "area": r.area, "sources": [cite_json(kb, c) for c in r.sources]}
        for r in kb.research
    ]

    @router.post(
        "/assess",
        summary="Assess every option for one profile",
        description=(
            "The profile JSON in; each option out as eligible / ineligible / needs_info, criterion by criterion, "
            "with what is missing, the questions that would settle it, cautions, warnings and the pages' words. "
            "Information to discuss with a care team, never a prescription."
        ),
        openapi_extra={"requestBody": {"required": True, **_content(schemas.profile_schema(kb))}},
        responses={
            200: {"description": "The assessment.", **_content(schemas.ASSESSMENT)},
            **schemas.error_responses(400, 413, 422),
        },
        response_class=Response,
    )
    async def assess_endpoint(request: Request, today: str | None = TODAY) -> Response:
        day = parse_today(today)
        raw = await read_json(request)
        return Response(assessment_json(assess_raw(raw, kb, day)), media_type=JSON)

    @router.get(
        "/regimens",
        summary="Every option with its criteria",
        responses={200: _content(schemas.listing("regimens"))},
    )
    async def list_regimens() -> Response:
        return json_response({"regimens": exported["regimens"]})

    @router.get(
        "/regimens/{regimen_id}",
        summary="One option with its criteria and sources",
        responses={200: _content(schemas.OBJECT), **schemas.error_responses(404)},
    )
    async def get_regimen(
        regimen_id: str = Path(description="the option's id", json_schema_extra={"enum": list(regimens)}),
    ) -> Response:
        if regimen_id not in regimens:
            raise problem(404, "regimen_id", f"{regimen_id!r} is not an option; known: {', '.join(regimens)}")
        return json_response(regimens[regimen_id])

    @router.get(
        "/drugs",
        summary="Every drug the knowledge base knows",
        responses={200: _content(schemas.listing("drugs"))},
    )
    async def list_drugs() -> Response:
        return json_response({"drugs": drug_list})

    @router.get(
        "/drugs/{name}",
        summary="What the pages say about a drug (generic or brand name)",
        responses={200: _content(schemas.OBJECT), **schemas.error_responses(404)},
    )
    async def get_drug(
        name: str = Path(description="generic or brand name, any case", examples=["trastuzumab", "Kadcyla"]),
    ) -> Response:
        drug = kb.find_drug(name)
        if drug is None:
            raise problem(404, "name", f"{name!r} is not a drug the knowledge base knows (generic or brand name)")
        return json_response(drug_info(kb, drug))

    @router.get(
        "/sources",
        summary="The pages with their review dates, external sources, and where the pages disagree",
        responses={200: _content(schemas.OBJECT), **schemas.error_responses(422)},
    )
    async def list_sources(today: str | None = TODAY) -> Response:
        summary = knowledge_summary(kb, parse_today(today) or date.today())
        return json_response(
            {
                "pages": summary["sources"],
                "external": exported["external_sources"],
                "conflicts": summary["conflicts"],
                "disclaimer": kb.meta.disclaimer,
            }
        )

    @router.get(
        "/research",
        summary="Drugs and directions under study",
        responses={200: _content(schemas.listing("research"))},
    )
    async def list_research() -> Response:
        return json_response({"research": research})

    return router
