"""Rule text -> expression tree (``ast.py``), by recursive descent.

Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | test
    test    := term [ CMP term | ["not"] "in" term | "is" ("known" | "unknown") ]
    term    := STRING | INT | "true" | "false" | "[" literals "]" | NAME [ "(" args ")" ] | "(" expr ")"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mbc_navigator.rules.ast import (
    COMPARE_OPS,
    And,
    Call,
    Compare,
    In,
    IsKnown,
    ListLit,
    Literal,
    Name,
    Node,
    Not,
    Or,
)

KEYWORDS = {"and", "or", "not", "in", "is", "known", "unknown", "true", "false"}

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<int>-?\d+)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)


class RuleSyntaxError(ValueError):
    """A rule that does not parse; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, text: str, position: int) -> None:
        pointer = " " * position + "^"
        super().__init__(f"{message} at character {position + 1}:\n  {text}\n  {pointer}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string | int | op | punct | name | keyword | end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise RuleSyntaxError(f"unexpected character {text[pos]!r}", text, pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            word = m.group()
            if kind == "name" and word in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, word, pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str) -> RuleSyntaxError:
        found = self.tok.text or "end of rule"
        return RuleSyntaxError(f"{message}, found {found!r}", self.text, self.tok.pos)

    def accept(self, text: str) -> bool:
        if self.tok.kind in ("keyword", "op", "punct") and self.tok.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(f"expected {text!r}")

    def parse(self) -> Node:
        node = self.or_()
        if self.tok.kind != "end":
            raise self.error("expected 'and', 'or' or the end of the rule")
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.accept("or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        parts = [self.unary()]
        while self.accept("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        if self.tok.kind == "keyword" and self.tok.text == "not" and not self._not_in_ahead():
            self.i += 1
            return Not(self.unary())
        return self.test()

    def _not_in_ahead(self) -> bool:
        return self.tokens[self.i + 1].text == "in" and self.tokens[self.i + 1].kind == "keyword"

    def test(self) -> Node:
        left = self.term()
        if self.tok.kind == "op" and self.tok.text in COMPARE_OPS:
            op = self.tok.text
            self.i += 1
            return Compare(op, left, self.term())
        if self.accept("in"):
            return In(left, self.term())
        if self.tok.kind == "keyword" and self.tok.text == "not" and self._not_in_ahead():
            self.i += 2
            return In(left, self.term(), negated=True)
        if self.accept("is"):
            if self.accept("known"):
                return IsKnown(left)
            if self.accept("unknown"):
                return IsKnown(left, negated=True)
            raise self.error("expected 'known' or 'unknown' after 'is'")
        return left

    def term(self) -> Node:
        tok = self.tok
        if tok.kind == "string":
            self.i += 1
            return Literal(_unescape(tok.text))
        if tok.kind == "int":
            self.i += 1
            return Literal(int(tok.text))
        if tok.kind == "keyword" and tok.text in ("true", "false"):
            self.i += 1
            return Literal(tok.text == "true")
        if self.accept("["):
            items: list[Literal] = []
            if not self.accept("]"):
                while True:
                    item = self.term()
                    if not isinstance(item, Literal):
                        raise RuleSyntaxError("a list holds only literal values", self.text, tok.pos)
                    items.append(item)
                    if self.accept("]"):
                        break
                    self.expect(",")
            return ListLit(tuple(items))
        if self.accept("("):
            node = self.or_()
            self.expect(")")
            return node
        if tok.kind == "name":
            self.i += 1
            if self.accept("("):
                args: list[Node] = []
                if not self.accept(")"):
                    while True:
                        args.append(self.or_())
                        if self.accept(")"):
                            break
                        self.expect(",")
                return Call(tok.text, tuple(args))
            return Name(tok.text)
        raise self.error("expected a value, a fact name, '(' or '['")


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """Parse rule text into a tree; raises ``RuleSyntaxError`` naming the place."""
    return _Parser(text).parse()
