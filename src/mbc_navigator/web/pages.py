"""The HTML pages: the patient form and results, the clinician view, and a page for every part of the knowledge.

Server-rendered, no JavaScript: every form posts back, carrying the answers in hidden fields (never stored).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mbc_navigator.engine.assess import knowledge_summary
from mbc_navigator.engine.cites import cite_json
from mbc_navigator.engine.drug_info import drug_info
from mbc_navigator.fhir.api import assess_bundle
from mbc_navigator.knowledge.export import export
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.search.rank import Searcher
from mbc_navigator.search.web import MAX_QUERY, search_json
from mbc_navigator.web import form as F
from mbc_navigator.web.api import assess_raw
from mbc_navigator.web.http import HTTPProblem, problem, read_body

TEMPLATES = Path(__file__).parent / "templates"
GROUPS = (
    ("eligible", "May be suitable", "Every criterion the pages give is met by your answers."),
    ("needs_info", "More information needed first", "Some criteria cannot be settled yet. Ask your care team:"),
    ("ineligible", "Not suitable, by what the pages say", "At least one criterion is not met."),
)
RESULT_LABEL = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/openapi", "/cds-services")):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


class Renderer:
    """The templates of one app, with what every page shows (the disclaimer, links to the sources)."""

    def __init__(self, helpers: dict[str, Any], base: dict[str, Any]) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(helpers)
        self.base = base

    def __call__(
        self, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
    ) -> HTMLResponse:
        body = self.env.get_template(template).render(**self.base, **context)
        return HTMLResponse(body, status_code=status_code, headers=headers)


def error_page(request: Request, status: int, problems: list[dict[str, str]]) -> Response:
    titles = {404: "Page not found", 413: "Too much was sent", 500: "Something went wrong"}
    render: Renderer = request.app.state.render
    return render("error.html", status, title=titles.get(status, "That did not work"), status=status, problems=problems)


async def read_form(request: Request) -> F.Form:
    body = await read_body(request)
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError) as exc:
        raise problem(400, "(form)", f"the form could not be read: {exc}") from None


def make_router(kb: KnowledgeBase, app: FastAPI, searcher: Callable[[], Searcher]) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    page_ids = {p.file: p.id for p in kb.pages.values()}
    drugs = {d.id: drug_info(kb, d) for d in kb.drugs.values()}
    exported = export(kb)
    regimens = {r["id"]: r for r in exported["regimens"]}
    terms = {t.id: t for t in kb.glossary}
    facts = {f.name: f for f in kb.facts.base}
    base: dict[str, Any] = {"disclaimer": kb.meta.disclaimer, "page_ids": page_ids, "version": kb.meta.version}

    def cite_href(cite: dict[str, Any]) -> str:
        return f"/sources/{page_ids.get(cite['source'], cite['source'])}"

    html = Renderer({"cite_href": cite_href, "result_label": RESULT_LABEL}, base)
    app.state.render = html

    def glossary_for(names: list[str]) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for name in names:
            entries = [
                {"term": terms[t].term, "definition": [cite_json(kb, c) for c in terms[t].definition]}
                for t in facts[name].glossary
                if t in terms
            ]
            out[name] = entries
        return out

    def step_page(form_data: F.Form, index: int, problems: list[dict[str, str]] | None = None) -> HTMLResponse:
        topic, title, names = F.TOPICS[index]
        return html(
            "check.html",
            422 if problems else 200,
            title=f"{title}: check which options may fit",
            topics=F.TOPICS,
            index=index,
            topic=topic,
            topic_title=title,
            questions=F.questions(kb, topic, form_data),
            glossary=glossary_for(list(names)),
            rows=F.rows(form_data),
            form=form_data,
            one=F.one,
            hidden=F.hidden_fields(form_data, topic),
            problems=problems or [],
        )

    def results_page(raw: dict[str, Any], result: dict[str, Any]) -> HTMLResponse:
        groups = [
            (status, title, meaning, [o for o in result["options"] if o["status"] == status])
            for status, title, meaning in GROUPS
        ]
        return html(
            "results.html",
            title="Your results: options to discuss with your care team",
            groups=groups,
            result=result,
            drugs=drugs,
            profile_json=orjson.dumps(raw).decode(),
        )

    @router.get("/")
    async def home() -> HTMLResponse:
        return html("index.html", title="Treatments for secondary breast cancer: what the pages say")

    @router.get("/check")
    async def check_start() -> HTMLResponse:
        return step_page({}, 0)

    @router.post("/check")
    async def check_step(request: Request) -> HTMLResponse:
        data = await read_form(request)
        if F.one(data, "profile"):
            data = {**F.from_profile(kb, _profile_text(F.one(data, "profile"))), "go": data.get("go", ["0"])}
        step_text = F.one(data, "step")
        index = int(step_text) if step_text.isdigit() and int(step_text) < len(F.TOPICS) else 0
        go = F.one(data, "go")
        if go == "add_treatment":
            data["t_rows"] = [str(F.rows(data) + 1)]
            return step_page(data, index)
        if go == "back":
            return step_page(data, max(index - 1, 0))
        if go.isdigit() and int(go) < len(F.TOPICS):
            return step_page(data, int(go))
        if go == "next" and index + 1 < len(F.TOPICS):
            return step_page(data, index + 1)
        raw = F.to_profile(kb, data)
        try:
            result = assess_raw(raw, kb, None)
        except HTTPProblem as exc:
            first = F.TOPICS.index(next(t for t in F.TOPICS if t[0] == F.topic_of(exc.problems[0]["field"])))
            return step_page(data, first, _label_problems(exc.problems))
        return results_page(raw, result)

    def _label_problems(problems: list[dict[str, str]]) -> list[dict[str, str]]:
        out = []
        for p in problems:
            root = p["field"].split("[")[0].split(".")[0]
            label = facts[root].label if root in facts else p["field"]
            out.append({**p, "label": label, "anchor": f"q-{root}"})
        return out

    def _profile_text(text: str) -> dict[str, Any]:
        try:
            raw = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise problem(400, "profile", f"not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise problem(422, "profile", "must be a JSON object {...}")
        return raw

    @router.post("/questions")
    async def questions_page(request: Request) -> HTMLResponse:
        data = await read_form(request)
        raw = _profile_text(F.one(data, "profile") or "{}")
        result = assess_raw(raw, kb, None)
        return html("questions.html", title="Questions to ask your care team", result=result)

    @router.get("/clinician")
    async def clinician_start() -> HTMLResponse:
        return html("clinician.html", title="Clinician view", result=None, profile_text="", today="")

    @router.post("/clinician")
    async def clinician(request: Request) -> HTMLResponse:
        data = await read_form(request)
        text = F.one(data, "profile") or "{}"
        today_text = F.one(data, "today")
        try:
            today = date.fromisoformat(today_text) if today_text else None
            raw = _profile_text(text)
            if raw.get("resourceType") == "Bundle":  # a FHIR record: read it, and show where each fact came from
                status, result = assess_bundle(raw, kb, today)
                if status != 200:
                    raise HTTPProblem(status, result["detail"])
            else:
                result = assess_raw(raw, kb, today)
        except (HTTPProblem, ValueError) as exc:
            problems = exc.problems if isinstance(exc, HTTPProblem) else [{"field": "today", "message": str(exc)}]
            return html(
                "clinician.html",
                422,
                title="Clinician view",
                result=None,
                problems=problems,
                profile_text=text,
                today=today_text,
            )
        pretty = text if "fhir" in result else orjson.dumps(raw, option=orjson.OPT_INDENT_2).decode()
        return html(
            "clinician.html",
            title="Clinician view",
            result=result,
            profile_text=pretty,
            today=result["knowledge"]["as_of"],
            problems=[],
        )

    @router.post("/profile.json")
    async def download_profile(request: Request) -> Response:
        data = await read_form(request)
        raw = _profile_text(F.one(data, "profile") or "{}")
        assess_raw(raw, kb, None)  # only a valid profile is offered for download
        body = orjson.dumps(raw, option=orjson.OPT_INDENT_2)
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": 'attachment; filename="mbc-navigator-profile.json"'},
        )

    @router.get("/regimens")
    async def regimens_page() -> HTMLResponse:
        return html("regimens.html", title="Treatment options", regimens=list(regimens.values()), drugs=drugs)

    @router.get("/regimens/{regimen_id}")
    async def regimen_page(regimen_id: str) -> HTMLResponse:
        if regimen_id not in regimens:
            raise problem(404, "regimen_id", f"there is no option called {regimen_id!r}")
        conflicts = [c for c in knowledge_summary(kb, date.today())["conflicts"] if regimen_id in c["bears_on"]]
        return html(
            "regimen.html",
            title=regimens[regimen_id]["name"],
            r=regimens[regimen_id],
            drugs=drugs,
            conflicts=conflicts,
        )

    @router.get("/drugs")
    async def drugs_page() -> HTMLResponse:
        return html("drugs.html", title="Drugs", drugs=sorted(drugs.values(), key=lambda d: d["name"].lower()))

    @router.get("/drugs/{name}")
    async def drug_page(name: str) -> HTMLResponse:
        drug = kb.find_drug(name)
        if drug is None:
            raise problem(404, "name", f"there is no drug called {name!r} in the knowledge base")
        return html("drug.html", title=drug.name, d=drugs[drug.id])

    @router.get("/research")
    async def research_page() -> HTMLResponse:
        areas: dict[str, list[dict[str, Any]]] = {}
        for item in kb.research:
            areas.setdefault(item.area, []).append(
                {"name": item.name, "kind": item.kind, "sources": [cite_json(kb, c) for c in item.sources]}
            )
        return html("research.html", title="Research into treatment", areas=areas)

    @router.get("/glossary")
    async def glossary_page() -> HTMLResponse:
        entries = [
            {"id": t.id, "term": t.term, "aliases": t.aliases, "definition": [cite_json(kb, c) for c in t.definition]}
            for t in sorted(kb.glossary, key=lambda t: t.term.lower())
        ]
        return html("glossary.html", title="Glossary", entries=entries)

    @router.get("/sources")
    async def sources_page() -> HTMLResponse:
        summary = knowledge_summary(kb, date.today())
        return html(
            "sources.html",
            title="Sources",
            pages=summary["sources"],
            conflicts=summary["conflicts"],
            external=exported["external_sources"],
        )

    @router.get("/sources/{source_id}")
    async def source_page(source_id: str) -> HTMLResponse:
        summary = knowledge_summary(kb, date.today())
        page = next((p for p in summary["sources"] if p["id"] == source_id), None)
        ext = next((e for e in exported["external_sources"] if e["id"] == source_id), None)
        if page is None and ext is None:
            raise problem(404, "source_id", f"there is no source called {source_id!r}")
        key = page["file"] if page else source_id
        quotes = sorted({q for q in _quotes(exported) if q[0] == key})
        conflicts = [c for c in summary["conflicts"] if any(s["source"] == key for s in c["statements"])]
        return html(
            "source.html",
            title=page["title"] if page else ext["title"] if ext else source_id,
            page=page,
            ext=ext,
            passages=[q[1] for q in quotes],
            conflicts=conflicts,
        )

    @router.get("/search")
    async def search_page(q: str = "") -> HTMLResponse:
        question = " ".join(q.split())[:MAX_QUERY]
        found = None
        if question:  # the searcher is made on first use, off the event loop
            found = await run_in_threadpool(lambda: search_json(searcher(), question, 8))
        title = f"Search: {question}" if question else "Search"
        return html("search.html", title=title, q=question, found=found)

    @router.get("/api")
    async def api_docs() -> HTMLResponse:
        spec = app.openapi()
        return html("api.html", title="JSON API", spec=spec, dumps=_pretty)

    return router


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _quotes(obj: Any) -> set[tuple[str, str]]:
    """Every (source, quote) pair anywhere in the exported knowledge."""
    out: set[tuple[str, str]] = set()
    if isinstance(obj, dict):
        if "source" in obj and "quote" in obj and isinstance(obj["quote"], str):
            out.add((obj["source"], obj["quote"]))
        for value in obj.values():
            out |= _quotes(value)
    elif isinstance(obj, list):
        for value in obj:
            out |= _quotes(value)
    return out
