"""Static checks on a rule before it is ever run: every name, function, class, drug and value exists, and
operands have types that fit. A typo in the knowledge base fails at load, not on a patient."""

from __future__ import annotations

from mbc_navigator.rules.ast import And, Call, Compare, In, IsKnown, ListLit, Literal, Name, Node, Not, Or
from mbc_navigator.rules.vocabulary import PROFILE, TREATMENT, FactSpec, Vocabulary

FUNCTIONS = {
    "count_prior": "count_prior(<condition on one earlier treatment>)",
    "any_prior": "any_prior(<condition on one earlier treatment>)",
    "has_class": 'has_class("<drug class id>"), inside count_prior/any_prior',
    "has_drug": 'has_drug("<drug id>"), inside count_prior/any_prior',
    "within_months": "within_months(<earlier date>, <later date>, <whole months>)",
}


class RuleTypeError(ValueError):
    pass


def check(node: Node, vocab: Vocabulary, derived_types: dict[str, str] | None = None) -> str:
    """Return the rule's type ("bool", "count", ...) or raise ``RuleTypeError`` saying what is wrong."""
    return _Checker(vocab, derived_types or {}).infer(node, PROFILE)


class _Checker:
    def __init__(self, vocab: Vocabulary, derived_types: dict[str, str]) -> None:
        self.vocab = vocab
        self.derived_types = derived_types

    def infer(self, node: Node, scope: str) -> str:
        match node:
            case Literal(value):
                return "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "str"
            case ListLit(items):
                kinds = {self.infer(i, scope) for i in items}
                if len(kinds) > 1:
                    raise RuleTypeError(f"a list mixes kinds of value: {sorted(kinds)}")
                return "list"
            case Name(name):
                return self._name(name, scope)
            case Not(operand):
                self._want_bool(operand, scope, "'not'")
                return "bool"
            case And(operands) | Or(operands):
                for op in operands:
                    self._want_bool(op, scope, "'and' / 'or'")
                return "bool"
            case IsKnown(operand, _):
                self.infer(operand, scope)
                return "bool"
            case Compare(op, left, right):
                self._compare(op, left, right, scope)
                return "bool"
            case In(item, collection, _):
                self._in(item, collection, scope)
                return "bool"
            case Call(func, args):
                return self._call(func, args, scope)

    def _name(self, name: str, scope: str) -> str:
        if scope == TREATMENT and name in self.vocab.treatment_fields:
            return self.vocab.treatment_fields[name].type
        if name in self.vocab.facts:
            kind = self.vocab.facts[name].type
            if kind == "treatments":
                raise RuleTypeError(f"{name!r} is a list of treatments: use count_prior(...) or any_prior(...)")
            return kind
        if name in self.derived_types:
            return self.derived_types[name]
        if name in self.vocab.treatment_fields:
            raise RuleTypeError(f"{name!r} describes one earlier treatment: use it inside count_prior/any_prior")
        known = sorted([*self.vocab.facts, *self.derived_types])
        raise RuleTypeError(f"unknown fact {name!r}; known facts: {', '.join(known)}")

    def _want_bool(self, node: Node, scope: str, where: str) -> None:
        kind = self.infer(node, scope)
        if kind != "bool":
            raise RuleTypeError(f"{where} needs a true/false condition, not a {kind}")

    def _literal_values(self, spec: FactSpec, literals: list[Literal]) -> None:
        for lit in literals:
            if lit.value not in spec.values:
                raise RuleTypeError(f"{lit.value!r} is not a value of {spec.name!r}; allowed: {', '.join(spec.values)}")

    def _compare(self, op: str, left: Node, right: Node, scope: str) -> None:
        lt, rt = self.infer(left, scope), self.infer(right, scope)
        if "enum" in (lt, rt):
            fact, other = (left, right) if lt == "enum" else (right, left)
            spec = self.vocab.spec(fact, scope)
            assert spec is not None
            if not (isinstance(other, Literal) and isinstance(other.value, str)):
                raise RuleTypeError(f"compare {spec.name!r} with a quoted value")
            if op not in ("==", "!="):
                raise RuleTypeError(f"{spec.name!r} can only be compared with == or !=")
            self._literal_values(spec, [other])
            return
        numeric = {"int", "count"}
        if lt in numeric and rt in numeric:
            return
        if lt == rt and (lt == "date" or (lt in ("bool", "str") and op in ("==", "!="))):
            return
        raise RuleTypeError(f"cannot compare a {lt} with a {rt} using {op}")

    def _in(self, item: Node, collection: Node, scope: str) -> None:
        it, ct = self.infer(item, scope), self.infer(collection, scope)
        item_spec, coll_spec = self.vocab.spec(item, scope), self.vocab.spec(collection, scope)
        if ct == "list" and isinstance(collection, ListLit):
            if it == "enum" and item_spec is not None:
                self._literal_values(item_spec, list(collection.items))
                return
            raise RuleTypeError("'x in [...]' needs x to be a fact with listed values")
        if ct == "enum_list" and coll_spec is not None:
            if isinstance(item, Literal) and it == "str":
                self._literal_values(coll_spec, [item])
                return
            raise RuleTypeError(f"'... in {coll_spec.name}' needs a quoted value on the left")
        raise RuleTypeError("'in' needs a [list] or a list fact on the right")

    def _call(self, func: str, args: tuple[Node, ...], scope: str) -> str:
        if func not in FUNCTIONS:
            raise RuleTypeError(f"unknown function {func!r}; known: {', '.join(FUNCTIONS)}")
        usage = FUNCTIONS[func]
        if func in ("count_prior", "any_prior"):
            if scope != PROFILE:
                raise RuleTypeError(f"{func} cannot be nested inside another *_prior")
            if len(args) != 1:
                raise RuleTypeError(f"use {usage}")
            self._want_bool(args[0], TREATMENT, func)
            return "count" if func == "count_prior" else "bool"
        if func in ("has_class", "has_drug"):
            if scope != TREATMENT:
                raise RuleTypeError(f"{func} works on one earlier treatment: use {usage}")
            if len(args) != 1 or not isinstance(args[0], Literal) or not isinstance(args[0].value, str):
                raise RuleTypeError(f"use {usage}")
            known = self.vocab.classes if func == "has_class" else self.vocab.drugs
            if args[0].value not in known:
                what = "drug class" if func == "has_class" else "drug"
                raise RuleTypeError(f"unknown {what} {args[0].value!r}; known: {', '.join(sorted(known))}")
            return "bool"
        # within_months
        if len(args) != 3 or not (isinstance(args[2], Literal) and isinstance(args[2].value, int)):
            raise RuleTypeError(f"use {usage}")
        for arg in args[:2]:
            if self.infer(arg, scope) != "date":
                raise RuleTypeError(f"use {usage}")
        return "bool"
