"""The HTML pages over HTTP on a real server: every page answers, carries the disclaimer, works as plain forms
(no JavaScript), keeps "I don't know" unknown, and reproduces an assessment from a saved profile."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer

HTML = {"accept": "text/html"}
DISCLAIMER = "not medical advice and not a prescription"
PAGES = [
    "/",
    "/check",
    "/clinician",
    "/regimens",
    "/regimens/trastuzumab-emtansine",
    "/drugs",
    "/drugs/trastuzumab",
    "/drugs/Herceptin",
    "/research",
    "/glossary",
    "/sources",
    "/sources/000",
    "/sources/nice-ta819",
    "/api",
    "/search",
    "/search?q=how+often+is+the+denosumab+injection",
]


def groups(page: str) -> dict[str, int]:
    """Result groups and their counts, read off the results page's headings."""
    found = re.findall(r'<h2 id="group-(\w+)">[^<]*\((\d+)\)', page)
    return {status: int(n) for status, n in found}


def check(server: LiveServer, **answers: str | list[str]) -> httpx.Response:
    return httpx.post(server.url + "/check", data={"step": "3", "go": "results", **answers})


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_the_disclaimer(server: LiveServer, path: str) -> None:
    resp = httpx.get(server.url + path, headers=HTML, timeout=120)  # the first search loads the model
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert DISCLAIMER in resp.text
    assert "<script" not in resp.text, "the pages work without JavaScript"
    loaded = re.findall(r"""(?:src=|<link[^>]*href=)["']([^"']+)""", resp.text)
    assert loaded and all(url.startswith("/") for url in loaded), "everything loaded comes from the app itself"


def test_unknown_page_is_a_404_page(server: LiveServer) -> None:
    resp = httpx.get(server.url + "/no/such/page", headers=HTML)
    assert resp.status_code == 404 and "Page not found" in resp.text
    assert DISCLAIMER in resp.text, "error pages carry the disclaimer too"


def test_form_walks_topic_by_topic_carrying_answers(server: LiveServer) -> None:
    first = httpx.get(server.url + "/check").text
    assert "About you" in first and 'value="next"' in first
    second = httpx.post(server.url + "/check", data={"step": "0", "sex": "female", "go": "next"}).text
    assert "<h2>The cancer</h2>" in second
    assert '<input type="hidden" name="sex" value="female">' in second
    back = httpx.post(server.url + "/check", data={"step": "1", "sex": "female", "go": "back"}).text
    assert re.search(r'name="sex" value="female" checked', back)


def test_every_question_offers_i_dont_know(server: LiveServer) -> None:
    for step in range(3):
        page = httpx.post(server.url + "/check", data={"step": str(step), "go": str(step)}).text
        radios = set(re.findall(r'type="radio" id="[^"]+" name="(\w+)"', page))
        for name in radios:
            assert re.search(rf'name="{name}" value=""', page), f"{name} has no I don't know answer"


def test_i_dont_know_answers_give_more_information_needed(server: LiveServer) -> None:
    """HER2 positive, but ER, PR, PD-L1 and earlier treatments unknown: nothing is ruled in on a guess."""
    page = check(server, sex="female", extent="metastatic", her2="positive", er="", pr="", treatments_state="unknown")
    assert page.status_code == 200
    counts = groups(page.text)
    assert counts["needs_info"] > 0
    assert "Questions to ask your care team" in page.text
    assert "Ask your care team for a list of your earlier drug treatments" in unescape(page.text)


def test_triple_negative_results_group_and_explain(server: LiveServer) -> None:
    page = check(
        server,
        extent="metastatic",
        her2="zero",
        er="negative",
        pr="negative",
        metastatic_sites=["lung"],
        treatments_state="none",
    ).text
    counts = groups(page)
    assert set(counts) == {"eligible", "needs_info", "ineligible"}
    assert counts["needs_info"] >= 2  # the PD-L1 options
    assert "whether the cancer has been tested for the protein PD-L1" in page
    assert "Why not:" in page
    assert "Please read: warnings about these results" in page  # the stale page at least


def test_bad_answers_come_back_on_their_step_with_the_field_named(server: LiveServer) -> None:
    resp = check(server, extent="early", metastatic_sites=["bone"])
    assert resp.status_code == 422
    assert "Please check these answers" in resp.text
    assert 'href="#q-metastatic_sites"' in resp.text
    assert "<h2>The cancer</h2>" in resp.text


def test_treatment_rows_are_read(server: LiveServer) -> None:
    page = check(
        server,
        extent="metastatic",
        her2="positive",
        er="negative",
        pr="negative",
        treatments_state="listed",
        t0_drugs="Herceptin, pertuzumab, docetaxel",
        t0_setting="advanced",
        t0_end="2024-03-15",
    ).text
    chunk = page.split('id="option-pertuzumab-trastuzumab-docetaxel"')[1].split("</article>")[0]
    assert "option-ineligible" in page.split('id="option-pertuzumab-trastuzumab-docetaxel"')[0][-80:]
    assert "anti-HER2" in chunk


def test_add_treatment_adds_a_row(server: LiveServer) -> None:
    page = httpx.post(server.url + "/check", data={"step": "3", "t_rows": "3", "go": "add_treatment"}).text
    assert 'id="t3_drugs"' in page and 'id="t4_drugs"' not in page


