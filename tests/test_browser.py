"""The pages in a real browser (Debian's chromium driven by Playwright) against a real ``mbcnav serve``: a patient
fills the form, including "I don't know"; results are grouped; everything works by keyboard alone; phone and
desktop screenshots; and axe-core finds no WCAG 2.1 AA violation on any page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("MBCNAV_SCREENSHOTS", ROOT / "build" / "screenshots"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not AXE.exists(), reason="run scripts/setup: it installs chromium and axe-core"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def axe(page: Page) -> dict[str, Any]:
    """Run axe-core in the page (injected by evaluation, so the app's strict CSP stays on)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    return result


def assert_accessible(page: Page) -> None:
    violations = axe(page)["violations"]
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert violations == [], f"{page.url}: {summary}"


def fill_as_patient(page: Page, server: LiveServer) -> None:
    """A woman with secondary HER2 positive cancer in the bones who does not know her hormone receptors or her
    earlier treatments, answering with the mouse as most people do."""
    page.goto(server.url + "/check")
    page.get_by_label("A woman").check()
    page.get_by_label("past the menopause").check()
    page.get_by_role("button", name="Next: The cancer").click()
    page.get_by_label("spread to other parts of the body (secondary)").check()
    page.get_by_label("bone", exact=True).check()
    page.get_by_role("button", name="Next: Test results").click()
    page.get_by_role("group", name="Is the cancer HER2 positive?").get_by_label("HER2 positive").check()
    page.get_by_role("group", name="oestrogen receptor").get_by_label("I don't know").check()
    page.get_by_role("button", name="Next: Earlier treatments").click()
    page.get_by_label("I don't know, or I'm not sure").check()
    page.get_by_role("button", name="See results").click()
    page.wait_for_load_state("load")


def test_patient_fills_the_form_and_sees_grouped_results(page: Page, server: LiveServer) -> None:
    fill_as_patient(page, server)
    assert page.get_by_role("heading", name="Your results").is_visible()
    for group in ("May be suitable", "More information needed first", "Not suitable, by what the pages say"):
        assert page.get_by_role("heading", name=group).count() == 1
    needs = page.locator("section.group-needs_info article")
    assert needs.count() > 0
    assert "Ask your care team for a list of your earlier drug treatments" in needs.first.inner_text()
    assert page.locator("#option-denosumab").get_attribute("class") == "option option-eligible"
    warnings = page.get_by_role("heading", name="Please read: warnings about these results")
    assert warnings.is_visible()
    assert page.locator(".disclaimer").is_visible()
    details = page.locator("#option-trastuzumab details")
    details.locator("summary").click()
    assert details.get_by_role("link", name="000_651a32e38526c25e.txt").first.is_visible()
    page.get_by_role("button", name="Questions to ask your care team (printable)").click()
    assert page.get_by_role("heading", name="Questions to ask your care team").is_visible()
    assert "earlier drug treatments" in page.inner_text("ol.ask")


def test_keyboard_only(page: Page, server: LiveServer) -> None:
    """Skip link first, every control reachable by Tab, answers by Space and arrows, steps by Enter."""
    page.goto(server.url + "/check")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("input[name=sex]")  # lands on the checked answer: "I don't know" until one is chosen
    assert page.evaluate("document.activeElement.value") == ""
    page.keyboard.press("ArrowDown")  # radio groups move with arrow keys, wrapping round to "A woman"
    assert page.is_checked("#sex-1")
    tab_to("button[value=next]")
    page.keyboard.press("Enter")
    page.wait_for_selector("h2:text-is('The cancer')")
    tab_to("input[name=extent]")
    page.keyboard.press("ArrowUp")  # from "I don't know" up to "secondary"
    assert page.evaluate("document.activeElement.value") == "metastatic"
    tab_to("button[value=results]")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text-is('Your results')")
    tab_to("#option-trastuzumab summary", limit=200)
    page.keyboard.press("Enter")
    assert page.locator("#option-trastuzumab details").get_attribute("open") is not None


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_and_no_sideways_scrolling(browser: Browser, server: LiveServer, viewport: ViewportSize) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    name = "phone" if viewport is PHONE else "desktop"
    for path, label in [("/check", "form"), ("/clinician", "clinician")]:
        page.goto(server.url + path)
        page.screenshot(path=str(SHOTS / f"{label}-{name}.png"), full_page=True)
    fill_as_patient(page, server)
    page.screenshot(path=str(SHOTS / f"results-{name}.png"), full_page=False)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], "readable on a phone without scrolling sideways"
    context.close()
    assert (SHOTS / f"results-{name}.png").stat().st_size > 10_000


PAGES = [
    "/",
    "/check",
    "/clinician",
    "/regimens",
    "/regimens/pembrolizumab-chemotherapy",
    "/drugs",
    "/drugs/trastuzumab",
    "/research",
    "/glossary",
    "/sources",
    "/sources/000",
    "/sources/nice-ta819",
    "/api",
    "/no-such-page",
    "/search?q=can+I+keep+having+Herceptin+if+it+spreads+to+my+brain",
]


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_wcag_aa_violations(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    assert_accessible(page)


def test_axe_on_every_step_results_and_questions(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/check")
    for step in ("Next: The cancer", "Next: Test results", "Next: Earlier treatments"):
        assert_accessible(page)
        page.get_by_role("button", name=step).click()
    assert_accessible(page)
    page.get_by_role("button", name="See results").click()
    assert_accessible(page)
    page.locator("details").first.locator("summary").click()
    assert_accessible(page)
    page.get_by_role("button", name="Questions to ask your care team (printable)").click()
    assert_accessible(page)


def test_axe_on_errors_and_clinician_results(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/clinician")
    box = page.get_by_label("Profile or FHIR Bundle (JSON)")
    box.fill('{"her2": "positive", "extent": "metastatic", "sex": "male"}')
    page.get_by_role("button", name="Assess", exact=True).click()
    assert page.locator("table.criteria-table tbody tr").count() == 17
    assert_accessible(page)
    bundle = ROOT / "tests" / "data" / "fhir" / "mcode-jenny-m-secondary.json"
    page.get_by_label("Profile or FHIR Bundle (JSON)").fill(bundle.read_text())
    page.get_by_role("button", name="Assess", exact=True).click()
    assert page.get_by_role("heading", name="From the FHIR record").is_visible()
    assert_accessible(page)
    page.get_by_label("Profile or FHIR Bundle (JSON)").fill('{"her2": "yes"}')
    page.get_by_role("button", name="Assess", exact=True).click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)
