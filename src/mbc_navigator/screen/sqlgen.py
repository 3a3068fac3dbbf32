"""Criteria trees (``rules/ast.py``) -> SQL expressions (sqlglot), Kleene logic kept by SQL's NULL.

Each node compiles to a ``Val``: its value (NULL = unknown), and a bit mask of the profile fields that would
settle it (read only when the value is NULL), so the ``missing`` lists of the Python evaluator come out of the
same query. Counts of earlier treatments keep their bounds: ``lo`` counts treatments that surely match, ``hi``
those that may. Derived facts (``facts.yaml``) compile the same way, once, to columns the criteria read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.knowledge.names import normalise_drug_name
from mbc_navigator.rules.ast import And, Call, Compare, In, IsKnown, ListLit, Literal, Name, Node, Not, Or
from mbc_navigator.rules.typecheck import check
from mbc_navigator.rules.vocabulary import PROFILE, TREATMENT, FactSpec
from mbc_navigator.screen.dialects import FIELD_TYPE, Dialect, array, bit_or, col, lit

if TYPE_CHECKING:
    from mbc_navigator.screen.treatments import Coded, PriorCodes

PRIOR = "prior_treatments"
CODES, ANY = "prior_codes_", "prior_any_"  # per treatment: its conditions' bits; per patient: their OR
T = "t_"  # the lambda variable for one earlier treatment

Mask = exp.Expression | int


@dataclass(frozen=True)
class Val:
    """A compiled node: ``value`` (NULL when unknown), ``mask`` of missing fields; counts have ``lo``/``hi``."""

    value: exp.Expression
    mask: Mask = 0
    lo: exp.Expression | None = None
    hi: exp.Expression | None = None
    nullable: bool = True
    bits: int = -1  # every bit the mask may hold (-1: any; a constant mask is its own bits)

    @property
    def possible(self) -> int:
        return self.mask if isinstance(self.mask, int) else self.bits


def paren(e: exp.Expression) -> exp.Expression:
    return e if isinstance(e, exp.Column | exp.Literal | exp.Boolean | exp.Paren | exp.Null) else exp.Paren(this=e)


def not_(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=paren(e))


def and_(*parts: exp.Expression) -> exp.Expression:
    out = paren(parts[0])
    for part in parts[1:]:
        out = exp.And(this=out, expression=paren(part))
    return out


def or_(*parts: exp.Expression) -> exp.Expression:
    out = paren(parts[0])
    for part in parts[1:]:
        out = exp.Or(this=out, expression=paren(part))
    return out


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=paren(e), expression=exp.Null())


def known(e: exp.Expression) -> exp.Expression:
    return not_(is_null(e))


def coalesce(e: exp.Expression, default: bool | int) -> exp.Expression:
    return exp.Coalesce(this=paren(e), expressions=[lit(default)])


def case(branches: list[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in branches], default=default)


def in_list(e: exp.Expression, values: list[str]) -> exp.Expression:
    return exp.In(this=paren(e), expressions=[lit(v) for v in values])


def mask_expr(mask: Mask) -> exp.Expression:
    return lit(mask) if isinstance(mask, int) else mask


def mask_when_null(v: Val) -> tuple[Mask, int]:
    """The node's mask where its value is NULL, else 0 (constant 0 when it cannot be NULL), with its bits."""
    if not v.nullable or v.mask == 0:
        return 0, 0
    return case([(is_null(v.value), mask_expr(v.mask))], lit(0)), v.possible


def union(parts: list[tuple[Mask, int]]) -> tuple[Mask, int]:
    """Bitwise OR of masks, and of their possible bits."""
    bits, consts = 0, 0
    exprs: list[exp.Expression] = []
    for m, b in parts:
        bits |= b
        if isinstance(m, int):
            consts |= m
        else:
            exprs.append(m)
    if consts:
        exprs.append(lit(consts))
    return (bit_or(*exprs) if exprs else 0), bits


_CMP: dict[str, Callable[[exp.Expression, exp.Expression], exp.Expression]] = {
    "==": lambda a, b: exp.EQ(this=a, expression=b),
    "!=": lambda a, b: exp.NEQ(this=a, expression=b),
    "<": lambda a, b: exp.LT(this=a, expression=b),
    "<=": lambda a, b: exp.LTE(this=a, expression=b),
    ">": lambda a, b: exp.GT(this=a, expression=b),
    ">=": lambda a, b: exp.GTE(this=a, expression=b),
}


