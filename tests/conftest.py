"""Shared fixtures: the real knowledge base, and a helper to assess a profile; compiled screening plans kept in
a folder of this test run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from mbc_navigator.engine import assess
from mbc_navigator.knowledge import KnowledgeBase, default_knowledge
from mbc_navigator.profile import parse_profile
from mbc_navigator.screen.plan import CACHE_ENV
from tests.live_server import LiveServer, serve

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="session", autouse=True)
def plan_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Screening plans are cached in a folder of this run (its subprocesses too), not in the user's cache."""
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("plans"))
    yield
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()


def assess_raw(raw: dict[str, Any], kb: KnowledgeBase | None = None) -> dict[str, Any]:
    kb = kb or default_knowledge()
    clean = {k: v for k, v in raw.items() if v is not None}
    return assess(parse_profile(clean, kb), kb, today=TODAY)


def option(result: dict[str, Any], regimen: str) -> dict[str, Any]:
    return next(o for o in result["options"] if o["id"] == regimen)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real ``mbcnav serve`` for the whole test session (its log in a temporary folder)."""
    with serve(tmp_path_factory.mktemp("server") / "server.log") as live:
        yield live
