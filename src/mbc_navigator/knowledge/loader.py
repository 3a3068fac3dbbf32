"""Load the knowledge base: YAML -> validated models -> a vocabulary -> parsed, type-checked, compiled rules.

Problems are collected, not raised one by one, so ``mbcnav kb check`` can name every one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from mbc_navigator.knowledge.names import knowledge_dir, normalise_drug_name
from mbc_navigator.knowledge.schema import (
    Caution,
    Cite,
    Conflict,
    Criterion,
    Drug,
    DrugClass,
    Drugs,
    ExternalSource,
    ExternalSources,
    Facts,
    Glossary,
    GlossaryTerm,
    Meta,
    Notice,
    Page,
    Regimen,
    Regimens,
    Research,
    ResearchItem,
    Sources,
)
from mbc_navigator.rules import (
    Compiler,
    FactSpec,
    Fn,
    Node,
    RuleSyntaxError,
    RuleTypeError,
    Vocabulary,
    check,
    parse,
)
from mbc_navigator.rules.ast import Name

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader is ten times faster

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class KnowledgeError(Exception):
    """The knowledge base does not load; ``problems`` names each place and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the knowledge base has problems:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """A rule as written, its tree and its compiled evaluator."""

    text: str
    tree: Node
    fn: Fn


@dataclass(frozen=True)
class CompiledCriterion:
    spec: Criterion
    rule: Rule


@dataclass(frozen=True)
class CompiledCaution:
    spec: Caution
    when: Rule | None
    origin: str  # "regimen", "drug:<id>" or "class:<id>"


@dataclass(frozen=True)
class CompiledRegimen:
    spec: Regimen
    criteria: tuple[CompiledCriterion, ...]
    cautions: tuple[CompiledCaution, ...]
    conflicts: tuple[Conflict, ...]


@dataclass(frozen=True)
class CompiledNotice:
    spec: Notice
    when: Rule


@dataclass
class KnowledgeBase:
    """Everything the engine and the interfaces know, loaded once."""

    data_dir: Path
    meta: Meta
    pages: dict[str, Page]
    external: dict[str, ExternalSource]
    conflicts: dict[str, Conflict]
    facts: Facts
    vocab: Vocabulary
    classes: dict[str, DrugClass]
    drugs: dict[str, Drug]
    regimens: dict[str, CompiledRegimen]
    notices: tuple[CompiledNotice, ...]
    research: tuple[ResearchItem, ...]
    glossary: tuple[GlossaryTerm, ...]
    derived: dict[str, Rule] = field(default_factory=dict)
    drug_index: dict[str, str] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: str, build: Callable[[KnowledgeBase], T]) -> T:
        """``build(self)``, computed once per knowledge base and kept under ``key`` (for lookup tables that
        speed up the engine and the profile reader; the knowledge base is not changed after loading)."""
        try:
            value: T = self._memo[key]
        except KeyError:
            value = self._memo[key] = build(self)
        return value

    def find_drug(self, name: str) -> Drug | None:
        """A drug by generic or brand name, any case, ignoring ® and surrounding spaces."""
        drug_id = self.drug_index.get(normalise_drug_name(name))
        return self.drugs[drug_id] if drug_id else None

    def cite_file(self, cite: Cite) -> str:
        """What the output calls a cite's source: the page's file name, or the external source's id."""
        if cite.source is not None:
            page = self.pages.get(cite.source)
            return page.file if page else cite.source
        return cite.ref or ""


def _read(path: Path, model: type[M], problems: list[str]) -> M | None:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        problems.append(f"{path.name}: file is missing")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"{path.name}: {where}: {err['msg']}")
        return None


def _vocabulary(facts: Facts, drugs: Drugs) -> Vocabulary:
    def spec(name: str, kind: str, values: list[str], refines: dict[str, list[str]]) -> FactSpec:
        return FactSpec(name, kind, tuple(values), {k: frozenset(v) for k, v in refines.items()})

    ids = {d.id for d in drugs.drugs}
    return Vocabulary(
        facts={f.name: spec(f.name, f.type, f.values, f.refines) for f in facts.base},
        derived={},  # filled once each derived rule parses
        treatment_fields={t.name: spec(t.name, t.type, t.values, {}) for t in facts.treatment_fields},
        classes=frozenset(c.id for c in drugs.classes),
        drugs=frozenset(ids),
    )


