"""The search's choices, kept light so the command line can offer them without loading the search itself."""

from __future__ import annotations

from typing import Literal

Ranking = Literal["combined", "lexical", "semantic"]
RANKINGS: tuple[Ranking, ...] = ("combined", "lexical", "semantic")
MAX_LIMIT = 50
