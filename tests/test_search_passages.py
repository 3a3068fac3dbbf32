"""The pages split into standalone passages, each with its page, place, heading, drugs and options."""

from __future__ import annotations

import pytest

from mbc_navigator.knowledge import KnowledgeBase
from mbc_navigator.search.passages import DrugMatcher, Passage, contains, load_passages, split_page
from mbc_navigator.sources import locate


@pytest.fixture(scope="module")
def passages(kb: KnowledgeBase) -> list[Passage]:
    return load_passages(kb, locate())


def find(passages: list[Passage], snippet: str, source: str | None = None) -> Passage:
    found = [p for p in passages if contains(p, snippet) and (source is None or p.source == source)]
    assert len(found) == 1, f"{snippet!r} in {len(found)} passages"
    return found[0]


def test_every_page_is_split_and_every_passage_is_the_pages_own_words(
    kb: KnowledgeBase, passages: list[Passage]
) -> None:
    """Each passage's lines are found verbatim in its page (bullet marks aside), in page order."""
    folder = locate()
    assert {p.source for p in passages} == {page.file for page in kb.pages.values()}
    for p in passages:
        page = (folder / p.source).read_text(encoding="utf-8")
        for line in p.text.splitlines():
            words = " ".join(line.removeprefix("• ").split())
            assert words in " ".join(page.split()), (p.id, line)
    for source in {p.source for p in passages}:
        lines = [p.line for p in passages if p.source == source]
        assert lines == sorted(lines)


def test_a_heading_with_its_text_is_one_passage(passages: list[Passage]) -> None:
    """Page 002's denosumab section: heading, what it does, how and how often, in one passage."""
    p = find(passages, "You usually have once it every 4 weeks.")
    assert p.heading == "Denosumab (Prolia, Xgeva)"
    assert contains(p, "It can strengthen the bones")
    assert p.drugs == ("denosumab",) and p.regimens == ("denosumab",)
    assert {"how_given", "how_often", "bones"} <= set(p.topics)


def test_a_list_keeps_its_lead_in(passages: list[Passage]) -> None:
    """Trastuzumab's side effects on page 001: the lead-in and its four items together."""
    p = find(passages, "The side effects are often mild but some women may have:")
    assert p.kind == "list" and p.source == "001_4f67eeb2b0e502b7.txt"
    assert p.text.splitlines()[1:] == ["• flu-like symptoms", "• diarrhoea", "• headaches", "• an allergic reaction."]
    assert p.drugs == ("trastuzumab",) and "side_effects" in p.topics


def test_brand_names_and_aliases_link_to_drugs_and_options(passages: list[Passage]) -> None:
    """Kadcyla and the page's misspelling "trasuzumab" are recognised; research drugs are not mistaken."""
    assert "trastuzumab-emtansine" in find(passages, "Kadcyla (pronounced", "000_651a32e38526c25e.txt").drugs
    assert "trastuzumab" in find(passages, "You might have trasuzumab:").drugs
    assert "trastuzumab-deruxtecan" not in find(passages, "datopotamab deruxtecan").drugs
    pertuzumab = find(passages, "have approved it for people", "002_3f8214fb433ae307.txt")
    assert "pertuzumab-trastuzumab-docetaxel" in pertuzumab.regimens


def test_a_passage_that_says_it_takes_the_drug_before(passages: list[Passage]) -> None:
    """'It's for people who have already had 2 or more treatments' follows trastuzumab deruxtecan on page 000."""
    p = find(passages, "It's for people who have already had 2 or more treatments")
    assert p.inherited and "trastuzumab-deruxtecan" in p.drugs


def test_sub_headings_and_page_furniture(passages: list[Passage]) -> None:
    """A one-item list before its text is a sub-heading; review dates, references and stories are left out."""
    p = find(passages, "Immune checkpoint-inhibitors target these proteins")
    assert p.heading.endswith("› Immune checkpoint-inhibitors")
    assert not any(contains(q, "Electronic Medicines Compendium") for q in passages)
    assert not any(contains(q, "Read More") or contains(q, "Cancer-free") for q in passages)


def test_split_page_on_made_up_text(kb: KnowledgeBase) -> None:
    """Text without blank lines, bullet marks alone on a line and items broken over two lines."""
    text = "Title\nHow you have it\nYou can have it as:\n-\na tablet\n-\nan injection under\nthe skin\nSide effects\n"
    text += "Herceptin can cause headaches.\n"
    out = split_page("x", "x.txt", text, DrugMatcher(kb))
    assert [(p.heading, p.text) for p in out] == [
        ("How you have it", "You can have it as:\n• a tablet\n• an injection under the skin"),
        ("Side effects", "Herceptin can cause headaches."),
    ]
    assert out[1].drugs == ("trastuzumab",) and out[1].line == 10
