"""What the reader gathers from a bundle before it settles the profile: every fact with the resource it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mbc_navigator.fhir.elements import Code


@dataclass(frozen=True)
class Fact:
    """One value for one profile field, read from one place in one resource."""

    field: str
    value: Any
    resource: str
    path: str
    code: Code | None = None
    how: str = ""
    when: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.resource, "path": self.path, "value": self.value}
        if self.code is not None:
            out["code"] = f"{self.code.system}|{self.code.code}"
            if self.code.display:
                out["display"] = self.code.display
        if self.how:
            out["how"] = self.how
        if self.when:
            out["when"] = self.when
        return out


@dataclass
class Collected:
    """Facts by field, codes not understood, notes (results read as unknown, records skipped) and sites unsettled."""

    facts: dict[str, list[Fact]] = field(default_factory=dict)
    unrecognised: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    sites_unsettled: list[str] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        self.facts.setdefault(fact.field, []).append(fact)

    def unknown_code(self, resource: str, codes: list[Code], why: str, path: str = "") -> None:
        if not codes:
            self.unrecognised.append({"resource": resource, "path": path, "why": why})
        for c in codes:
            self.unrecognised.append({"resource": resource, **c.as_dict(), "why": why})

    def note(self, resource: str, path: str, message: str) -> None:
        self.notes.append({"resource": resource, "path": path, "message": message})