class Fields:
    """The missing-field names, one bit each, in sorted order (so bit order is the Python evaluator's order)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        names = {f.name for f in kb.facts.base}
        names |= {f"{PRIOR}.{t.name}" for t in kb.facts.treatment_fields} | {f"{PRIOR}.drugs"}
        self.names = sorted(names)
        self.bits = {name: 1 << i for i, name in enumerate(self.names)}

    def to_list(self, dialect: Dialect, mask: exp.Expression, possible: int) -> exp.Expression:
        """A mask -> the sorted list of field names it holds (only ``possible`` bits are looked at)."""
        items: list[exp.Expression] = [
            case(
                [
                    (
                        exp.NEQ(this=paren(exp.BitwiseAnd(this=paren(mask), expression=lit(bit))), expression=lit(0)),
                        dialect.label(n, FIELD_TYPE),
                    )
                ]
            )
            for n, bit in self.bits.items()
            if bit & possible
        ]
        empty = exp.Cast(this=array([]), to=dialect.labels(FIELD_TYPE))
        if not items:
            return empty
        listed = dialect.filter(array(items), "f_", known(exp.column("f_")))
        # most rows have nothing missing: only the others build the list
        return case([(exp.EQ(this=paren(mask), expression=lit(0)), empty)], listed)


class DrugNames:
    """Normalised drug names (generic, id, brands) by drug id and by class, for ``has_drug``/``has_class``."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.by_drug: dict[str, set[str]] = {}
        self.by_class: dict[str, set[str]] = {}
        self.known: set[str] = set()
        for drug in kb.drugs.values():
            spellings = {normalise_drug_name(n) for n in [drug.id, drug.name, *drug.brands]}
            self.known |= spellings
            for ref in {drug.id, *drug.components}:
                self.by_drug.setdefault(ref, set()).update(spellings)
            for cls in drug.classes:
                self.by_class.setdefault(cls, set()).update(spellings)

    def names(self, kind: str, ref: str) -> list[str]:
        return sorted((self.by_class if kind == "has_class" else self.by_drug).get(ref, set()))


