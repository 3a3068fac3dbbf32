"""A validated patient profile, and the errors that stop one from being made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One bad input: the field's path (``prior_treatments[0].setting``) and what is wrong or allowed."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ProfileError(ValueError):
    """The profile cannot be read; ``problems`` lists every bad field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Profile:
    """Facts about one patient, each known or unknown (None).

    ``given`` is the input as read (normalised, JSON-ready); ``values`` is what the rules see; ``hints`` says,
    for a fact that is unknown, which fields would settle it when that is not the fact itself (HER2 IHC 2+
    waits for ISH); ``warnings`` are things the reader must see (an unrecognised drug name).
    """

    given: dict[str, Any]
    values: dict[str, Any]
    hints: dict[str, frozenset[str]] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
