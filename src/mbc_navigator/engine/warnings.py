"""The warnings an assessment must show: stale pages, pages that disagree on something that bears on the
result, notices about the person (men, brain spread), cautions flagged to warn, and profile warnings."""

from __future__ import annotations

from datetime import date
from typing import Any

from mbc_navigator.engine.plan import plan
from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import Profile
from mbc_navigator.rules import Context

OPEN = ("eligible", "needs_info")


def collect_warnings(
    kb: KnowledgeBase, profile: Profile, ctx: Context, options: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    p = plan(kb)
    warnings: list[dict[str, Any]] = [*p.day(today).stale]

    by_id = {o["id"]: o for o in options}
    for conflict in kb.conflicts.values():
        # only options with a criterion the pages disagree on can be decided by the disagreement
        disputed = p.disputed.get(conflict.id, frozenset())
        regimens = sorted(
            {r for r in conflict.bears_on if by_id[r]["status"] in OPEN}
            | {rid for rid in disputed if rid in by_id and _decided_by(by_id[rid], conflict.id)}
        )
        if regimens:
            warnings.append(
                {
                    "kind": "sources_disagree",
                    "id": conflict.id,
                    "message": f"{conflict.topic}: {conflict.summary}",
                    "regimens": regimens,
                    "sources": list(p.conflict_statements[conflict.id]),
                }
            )

    for when, kind, notice_id, message, sources in p.notices:
        if when(ctx)[0] is True:
            warnings.append({"kind": kind, "id": notice_id, "message": message, "sources": list(sources)})

    cautions: dict[str, dict[str, Any]] = {}
    for option in options:
        if option["status"] not in OPEN:
            continue
        for caution in option["cautions"]:
            if caution["warn"]:
                entry = cautions.get(caution["id"])
                if entry is None:
                    entry = cautions[caution["id"]] = {
                        "kind": "caution",
                        "id": caution["id"],
                        "message": caution["title"] + ": " + " ".join(c["quote"] for c in caution["sources"]),
                        "regimens": [],
                        "sources": caution["sources"],
                    }
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
