"""Conditions on one earlier treatment (``count_prior``/``any_prior``), evaluated once per treatment, as bits.

The derived facts ask about earlier treatments through about ten conditions ("setting is advanced and a drug is
chemotherapy" ...). Walking every patient's treatments three times per condition (surely, possibly, and which
fields would settle it) was most of the screening query's work. Instead:

1. each treatment becomes one integer, ``sm``: for each *atom* (a test that is no and/or/not: a drug class or
   drug, ``setting == "early"``, ``ongoing`` ...) a bit "surely true" in the low half and a bit "true or
   unknown" in the high half; drug atoms take their bits straight from the treatment's drug flags;
2. each treatment's *code*: per condition a bit "surely true" and a bit "unknown", by Kleene logic on those
   bits (and: both halves and-ed; or: or-ed; not: the halves swapped and negated);
3. per patient, a count filters the codes, and "any" and the fields that would settle each condition (kept in
   the code too, per condition and field) read their OR (``RuleSql._coded``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from mbc_navigator.rules.ast import And, Call, Literal, Node, Not, Or
from mbc_navigator.screen.dialects import bit_or, col, lit
from mbc_navigator.screen.sqlgen import T, Val, and_, case, has_bit, is_null, not_, or_

HALF = 31  # atom bits below, their "true or unknown" twins above: one BIGINT per treatment
CODE_BITS = 62
SM = "x_"  # the lambda variable for one treatment's ``sm``
SMS = "prior_sms_"  # the column of each patient's treatments' ``sm``


class Uncodable(Exception):
    """More atoms or bits than one integer holds: the condition is compiled the long way."""


@dataclass(frozen=True)
class Atom:
    """An atom's bit in ``sm``, and the fields that would settle it when unknown: a constant mask, or per field
    the ``sm`` bit that says whether that field is one of them (``causes``)."""

    bit: int
    mask: int = 0
    causes: tuple[tuple[int, int], ...] = ()  # (field bit, cause bit in sm)


@dataclass(frozen=True)
class Coded:
    """A registered condition: its bits in a treatment's code, surely true and unknown, and per field that
    would settle it, the code bit that says a treatment leaves it unknown for want of that field."""

    sure: int
    unknown: int
    fields: tuple[tuple[int, int], ...]  # (field bit, code bit)


class PriorCodes:
    """The conditions registered so far, and the per-treatment expressions that code them."""

    def __init__(
        self, drug_tests: list[tuple[str, str]], drugs_field: int, compile_atom: Callable[[Node], Val]
    ) -> None:
        self.drug_tests = drug_tests  # bit i of a treatment's drug flags answers drug_tests[i]
        self.drugs_field = drugs_field  # the missing-field bit of ``prior_treatments.drugs``
        self.compile_atom = compile_atom  # an atom -> its value on one treatment (lambda variable ``t_``)
        self.atoms: dict[str, Atom] = {}
        self.sm_terms: list[exp.Expression] = []
        self.next_sm = len(drug_tests)  # low half: atoms' "surely" bits, then cause bits
        self.drug_mask = 0
        self.terms: list[exp.Expression] = []
        self.used = 0
        self.complete = True  # every condition registered was coded (none compiled the long way)

    def add(self, node: Node) -> Coded | None:
        """Register a condition; None when it cannot be coded (it is then compiled the long way)."""
        try:
            sure, maybe = self._kleene(node)
            found: dict[int, list[exp.Expression]] = {}  # field -> where it would settle the (unknown) condition
            self._causes(node, lit(True), found)
        except Uncodable:
            self.complete = False
            return None
        if self.used + 2 + len(found) > CODE_BITS:
            self.complete = False
            return None
        s_bit, u_bit = 1 << self.used, 1 << (self.used + 1)
        fields = tuple((f, 1 << (self.used + 2 + j)) for j, f in enumerate(sorted(found)))
        self.used += 2 + len(fields)
        # the fields are worked out only for a treatment that leaves the condition unknown
        why = [case([(or_(*found[f]), lit(c))], lit(0)) for f, c in fields]
        self.terms.append(case([(sure, lit(s_bit)), (maybe, bit_or(lit(u_bit), *why))], lit(0)))
        return Coded(s_bit, u_bit, fields)

    def sm(self) -> exp.Expression:
        """One treatment (``t_``, a checked treatment) -> its atoms' bits, surely true below ``HALF``, true or
        unknown above."""
        parts: list[exp.Expression] = list(self.sm_terms)
        if self.drug_mask:
            # parenthesised: SQL gives & and | the same precedence, left to right
            sure = exp.Paren(this=exp.BitwiseAnd(this=_bigint(col("bits", table=T)), expression=lit(self.drug_mask)))
            maybe = case([(col("known", table=T), sure.copy())], lit(self.drug_mask))
            parts += [sure, exp.BitwiseLeftShift(this=exp.Paren(this=maybe), expression=lit(HALF))]
        return _bigint(bit_or(*parts) if parts else lit(0))

    def packed(self, flags: int, unknown: int) -> int:
        """A drug name's flags in ``sm`` form (a name the knowledge base lacks, ``unknown``: every drug atom
        may be true), so that OR-ing a treatment's names gives the drug part of its ``sm``."""
        if flags & unknown:
            return self.drug_mask << HALF
        return (flags & self.drug_mask) | ((flags & self.drug_mask) << HALF)

    def sm_raw(self, view: dict[str, exp.Expression], drugs: exp.Expression) -> exp.Expression | None:
        """``sm`` straight from an input treatment (``t_``) of a cohort read unchecked: ``view`` gives each
        treatment field as an expression on it, ``drugs`` the OR of its drug names' ``packed`` flags. None when
        an atom reads something else."""
        terms = [t.transform(lambda n: _field(n, view)) for t in self.sm_terms]
        if any(isinstance(c, exp.Column) and c.table == T for t in terms for c in t.find_all(exp.Column)):
            return None
        parts = [*terms, exp.Paren(this=drugs)] if self.drug_mask else terms
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
                bit = self._atom(node).bit
                x = exp.column(SM)
                return has_bit(x, bit), has_bit(x, bit << HALF)

    def _causes(self, node: Node, unknown: exp.Expression, found: dict[int, list[exp.Expression]]) -> None:
        """The fields that would settle ``node`` where ``unknown`` holds (``node`` and every node above it are
        unknown there), as ``RuleSql`` gathers them: an and/or is unknown through its unknown operands only. In
        an unknown "and" no operand is false, so an operand is unknown where it is not surely true; in an unknown
        "or" none is true, so one is unknown where it may be true."""
        match node:
            case And(operands) | Or(operands):
                for o in operands:
                    sure, maybe = self._kleene(o)
                    here = not_(sure) if isinstance(node, And) else maybe
                    self._causes(o, here if _is_true(unknown) else and_(unknown.copy(), here), found)
            case Not(operand):
                self._causes(operand, unknown, found)
            case Literal():
                pass
            case _:
                atom = self._atom(node)
                for f in _bits(atom.mask):
                    found.setdefault(f, []).append(unknown.copy())
                for f, cause in atom.causes:
                    why = has_bit(exp.column(SM), cause)
                    found.setdefault(f, []).append(why if _is_true(unknown) else and_(unknown.copy(), why))

    def _atom(self, node: Node) -> Atom:
        if isinstance(node, Call) and node.func in ("has_class", "has_drug") and isinstance(node.args[0], Literal):
            bit = 1 << self.drug_tests.index((node.func, str(node.args[0].value)))
            self.drug_mask |= bit
            return Atom(bit, self.drugs_field)
        v = self.compile_atom(node)
        key = v.value.sql()
        if key not in self.atoms:
            bit = self._sm_bit()
            self.sm_terms.append(
                case([(v.value, lit(bit | bit << HALF)), (is_null(v.value), lit(bit << HALF))], lit(0))
            )
            if isinstance(v.mask, int):
                self.atoms[key] = Atom(bit, v.mask)
            else:
                causes = []
                for f in _bits(v.possible):
                    cause = self._sm_bit()
                    self.sm_terms.append(case([(has_bit(v.mask.copy(), f), lit(cause))], lit(0)))
                    causes.append((f, cause))
                self.atoms[key] = Atom(bit, causes=tuple(causes))
        return self.atoms[key]

    def _sm_bit(self) -> int:
        if self.next_sm >= HALF:
            raise Uncodable("more than 31 atoms and causes")
        self.next_sm += 1
        return 1 << (self.next_sm - 1)


def _field(node: exp.Expression, view: dict[str, exp.Expression]) -> exp.Expression:
    if isinstance(node, exp.Column) and node.table == T and node.name in view:
        return view[node.name].copy()
    return node


def _is_true(e: exp.Expression) -> bool:
    return isinstance(e, exp.Boolean) and bool(e.this)


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask >> i & 1]


def _bigint(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("bigint"))
