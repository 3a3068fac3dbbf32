"""HER2 status from the test results (IHC score, ISH result), as the ASCO/CAP guideline reads them.

The decision table is data-like on purpose: each row is (IHC, ISH) -> the statuses the results allow. One
status: the derived value. Several: HER2 is not settled by these results (IHC 2+ waits for ISH). Results that
disagree (IHC 3+ with negative ISH, IHC 0/1+ with positive ISH) are an input error, never resolved by guessing:
the person gives ``her2`` alone, as the care team reads them. The table is monotone: adding a result only narrows
what is allowed. Its source (ASCO/CAP, beyond the pages) is cited on ``her2_ihc`` in ``facts.yaml``.
"""

from __future__ import annotations

ALL = frozenset({"positive", "low", "zero"})

# (ihc, ish) -> statuses the results allow; None stands for "not given".
_TABLE: dict[tuple[str | None, str | None], frozenset[str]] = {
    ("3+", None): frozenset({"positive"}),
    ("3+", "positive"): frozenset({"positive"}),
    ("3+", "negative"): frozenset({"positive", "low"}),  # discordant: refused by the profile reader
    ("2+", None): frozenset({"positive", "low"}),
    ("2+", "positive"): frozenset({"positive"}),
    ("2+", "negative"): frozenset({"low"}),
    ("1+", None): frozenset({"low"}),
    ("1+", "positive"): frozenset({"positive", "low"}),  # discordant
    ("1+", "negative"): frozenset({"low"}),
    ("0", None): frozenset({"zero"}),
    ("0", "positive"): frozenset({"positive", "zero"}),  # discordant
    ("0", "negative"): frozenset({"zero"}),
    (None, "positive"): frozenset({"positive"}),
    (None, "negative"): frozenset({"low", "zero"}),
    (None, None): ALL,
}

# What a stated ``her2`` value allows.
STATED = {
    "positive": frozenset({"positive"}),
    "low": frozenset({"low"}),
    "zero": frozenset({"zero"}),
    "negative": frozenset({"low", "zero"}),
}


def allowed_by_tests(ihc: str | None, ish: str | None) -> frozenset[str]:
    return _TABLE[(ihc, ish)]


def discordant(ihc: str | None, ish: str | None) -> bool:
    """IHC 3+ with a negative ISH, or IHC 0/1+ with a positive ISH: results that disagree."""
    return (ihc == "3+" and ish == "negative") or (ihc in ("0", "1+") and ish == "positive")


def status(possible: frozenset[str]) -> str | None:
    """The single value that stands for a set of possible statuses, or None when it is not settled."""
    if len(possible) == 1:
        return next(iter(possible))
    if possible == frozenset({"low", "zero"}):
        return "negative"
    return None
