"""An assessment -> CDS Hooks cards. Every sentence comes from the knowledge base or the engine's output (option
names, criteria, questions, warnings, the disclaimer); only the status labels are the app's own, the same as the
terminal's."""

from __future__ import annotations

import uuid
from typing import Any

from mbc_navigator.knowledge.loader import KnowledgeBase

MAX_SUMMARY = 139
LABEL = {
    "eligible": "may be suitable",
    "needs_info": "more information needed first",
    "ineligible": "not suitable, by what the pages say",
}
MARK = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def _md(text: str) -> str:
    """Plain text made safe inside markdown (no accidental emphasis, links or HTML)."""
    out = " ".join(str(text).split())
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


def summary(text: str) -> str:
    """A card summary: under 140 characters, cut at a word with an ellipsis when longer."""
    text = " ".join(text.split())
    if len(text) <= MAX_SUMMARY:
        return text
    return text[: MAX_SUMMARY - 1].rsplit(" ", 1)[0] + "…"


def page_of(kb: KnowledgeBase, regimen_id: str) -> str | None:
    """The id of the first page an option cites (what it is, then its criteria)."""
    spec = kb.regimens[regimen_id].spec
    cites = [*spec.about, *(c for crit in spec.criteria for c in crit.sources)]
    return next((c.source for c in cites if c.source), None)


def _source(kb: KnowledgeBase, base: str, page_id: str | None) -> dict[str, str]:
    if page_id is None or page_id not in kb.pages:
        return {"label": "mbc-navigator: the source pages", "url": f"{base}/sources"}
    page = kb.pages[page_id]
    return {"label": f"{page.title} ({page.publisher})", "url": f"{base}/sources/{page_id}"}


def _option_detail(option: dict[str, Any], disclaimer: str) -> str:
    lines = [f"**{_md(option['name'])}: {LABEL[option['status']]}**", "", "Criteria:"]
    for crit in option["criteria"]:
        lines.append(f"- {MARK[crit['result']]}: {_md(crit['text'])}")
    if option["questions"]:
        lines += ["", "What is missing:"]
        lines += [f"- {_md(q['question'])} {_md(q['ask'])}" for q in option["questions"]]
    applies = [c for c in option["cautions"] if c["applies"] in ("yes", "maybe")]
    if applies:
        lines += ["", "Cautions:"]
        lines += [f"- {_md(c['title'])}" + (" (may apply)" if c["applies"] == "maybe" else "") for c in applies]
    lines += ["", f"_{_md(disclaimer)}_"]
    return "\n".join(lines)


def cards(result: dict[str, Any], kb: KnowledgeBase, base: str) -> list[dict[str, Any]]:
    """Cards for one assessment: one per option that may be suitable or needs information, one listing the
    options the pages rule out, and one with the warnings to read with them."""
    disclaimer = kb.meta.disclaimer
    out = []
    for option in result["options"]:
        if option["status"] == "ineligible":
            continue
        out.append(
            {
                "uuid": str(uuid.uuid4()),
                "summary": summary(f"{option['name']}: {LABEL[option['status']]}"),
                "indicator": "info",
                "detail": _option_detail(option, disclaimer),
                "source": _source(kb, base, page_of(kb, option["id"])),
            }
        )
    ruled_out = [o for o in result["options"] if o["status"] == "ineligible"]
    if ruled_out:
        lines = []
        for option in ruled_out:
            unmet = [c for c in option["criteria"] if c["result"] == "not_met"]
            lines.append(f"- **{_md(option['name'])}**: " + " ".join(_md(c["text"]) for c in unmet))
        out.append(
            {
                "uuid": str(uuid.uuid4()),
                "summary": summary(f"{len(ruled_out)} options: {LABEL['ineligible']}"),
                "indicator": "info",
                "detail": "\n".join(["Criteria not met:", *lines, "", f"_{_md(disclaimer)}_"]),
                "source": _source(kb, base, None),
            }
        )
    if result["warnings"]:
        lines = [f"- {_md(w['message'])}" for w in result["warnings"]]
        out.append(
            {
                "uuid": str(uuid.uuid4()),
                "summary": summary(f"{len(result['warnings'])} warnings to read with these results"),
                "indicator": "warning",
                "detail": "\n".join([*lines, "", f"_{_md(disclaimer)}_"]),
                "source": _source(kb, base, None),
            }
        )
    return out