def test_questions_page_lists_what_to_ask(server: LiveServer) -> None:
    profile = {"extent": "metastatic", "her2": "zero", "er": "negative", "pr": "negative", "prior_treatments": []}
    page = httpx.post(server.url + "/questions", data={"profile": json.dumps(profile)}).text
    assert "Questions to ask your care team" in page
    assert "whether the cancer has been tested for the protein PD-L1" in page


def test_clinician_view_shows_every_criterion_and_reproduces_from_the_saved_profile(server: LiveServer) -> None:
    profile = {"extent": "metastatic", "her2_ihc": "2+", "er": "positive", "sex": "female"}
    first = httpx.post(server.url + "/clinician", data={"profile": json.dumps(profile), "today": "2026-11-22"})
    assert first.status_code == 200
    assert first.text.count('<tr class="row-') == 17
    assert "her2_ish" in first.text  # IHC 2+ waits for ISH
    saved = httpx.post(server.url + "/profile.json", data={"profile": json.dumps(profile)})
    assert saved.headers["content-disposition"].startswith("attachment")
    assert saved.json() == profile
    again = httpx.post(server.url + "/clinician", data={"profile": saved.text, "today": "2026-11-22"})
    strip: Callable[[str], str] = lambda s: re.sub(r"<textarea.*?</textarea>", "", s, flags=re.S)  # noqa: E731
    assert strip(again.text) == strip(first.text)
    api = httpx.post(server.url + "/api/v1/assess?today=2026-11-22", content=saved.content).json()
    statuses = re.findall(r'<span class="status status-(\w+)">', first.text)
    assert statuses == [o["status"] for o in api["options"]]


def test_clinician_bad_profile_names_the_field(server: LiveServer) -> None:
    resp = httpx.post(server.url + "/clinician", data={"profile": '{"er": "yes"}'})
    assert resp.status_code == 422 and "<strong>er</strong>" in resp.text
    resp = httpx.post(server.url + "/clinician", data={"profile": '{"er": '})
    assert resp.status_code == 422 and "not valid JSON" in resp.text


def test_change_answers_goes_back_to_the_form_filled_in(server: LiveServer) -> None:
    profile = {"sex": "male", "metastatic_sites": ["bone"], "prior_treatments": [{"drugs": ["letrozole"]}]}
    page = httpx.post(server.url + "/check", data={"profile": json.dumps(profile), "go": "0"}).text
    assert re.search(r'name="sex" value="male" checked', page)
    assert '<input type="hidden" name="metastatic_sites" value="bone">' in page
    assert '<input type="hidden" name="t0_drugs" value="letrozole">' in page


def test_source_page_lists_the_quotes_taken_from_it(server: LiveServer) -> None:
    page = httpx.get(server.url + "/sources/000").text
    assert "past its review date" in page
    assert "A test on a sample of your cancer will show if it&#39;s HER2 positive." in page


def test_every_page_has_the_search_box(server: LiveServer) -> None:
    for path in ("/", "/drugs/trastuzumab", "/sources"):
        assert '<form role="search" method="get" action="/search"' in httpx.get(server.url + path).text


def test_search_page_shows_passages_with_source_and_links(server: LiveServer) -> None:
    """Only passages of the pages are shown, each with its file, and a link to the drug it concerns."""
    page = httpx.get(server.url + "/search", params={"q": "how often is the denosumab injection?"}, timeout=120).text
    first = page.split('<li class="hit">')[1]
    assert "every 4 weeks" in first
    assert 'href="/sources/002"' in first and 'href="/drugs/denosumab"' in first


def test_search_api_on_the_live_server(server: LiveServer) -> None:
    resp = httpx.get(server.url + "/api/v1/search", params={"q": "drip", "limit": "3"}, timeout=120)
    assert resp.status_code == 200
    data = resp.json()
    assert len(data["results"]) == 3 and data["ranking"] == "combined"
    assert {"source", "heading", "text", "score"} <= set(data["results"][0])
    assert httpx.get(server.url + "/api/v1/search", params={"q": ""}).status_code == 422


def test_warnings_for_men_and_brain_spread_are_shown(server: LiveServer) -> None:
    page = check(server, sex="male", extent="metastatic", her2="positive", metastatic_sites=["brain"]).text
    warnings = page.split('id="warnings-h"')[1].split("</section>")[0]
    assert 'class="warning warning-men"' in warnings
    assert 'class="warning warning-brain_spinal_cord"' in warnings
    assert 'class="warning warning-stale_source"' in warnings


def test_clinician_view_reads_a_fhir_bundle_with_provenance(server: LiveServer) -> None:
    bundle = Path(__file__).parent / "data" / "fhir" / "mcode-jenny-m-secondary.json"
    page = httpx.post(server.url + "/clinician", data={"profile": bundle.read_text(), "today": "2026-11-22"})
    assert page.status_code == 200
    assert "From the FHIR record" in page.text
    assert "Observation/tumor-marker-test-er-jenny-m" in page.text
    assert "Codes not understood" in page.text
    conflict = Path(__file__).parent / "data" / "fhir" / "her2-conflict.json"
    page = httpx.post(server.url + "/clinician", data={"profile": conflict.read_text()})
    assert "Results that disagree (left unknown)" in page.text
    bad = httpx.post(server.url + "/clinician", data={"profile": '{"resourceType": "Bundle", "type": "nonsense"}'})
    assert bad.status_code == 422 and "Bundle" in bad.text
