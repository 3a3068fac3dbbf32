"""Kleene three-valued evaluation of rule trees, compiled once into Python closures.

Every node yields ``(value, missing)``: ``value`` is ``None`` when unknown, and ``missing`` names the profile
fields whose values would settle it (empty when the value is known). Unknown is never rounded to true or false:
``false and unknown`` is false, ``true or unknown`` is true, anything else with an unknown stays unknown.
Counts of earlier treatments are ``Count(lo, hi)`` bounds, compared as the bounds allow.
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from mbc_navigator.rules.ast import And, Call, Compare, In, IsKnown, ListLit, Literal, Name, Node, Not, Or
from mbc_navigator.rules.values import Count, Treatment
from mbc_navigator.rules.vocabulary import PROFILE, TREATMENT, FactSpec, Vocabulary

Missing = frozenset[str]
Result = tuple[Any, Missing]
EMPTY: Missing = frozenset()
PRIOR = "prior_treatments"


class Context:
    """One profile's facts during evaluation; derived facts are computed once per context."""

    __slots__ = ("cache", "hints", "treatment", "values")

    def __init__(self, values: Mapping[str, Any], hints: Mapping[str, Missing] | None = None) -> None:
        self.values = values
        self.hints: Mapping[str, Missing] = hints or {}
        self.cache: dict[str, Result] = {}
        self.treatment: Treatment | None = None


