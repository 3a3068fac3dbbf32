"""What a rule may name: facts and their types, derived facts, treatment fields, drug classes and drugs.

Built by the knowledge loader from ``facts.yaml`` and ``drugs.yaml``; the rules package itself knows no
medicine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mbc_navigator.rules.ast import Node


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
