"""The criteria language: text -> tree (parser), checks (typecheck), Kleene evaluation (evaluate)."""

from mbc_navigator.rules.ast import Node, names, to_text
from mbc_navigator.rules.evaluate import Compiler, Context, Fn, Result
from mbc_navigator.rules.parser import RuleSyntaxError, parse
from mbc_navigator.rules.typecheck import RuleTypeError, check
from mbc_navigator.rules.values import Count, DrugRef, Treatment
from mbc_navigator.rules.vocabulary import FactSpec, Vocabulary

__all__ = [
    "Compiler",
    "Context",
    "Count",
    "DrugRef",
    "FactSpec",
    "Fn",
    "Node",
    "Result",
    "RuleSyntaxError",
    "RuleTypeError",
    "Treatment",
    "Vocabulary",
    "check",
    "names",
    "parse",
    "to_text",
]