Fn = Callable[[Context], Result]

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (clamped to the month's last day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def compare_count(op: str, a: Count | int, b: Count | int) -> bool | None:
    """Compare counts with bounds: true or false only when every count inside the bounds agrees."""
    lo_a, hi_a = (a.lo, a.hi) if isinstance(a, Count) else (a, a)
    lo_b, hi_b = (b.lo, b.hi) if isinstance(b, Count) else (b, b)
    fn = _ORDER[op]
    if op in ("==", "!="):
        # equality over ranges: certain only when both are exact, or the ranges do not overlap
        if lo_a == hi_a and lo_b == hi_b:
            return fn(lo_a, lo_b)
        if hi_a < lo_b or hi_b < lo_a:
            return op == "!="
        return None
    # ordering is monotone in each side, so the corners of the bounds decide
    outcomes = {fn(x, y) for x in (lo_a, hi_a) for y in (lo_b, hi_b)}
    return outcomes.pop() if len(outcomes) == 1 else None


class Compiler:
    """Turns trees into closures against one vocabulary. Derived facts are compiled once and shared."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self._derived: dict[str, Fn] = {}
        for name in vocab.derived:
            self._derived_fn(name)

    def compile(self, node: Node, scope: str = PROFILE) -> Fn:
        match node:
            case Literal(value):
                const: Result = (value, EMPTY)
                return lambda ctx: const
            case ListLit(items):
                const_set: Result = (frozenset(i.value for i in items), EMPTY)
                return lambda ctx: const_set
            case Name(name):
                return self._name(name, scope)
            case Not(operand):
                return _not(self.compile(operand, scope))
            case And(operands):
                return _and(tuple(self.compile(o, scope) for o in operands))
            case Or(operands):
                return _or(tuple(self.compile(o, scope) for o in operands))
            case IsKnown(operand, negated):
                fn = self.compile(operand, scope)
                return lambda ctx: ((fn(ctx)[0] is not None) != negated, EMPTY)
            case Compare(op, left, right):
                return self._compare(op, left, right, scope)
            case In(item, collection, negated):
                fn = self._in(item, collection, scope)
                return _not(fn) if negated else fn
            case Call(func, args):
                return self._call(func, args, scope)

    # names -------------------------------------------------------------------------------------------

    def _name(self, name: str, scope: str) -> Fn:
        if scope == TREATMENT and name in self.vocab.treatment_fields:
            missing = frozenset({f"{PRIOR}.{name}"})

            def field(ctx: Context) -> Result:
                assert ctx.treatment is not None
                value = ctx.treatment.field(name)
                return (value, EMPTY if value is not None else missing)

            return field
        if name in self.vocab.derived:
            return self._derived_fn(name)
        default = frozenset({name})

        def base(ctx: Context) -> Result:
            value = ctx.values.get(name)
            if value is None:
                return (None, ctx.hints.get(name, default))
            return (value, EMPTY)

        return base

    def _derived_fn(self, name: str) -> Fn:
        if name in self._derived:
            return self._derived[name]
        holder: list[Fn] = []

        def derived(ctx: Context) -> Result:
            hit = ctx.cache.get(name)
            if hit is None:
                hit = ctx.cache[name] = holder[0](ctx)
            return hit

        self._derived[name] = derived
        holder.append(self.compile(self.vocab.derived[name], PROFILE))
        return derived

    # comparisons --------------------------------------------------------------------------------------

    def _compare(self, op: str, left: Node, right: Node, scope: str) -> Fn:
        spec_l, spec_r = self.vocab.spec(left, scope), self.vocab.spec(right, scope)
        if spec_l is not None and spec_l.refines and isinstance(right, Literal):
            return self._enum_in(left, scope, spec_l, frozenset({right.value}), negated=op == "!=")
        if spec_r is not None and spec_r.refines and isinstance(left, Literal):
            return self._enum_in(right, scope, spec_r, frozenset({left.value}), negated=op == "!=")
        fl, fr, fn = self.compile(left, scope), self.compile(right, scope), _ORDER[op]

        def cmp(ctx: Context) -> Result:
            a, ma = fl(ctx)
            b, mb = fr(ctx)
            if a is None or b is None:
                return (None, ma | mb)
            if isinstance(a, Count) or isinstance(b, Count):
                result = compare_count(op, a, b)
                return (result, EMPTY if result is not None else ma | mb)
            return (fn(a, b), EMPTY)

        return cmp

    def _enum_in(self, node: Node, scope: str, spec: FactSpec, allowed: frozenset[Any], negated: bool) -> Fn:
        """``fact in allowed`` where a coarse value (HER2 "negative") stands for several exact ones."""
        fv = self.compile(node, scope)
        default = frozenset({spec.name})

        def test(ctx: Context) -> Result:
            value, missing = fv(ctx)
            if value is None:
                return (None, missing)
            possible = spec.possible(value)
            if possible <= allowed:
                return (not negated, EMPTY)
            if not (possible & allowed):
                return (negated, EMPTY)
            return (None, default)

        return test

    def _in(self, item: Node, collection: Node, scope: str) -> Fn:
        spec = self.vocab.spec(item, scope)
        if isinstance(collection, ListLit) and spec is not None:
            allowed = frozenset(i.value for i in collection.items)
            return self._enum_in(item, scope, spec, allowed, negated=False)
        fi, fc = self.compile(item, scope), self.compile(collection, scope)

        def member(ctx: Context) -> Result:
            a, ma = fi(ctx)
            c, mc = fc(ctx)
            if a is None or c is None:
                return (None, ma | mc)
            return (a in c, EMPTY)

        return member

    # functions -----------------------------------------------------------------------------------------

    def _call(self, func: str, args: tuple[Node, ...], scope: str) -> Fn:
        if func in ("count_prior", "any_prior"):
            pred = self.compile(args[0], TREATMENT)
            return _count_prior(pred) if func == "count_prior" else _any_prior(pred)
        if func in ("has_class", "has_drug"):
            wanted = args[0].value if isinstance(args[0], Literal) else None
            return _has(str(wanted), by_class=func == "has_class")
        if func == "within_months":
            fa, fb = self.compile(args[0], scope), self.compile(args[1], scope)
            months = args[2].value if isinstance(args[2], Literal) else 0
            assert isinstance(months, int)

            def within(ctx: Context) -> Result:
                a, ma = fa(ctx)
                b, mb = fb(ctx)
                if a is None or b is None:
                    return (None, ma | mb)
                return (b <= add_months(a, months), EMPTY)

            return within
        raise ValueError(f"unknown function {func!r}")


def _not(fn: Fn) -> Fn:
    def neg(ctx: Context) -> Result:
        value, missing = fn(ctx)
        return (None, missing) if value is None else (not value, EMPTY)

    return neg


def _and(fns: tuple[Fn, ...]) -> Fn:
    def conj(ctx: Context) -> Result:
        missing: Missing = EMPTY
        unknown = False
        for fn in fns:
            value, m = fn(ctx)
            if value is False:
                return (False, EMPTY)
            if value is None:
                unknown, missing = True, missing | m
        return (None, missing) if unknown else (True, EMPTY)

    return conj


def _or(fns: tuple[Fn, ...]) -> Fn:
    def disj(ctx: Context) -> Result:
        missing: Missing = EMPTY
        unknown = False
        for fn in fns:
            value, m = fn(ctx)
            if value is True:
                return (True, EMPTY)
            if value is None:
                unknown, missing = True, missing | m
        return (None, missing) if unknown else (False, EMPTY)

    return disj


def _prior(ctx: Context) -> tuple[tuple[Treatment, ...] | None, Missing]:
    treatments = ctx.values.get(PRIOR)
    if treatments is None:
        return None, ctx.hints.get(PRIOR, frozenset({PRIOR}))
    return treatments, EMPTY


def _count_prior(pred: Fn) -> Fn:
    def count(ctx: Context) -> Result:
        treatments, missing = _prior(ctx)
        if treatments is None:
            return (None, missing)
        lo = hi = 0
        outer = ctx.treatment
        try:
            for t in treatments:
                ctx.treatment = t
                value, m = pred(ctx)
                if value is True:
                    lo += 1
                    hi += 1
                elif value is None:
                    hi += 1
                    missing = missing | m
        finally:
            ctx.treatment = outer
        return (Count(lo, hi), missing)

    return count


def _any_prior(pred: Fn) -> Fn:
    def any_(ctx: Context) -> Result:
        treatments, missing = _prior(ctx)
        if treatments is None:
            return (None, missing)
        unknown = False
        outer = ctx.treatment
        try:
            for t in treatments:
                ctx.treatment = t
                value, m = pred(ctx)
                if value is True:
                    return (True, EMPTY)
                if value is None:
                    unknown, missing = True, missing | m
        finally:
            ctx.treatment = outer
        return (None, missing) if unknown else (False, EMPTY)

    return any_


_DRUGS_MISSING = frozenset({f"{PRIOR}.drugs"})


def _has(wanted: str, by_class: bool) -> Fn:
    def has(ctx: Context) -> Result:
        assert ctx.treatment is not None
        unknown = False
        for drug in ctx.treatment.drugs:
            known = drug.classes if by_class else drug.ids
            if known is None:
                unknown = True
            elif wanted in known:
                return (True, EMPTY)
        return (None, _DRUGS_MISSING) if unknown else (False, EMPTY)

    return has
