"""Values the evaluator works on besides plain scalars: counts with bounds, and earlier treatments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Count:
    """How many earlier treatments match: at least ``lo``, at most ``hi``.

    A count is exact when every treatment's match is known; an unrecognised drug or a missing setting widens
    it, so ``count >= 2`` is true, false or unknown exactly as the bounds allow.
    """

    lo: int
    hi: int

    @property
    def exact(self) -> bool:
        return self.lo == self.hi

    def __str__(self) -> str:
        return str(self.lo) if self.exact else f"{self.lo} to {self.hi}"


@dataclass(frozen=True, slots=True)
class DrugRef:
    """One drug named in an earlier treatment: ``id`` and ``ids`` (itself and what it contains) are None when
    the name was not recognised, and so are its classes."""

    name: str
    id: str | None
    ids: frozenset[str] | None
    classes: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Treatment:
    drugs: tuple[DrugRef, ...]
    setting: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    ongoing: bool | None = None

    def field(self, name: str) -> object:
        return getattr(self, name)
