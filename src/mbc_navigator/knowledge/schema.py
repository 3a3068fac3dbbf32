"""The shape of the knowledge base: what every YAML file under ``data/`` must hold.

Validated at load. Cross-references (a regimen naming a drug, a rule naming a fact) are checked in
``loader.py``; quotes are checked against the pages in ``check.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cite(Strict):
    """Where a statement comes from.

    Either a verbatim ``quote`` from one of the pages (``source`` is the page id, e.g. "000"), or, for a
    fact beyond the pages, ``ref`` naming an external source (NICE appraisal, drug label) and ``says``,
    what that source says in short. External cites are shown as such, never as the pages' words.
    """

    source: Id | None = None
    quote: str | None = None
    ref: Id | None = None
    says: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Cite:
        page = self.source is not None or self.quote is not None
        external = self.ref is not None or self.says is not None
        if page and external:
            raise ValueError("a cite is either {source, quote} (a page) or {ref, says} (external), not both")
        if page and not (self.source and self.quote):
            raise ValueError("a page cite needs both 'source' (page id) and 'quote'")
        if external and not (self.ref and self.says):
            raise ValueError("an external cite needs both 'ref' (external source id) and 'says'")
        if not page and not external:
            raise ValueError("a cite needs {source, quote} or {ref, says}")
        return self

    @property
    def external(self) -> bool:
        return self.ref is not None


Cites = list[Cite]


class Page(Strict):
    """One of the source pages, read from the sources folder by ``file``."""

    id: Id
    file: str
    title: str
    publisher: str
    reviewed: date | None = None
    next_review: date | None = None
    adds: str = ""


class ExternalSource(Strict):
    """A public source beyond the pages (cited only with ``ref``)."""

    id: Id
    title: str
    publisher: str
    kind: Literal["nice_appraisal", "drug_label", "guideline"]
    url: str
    year: int | None = None


class Conflict(Strict):
    """A place where the pages disagree or fall short (SOURCES.md)."""

    id: Id
    topic: str
    summary: str
    statements: Cites = Field(min_length=1)
    bears_on: list[Id] = []


class ExternalSources(Strict):
    """``drug_labels.yaml``: more external sources, kept apart from the pages."""

    external: list[ExternalSource]


class Sources(Strict):
    pages: list[Page]
    external: list[ExternalSource] = []
    conflicts: list[Conflict] = []


FactType = Literal["enum", "bool", "date", "enum_list", "treatments"]


class BaseFact(Strict):
    """A profile field a person can give (or leave unknown)."""

    name: Id
    type: FactType
    label: str
    question: str
    values: list[str] = []
    value_labels: dict[str, str] = {}
    refines: dict[str, list[str]] = {}
    settled_by: str = ""
    glossary: list[Id] = []  # glossary terms that explain the question ("what does this mean?")
    sources: Cites = []

    @model_validator(mode="after")
    def _values(self) -> BaseFact:
        if self.type in ("enum", "enum_list") and not self.values:
            raise ValueError(f"fact {self.name!r} of type {self.type} needs 'values'")
        for coarse, fine in self.refines.items():
            unknown = [v for v in [coarse, *fine] if v not in self.values]
            if unknown:
                raise ValueError(f"fact {self.name!r}: refines names values not in 'values': {unknown}")
        return self


class DerivedFact(Strict):
    """A fact computed from others by a rule, once, in one place."""

    name: Id
    label: str
    rule: str
    sources: Cites = []


class TreatmentField(Strict):
    name: Id
    type: Literal["enum", "bool", "date"]
    values: list[str] = []
    label: str


class Facts(Strict):
    base: list[BaseFact]
    derived: list[DerivedFact]
    treatment_fields: list[TreatmentField]


class Caution(Strict):
    """Something a person should know about an option; shown when ``when`` is not false."""

    id: Id
    title: str
    when: str | None = None
    warn: bool = False  # also listed among the assessment's warnings when it applies
    sources: Cites = Field(min_length=1)


class DrugClass(Strict):
    id: Id
    label: str
    about: Cites = []
    side_effects: Cites = []
    cautions: list[Caution] = []


class Drug(Strict):
    id: Id
    name: str
    brands: list[str] = []
    classes: list[Id] = Field(min_length=1)
    components: list[Id] = []
    about: Cites = Field(min_length=1)
    how_given: Cites = []
    how_often: Cites = []
    side_effects: Cites = []
    checks: Cites = []
    cautions: list[Caution] = []


class Drugs(Strict):
    classes: list[DrugClass]
    drugs: list[Drug]


class Criterion(Strict):
    id: Id
    text: str
    rule: str
    sources: Cites = Field(min_length=1)
    conflict: Id | None = None
    note: str = ""


class Regimen(Strict):
    id: Id
    name: str
    drugs: list[Id] = Field(min_length=1)
    about: Cites = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    cautions: list[Caution] = []
    availability: Cites = []


class Notice(Strict):
    """A warning about the person as a whole (men, brain spread), shown when ``when`` is true."""

    id: Id
    kind: str
    when: str
    message: str
    sources: Cites = Field(min_length=1)


class Regimens(Strict):
    regimens: list[Regimen]
    notices: list[Notice] = []


class ResearchItem(Strict):
    id: Id
    name: str
    kind: Literal["drug", "direction"]
    area: str
    sources: Cites = Field(min_length=1)


class Research(Strict):
    research: list[ResearchItem]


class GlossaryTerm(Strict):
    id: Id
    term: str
    aliases: list[str] = []
    definition: Cites = Field(min_length=1)


class Glossary(Strict):
    glossary: list[GlossaryTerm]


class Meta(Strict):
    version: str
    disclaimer: str
    regimen_ids: list[Id]
