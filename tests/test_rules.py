"""The criteria language: parsing, static checks, and Kleene three-valued evaluation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mbc_navigator.rules import (
    Compiler,
    Context,
    Count,
    DrugRef,
    FactSpec,
    RuleSyntaxError,
    RuleTypeError,
    Treatment,
    Vocabulary,
    check,
    parse,
    to_text,
)
from mbc_navigator.rules.ast import And, Compare, In, ListLit, Literal, Name, Not, Or
from mbc_navigator.rules.evaluate import add_months, compare_count

VOCAB = Vocabulary(
    facts={
        "her2": FactSpec(
            "her2", "enum", ("positive", "low", "zero", "negative"), {"negative": frozenset({"low", "zero"})}
        ),
        "er": FactSpec("er", "enum", ("positive", "negative")),
        "operable": FactSpec("operable", "bool"),
        "sites": FactSpec("sites", "enum_list", ("bone", "brain")),
        "prior_treatments": FactSpec("prior_treatments", "treatments"),
        "recurrence_date": FactSpec("recurrence_date", "date"),
    },
    derived={},
    treatment_fields={
        "setting": FactSpec("setting", "enum", ("early", "advanced")),
        "end_date": FactSpec("end_date", "date"),
        "ongoing": FactSpec("ongoing", "bool"),
    },
    classes=frozenset({"chemotherapy", "anti_her2"}),
    drugs=frozenset({"trastuzumab"}),
)
COMPILER = Compiler(VOCAB)


def run(rule: str, **values: Any) -> tuple[Any, frozenset[str]]:
    node = parse(rule)
    check(node, VOCAB)
    return COMPILER.compile(node)(Context(values))


def drug(name: str, *classes: str) -> DrugRef:
    return DrugRef(name, name, frozenset({name}), frozenset(classes))


UNKNOWN_DRUG = DrugRef("mystery", None, None, None)


class TestParser:
    def test_precedence_not_binds_tighter_than_and_tighter_than_or(self) -> None:
        assert parse("not a and b or c") == Or((And((Not(Name("a")), Name("b"))), Name("c")))

    def test_not_in_is_one_operator(self) -> None:
        assert parse('x not in ["a"]') == In(Name("x"), ListLit((Literal("a"),)), negated=True)

    def test_literals(self) -> None:
        assert parse('a == "q\\"x"') == Compare("==", Name("a"), Literal('q"x'))
        assert parse("a >= -2") == Compare(">=", Name("a"), Literal(-2))
        assert parse("a == true") == Compare("==", Name("a"), Literal(True))

    @pytest.mark.parametrize("text", ["her2 ==", "(a and b", "a and and b", "a = 1", "f(a,", "[a]", "a is maybe"])
    def test_syntax_errors_name_the_place(self, text: str) -> None:
        with pytest.raises(RuleSyntaxError) as err:
            parse(text)
        assert "at character" in str(err.value)

    @given(
        st.recursive(
            st.sampled_from(['her2 == "low"', "operable", '"bone" in sites', "x is known"]),
            lambda inner: st.one_of(
                st.tuples(inner, inner).map(lambda t: f"({t[0]}) and ({t[1]})"),
                st.tuples(inner, inner).map(lambda t: f"({t[0]}) or ({t[1]})"),
                inner.map(lambda t: f"not ({t})"),
            ),
            max_leaves=8,
        )
    )
    def test_to_text_round_trips(self, text: str) -> None:
        tree = parse(text)
        assert parse(to_text(tree)) == tree


class TestTypecheck:
    @pytest.mark.parametrize(
        ("rule", "says"),
        [
            ('her2 == "postive"', "not a value of 'her2'"),
            ('hre2 == "positive"', "unknown fact 'hre2'"),
            ('count_prior(has_class("chemo")) >= 1', "unknown drug class 'chemo'"),
            ('has_class("chemotherapy")', "works on one earlier treatment"),
            ("prior_treatments", "use count_prior"),
            ('setting == "early"', "inside count_prior"),
            ("nope(1)", "unknown function"),
            ('"lung" in sites', "not a value of 'sites'"),
            ('her2 < "low"', "only be compared with == or !="),
            ("operable and 3", "needs a true/false condition"),
        ],
    )
    def test_mistakes_fail_at_load_with_a_reason(self, rule: str, says: str) -> None:
        with pytest.raises(RuleTypeError, match=says.replace("(", r"\(")):
            check(parse(rule), VOCAB)


class TestKleene:
    def test_unknown_fact_is_unknown_and_names_the_field(self) -> None:
        assert run('her2 == "positive"') == (None, frozenset({"her2"}))

    def test_false_and_unknown_is_false(self) -> None:
        assert run('her2 == "positive" and operable', her2="zero")[0] is False

    def test_true_or_unknown_is_true(self) -> None:
        assert run('her2 == "positive" or operable', her2="positive")[0] is True

    def test_true_and_unknown_is_unknown_naming_only_the_unknown(self) -> None:
        assert run('her2 == "positive" and operable', her2="positive") == (None, frozenset({"operable"}))

    def test_not_unknown_is_unknown(self) -> None:
        assert run("not operable")[0] is None

    def test_coarse_value_stands_for_its_refinements(self) -> None:
        # HER2 "negative" = low or zero, not known which
        assert run('her2 == "positive"', her2="negative")[0] is False
        assert run('her2 in ["low", "zero"]', her2="negative")[0] is True
        assert run('her2 == "low"', her2="negative") == (None, frozenset({"her2"}))
        assert run('her2 != "low"', her2="negative")[0] is None

    def test_list_membership(self) -> None:
        assert run('"bone" in sites', sites=frozenset({"bone"}))[0] is True
        assert run('"bone" in sites', sites=frozenset())[0] is False
        assert run('"bone" in sites') == (None, frozenset({"sites"}))

    def test_is_known_is_never_unknown(self) -> None:
        assert run("operable is known")[0] is False
        assert run("operable is unknown")[0] is True


class TestPriorTreatments:
    def test_unknown_list_is_unknown_and_empty_list_is_none(self) -> None:
        assert run('count_prior(has_class("chemotherapy")) == 0') == (None, frozenset({"prior_treatments"}))
        assert run('count_prior(has_class("chemotherapy")) == 0', prior_treatments=())[0] is True

    def test_counts_are_bounds_when_a_drug_is_unrecognised(self) -> None:
        prior = (Treatment((drug("trastuzumab", "anti_her2"),)), Treatment((UNKNOWN_DRUG,)))
        value, missing = run('count_prior(has_class("anti_her2")) >= 2', prior_treatments=prior)
        assert value is None and missing == {"prior_treatments.drugs"}
        assert run('count_prior(has_class("anti_her2")) >= 1', prior_treatments=prior)[0] is True
        assert run('count_prior(has_class("anti_her2")) >= 3', prior_treatments=prior)[0] is False

    def test_unknown_setting_widens_a_setting_count(self) -> None:
        prior = (Treatment((drug("x", "chemotherapy"),), setting=None),)
        value, missing = run(
            'count_prior(setting == "advanced" and has_class("chemotherapy")) == 0', prior_treatments=prior
        )
        assert value is None and missing == {"prior_treatments.setting"}

    def test_a_known_other_class_does_not_count(self) -> None:
        prior = (Treatment((drug("x", "chemotherapy"),), setting="advanced"),)
        assert run('count_prior(has_class("anti_her2")) == 0', prior_treatments=prior)[0] is True

    def test_any_prior_with_early_recurrence(self) -> None:
        rule = 'any_prior(setting == "early" and (ongoing or within_months(end_date, recurrence_date, 6)))'
        ended = Treatment((drug("x", "chemotherapy"),), "early", end_date=date(2024, 1, 31), ongoing=False)
        assert run(rule, prior_treatments=(ended,), recurrence_date=date(2024, 7, 31))[0] is True
        assert run(rule, prior_treatments=(ended,), recurrence_date=date(2024, 8, 1))[0] is False
        assert run(rule, prior_treatments=(ended,)) == (None, frozenset({"recurrence_date"}))
        undated = Treatment((drug("x", "chemotherapy"),), "early")
        _, missing = run(rule, prior_treatments=(undated,), recurrence_date=date(2024, 8, 1))
        assert missing == {"prior_treatments.ongoing", "prior_treatments.end_date"}


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 15), 1) == date(2025, 1, 15)


@given(
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 6),
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
)
def test_count_comparison_is_certain_only_when_every_count_in_bounds_agrees(
    lo: int, extra: int, n: int, op: str
) -> None:
    from mbc_navigator.rules.evaluate import _ORDER

    outcomes = {_ORDER[op](k, n) for k in range(lo, lo + extra + 1)}
    result = compare_count(op, Count(lo, lo + extra), n)
    assert result == (outcomes.pop() if len(outcomes) == 1 else None)