def drug_tests(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """Every ``has_class``/``has_drug`` the rules use, as (function, class or drug id)."""
    trees = list(kb.vocab.derived.values())
    trees += [c.rule.tree for r in kb.regimens.values() for c in r.criteria]
    found: set[tuple[str, str]] = set()
    for tree in trees:
        for node in _walk(tree):
            if isinstance(node, Call) and node.func in ("has_class", "has_drug") and isinstance(node.args[0], Literal):
                found.add((node.func, str(node.args[0].value)))
    return sorted(found)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    match node:
        case Not(operand) | IsKnown(operand, _):
            yield from _walk(operand)
        case And(operands) | Or(operands):
            for o in operands:
                yield from _walk(o)
        case Compare(_, left, right):
            yield from _walk(left)
            yield from _walk(right)
        case In(item, collection, _):
            yield from _walk(item)
            yield from _walk(collection)
        case Call(_, args):
            for a in args:
                yield from _walk(a)
        case _:
            pass


def has_bit(e: exp.Expression, bits: int) -> exp.Expression:
    """Some of ``bits`` is set in ``e``."""
    return exp.NEQ(this=paren(exp.BitwiseAnd(this=paren(e), expression=lit(bits))), expression=lit(0))


class RuleSql:
    """Compiles rule trees to ``Val``s for one dialect.

    ``derived_columns`` says whether derived facts are read from columns of an earlier stage (the criteria) or
    compiled inline (the derived facts themselves). ``hints``: base facts whose mask is a column of the checked
    stage (``her2__m``: HER2 IHC 2+ waits for ISH), with the bits it may hold. ``codes``: read conditions on
    earlier treatments from the ``PriorCodes`` columns (``CODES``, ``ANY``) of an earlier stage.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        dialect: Dialect,
        fields: Fields,
        hints: dict[str, int],
        derived_columns: bool,
        codes: PriorCodes | None = None,
    ) -> None:
        self.kb = kb
        self.vocab = kb.vocab
        self.d = dialect
        self.fields = fields
        self.hints = hints
        self.derived_columns = derived_columns
        self.codes = codes
        self.derived_kinds: dict[str, str] = {}
        for name, tree in kb.vocab.derived.items():  # in file order: a derived fact may use those above it
            self.derived_kinds[name] = check(tree, kb.vocab, self.derived_kinds)
        self._inline: dict[str, Val] = {}

    def bit(self, name: str) -> int:
        return self.fields.bits[name]

    # derived facts ------------------------------------------------------------------------------------

    def derived_val(self, name: str) -> Val:
        if name not in self._inline:
            columns, self.derived_columns = self.derived_columns, False
            try:
                self._inline[name] = self.compile(self.vocab.derived[name], PROFILE)
            finally:
                self.derived_columns = columns
        inline = self._inline[name]
        if not self.derived_columns:
            return inline
        m, bits = col(f"{name}__m"), inline.possible
        if self.derived_kinds[name] == "count":
            return Val(col(f"{name}__lo"), m, col(f"{name}__lo"), col(f"{name}__hi"), bits=bits)
        return Val(col(name), m, bits=bits)

    # nodes --------------------------------------------------------------------------------------------

    def compile(self, node: Node, scope: str = PROFILE) -> Val:
        match node:
            case Literal(value):
                return Val(lit(value), 0, nullable=False)
            case ListLit():
                raise ValueError("a [list] only appears on the right of 'in'")
            case Name(name):
                return self._name(name, scope)
            case Not(operand):
                v = self.compile(operand, scope)
                return Val(not_(v.value), v.mask, nullable=v.nullable, bits=v.bits)
            case And(operands) | Or(operands):
                vals = [self.compile(o, scope) for o in operands]
                joined = (and_ if isinstance(node, And) else or_)(*[v.value for v in vals])
                mask, bits = union([mask_when_null(v) for v in vals])
                return Val(joined, mask, nullable=any(v.nullable for v in vals), bits=bits)
            case IsKnown(operand, negated):
                v = self.compile(operand, scope)
                return Val(is_null(v.value) if negated else known(v.value), 0, nullable=False)
            case Compare(op, left, right):
                return self._compare(op, left, right, scope)
            case In(item, collection, negated):
                v = self._in(item, collection, scope)
                return Val(not_(v.value), v.mask, bits=v.bits) if negated else v
            case Call(func, args):
                return self._call(func, args, scope)

    def _name(self, name: str, scope: str) -> Val:
        if scope == TREATMENT and name in self.vocab.treatment_fields:
            return Val(col(name, table=T), self.bit(f"{PRIOR}.{name}"))
        if name in self.vocab.derived:
            return self.derived_val(name)
        if name in self.hints:
            return Val(col(name), col(f"{name}__m"), bits=self.hints[name])
        return Val(col(name), self.bit(name))

    def _compare(self, op: str, left: Node, right: Node, scope: str) -> Val:
        spec_l, spec_r = self.vocab.spec(left, scope), self.vocab.spec(right, scope)
        if spec_l is not None and spec_l.refines and isinstance(right, Literal):
            return self._enum_in(left, scope, spec_l, frozenset({str(right.value)}), op == "!=")
        if spec_r is not None and spec_r.refines and isinstance(left, Literal):
            return self._enum_in(right, scope, spec_r, frozenset({str(left.value)}), op == "!=")
        a, b = self.compile(left, scope), self.compile(right, scope)
        if a.lo is None and b.lo is None:
            mask, bits = union([mask_when_null(a), mask_when_null(b)])
            return Val(_CMP[op](paren(a.value), paren(b.value)), mask, bits=bits)
        # a count with bounds is known yet may leave the comparison unknown: its mask counts whenever it is read
        mask, bits = union([(v.mask, v.possible) if v.lo is not None else mask_when_null(v) for v in (a, b)])
        return Val(self._count_compare(op, a, b), mask, bits=bits)

    def _count_compare(self, op: str, a: Val, b: Val) -> exp.Expression:
        """Bounds compared as ``compare_count`` does: settled only when every count inside them agrees."""
        lo_a, hi_a = (a.lo, a.hi) if a.lo is not None and a.hi is not None else (a.value, a.value)
        lo_b, hi_b = (b.lo, b.hi) if b.lo is not None and b.hi is not None else (b.value, b.value)
        fn = _CMP[op]
        if op in ("==", "!="):
            exact = and_(exp.EQ(this=lo_a, expression=hi_a), exp.EQ(this=lo_b, expression=hi_b))
            apart = or_(exp.LT(this=hi_a, expression=lo_b), exp.LT(this=hi_b, expression=lo_a))
            return case([(exact, fn(lo_a, lo_b)), (apart, lit(op == "!="))], exp.Null())
        corners = [fn(x, y) for x in (lo_a, hi_a) for y in (lo_b, hi_b)]
        return case([(and_(*corners), lit(True)), (and_(*[not_(c) for c in corners]), lit(False))], exp.Null())

    def _enum_in(self, node: Node, scope: str, spec: FactSpec, allowed: frozenset[str], negated: bool) -> Val:
        """``fact in allowed`` where a coarse value (HER2 "negative") stands for several exact ones."""
        v = self.compile(node, scope)
        sure = [x for x in spec.values if spec.possible(x) <= allowed]
        never = [x for x in spec.values if not (spec.possible(x) & allowed)]
        branches = []
        if sure:
            branches.append((in_list(v.value, sure), lit(not negated)))
        if never:
            branches.append((in_list(v.value, never), lit(negated)))
        value = case(branches, exp.Null()) if branches else exp.Null()
        own = self.bit(spec.name) if spec.name in self.fields.bits else 0
        if len(sure) + len(never) < len(spec.values):
            return Val(value, case([(is_null(v.value), mask_expr(v.mask))], lit(own)), bits=v.possible | own)
        return Val(value, v.mask, bits=v.bits)

    def _in(self, item: Node, collection: Node, scope: str) -> Val:
        spec = self.vocab.spec(item, scope)
        if isinstance(collection, ListLit) and spec is not None:
            return self._enum_in(item, scope, spec, frozenset(str(i.value) for i in collection.items), False)
        a, c = self.compile(item, scope), self.compile(collection, scope)
        mask, bits = union([mask_when_null(a), mask_when_null(c)])
        return Val(self.d.contains(c.value, a.value), mask, bits=bits)

    # functions ---------------------------------------------------------------------------------------

    def _call(self, func: str, args: tuple[Node, ...], scope: str) -> Val:
        if func in ("count_prior", "any_prior"):
            return self._prior(func, args[0])
        if func in ("has_class", "has_drug"):
            # the treatment's drug flags, looked up once per drug when the input is checked (prep.py)
            ref = str(args[0].value) if isinstance(args[0], Literal) else ""
            bit = 1 << drug_tests(self.kb).index((func, ref))
            hit = exp.NEQ(this=paren(exp.BitwiseAnd(this=col("bits", table=T), expression=lit(bit))), expression=lit(0))
            value = case([(hit, lit(True)), (col("known", table=T), lit(False))], exp.Null())
            return Val(value, self.bit(f"{PRIOR}.drugs"))
        if func == "within_months":
            a, b = self.compile(args[0], scope), self.compile(args[1], scope)
            months = args[2].value if isinstance(args[2], Literal) else 0
            assert isinstance(months, int)
            within = exp.LTE(this=paren(b.value), expression=self.d.add_months(a.value, months))
            mask, bits = union([mask_when_null(a), mask_when_null(b)])
            return Val(within, mask, bits=bits)
        raise ValueError(f"unknown function {func!r}")

    def _prior(self, func: str, pred_node: Node) -> Val:
        pt = col(PRIOR)
        pred = self.compile(pred_node, TREATMENT)

        def count(cond: exp.Expression) -> exp.Expression:
            return case([(known(pt), self.d.size(self.d.filter(pt, T, cond)))], exp.Null())

        always = not pred.nullable and isinstance(pred.value, exp.Boolean) and bool(pred.value.this)
        inner, inner_bits = mask_when_null(pred)
        coded = self.codes.add(pred_node) if self.codes is not None and not always else None
        if coded is not None:
            return self._coded(func, coded, inner_bits)
        lo: exp.Expression
        hi: exp.Expression
        if always:
            lo = hi = case([(known(pt), self.d.size(pt))], exp.Null())
        else:
            lo, hi = count(coalesce(pred.value, False)), count(coalesce(pred.value, True))
        per_item: exp.Expression = (
            lit(inner) if isinstance(inner, int) else self.d.fold_bit_or(self.d.transform(pt, T, inner))
        )
        mask = case([(is_null(pt), lit(self.bit(PRIOR)))], per_item)
        bits = inner_bits | self.bit(PRIOR)
        if func == "count_prior":
            return Val(lo, mask, lo, hi, bits=bits)
        zero = lit(0)
        value = case(
            [
                (is_null(pt), exp.Null()),
                (exp.GT(this=lo, expression=zero), lit(True)),
                (exp.GT(this=hi, expression=zero), exp.Null()),
            ],
            lit(False),
        )
        return Val(value, mask, bits=bits)

    def _coded(self, func: str, coded: Coded, inner_bits: int) -> Val:
        """``_prior`` read from the treatment codes (``treatments.PriorCodes``)."""
        pt, codes, every = col(PRIOR), col(CODES), col(ANY)

        def count(bits: int) -> exp.Expression:
            return case([(known(pt), self.d.size(self.d.filter(codes, "c_", has_bit(exp.column("c_"), bits))))])

        per_item = (
            bit_or(*[case([(has_bit(every, c), lit(f))], lit(0)) for f, c in coded.fields]) if coded.fields else lit(0)
        )
        mask = case([(is_null(pt), lit(self.bit(PRIOR)))], per_item)
        bits = inner_bits | self.bit(PRIOR)
        if func == "count_prior":
            lo = count(coded.sure)
            return Val(lo, mask, lo, count(coded.sure | coded.unknown), bits=bits)
        value = case(
            [
                (is_null(pt), exp.Null()),
                (has_bit(every, coded.sure), lit(True)),
                (has_bit(every, coded.unknown), exp.Null()),
            ],
            lit(False),
        )
        return Val(value, mask, bits=bits)
