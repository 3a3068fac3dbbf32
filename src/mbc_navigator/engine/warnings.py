"""The warnings an assessment must show: stale pages, pages that disagree on something that bears on the
result, notices about the person (men, brain spread), cautions flagged to warn, and profile warnings."""

from __future__ import annotations

from datetime import date
from typing import Any

from mbc_navigator.engine.cites import cite_json
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import Profile
from mbc_navigator.rules import Context

OPEN = ("eligible", "needs_info")


def collect_warnings(
    kb: KnowledgeBase, profile: Profile, ctx: Context, options: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = []
    for page in kb.pages.values():
        if page.next_review and page.next_review < today:
            warnings.append(
                {
                    "kind": "stale_source",
                    "id": f"stale-{page.id}",
                    "message": (
                        f"The page {page.file} ({page.title}) was last reviewed on {page.reviewed} and was due "
                        f"for review on {page.next_review}. It is past its review date, so some of it may be out "
                        "of date."
                    ),
                    "source": page.file,
                }
            )

    by_id = {o["id"]: o for o in options}
    for conflict in kb.conflicts.values():
        regimens = sorted(
            {r for r in conflict.bears_on if by_id[r]["status"] in OPEN}
            | {o["id"] for o in options if _decided_by(o, conflict.id)}
        )
        if regimens:
            warnings.append(
                {
                    "kind": "sources_disagree",
                    "id": conflict.id,
                    "message": f"{conflict.topic}: {conflict.summary}",
                    "regimens": regimens,
                    "sources": [cite_json(kb, s) for s in conflict.statements],
                }
            )

    for notice in kb.notices:
        if notice.when.fn(ctx)[0] is True:
            warnings.append(
                {
                    "kind": notice.spec.kind,
                    "id": notice.spec.id,
                    "message": notice.spec.message,
                    "sources": [cite_json(kb, s) for s in notice.spec.sources],
                }
            )

    cautions: dict[str, dict[str, Any]] = {}
    for option in options:
        if option["status"] not in OPEN:
            continue
        for caution in option["cautions"]:
            if caution["warn"]:
                entry = cautions.setdefault(
                    caution["id"],
                    {
                        "kind": "caution",
                        "id": caution["id"],
                        "message": caution["title"] + ": " + " ".join(c["quote"] for c in caution["sources"]),
                        "regimens": [],
                        "sources": caution["sources"],
                    },
                )
                entry["regimens"].append(option["id"])
    warnings.extend(cautions.values())
    warnings.extend(profile.warnings)
    return warnings


def _decided_by(option: dict[str, Any], conflict_id: str) -> bool:
    """True when a criterion the pages disagree on is unsettled, or is the only reason the option is ruled out."""
    disputed = [c for c in option["criteria"] if c.get("conflict") == conflict_id]
    if not disputed or all(c["result"] == "met" for c in disputed):
        return False
    if option["status"] in OPEN:
        return True
    return all(c.get("conflict") == conflict_id for c in option["criteria"] if c["result"] == "not_met")
