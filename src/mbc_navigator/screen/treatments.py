"""Conditions on one earlier treatment (``count_prior``/``any_prior``), evaluated once per treatment, as bits.

The derived facts ask about earlier treatments through about ten conditions ("setting is advanced and a drug is
chemotherapy" ...). Walking every patient's treatments three times per condition (surely, possibly, and which
fields would settle it) was most of the screening query's work. Instead:

1. each treatment becomes one integer, ``sm``: for each *atom* (a test that is no and/or/not: a drug class or
   drug, ``setting == "early"``, ``ongoing`` ...) a bit "surely true" in the low half and a bit "true or
   unknown" in the high half; drug atoms take their bits straight from the treatment's drug flags;
2. each treatment's *code*: per condition a bit "surely true" and a bit "unknown", by Kleene logic on those
   bits (and: both halves and-ed; or: or-ed; not: the halves swapped and negated);
3. per patient, a count filters the codes, "any" reads their OR (``RuleSql._coded``), and the fields that would
   settle a condition are looked for the long way only when some treatment leaves it unknown.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from mbc_navigator.rules.ast import And, Call, Literal, Node, Not, Or
from mbc_navigator.screen.dialects import bit_or, col, lit
from mbc_navigator.screen.sqlgen import T, Val, and_, case, has_bit, is_null, not_, or_

HALF = 31  # atom bits below, their "true or unknown" twins above: one BIGINT per treatment
CODE_BITS = 62
SM = "x_"  # the lambda variable for one treatment's ``sm``
SMS = "prior_sms_"  # the column of each patient's treatments' ``sm``


class Uncodable(Exception):
    """More atoms than one integer holds: the condition is compiled the long way."""


class PriorCodes:
    """The conditions registered so far, and the per-treatment expressions that code them."""

    def __init__(self, drug_tests: list[tuple[str, str]], compile_atom: Callable[[Node], Val]) -> None:
        self.drug_tests = drug_tests  # bit i of a treatment's drug flags answers drug_tests[i]
        self.compile_atom = compile_atom  # an atom -> its value on one treatment (lambda variable ``t_``)
        self.atoms: dict[str, int] = {}
        self.atom_terms: list[exp.Expression] = []
        self.next_atom = len(drug_tests)
        self.drug_mask = 0
        self.terms: list[exp.Expression] = []
        self.used = 0

    def add(self, node: Node) -> tuple[int, int] | None:
        """Register a condition: its (surely true, unknown) bits in the code; None when it cannot be coded."""
        if self.used + 2 > CODE_BITS:
            return None
        try:
            sure, maybe = self._kleene(node)
        except Uncodable:
            return None
        s_bit, u_bit = 1 << self.used, 1 << (self.used + 1)
        self.used += 2
        self.terms.append(case([(sure, lit(s_bit)), (maybe, lit(u_bit))], lit(0)))
        return s_bit, u_bit

    def sm(self) -> exp.Expression:
        """One treatment (``t_``) -> its atoms' bits, surely true below ``HALF``, true or unknown above."""
        parts: list[exp.Expression] = list(self.atom_terms)
        if self.drug_mask:
            # parenthesised: SQL gives & and | the same precedence, left to right
            sure = exp.Paren(this=exp.BitwiseAnd(this=_bigint(col("bits", table=T)), expression=lit(self.drug_mask)))
            maybe = case([(col("known", table=T), sure)], lit(self.drug_mask))
            parts += [sure, exp.BitwiseLeftShift(this=exp.Paren(this=maybe), expression=lit(HALF))]
        return _bigint(bit_or(*parts) if parts else lit(0))

    def code(self) -> exp.Expression:
        """One treatment's ``sm`` (``x_``) -> its conditions' bits."""
        return _bigint(bit_or(*self.terms) if self.terms else lit(0))

    def _kleene(self, node: Node) -> tuple[exp.Expression, exp.Expression]:
        """(surely true, true or unknown) of ``node`` as plain booleans over ``sm``."""
        match node:
            case And(operands) | Or(operands):
                parts = [self._kleene(o) for o in operands]
                join = and_ if isinstance(node, And) else or_
                return join(*[s for s, _ in parts]), join(*[m for _, m in parts])
            case Not(operand):
                sure, maybe = self._kleene(operand)
                return not_(maybe), not_(sure)
            case Literal(value) if isinstance(value, bool):
                return lit(value), lit(value)
            case _:
                bit = self._atom(node)
                x = exp.column(SM)
                return has_bit(x, bit), has_bit(x, bit << HALF)

    def _atom(self, node: Node) -> int:
        if isinstance(node, Call) and node.func in ("has_class", "has_drug") and isinstance(node.args[0], Literal):
            bit = 1 << self.drug_tests.index((node.func, str(node.args[0].value)))
            self.drug_mask |= bit
            return bit
        value = self.compile_atom(node).value
        key = value.sql()
        if key not in self.atoms:
            if self.next_atom >= HALF:
                raise Uncodable(key)
            bit = 1 << self.next_atom
            self.next_atom += 1
            self.atoms[key] = bit
            self.atom_terms.append(case([(value, lit(bit | bit << HALF)), (is_null(value), lit(bit << HALF))], lit(0)))
        return self.atoms[key]


def _bigint(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("bigint"))
