"""An assessment as JSON bytes, fast, for the web API."""

from __future__ import annotations

import json
from typing import Any

import orjson


def assessment_json(result: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of ``assess(...)``'s result: the same data, keys and list order as ``json.dumps``.

    orjson refuses text that is not valid Unicode (a lone surrogate, which ``json.loads`` lets through from a
    file); such a result is written by the standard library instead, with those characters escaped.
    """
    try:
        return orjson.dumps(result)
    except orjson.JSONEncodeError:
        return json.dumps(result, separators=(",", ":")).encode("ascii")
