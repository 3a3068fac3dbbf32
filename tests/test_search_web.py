"""``GET /api/v1/search``: passages as JSON; bad input is a 422 naming the field (BM25 searcher, no model)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.search.rank import Searcher
from mbc_navigator.search.web import lazy, make_router


@pytest.fixture(scope="module")
def client(kb: KnowledgeBase) -> TestClient:
    made: list[int] = []

    def factory() -> Searcher:
        made.append(1)
        assert len(made) == 1, "the searcher is made once"
        return Searcher(kb, ranking="lexical")

    app = FastAPI()
    app.include_router(make_router(lazy(factory)))
    return TestClient(app)


def test_results_with_source_heading_text_score(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "how often is the denosumab injection?", "limit": "2"})
    assert response.status_code == 200
    data = response.json()
    assert len(data["results"]) == 2 and data["ranking"] == "lexical"
    top = data["results"][0]
    assert top["source"] == "002_3f8214fb433ae307.txt" and "every 4 weeks" in top["text"]
    assert top["heading"] and top["score"] > 0
    assert top["drugs"][0]["url"] == "/drugs/denosumab"
    assert client.get("/api/v1/search", params={"q": "Herceptin"}).json()["results"]  # second call, same searcher


def test_nothing_found_is_an_empty_list(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "zyxwv"})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "q", "missing"),
        ({"q": "   "}, "q", "empty"),
        ({"q": "x" * 501}, "q", "too long"),
        ({"q": "herceptin", "limit": "0"}, "limit", "from 1 to 50"),
        ({"q": "herceptin", "limit": "many"}, "limit", "from 1 to 50"),
        ({"q": "herceptin", "limit": "51"}, "limit", "from 1 to 50"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["field"] == field and message in detail[0]["message"]
