"""HTTP plumbing shared by the API and the pages: the one error shape, size-limited bodies, security headers and
an access log that never holds profile content."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024
JSON = "application/json"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]

access_log = logging.getLogger("mbc_navigator.access")


class HTTPProblem(Exception):
    """An error answered in the one documented shape: ``{"detail": [{"field", "message"}, ...]}``."""

    def __init__(self, status: int, problems: list[dict[str, str]]) -> None:
        super().__init__(problems)
        self.status = status
        self.problems = problems


def problem(status: int, field: str, message: str) -> HTTPProblem:
    return HTTPProblem(status, [{"field": field, "message": message}])


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON, headers=headers)


def problem_response(exc: HTTPProblem) -> Response:
    return json_response({"detail": exc.problems}, exc.status)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (by its declared length or as it streams in)."""
    declared = request.headers.get("content-length")
    too_big = problem(413, "(body)", f"the body is larger than the limit of {limit} bytes")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    """The body decoded as JSON, or 400 naming where the JSON is broken."""
    body = await read_body(request, limit)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise problem(400, "(body)", f"not valid JSON: {exc}") from None


class Guard:
    """ASGI middleware: security headers on every response, and one access-log line per request holding method,
    path (never the query string), status and time only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                ms = (time.perf_counter() - start) * 1000
                access_log.info("%s %s %d %.1fms", scope["method"], scope["path"], status, ms)


class CorsFor:
    """ASGI middleware: CORS on the paths under ``prefix`` only (CDS Hooks clients can run in a browser and call
    with a Bearer token, never cookies); every other path is same-origin only."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
