"""``mbcnav kb check``: the knowledge base loads, every page quote is still on its page, every regimen is
complete. Each failure names its place, so reviewers know what to re-check when a page changes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from mbc_navigator.knowledge.loader import KnowledgeBase, KnowledgeError, knowledge_cites, load
from mbc_navigator.sources import fold


@dataclass
class CheckReport:
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quotes_checked: int = 0
    external_cites: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


def closest_passage(quote: str, page: str) -> str:
    """The stretch of the page most like ``quote``: what a reviewer should compare it with.

    Windows a few words shorter and longer than the quote are tried, since an edit often adds or drops words; the
    best one is widened to the sentence it sits in.
    """
    words, qwords = page.split(), quote.split()
    n = max(len(qwords), 1)
    best, best_ratio = (0, 0), 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2([w.lower() for w in qwords])
    lowered = [w.lower() for w in words]
    for size in range(max(n - 3, 1), n + 4):
        for start in range(0, max(len(words) - size, 0) + 1):
            matcher.set_seq1(lowered[start : start + size])
            if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = (start, start + size), ratio
    if best_ratio < 0.5:
        return ""
    start, end = best
    ends_sentence = (".", "!", "?", ":")
    while start > 0 and not words[start - 1].endswith(ends_sentence) and best[0] - start < 12:
        start -= 1
    while end < len(words) and not words[end - 1].endswith(ends_sentence) and end - best[1] < 12:
        end += 1
    return " ".join(words[start:end])


def check(sources_dir: Path, data_dir: Path | None = None, today: date | None = None) -> CheckReport:
    report = CheckReport()
    try:
        kb = load(data_dir)
    except KnowledgeError as exc:
        report.failures.extend(exc.problems)
        return report
    _check_quotes(kb, sources_dir, report)
    _check_complete(kb, report)
    today = today or date.today()
    for page in kb.pages.values():
        if page.next_review and page.next_review < today:
            report.notes.append(f"page {page.id} ({page.file}) was due for review on {page.next_review}")
    return report


def _check_quotes(kb: KnowledgeBase, sources_dir: Path, report: CheckReport) -> None:
    texts: dict[str, str] = {}
    for page in kb.pages.values():
        path = sources_dir / page.file
        try:
            texts[page.id] = fold(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            report.failures.append(f"sources.yaml: page {page.id}: file {page.file} is not in {sources_dir}")
    seen: set[tuple[str, str, str]] = set()
    for where, cite in knowledge_cites(kb):
        if cite.ref is not None:
            report.external_cites += 1
            continue
        assert cite.source is not None and cite.quote is not None
        key = (where, cite.source, cite.quote)
        if key in seen or cite.source not in texts:
            continue
        seen.add(key)
        report.quotes_checked += 1
        quote = fold(cite.quote)
        if quote not in texts[cite.source]:
            near = closest_passage(quote, texts[cite.source])
            hint = f"\n    closest now on the page: {near!r}" if near else "\n    nothing like it is on the page now"
            report.failures.append(
                f"{where}: quote not found in page {cite.source} ({kb.pages[cite.source].file}):\n"
                f"    quote: {cite.quote!r}{hint}"
            )


def _check_complete(kb: KnowledgeBase, report: CheckReport) -> None:
    terms = {t.id for t in kb.glossary}
    for fact in kb.facts.base:
        for term in fact.glossary:
            if term not in terms:
                report.failures.append(f"facts.yaml: fact {fact.name}: glossary term {term!r} is not in glossary.yaml")
    for rid, reg in kb.regimens.items():
        spec = reg.spec
        if not spec.criteria:
            report.failures.append(f"regimens.yaml: regimen {rid}: has no criteria")
        for crit in spec.criteria:
            if not any(c.source for c in crit.sources) and not crit.conflict:
                report.failures.append(
                    f"regimens.yaml: regimen {rid}: criterion {crit.id} cites no page and names no conflict "
                    "explaining why the pages fall short"
                )
        for drug_id in spec.drugs:
            drug = kb.drugs[drug_id]
            if not any(c.source for c in drug.about):
                report.notes.append(f"drug {drug_id} (in {rid}) is described only by external sources")
    for drug in kb.drugs.values():
        quoted = " ".join(fold(c.quote or "") for c in drug.about if c.source)
        external = " ".join(c.says or "" for c in drug.about if c.ref)
        for brand in drug.brands:
            if brand.lower() not in quoted.lower() and brand.lower() not in external.lower():
                report.failures.append(
                    f"drugs.yaml: drug {drug.id}: brand {brand!r} is not named in any of its 'about' cites"
                )
