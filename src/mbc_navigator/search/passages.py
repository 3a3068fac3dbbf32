"""The source pages split into passages that stand on their own.

A passage is a run of paragraphs under one heading about one subject, or a list with its lead-in. Each keeps
its page file, its place in the page (order and first line), its heading, the drugs it names (generic, brand or
an alias the pages use, matched against the knowledge base) and the options (regimens) those drugs lead, and
the topics it touches. The text is the page's own words; only bullet marks are made uniform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.search.synonyms import DRUG_ALIASES
from mbc_navigator.sources import fold

MAX_WORDS = 70  # paragraphs are packed into one passage up to about this many words
BULLETS = ("•", "-", "*", "·", "▪")
# Lines that are picture captions or page furniture, not text.
NOISE = re.compile(
    r"^(Diagram showing|Decorative image|Source: |Read More|Share this article|Related links|Click here|"
    r"Immunotherapy Pills$|Explore Cancer Stories$)",
    re.IGNORECASE,
)
# The page's text ends at these lines (review dates, references, sponsors, other stories).
END = re.compile(r"^(Last reviewed:|Share this article:|Information and help$|Related links)", re.IGNORECASE)
QUESTION_WORDS = {"what", "how", "why", "when", "who", "can", "is", "are"}
# A heading does not end mid-sentence (a line cut off after "for" is not a heading).
DANGLING = {"a", "an", "the", "and", "or", "of", "for", "to", "in", "with", "by", "on", "at", "as"}
# A paragraph opening with these words is about the subject of the passage before it.
REFERS_BACK = re.compile(
    r"^(it\b|it's|it’s|its\b|this\b|you have it|you take it|you have this|you might have this|you may have this|"
    r"you must have|you need to have|you can have it|you usually)",
    re.IGNORECASE,
)

TOPICS: dict[str, str] = {
    "side_effects": r"side effects?|allergic|diarrh|headache|tiredness|fatigue|flu-like|nausea|rash|appetite|"
    r"constipation|infusion reaction|autoimmune|low blood counts|cough",
    "how_given": r"\bdrip\b|infusion|injection|tablets?\b|intravenous|subcutaneous|bloodstream|into your vein",
    "how_often": r"\bevery (day|(\d+|two|three|four)( to (\d+|two|three|four))? (weeks?|days?))\b|\b\d+ days\b|"
    r"without a break|\bcycle\b",
    "checks": r"\btests?\b|\bcheck(s|ed|ing)?\b",
    "cautions": r"may cause|does not work|damage|stop \w+ for a while|important to contact|serious|life-threatening",
    "heart": r"\bheart\b",
    "brain_spinal_cord": r"\bbrain\b|spinal cord|central nervous system",
    "bones": r"\bbones?\b",
    "men": r"\bmen\b|\bmale\b",
    "research": r"research|trials?\b",
    "availability": r"\bNHS\b|Cancer Drugs Fund|individually funded|widely available",
    "her2": r"\bHER-?2",
    "hormone_receptor": r"hormone receptor|oestrogen receptor|hormone therapy|hormonal|aromatase",
    "triple_negative": r"triple negative",
    "pd_l1": r"\bPD-?L1\b",
    "pik3ca": r"\bPIK3CA\b",
    "menopause": r"menopaus",
    "contact": r"contact|freephone|numbers to call|advice line",
}
_TOPIC_RES = {name: re.compile(rx, re.IGNORECASE) for name, rx in TOPICS.items()}


@dataclass(frozen=True)
class Passage:
    """One standalone piece of a page."""

    id: str  # "<page id>-<order>", e.g. "002-014"
    source: str  # the page's file name
    page: str  # the page id in the knowledge base
    order: int  # place in the page, from 0
    line: int  # first line in the page file, from 1
    heading: str  # the nearest heading above ("" if none)
    text: str  # the page's words; list items on their own lines, each starting "• "
    kind: str  # "text" or "list"
    drugs: tuple[str, ...] = ()  # knowledge-base drug ids it concerns
    regimens: tuple[str, ...] = ()  # options whose first drug it concerns
    topics: tuple[str, ...] = ()
    inherited: bool = False  # drugs taken from the passage before ("It ...", "You have this ...")

    def index_text(self) -> str:
        """What is indexed: heading and text (the drugs' names too when the text only says "it")."""
        return f"{self.heading}. {self.text}" if self.heading else self.text


@dataclass
class _Block:
    kind: str  # "para", "list", "heading", "sub"
    lines: list[str]
    line: int


@dataclass
class _Chunk:
    heading: str
    kind: str
    line: int
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


class DrugMatcher:
    """Finds the knowledge base's drugs in text by generic name, brand name or alias (any case)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        names: dict[str, str] = {}
        for drug in kb.drugs.values():
            for name in (drug.name, *drug.brands):
                names[name.lower()] = drug.id
        for alias, drug_id in DRUG_ALIASES.items():
            if drug_id in kb.drugs or not drug_id:
                names.setdefault(alias, drug_id)
        self._ids = {self._key(n): i for n, i in names.items()}
        alternatives = sorted(names, key=len, reverse=True)
        pattern = "|".join(r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", n)) for n in alternatives)
        self._re = re.compile(rf"(?<![\w-])({pattern})(?![\w])", re.IGNORECASE)
        self._lead = {r.spec.id: r.spec.drugs[0] for r in kb.regimens.values()}

    @staticmethod
    def _key(name: str) -> str:
        return " ".join(re.split(r"[\s\-]+", name.lower()))

    def drugs(self, text: str) -> list[str]:
        """Drug ids named in the text, in order of first mention."""
        out: list[str] = []
        for m in self._re.finditer(text):
            drug_id = self._ids[self._key(m.group(1))]
            if drug_id and drug_id not in out:
                out.append(drug_id)
        return out

    def regimens(self, drugs: tuple[str, ...]) -> tuple[str, ...]:
        """Options whose first (leading) drug is among these."""
        return tuple(rid for rid, lead in self._lead.items() if lead in drugs)


def _is_bullet(stripped: str) -> bool:
    return stripped[:1] in BULLETS and (len(stripped) == 1 or stripped[1].isspace())


def _is_heading(stripped: str) -> bool:
    words = stripped.split()
    return (
        0 < len(words) <= 10
        and len(stripped) <= 80
        and stripped[0].isupper()
        and stripped[-1] not in ".:!,;"
        and (stripped[-1] != "?" or words[0].lower() in QUESTION_WORDS)
        and words[-1].lower() not in DANGLING
    )


def _blocks(text: str) -> list[_Block]:
    """Lines classified: headings, paragraphs, and lists (consecutive bullets, with continued lines)."""
    blocks: list[_Block] = []
    lines = text.splitlines()
    pending_marker = False  # a bullet mark alone on its line: the item is on the next line
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if END.match(stripped):
            break
        if not stripped or NOISE.match(stripped):
            continue
        last = blocks[-1] if blocks else None
        if _is_bullet(stripped) or pending_marker:
            item = stripped if pending_marker else stripped[1:].strip()
            pending_marker = not item
            if not item:
                if last is None or last.kind != "list":
                    blocks.append(_Block("list", [], number))
                continue
            if last is not None and last.kind == "list":
                last.lines.append(item)
            else:
                blocks.append(_Block("list", [item], number))
            continue
        if last is not None and last.kind == "list" and last.lines and stripped[0].islower():
            last.lines[-1] += " " + stripped  # an item broken over two lines
            continue
        kind = "heading" if _is_heading(stripped) else "para"
        blocks.append(_Block(kind, [stripped], number))
    # A list of one item followed by a paragraph is a sub-heading ("• Monoclonal antibodies" then its text).
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (
            block.kind == "list"
            and len(block.lines) == 1
            and nxt is not None
            and nxt.kind == "para"
            and block.lines[0][-1:] not in ".:;"
        ):
            block.kind = "sub"
    return blocks


def _chunks(blocks: list[_Block], title: str, matcher: DrugMatcher) -> list[_Chunk]:
    """Blocks packed into passages: a list with its lead-in; paragraphs under one heading about one subject."""
    chunks: list[_Chunk] = []
    heading, sub = "", ""
    current: _Chunk | None = None
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            if not chunks and current is None and block.lines[0] == title:
                continue  # the page title
            heading, sub, current = block.lines[0], "", None
            continue
        if block.kind == "sub":
            sub, current = block.lines[0], None
            continue
        where = f"{heading} › {sub}" if heading and sub else (sub or heading)
        if block.kind == "list":
            items = "\n".join(f"• {line}" for line in block.lines)
            lead = current.parts.pop() if current is not None and _leads_in(current, blocks, i) else None
            if current is not None and not current.parts:
                chunks.remove(current)
            line = blocks[i - 1].line if lead is not None else block.line
            chunks.append(_Chunk(where, "list", line, [f"{lead}\n{items}" if lead else items]))
            current = None
            continue
        para = block.lines[0]
        if current is not None and current.kind == "text" and _fits(current, para, matcher):
            current.parts.append(para)
            continue
        current = _Chunk(where, "text", block.line, [para])
        chunks.append(current)
    return [c for c in chunks if c.parts and len(c.text.split()) >= 3]


def _leads_in(current: _Chunk, blocks: list[_Block], i: int) -> bool:
    """The paragraph just before a list is its lead-in when nothing stands between them."""
    return blocks[i - 1].kind == "para" and bool(current.parts) and current.parts[-1] == blocks[i - 1].lines[0]


def _fits(chunk: _Chunk, para: str, matcher: DrugMatcher) -> bool:
    """A paragraph joins the passage before it if both stay short and it brings no new drug."""
    if len(chunk.text.split()) + len(para.split()) > MAX_WORDS:
        return False
    if para.endswith(":"):
        return True  # a lead-in; it moves to its list
    if REFERS_BACK.match(para):
        return True
    have = set(matcher.drugs(chunk.text))
    new = set(matcher.drugs(para)) - have
    return not (new and have) and not (new and len(chunk.text.split()) > 25)


def _topics(text: str) -> tuple[str, ...]:
    return tuple(name for name, rx in _TOPIC_RES.items() if rx.search(text))


def split_page(page_id: str, file: str, text: str, matcher: DrugMatcher) -> list[Passage]:
    """One page's passages, in page order."""
    lines = text.splitlines()
    title = lines[0].strip() if lines else ""
    chunks = _chunks(_blocks(text), title, matcher)
    out: list[Passage] = []
    before: tuple[str, ...] = ()
    before_heading = None
    for order, chunk in enumerate(chunks):
        drugs = tuple(matcher.drugs(f"{chunk.heading}\n{chunk.text}"))
        inherited = False
        if not drugs and before and chunk.heading == before_heading and REFERS_BACK.match(chunk.text):
            drugs, inherited = before, True
        out.append(
            Passage(
                id=f"{page_id}-{order:03d}",
                source=file,
                page=page_id,
                order=order,
                line=chunk.line,
                heading=chunk.heading,
                text=chunk.text,
                kind=chunk.kind,
                drugs=drugs,
                regimens=matcher.regimens(drugs),
                topics=_topics(f"{chunk.heading}\n{chunk.text}"),
                inherited=inherited,
            )
        )
        before, before_heading = drugs, chunk.heading
    return out


def load_passages(kb: KnowledgeBase, folder: Path) -> list[Passage]:
    """Every page of the knowledge base read from the sources folder and split into passages."""
    matcher = DrugMatcher(kb)
    out: list[Passage] = []
    for page in kb.pages.values():
        path = folder / page.file
        out += split_page(page.id, page.file, path.read_text(encoding="utf-8"), matcher)
    return out


def contains(passage: Passage, snippet: str) -> bool:
    """Whether a passage holds these words (white space and bullet marks folded, any case)."""
    return fold(snippet).lower() in fold(passage.text.replace("• ", "")).lower()


_CACHE: dict[tuple[int, str], tuple[KnowledgeBase, list[Passage]]] = {}


def cached_passages(kb: KnowledgeBase, folder: Path) -> list[Passage]:
    """``load_passages``, read once per knowledge base and folder."""
    key = (id(kb), str(folder))
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not kb:
        hit = _CACHE[key] = (kb, load_passages(kb, folder))
    return hit[1]
