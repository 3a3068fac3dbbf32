"""The CDS Hooks 2.0 service: discovery, the ``patient-view`` service ``mbc-options`` and its feedback endpoint."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from mbc_navigator.cds.auth import AuthError, CdsAuth
from mbc_navigator.cds.cards import cards
from mbc_navigator.cds.prefetch import PREFETCH, FetchFailed, MissingPrefetch, as_bundle, gather
from mbc_navigator.engine import assess
from mbc_navigator.fhir.api import MAX_BUNDLE
from mbc_navigator.fhir.read import FhirError, read_bundle
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import ProfileError, parse_profile
from mbc_navigator.web.http import read_json
from mbc_navigator.web.schemas import error_responses

SERVICE_ID = "mbc-options"
feedback_log = logging.getLogger("mbc_navigator.cds.feedback")
HOOK = "patient-view"
OUTCOMES = {"accepted", "overridden"}
DISCOVERY = {
    "services": [
        {
            "hook": HOOK,
            "id": SERVICE_ID,
            "title": "Secondary breast cancer: targeted and immunotherapy options",
            "description": (
                "Which targeted and immunotherapy options public patient-information pages say may fit this "
                "patient, why, and what is still unknown. Information to discuss with a care team, never a "
                "prescription."
            ),
            "prefetch": PREFETCH,
            "usageRequirements": "Reads Patient, Condition, Observation and MedicationStatement (mCODE profiles).",
        }
    ]
}


def _problem(status: int, field: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": [{"field": field, "message": message}]}, status_code=status, headers=headers)


class Refused(Exception):
    """A request refused before it reaches an endpoint (401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _guard(auth: CdsAuth | None) -> Callable[[Request], Awaitable[dict[str, Any] | None]]:
    async def check(request: Request) -> dict[str, Any] | None:
        if auth is None:
            return None
        url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        header = request.headers.get("authorization")
        try:
            return await run_in_threadpool(auth.check, header, url, request.url.path)
        except AuthError as exc:
            raise Refused(str(exc)) from None

    return check


def _request_problem(body: Any) -> tuple[str, str] | None:
    if not isinstance(body, dict):
        return "(body)", "must be a JSON object (a CDS Hooks request)"
    if body.get("hook") != HOOK:
        return "hook", f"{body.get('hook')!r} is not served here; this service answers {HOOK!r}"
    if not isinstance(body.get("hookInstance"), str):
        return "hookInstance", "is required (a UUID for this hook call)"
    context = body.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("patientId"), str) or not context["patientId"]:
        return "context.patientId", "is required (the id of the patient in view)"
    if body.get("prefetch") is not None and not isinstance(body["prefetch"], dict):
        return "prefetch", "must be an object of the prefetch keys"
    return None


def make_router(kb: KnowledgeBase, auth: CdsAuth | None) -> APIRouter:
    """The CDS Hooks endpoints. ``auth`` None means open (``--cds-no-auth``, local use only)."""
    guard = _guard(auth)
    router = APIRouter(tags=["CDS Hooks"])

    def _refused(exc: Refused) -> Response:
        header = f'Bearer error="invalid_token", error_description="{exc.message}"'.replace("\n", " ")
        return _problem(401, "Authorization", exc.message, {"WWW-Authenticate": header})

    async def _authorised(request: Request) -> Response | None:
        try:
            await guard(request)
        except Refused as exc:
            return _refused(exc)
        return None

    @router.get("/cds-services", summary="CDS Hooks discovery", responses=error_responses(401))
    async def discovery(request: Request) -> Response:
        return await _authorised(request) or JSONResponse(DISCOVERY)

    @router.post(
        f"/cds-services/{SERVICE_ID}",
        summary="patient-view: the options for the patient in view, as cards",
        responses=error_responses(400, 401, 412, 413, 422, 502),
    )
    async def service(request: Request) -> Response:
        if refused := await _authorised(request):
            return refused
        body = await read_json(request, MAX_BUNDLE)  # 400 (not JSON) and 413 in the app's one error shape
        if bad := _request_problem(body):
            return _problem(400, *bad)
        try:
            data = await run_in_threadpool(gather, body, body["context"]["patientId"])
        except MissingPrefetch as exc:
            return _problem(412, f"prefetch.{exc}", "is missing and no fhirServer was given to fetch it from")
        except FetchFailed as exc:
            return _problem(502, "fhirServer", f"could not be read: {exc}")
        try:
            profile = parse_profile(read_bundle(as_bundle(data), kb).profile, kb)
        except FhirError as exc:
            return JSONResponse({"detail": [p.as_dict() for p in exc.problems]}, status_code=422)
        except ProfileError as exc:
            detail = [{"field": f"profile.{p.field}", "message": p.message} for p in exc.problems]
            return JSONResponse({"detail": detail}, status_code=422)
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"cards": cards(assess(profile, kb), kb, base)})

    @router.post(
        f"/cds-services/{SERVICE_ID}/feedback",
        summary="CDS Hooks feedback on the cards",
        responses=error_responses(400, 401, 413),
    )
    async def feedback(request: Request) -> Response:
        if refused := await _authorised(request):
            return refused
        body = await read_json(request, MAX_BUNDLE)  # 400 (not JSON) and 413 in the app's one error shape
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return _problem(400, "feedback", "must be a non-empty list of {card, outcome, outcomeTimestamp}")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("card"), str):
                return _problem(400, f"feedback[{i}].card", "is required (the uuid of a card)")
            if item.get("outcome") not in OUTCOMES:
                return _problem(400, f"feedback[{i}].outcome", "must be 'accepted' or 'overridden'")
            if not isinstance(item.get("outcomeTimestamp"), str):
                return _problem(400, f"feedback[{i}].outcomeTimestamp", "is required (an ISO 8601 instant)")
        for item in items:  # logged without patient data: the card, the outcome and when
            feedback_log.info("card %s %s at %s", item["card"], item["outcome"], item["outcomeTimestamp"])
        return Response(status_code=200)

    return router