class _RuleBuilder:
    """Parses and type-checks rules, recording problems with their place."""

    def __init__(self, vocab: Vocabulary, problems: list[str]) -> None:
        self.vocab = vocab
        self.problems = problems
        self.derived_types: dict[str, str] = {}

    def tree(self, text: str, where: str, want: str = "bool") -> tuple[Node, str] | None:
        """The rule's tree and type, or None with the problem recorded."""
        try:
            node = parse(text)
            kind = check(node, self.vocab, self.derived_types)
        except (RuleSyntaxError, RuleTypeError) as exc:
            self.problems.append(f"{where}: rule {text!r}: {exc}")
            return None
        if want and kind != want:
            self.problems.append(f"{where}: rule {text!r} must be a true/false condition, not a {kind}")
            return None
        return node, kind


def _dupes(items: list[str], what: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            problems.append(f"{what} {item!r} is defined twice")
        seen.add(item)


def load(data_dir: Path | None = None) -> KnowledgeBase:
    """Load and check the knowledge base in ``data_dir`` (default: the package's own data)."""
    data_dir = knowledge_dir(data_dir)
    problems: list[str] = []
    meta = _read(data_dir / "meta.yaml", Meta, problems)
    sources = _read(data_dir / "sources.yaml", Sources, problems)
    labels = _read(data_dir / "drug_labels.yaml", ExternalSources, problems)
    facts = _read(data_dir / "facts.yaml", Facts, problems)
    drugs = _read(data_dir / "drugs.yaml", Drugs, problems)
    regimens = _read(data_dir / "regimens.yaml", Regimens, problems)
    research = _read(data_dir / "research.yaml", Research, problems)
    glossary = _read(data_dir / "glossary.yaml", Glossary, problems)
    if not (labels and meta and sources and facts and drugs and regimens and research and glossary):
        raise KnowledgeError(problems)

    external = [*sources.external, *labels.external]
    _dupes([p.id for p in sources.pages], "page", problems)
    _dupes([e.id for e in external], "external source", problems)
    _dupes([f.name for f in facts.base] + [f.name for f in facts.derived], "fact", problems)
    _dupes([d.id for d in drugs.drugs], "drug", problems)
    _dupes([c.id for c in drugs.classes], "drug class", problems)
    _dupes([r.id for r in regimens.regimens], "regimen", problems)

    vocab = _vocabulary(facts, drugs)
    builder = _RuleBuilder(vocab, problems)
    derived_trees: dict[str, Node] = {}
    for fact in facts.derived:  # in file order: a derived fact may use those above it
        typed = builder.tree(fact.rule, f"facts.yaml: derived {fact.name}", want="")
        if typed is not None:
            derived_trees[fact.name], builder.derived_types[fact.name] = typed
    vocab = Vocabulary(vocab.facts, derived_trees, vocab.treatment_fields, vocab.classes, vocab.drugs)
    builder.vocab = vocab
    compiler = Compiler(vocab)

    def rule(text: str, where: str, want: str = "bool") -> Rule | None:
        typed = builder.tree(text, where, want)
        return Rule(text, typed[0], compiler.compile(typed[0])) if typed is not None else None

    pages = {p.id: p for p in sources.pages}
    external_by_id = {e.id: e for e in external}
    classes = {c.id: c for c in drugs.classes}
    drug_by_id = {d.id: d for d in drugs.drugs}
    conflicts = {c.id: c for c in sources.conflicts}

    for where, cite in iter_cites(_all_models(sources, facts, drugs, regimens, research, glossary)):
        if cite.source is not None and cite.source not in pages:
            problems.append(f"{where}: page {cite.source!r} is not in sources.yaml")
        if cite.ref is not None and cite.ref not in external_by_id:
            problems.append(f"{where}: external source {cite.ref!r} is not defined")

    for drug in drugs.drugs:
        for cls in drug.classes:
            if cls not in classes:
                problems.append(f"drugs.yaml: drug {drug.id}: unknown class {cls!r}")
        for comp in drug.components:
            if comp not in drug_by_id:
                problems.append(f"drugs.yaml: drug {drug.id}: unknown component {comp!r}")

    def cautions_of(items: list[Caution], where: str, origin: str) -> list[CompiledCaution]:
        out = []
        for c in items:
            when = rule(c.when, f"{where}: caution {c.id}") if c.when else None
            out.append(CompiledCaution(c, when, origin))
        return out

    drug_cautions: dict[str, list[CompiledCaution]] = {}
    for drug in drugs.drugs:
        own = cautions_of(drug.cautions, f"drugs.yaml: drug {drug.id}", f"drug:{drug.id}")
        for cls in drug.classes:
            if cls in classes:
                own += cautions_of(classes[cls].cautions, f"drugs.yaml: class {cls}", f"class:{cls}")
        drug_cautions[drug.id] = own

    compiled: dict[str, CompiledRegimen] = {}
    for reg in regimens.regimens:
        where = f"regimens.yaml: regimen {reg.id}"
        _dupes([c.id for c in reg.criteria], f"{where}: criterion", problems)
        criteria = []
        for crit in reg.criteria:
            r = rule(crit.rule, f"{where}: criterion {crit.id}")
            if crit.conflict is not None and crit.conflict not in conflicts:
                problems.append(f"{where}: criterion {crit.id}: unknown conflict {crit.conflict!r}")
            if r is not None:
                criteria.append(CompiledCriterion(crit, r))
        cautions = cautions_of(reg.cautions, where, "regimen")
        seen_cautions = {c.spec.id for c in cautions}
        for drug_id in reg.drugs:
            if drug_id not in drug_by_id:
                problems.append(f"{where}: unknown drug {drug_id!r}")
                continue
            for c in drug_cautions.get(drug_id, []):
                if c.spec.id not in seen_cautions:
                    seen_cautions.add(c.spec.id)
                    cautions.append(c)
        bearing = tuple(c for c in sources.conflicts if reg.id in c.bears_on)
        compiled[reg.id] = CompiledRegimen(reg, tuple(criteria), tuple(cautions), bearing)

    for conflict in sources.conflicts:
        for rid in conflict.bears_on:
            if rid not in compiled:
                problems.append(f"sources.yaml: conflict {conflict.id}: unknown regimen {rid!r}")

    wanted = meta.regimen_ids
    missing = [r for r in wanted if r not in compiled]
    extra = [r for r in compiled if r not in wanted]
    if missing:
        problems.append(f"regimens.yaml: regimens missing: {', '.join(missing)}")
    if extra:
        problems.append(f"regimens.yaml: regimens not listed in meta.yaml: {', '.join(extra)}")

    notices = []
    for notice in regimens.notices:
        r = rule(notice.when, f"regimens.yaml: notice {notice.id}")
        if r is not None:
            notices.append(CompiledNotice(notice, r))

    drug_index: dict[str, str] = {}
    for drug in drugs.drugs:
        for name in [drug.id, drug.name, *drug.brands]:
            key = normalise_drug_name(name)
            if drug_index.get(key, drug.id) != drug.id:
                problems.append(f"drugs.yaml: name {name!r} is given to both {drug_index[key]} and {drug.id}")
            drug_index[key] = drug.id

    if problems:
        raise KnowledgeError(problems)

    derived = {
        # compiled by name, so each derived fact is computed once per profile and shared with the criteria
        name: Rule(f.rule, derived_trees[name], compiler.compile(Name(name)))
        for f in facts.derived
        if (name := f.name) in derived_trees
    }
    return KnowledgeBase(
        data_dir=data_dir,
        meta=meta,
        pages=pages,
        external=external_by_id,
        conflicts=conflicts,
        facts=facts,
        vocab=vocab,
        classes=classes,
        drugs=drug_by_id,
        regimens={rid: compiled[rid] for rid in wanted},
        notices=tuple(notices),
        research=tuple(research.research),
        glossary=tuple(glossary.glossary),
        derived=derived,
        drug_index=drug_index,
    )


def _all_models(*roots: BaseModel) -> list[tuple[str, BaseModel]]:
    files = {
        Sources: "sources.yaml",
        Facts: "facts.yaml",
        Drugs: "drugs.yaml",
        Regimens: "regimens.yaml",
        Research: "research.yaml",
        Glossary: "glossary.yaml",
    }
    return [(files.get(type(r), type(r).__name__), r) for r in roots]


def iter_cites(roots: list[tuple[str, BaseModel]]) -> Iterator[tuple[str, Cite]]:
    """Every cite in the given models, with a readable place: ``regimens.yaml: trastuzumab > criteria > ...``."""
    for label, root in roots:
        yield from _walk(root, label + ":")


def _walk(obj: Any, where: str) -> Iterator[tuple[str, Cite]]:
    if isinstance(obj, Cite):
        yield where, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), f"{where} {name}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            key = getattr(item, "id", None) or getattr(item, "name", None) or str(i)
            yield from _walk(item, f"{where}[{key}]")


def knowledge_cites(kb: KnowledgeBase) -> Iterator[tuple[str, Cite]]:
    """Every cite in a loaded knowledge base, with its place."""
    sources = Sources(pages=list(kb.pages.values()), conflicts=list(kb.conflicts.values()))
    regs = Regimens(regimens=[r.spec for r in kb.regimens.values()], notices=[n.spec for n in kb.notices])
    drugs = Drugs(classes=list(kb.classes.values()), drugs=list(kb.drugs.values()))
    yield from iter_cites(
        _all_models(
            sources,
            kb.facts,
            drugs,
            regs,
            Research(research=list(kb.research)),
            Glossary(glossary=list(kb.glossary)),
        )
    )


@cache
def default_knowledge() -> KnowledgeBase:
    """The knowledge base, loaded once per process."""
    return load()
