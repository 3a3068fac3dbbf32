"""Build the ASGI app: API, pages, static files, one error shape, security headers on everything."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from mbc_navigator import __version__
from mbc_navigator.cds import service as cds_service
from mbc_navigator.cds.auth import CdsAuth
from mbc_navigator.cds.options import CDS_ARGS_ENV, auth_from_args
from mbc_navigator.fhir import api as fhir_api
from mbc_navigator.knowledge.loader import KnowledgeBase, load
from mbc_navigator.search import web as search_web
from mbc_navigator.search.rank import Searcher
from mbc_navigator.web import api, pages, schemas
from mbc_navigator.web.http import CorsFor, Guard, HTTPProblem, problem_response

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("mbc_navigator.web")


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "(request)"


def create_app(kb: KnowledgeBase | None = None, cds_auth: CdsAuth | Literal["open"] | None = None) -> FastAPI:
    """The whole app for one knowledge base (loaded from the package's data when not given).

    ``cds_auth``: who may call the CDS Hooks service. By default (None) every CDS call is refused until a client
    and its key are configured; "open" accepts calls without a token (``--cds-no-auth``, local use only).
    """
    kb = kb or load()
    auth = None if cds_auth == "open" else cds_auth or CdsAuth()
    app = FastAPI(
        title="mbc-navigator",
        version=__version__,
        description=(
            "What public patient-information pages say about targeted and immunotherapy drugs for secondary "
            "breast cancer, made executable. " + kb.meta.disclaimer
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    searcher = search_web.lazy(lambda: Searcher(kb))  # made on the first search: loading the model takes seconds
    app.include_router(api.make_router(kb))
    app.include_router(fhir_api.make_router(kb))
    app.include_router(cds_service.make_router(kb, auth))
    app.include_router(search_web.make_router(searcher))
    app.include_router(pages.make_router(kb, app, searcher))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.openapi_schema = schemas.use_one_error_shape(app.openapi())

    @app.exception_handler(HTTPProblem)
    async def on_problem(request: Request, exc: HTTPProblem) -> Response:
        if pages.wants_html(request):
            return pages.error_page(request, exc.status, exc.problems)
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"field": _field(tuple(e["loc"])), "message": str(e["msg"])} for e in exc.errors()]
        return await on_problem(request, HTTPProblem(422, problems))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        field = "(path)" if exc.status_code == 404 else "(request)"
        response = await on_problem(
            request, HTTPProblem(exc.status_code, [{"field": field, "message": str(exc.detail)}])
        )
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(Exception)
    async def on_bug(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return await on_problem(
            request, HTTPProblem(500, [{"field": "(server)", "message": "internal error (a bug; please report it)"}])
        )

    app.add_middleware(CorsFor, prefix="/cds-services")
    app.add_middleware(Guard)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for worker processes: the knowledge folder from $MBCNAV_KNOWLEDGE, the CDS flags from
    $MBCNAV_CDS_ARGS (refusing every CDS call when it is not set)."""
    flags = os.environ.get(CDS_ARGS_ENV)
    auth = auth_from_args(argparse.Namespace(**json.loads(flags))) if flags else CdsAuth()
    app = create_app(load(), auth or "open")
    gc.freeze()  # the knowledge base lives as long as the process: keep it out of every garbage collection
    return app
