"""Small readers for FHIR data types (CodeableConcept, dates, periods), on validated JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mbc_navigator.fhir.codes import CodeTables


@dataclass(frozen=True)
class Code:
    """One coding of a CodeableConcept, with its path in the resource."""

    path: str
    system: str
    alias: str
    code: str
    display: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "system": self.system, "code": self.code, "display": self.display}


def codes(concept: Any, path: str, t: CodeTables) -> list[Code]:
    """The codings of a CodeableConcept (a Coding is taken as one)."""
    if not isinstance(concept, dict):
        return []
    if "code" in concept and "coding" not in concept:
        items: list[Any] = [concept]
        paths = [path]
    else:
        items = concept.get("coding") or []
        paths = [f"{path}.coding[{i}]" for i in range(len(items))]
    out = []
    for item, where in zip(items, paths, strict=True):
        if isinstance(item, dict) and item.get("code"):
            system = str(item.get("system") or "")
            out.append(Code(where, system, t.alias(system), str(item["code"]), str(item.get("display") or "")))
    return out


def text_of(concept: Any) -> str:
    """The text of a CodeableConcept, else its codings' displays, joined."""
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    return " ".join(
        str(c.get("display")) for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("display")
    )


def day(value: Any) -> str | None:
    """The YYYY-MM-DD part of a FHIR date or dateTime; None for a partial date (year or year-month only)."""
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


def onset(resource: dict[str, Any], *names: str) -> tuple[str | None, str | None, str]:
    """(start, end, path) from the first of ``names`` present: a dateTime or a Period (``xPeriod``)."""
    for name in names:
        if name + "DateTime" in resource:
            return day(resource[name + "DateTime"]), None, name + "DateTime"
        if name + "Period" in resource:
            period = resource[name + "Period"] or {}
            return day(period.get("start")), day(period.get("end")), name + "Period"
        if name in resource and isinstance(resource[name], str):
            return day(resource[name]), None, name
    return None, None, ""


IHC = re.compile(r"^\s*(?:ihc\s*)?(?:score\s*)?([0-3])\s*(\+?)\s*$", re.IGNORECASE)


def word_result(text: str) -> str | None:
    """'positive' / 'negative' from free text that says exactly that (never a guess from longer sentences)."""
    word = " ".join(text.lower().replace("(qualifier value)", "").split())
    if word in {"positive", "pos", "detected", "present"}:
        return "positive"
    if word in {"negative", "neg", "not detected", "absent"}:
        return "negative"
    return None


def ihc_score(text: str) -> str | None:
    """'0', '1+', '2+' or '3+' from text such as '3+' or 'IHC 2+'."""
    m = IHC.match(text)
    if not m:
        return None
    return "0" if m.group(1) == "0" else f"{m.group(1)}+"
