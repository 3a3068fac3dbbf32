"""``GET /api/v1/search?q=...&limit=N``: the best passages of the pages for a question, as JSON.

The web app mounts ``make_router(searcher_factory)``; the searcher is made on the first request, once.
Bad input gets 422 with ``{"detail": [{"field": ..., "message": ...}]}``, naming the field and what is allowed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from mbc_navigator.search.rank import Searcher
from mbc_navigator.search.settings import MAX_LIMIT
from mbc_navigator.web.schemas import error_responses

MAX_QUERY = 500
DEFAULT_LIMIT = 5


def _problems(q: str | None, limit: str | None) -> tuple[list[dict[str, str]], str, int]:
    problems: list[dict[str, str]] = []
    question = " ".join((q or "").split())
    if q is None:
        problems.append({"field": "q", "message": "missing: give the question as ?q=..."})
    elif not question:
        problems.append({"field": "q", "message": "empty: give the question in plain words"})
    elif len(question) > MAX_QUERY:
        problems.append({"field": "q", "message": f"too long: {len(question)} characters; at most {MAX_QUERY}"})
    number = DEFAULT_LIMIT
    if limit is not None:
        try:
            number = int(limit)
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_LIMIT:
            problems.append(
                {"field": "limit", "message": f"{limit!r} is not allowed: a whole number from 1 to {MAX_LIMIT}"}
            )
    return problems, question, number


def lazy(searcher_factory: Callable[[], Searcher]) -> Callable[[], Searcher]:
    """The searcher, made and loaded on first use, once, however many requests ask at the same time."""
    lock = threading.Lock()
    made: list[Searcher] = []

    def searcher() -> Searcher:
        with lock:
            if not made:
                made.append(searcher_factory().load())
            return made[0]

    return searcher


def search_json(searcher: Searcher, question: str, limit: int) -> dict[str, Any]:
    """The answer of ``GET /api/v1/search``: the best passages, never a written answer."""
    data: dict[str, Any] = {
        "query": question,
        "ranking": searcher.ranking,
        "results": [hit.to_json(searcher.kb) for hit in searcher.search(question, limit)],
    }
    if searcher.note:
        data["note"] = searcher.note
    return data


RESULTS_SCHEMA = {
    "type": "object",
    "required": ["query", "ranking", "results"],
    "properties": {
        "query": {"type": "string"},
        "ranking": {"type": "string", "enum": ["combined", "lexical", "semantic"]},
        "note": {"type": "string", "description": "why ranking is lexical only, when it is"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["source", "heading", "text", "score"],
                "properties": {
                    "source": {"type": "string"},
                    "heading": {"type": "string"},
                    "text": {"type": "string"},
                    "score": {"type": "number"},
                },
            },
        },
    },
}


def make_router(searcher: Callable[[], Searcher]) -> APIRouter:
    """The search API; ``searcher`` gives the (lazily made) searcher."""
    router = APIRouter()

    @router.get(
        "/api/v1/search",
        response_model=None,
        summary="The passages of the pages that answer a question",
        tags=["api v1"],
        responses={
            200: {"description": "The best passages.", "content": {"application/json": {"schema": RESULTS_SCHEMA}}},
            **error_responses(422),
        },
    )
    async def search(
        q: Annotated[str | None, Query(description=f"the question, 1 to {MAX_QUERY} characters")] = None,
        limit: Annotated[str | None, Query(description=f"how many passages, 1 to {MAX_LIMIT} (default 5)")] = None,
    ) -> JSONResponse:
        problems, question, number = _problems(q, limit)
        if problems:
            return JSONResponse({"detail": problems}, status_code=422)

        return JSONResponse(await run_in_threadpool(lambda: search_json(searcher(), question, number)))

    return router
