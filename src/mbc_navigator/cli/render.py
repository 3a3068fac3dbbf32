"""Plain-text views for the terminal. They only present what the engine and the knowledge base hold."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable
from typing import Any

from mbc_navigator.engine.cites import cite_json
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.schema import Cite

GROUPS = (
    ("eligible", "MAY BE SUITABLE", "every criterion the pages give is met"),
    ("needs_info", "MORE INFORMATION NEEDED FIRST", "some criteria cannot be settled yet"),
    ("ineligible", "NOT SUITABLE, by what the pages say", "at least one criterion is not met"),
)
MARK = {"met": "[met]    ", "not_met": "[not met]", "unknown": "[unknown]"}


def width() -> int:
    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 110))


def wrap(text: str, indent: str = "", first: str | None = None) -> str:
    return textwrap.fill(
        " ".join(text.split()),
        width=width(),
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
    )


def quote_line(cite: dict[str, Any], indent: str) -> str:
    if cite.get("external"):
        head = f"{indent}From {cite['title']} (not the pages): "
        return wrap(cite["quote"], indent + "  ", head)
    return wrap(f"\u201c{cite['quote']}\u201d ({cite['source']})", indent + "  ", indent)


def options_table(result: dict[str, Any]) -> str:
    out: list[str] = []
    warnings = result["warnings"]
    if warnings:
        out.append("WARNINGS")
        for w in warnings:
            out.append(wrap(w["message"], "    ", "  ! "))
        out.append("")
    for status, title, meaning in GROUPS:
        options = [o for o in result["options"] if o["status"] == status]
        out.append(f"{title} ({len(options)}): {meaning}")
        if not options:
            out.append("  (none)")
        for o in options:
            out.append(f"  * {o['name']}  [{o['id']}]")
            if status == "needs_info":
                for c in o["criteria"]:
                    if c["result"] == "unknown":
                        out.append(wrap(c["text"], "        ", "      ? "))
                for q in o["questions"]:
                    out.append(wrap(q["ask"], "        ", "      > "))
            elif status == "ineligible":
                for c in o["criteria"]:
                    if c["result"] == "not_met":
                        out.append(wrap(c["text"], "        ", "      x "))
            for caution in o["cautions"]:
                if caution["applies"] == "yes" and status != "ineligible":
                    out.append(wrap(caution["title"], "        ", "      ! "))
        out.append("")
    out.append("Use `mbcnav explain ID` for each criterion with the words of the pages.")
    out.append(wrap(result["knowledge"]["disclaimer"]))
    return "\n".join(out)


def explain(option: dict[str, Any], result: dict[str, Any]) -> str:
    label = {
        "eligible": "may be suitable",
        "needs_info": "more information needed first",
        "ineligible": "not suitable, by what the pages say",
    }[option["status"]]
    out = [f"{option['name']}  [{option['id']}]: {label}", ""]
    out.append("What it is")
    for cite in option["about"]:
        out.append(quote_line(cite, "  "))
    out += ["", "Who it is for, criterion by criterion"]
    for c in option["criteria"]:
        out.append(wrap(c["text"], "              ", f"  {MARK[c['result']]} "))
        facts = ", ".join(f"{k} = {_show(v)}" for k, v in c["facts"].items())
        if facts:
            out.append(wrap(f"facts: {facts}", "              ", "              "))
        if c["missing"]:
            out.append(wrap(f"would be settled by: {', '.join(c['missing'])}", "              "))
        if c.get("from_outside_the_pages"):
            out.append(
                wrap(
                    "This criterion is not in the pages; it comes from the source named below.",
                    "              ",
                )
            )
        if c.get("note"):
            out.append(wrap(f"note: {c['note']}", "              "))
        for cite in c["sources"]:
            out.append(quote_line(cite, "              "))
    if option["questions"]:
        out += ["", "Questions to ask your care team"]
        for q in option["questions"]:
            out.append(wrap(q["ask"], "    ", "  - "))
    if option["cautions"]:
        out += ["", "Things to know"]
        for caution in option["cautions"]:
            maybe = "" if caution["applies"] == "yes" else " (if this applies to you)"
            out.append(wrap(caution["title"] + maybe, "    ", "  ! "))
            for cite in caution["sources"]:
                out.append(quote_line(cite, "    "))
    if option["availability"]:
        out += ["", "Availability"]
        for cite in option["availability"]:
            out.append(quote_line(cite, "  "))
    related = [w for w in result["warnings"] if option["id"] in w.get("regimens", [])]
    related += [w for w in result["warnings"] if w["kind"] in ("stale_source", "men", "brain_spinal_cord")]
    if related:
        out += ["", "Warnings"]
        for w in related:
            out.append(wrap(w["message"], "    ", "  ! "))
    out += ["", wrap(result["knowledge"]["disclaimer"])]
    return "\n".join(out)


def _show(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return f"{value['at_least']} to {value['at_most']}"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]" if value else "none"
    return str(value)


def _cites(kb: KnowledgeBase, cites: Iterable[Cite], indent: str) -> list[str]:
    return [quote_line(cite_json(kb, c), indent) for c in cites]


def drug_text(kb: KnowledgeBase, info: dict[str, Any]) -> str:
    brands = f" (brand names: {', '.join(info['brands'])})" if info["brands"] else ""
    out = [f"{info['name']}{brands}", "Kind of drug: " + ", ".join(c["label"] for c in info["classes"]), ""]
    sections = [
        ("What the pages say", info["about"]),
        ("How you have it", info["how_given"]),
        ("How often", info["how_often"]),
        ("Side effects", info["side_effects"]),
        ("Checks", info["checks"]),
    ]
    for title, cites in sections:
        if cites:
            out.append(title)
            out += [quote_line(c, "  ") for c in cites]
            out.append("")
    for group in info["class_side_effects"]:
        out.append(f"Side effects of {group['class']} drugs in general")
        out += [quote_line(c, "  ") for c in group["sources"]]
        out.append("")
    for caution in info["cautions"]:
        out.append(f"! {caution['title']}")
        out += [quote_line(c, "  ") for c in caution["sources"]]
        out.append("")
    for item in info["availability"]:
        out.append(f"Availability of {item['regimen']['name']}")
        out += [quote_line(c, "  ") for c in item["sources"]]
        out.append("")
    if info["regimens"]:
        out.append("Part of: " + ", ".join(f"{r['name']} [{r['id']}]" for r in info["regimens"]))
    if info["research"]:
        out.append("In research: " + ", ".join(r["name"] for r in info["research"]))
    if not any(cites for _, cites in sections[1:]) and not info["class_side_effects"]:
        out.append("The pages say nothing more about how this drug is given or its side effects.")
    if info["mentions"]:
        where = sorted({f"{m['source']} line {m['line']}" for m in info["mentions"]})
        out.append(
            wrap(
                f"The pages name it in {len(where)} passages: {', '.join(where)}. Search them with "
                f'mbcnav search "QUESTION".'
            )
        )
    out += ["", wrap(kb.meta.disclaimer)]
    return "\n".join(out)


def drugs_table(kb: KnowledgeBase) -> str:
    rows = [(d.name, ", ".join(d.brands), ", ".join(kb.classes[c].label for c in d.classes)) for d in kb.drugs.values()]
    w1 = max(len(r[0]) for r in rows)
    w2 = min(max(len(r[1]) for r in rows), 36)
    out = [f"{'drug':<{w1}}  {'brand names':<{w2}}  kind", f"{'-' * w1}  {'-' * w2}  ----"]
    out += [f"{a:<{w1}}  {b[:w2]:<{w2}}  {c}" for a, b, c in sorted(rows)]
    return "\n".join(out)


def research_text(kb: KnowledgeBase) -> str:
    out = ["What researchers are looking at (ask your care team about clinical trials)", ""]
    areas: dict[str, list[Any]] = {}
    for item in kb.research:
        areas.setdefault(item.area, []).append(item)
    for area, items in areas.items():
        out.append(area.capitalize())
        for item in items:
            out.append(f"  - {item.name}" + (" (drug)" if item.kind == "drug" else ""))
            out += _cites(kb, item.sources[:1], "      ")
        out.append("")
    out.append(wrap(kb.meta.disclaimer))
    return "\n".join(out)
