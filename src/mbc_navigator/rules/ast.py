"""The expression tree for criteria and derived facts.

One tree, several back ends: the Python evaluator (``evaluate.py``) now, a SQL generator for cohort screening
later. Nodes are immutable and hashable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

Scalar: TypeAlias = str | int | bool


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # one of == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class In:
    item: Node
    collection: Node
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsKnown:
    operand: Node
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]


Node: TypeAlias = Literal | ListLit | Name | Not | And | Or | Compare | In | IsKnown | Call

COMPARE_OPS = ("==", "!=", "<=", ">=", "<", ">")


def names(node: Node) -> set[str]:
    """Every identifier the tree mentions (facts, and treatment fields inside ``*_prior``)."""
    out: set[str] = set()
    _walk_names(node, out)
    return out


def _walk_names(node: Node, out: set[str]) -> None:
    match node:
        case Name(name):
            out.add(name)
        case Not(operand) | IsKnown(operand, _):
            _walk_names(operand, out)
        case And(operands) | Or(operands):
            for op in operands:
                _walk_names(op, out)
        case Compare(_, left, right):
            _walk_names(left, out)
            _walk_names(right, out)
        case In(item, collection, _):
            _walk_names(item, out)
            _walk_names(collection, out)
        case Call(_, args):
            for arg in args:
                _walk_names(arg, out)
        case Literal() | ListLit():
            pass


def to_text(node: Node) -> str:
    """Render a tree back to rule text (canonical spacing, parenthesised where needed)."""
    match node:
        case Literal(value):
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str):
                return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            return str(value)
        case ListLit(items):
            return "[" + ", ".join(to_text(i) for i in items) + "]"
        case Name(name):
            return name
        case Not(operand):
            return "not " + _paren(operand)
        case And(operands):
            return " and ".join(_paren(o) for o in operands)
        case Or(operands):
            return " or ".join(_paren(o) for o in operands)
        case Compare(op, left, right):
            return f"{_paren(left)} {op} {_paren(right)}"
        case In(item, collection, negated):
            return f"{_paren(item)} {'not in' if negated else 'in'} {_paren(collection)}"
        case IsKnown(operand, negated):
            return f"{_paren(operand)} is {'unknown' if negated else 'known'}"
        case Call(func, args):
            return f"{func}(" + ", ".join(to_text(a) for a in args) + ")"


def _paren(node: Node) -> str:
    text = to_text(node)
    if isinstance(node, And | Or | Not | Compare | In | IsKnown):
        return f"({text})"
    return text
