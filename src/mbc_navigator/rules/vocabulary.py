"""What a rule may name: facts and their types, derived facts, treatment fields, drug classes and drugs.

Built by the knowledge loader from ``facts.yaml`` and ``drugs.yaml``; the rules package itself knows no
medicine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mbc_navigator.rules.ast import Name, Node

PROFILE, TREATMENT = "profile", "treatment"  # where a name is read: the profile, or one earlier treatment


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: str  # enum | bool | date | enum_list | treatments
    values: tuple[str, ...] = ()
    refines: dict[str, frozenset[str]] = field(default_factory=dict)

    def possible(self, value: str) -> frozenset[str]:
        """The exact values a (possibly coarse) value may stand for: HER2 "negative" -> {low, zero}."""
        return self.refines.get(value, frozenset((value,)))


@dataclass(frozen=True)
class Vocabulary:
    facts: dict[str, FactSpec]
    derived: dict[str, Node]
    treatment_fields: dict[str, FactSpec]
    classes: frozenset[str]
    drugs: frozenset[str]

    def spec(self, node: Node, scope: str) -> FactSpec | None:
        """The spec of the fact (or, inside ``*_prior``, the treatment field) a name node reads; None otherwise."""
        if not isinstance(node, Name):
            return None
        if scope == TREATMENT and node.name in self.treatment_fields:
            return self.treatment_fields[node.name]
        return self.facts.get(node.name)
