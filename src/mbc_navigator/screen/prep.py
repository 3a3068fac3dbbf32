"""Input rows -> checked, normalised facts (SQL), with each row's problems for the rejects file.

Mirrors ``profile/parse.py``: values are trimmed and lower-cased, an empty cell is unknown, anything else not
allowed is a problem naming the field and what is allowed. HER2 from IHC/ISH, and the problems of discordant
or contradicted results, come from a table built by running the Python profile reader over every combination,
so the decision table in ``profile/her2.py`` stays the one source. Each earlier treatment gets its drug names
normalised once, with a flag per drug class or drug the rules ask about, and whether every name is known.
``Prep.trusted`` gives the same columns for a cohort ``survey.py`` found clean, without the checks.
"""

from __future__ import annotations

from itertools import product
from typing import Any

from sqlglot import exp

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.profile import ProfileError, parse_profile
from mbc_navigator.screen.dialects import WHITESPACE, Dialect, alias, array, cast, col, lit, select, subquery
from mbc_navigator.screen.plan import UNKNOWN_DRUG
from mbc_navigator.screen.sqlgen import (
    PRIOR,
    DrugNames,
    Fields,
    T,
    and_,
    case,
    coalesce,
    drug_tests,
    in_list,
    is_null,
    known,
    not_,
    or_,
)

DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
TREATMENT_KEYS = ("drugs", "setting", "start_date", "end_date", "ongoing")
HER2_KEYS = ("her2_ihc", "her2_ish", "her2")
ROW, FILE, ID = "row_", "file_", "patient_id"
DUCK_TREATMENTS = (
    '[{"drugs": ["VARCHAR"], "setting": "VARCHAR", "start_date": "VARCHAR", "end_date": "VARCHAR", '
    '"ongoing": "VARCHAR"}]'
)
SPARK_TREATMENTS = (
    "array<struct<drugs: array<string>, setting: string, start_date: string, end_date: string, ongoing: string>>"
)
TYPED_TREATMENTS = (
    "array<struct<drugs: array<string>, setting: string, start_date: date, end_date: date, ongoing: boolean>>"
)
NULL_TYPES = {"enum": "varchar", "bool": "boolean", "date": "date", "enum_list": "array<varchar>"}
TREATMENTS_SHAPE = '{"drugs": [...], "setting": ..., "start_date": ..., "end_date": ..., "ongoing": ...}'


EDGE_SPACE = f"^[{WHITESPACE}]|[{WHITESPACE}]$"


def strip(e: exp.Expression) -> exp.Expression:
    """White space off both ends, as Python's ``str.strip()`` (SQL's plain TRIM takes spaces only). Trimming
    with the whole set is slow, so only values with white space at an end are trimmed."""
    edged = exp.RegexpLike(this=e.copy(), expression=lit(EDGE_SPACE))
    return exp.Case(ifs=[exp.If(this=edged, true=exp.Trim(this=e.copy(), expression=lit(WHITESPACE)))], default=e)


def trimmed(e: exp.Expression) -> exp.Expression:
    """CAST to text and trimmed; an empty cell is NULL."""
    return exp.Nullif(this=strip(cast(e, "varchar")), expression=lit(""))


def json_text(e: exp.Expression) -> exp.Expression:
    """A cell of JSON text, trimmed; an empty cell or JSON's ``null`` is NULL (unknown, as in a profile)."""
    return exp.Nullif(this=trimmed(e), expression=lit("null"))


def clean_text(e: exp.Expression) -> exp.Expression:
    """CAST to text, trimmed, lower-cased; an empty cell is NULL."""
    return exp.Nullif(this=exp.Lower(this=strip(cast(e, "varchar"))), expression=lit(""))


def null_type(kind: str) -> exp.DataType:
    """The SQL type of an absent column of this kind of fact."""
    return exp.DataType.build(TYPED_TREATMENTS if kind == "treatments" else NULL_TYPES[kind], dialect="spark")


def paren_(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e)


def problem(field: str, reason: exp.Expression | str) -> exp.Expression:
    why = lit(reason) if isinstance(reason, str) else reason
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("field"), expression=lit(field)),
            exp.PropertyEQ(this=exp.to_identifier("reason"), expression=why),
        ]
    )


def dot(e: exp.Expression, key: str) -> exp.Expression:
    return exp.Dot(this=e, expression=exp.to_identifier(key))


def quoted_value(e: exp.Expression) -> exp.Expression:
    return exp.Concat(expressions=[lit("'"), cast(e, "varchar"), lit("'")])


Problem = tuple[exp.Expression, exp.Expression]


class Prep:
    """Builds the two stages: ``raw`` (text columns, parsed JSON) and ``checked`` (values + problems)."""

    def __init__(self, kb: KnowledgeBase, dialect: Dialect, fields: Fields) -> None:
        self.kb = kb
        self.d = dialect
        self.fields = fields
        self.facts = {f.name: f for f in kb.facts.base}
        self.tfields = {f.name: f for f in kb.facts.treatment_fields}
        self.drugs = DrugNames(kb)
        self.layout: dict[str, str] = {}

    def _any(self, xs: exp.Expression, var: str, cond: exp.Expression) -> exp.Expression:
        """Some item of ``xs`` surely meets ``cond`` (false for a NULL list)."""
        hits = self.d.filter(xs, var, coalesce(cond, False))
        return coalesce(exp.GT(this=self.d.size(hits), expression=lit(0)), False)

    # stage 1: every column as text, JSON text parsed ----------------------------------------------------

    def native_date(self, name: str) -> bool:
        """The column (or treatment field, ``prior_treatments.end_date``) is a native DATE: nothing to parse."""
        return self.layout.get(name) == "date"

    def raw(self, layout: dict[str, str], source: str) -> exp.Select:
        """``layout``: column -> "typed" (native lists/structs), "date" (native DATE), "text" (JSON text) or
        absent."""
        self.layout = layout
        cols: list[exp.Expression] = [col(ROW), col(FILE), alias(trimmed(col(ID)), ID)]
        for name, spec in self.facts.items():
            kind = layout.get(name, "absent")
            if kind == "absent" and spec.type not in ("enum_list", "treatments"):
                cols.append(alias(cast(exp.Null(), "varchar"), name))
            elif spec.type == "enum_list":
                cols += self._raw_list(name, kind)
            elif spec.type == "treatments":
                cols += self._raw_treatments(name, kind, layout)
            elif spec.type == "date":
                cols.append(alias(col(name) if self.native_date(name) else trimmed(col(name)), name))
            else:
                cols.append(alias(clean_text(col(name)), name))
        return select(cols, source)

    def _raw_list(self, name: str, kind: str) -> list[exp.Expression]:
        e: exp.Expression = col(name) if kind != "absent" else cast(exp.Null(), "array<varchar>")
        bad: exp.Expression = lit(False)
        if kind == "text":
            text = json_text(col(name))
            e = self.d.parse_json(text, '["VARCHAR"]', "array<string>")
            bad = and_(known(text), is_null(e))
        values = self.d.transform(e, "x_", clean_text(exp.column("x_")))
        return [alias(values, name), alias(bad, f"{name}__bad")]

    def _raw_treatments(self, name: str, kind: str, layout: dict[str, str]) -> list[exp.Expression]:
        e: exp.Expression = col(name)
        bad: exp.Expression = lit(False)
        present = set(TREATMENT_KEYS)
        if kind == "absent":
            e = exp.Cast(this=exp.Null(), to=exp.DataType.build(TYPED_TREATMENTS, dialect="spark"))
        elif kind == "text":
            text = json_text(col(name))
            e = self.d.parse_json(text, DUCK_TREATMENTS, SPARK_TREATMENTS)
            # a key the shape lacks would be dropped unread: the row is refused, as a profile would be
            stranger = not_(in_list(exp.column("k_"), list(TREATMENT_KEYS)))
            stray = self._any(
                self.d.json_items(text), "o_", self._any(self.d.json_keys(exp.column("o_")), "k_", stranger)
            )
            bad = and_(known(text), or_(is_null(e), stray))
        else:
            present = {k for k in TREATMENT_KEYS if f"{name}.{k}" in layout}
        r = exp.column("r_")

        def field(key: str) -> exp.Expression:
            return dot(r, key) if key in present else exp.Null()

        drugs = cast(field("drugs"), "array<varchar>") if "drugs" in present else cast(exp.Null(), "array<varchar>")
        keys, values = self.drug_table()
        codes = self.d.transform(drugs, "x_", self.d.lookup(self._drug_name(exp.column("x_")), keys, values))
        item = self.d.struct(
            {
                "present": known(r),
                "drugs": drugs,
                "codes": codes,  # per drug: its flag bits (drug_tests), NULL for a name the knowledge base lacks
                "setting": clean_text(field("setting")),
                "start_date": self._raw_date(field("start_date"), f"{name}.start_date"),
                "end_date": self._raw_date(field("end_date"), f"{name}.end_date"),
                "ongoing": clean_text(field("ongoing")),
            }
        )
        return [alias(self.d.transform(e, "r_", item), name), alias(bad, f"{name}__bad")]

    def _raw_date(self, e: exp.Expression, name: str) -> exp.Expression:
        return e if self.native_date(name) else trimmed(e)

    def drug_table(self) -> tuple[list[str], list[int]]:
        """Every known drug name with its flag bits: bit i set when the drug meets ``drug_tests(kb)[i]``."""
        tests = drug_tests(self.kb)
        assert len(tests) < 30, "flag bits must stay below UNKNOWN_DRUG"
        keys = sorted(self.drugs.known)
        values = [
            sum(1 << i for i, (func, ref) in enumerate(tests) if name in self.drugs.names(func, ref)) for name in keys
        ]
        return keys, values

    def _drug_name(self, e: exp.Expression) -> exp.Expression:
        """``normalise_drug_name`` in SQL: drop ® and ™, '-' -> ' ', lower case, white space folded."""
        text: exp.Expression = exp.Lower(this=e)
        for old, new in (("®", ""), ("™", ""), ("-", " ")):
            text = exp.Anonymous(this="replace", expressions=[text, lit(old), lit(new)])
        return exp.Trim(this=self.d.squash_spaces(text))

    # stage 2: values and problems --------------------------------------------------------------------

    def checked(self, raw: exp.Select) -> exp.Select:
        cols: list[exp.Expression] = [col(ROW), col(FILE), col(ID)]
        problems: list[Problem] = [(is_null(col(ID)), problem(ID, "is empty; every row needs a patient_id"))]
        checks: list[exp.Expression] = [is_null(col(ID))]  # the same conditions, treatments in one pass
        # HER2 and consistency read the raw columns: a row with an invalid value is rejected anyway
        raw_cols: dict[str, exp.Expression] = {name: col(name) for name in self.facts}
        her2_value, her2_mask, her2_problems = self.her2(raw_cols)
        for name, spec in self.facts.items():
            value, bad, reason = self._fact(name, spec.type, spec.values)
            problems.append((bad, problem(name, reason)))
            checks.append(bad)
            if spec.type == "treatments":
                per_item = self._treatment_problems(name)
                problems += [(self._any(col(name), T, c), p) for c, p in per_item]
                checks.append(self._any(col(name), T, or_(*[coalesce(c, False) for c, _ in per_item])))
            cols.append(alias(her2_value if name == "her2" else value, name))
        cols.append(alias(her2_mask, "her2__m"))
        more = her2_problems + self.consistency(raw_cols)
        problems += more
        checks += [c for c, _ in more]
        listed = array([case([(cond, p)]) for cond, p in problems])
        cols.append(alias(self.d.filter(listed, "p_", known(exp.column("p_"))), "problems_"))
        cols.append(alias(not_(or_(*[coalesce(c, False) for c in checks])), "valid_"))
        return select(cols, subquery(raw, "raw_"))

    # the trusted stage: a cohort ``survey.py`` found clean --------------------------------------------------

    def trusted(self, layout: dict[str, str], source: str, raw_treatments: bool = False) -> exp.Select:
        """The columns of ``checked`` for a typed cohort with no row to check: columns read as they are, each
        drug name's flags (``UNKNOWN_DRUG`` for a name the knowledge base lacks) looked up by its exact spelling,
        bound at run time (``Dialect.bound_lookup``). ``raw_treatments``: leave the treatments as they came
        (``treatment_view`` reads them)."""
        self.layout = layout
        values: dict[str, exp.Expression] = {
            name: col(name) if name in layout else exp.Cast(this=exp.Null(), to=null_type(spec.type))
            for name, spec in self.facts.items()
        }
        her2_value, her2_mask, _ = self.her2(values)
        cols: list[exp.Expression] = [col(ROW), col(FILE), col(ID)]
        for name, spec in self.facts.items():
            value = values[name]
            if name == "her2":
                value = her2_value
            elif spec.type == "treatments" and not raw_treatments:
                value = self.d.transform(value, T, self._trusted_treatment(exp.column(T)))
            cols.append(alias(value, name))
        cols.append(alias(her2_mask, "her2__m"))
        return select(cols, source)

    def treatment_view(self, t: exp.Expression, layout: dict[str, str]) -> dict[str, exp.Expression]:
        """Each treatment field of a checked treatment, as an expression on an input one (``t``) of a cohort
        read unchecked: absent keys are unknown; ``ongoing`` is false once an end date is given."""
        present = {k for k in TREATMENT_KEYS if f"{PRIOR}.{k}" in layout}
        kinds = {"setting": "varchar", "start_date": "date", "end_date": "date", "ongoing": "boolean"}

        def field(key: str) -> exp.Expression:  # an absent key: a NULL of its type (dates are added to)
            return dot(t.copy(), key) if key in present else cast(exp.Null(), kinds[key])

        ongoing = exp.Coalesce(this=field("ongoing"), expressions=[case([(known(field("end_date")), lit(False))])])
        return {
            "setting": field("setting"),
            "start_date": field("start_date"),
            "end_date": field("end_date"),
            "ongoing": ongoing,
        }

    def _trusted_treatment(self, t: exp.Expression) -> exp.Expression:
        view = self.treatment_view(t, self.layout)
        flags = self.d.transform(dot(t, "drugs"), "x_", self.d.bound_lookup(exp.column("x_")))
        every = self.d.fold_bit_or(flags)  # the unknown-name bit is no flag the rules test
        unknown = exp.BitwiseAnd(this=paren_(every), expression=lit(UNKNOWN_DRUG))
        fields: dict[str, exp.Expression] = {
            **view,
            "known": exp.EQ(this=paren_(unknown), expression=lit(0)),
            "bits": every,
        }
        return self.d.struct(fields)

    def _fact(self, name: str, kind: str, allowed: list[str]) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
        """(value, is-bad condition, reason) for one column of the raw stage."""
        s = col(name)
        if kind == "enum":
            reason = exp.Concat(
                expressions=[quoted_value(s), lit(" is not allowed; use one of: " + ", ".join(allowed))]
            )
            return case([(in_list(s, allowed), s)]), and_(known(s), not_(in_list(s, allowed))), reason
        if kind == "bool":
            bad = and_(known(s), not_(in_list(s, ["true", "false"])))
            return self._bool(s), bad, exp.Concat(expressions=[lit("must be true or false, not "), quoted_value(s)])
        if kind == "date" and self.native_date(name):
            return s, lit(False), lit("")
        if kind == "date":
            value = self._date(s)
            reason = exp.Concat(expressions=[quoted_value(s), lit(" is not a real date in the form YYYY-MM-DD")])
            return value, and_(known(s), is_null(value)), reason
        if kind == "enum_list":
            x = exp.column("x_")
            bad = or_(col(f"{name}__bad"), self._any(s, "x_", or_(is_null(x), not_(in_list(x, allowed)))))
            why = lit("must be a list of: " + ", ".join(allowed) + " (in CSV: JSON text)")
            return case([(not_(bad), s)]), bad, why
        value = self.d.transform(s, T, self._treatment(exp.column(T)))
        return value, col(f"{name}__bad"), lit(f"must be a list of {TREATMENTS_SHAPE} (in CSV: JSON text)")

    def _date(self, s: exp.Expression) -> exp.Expression:
        return case([(self.d.full_match(s, DATE_PATTERN), exp.TryCast(this=s, to=exp.DataType.build("date")))])

    def _bool(self, s: exp.Expression) -> exp.Expression:
        return case(
            [(exp.EQ(this=s, expression=lit("true")), lit(True)), (exp.EQ(this=s, expression=lit("false")), lit(False))]
        )

    def _tdate(self, t: exp.Expression, key: str) -> exp.Expression:
        return dot(t, key) if self.native_date(f"{PRIOR}.{key}") else self._date(dot(t, key))

    def _treatment(self, t: exp.Expression) -> exp.Expression:
        end = self._tdate(t, "end_date")
        codes = dot(t, "codes")
        fields: dict[str, exp.Expression] = {
            "setting": case([(in_list(dot(t, "setting"), self.tfields["setting"].values), dot(t, "setting"))]),
            "start_date": self._tdate(t, "start_date"),
            "end_date": end,
            "ongoing": exp.Coalesce(this=self._bool(dot(t, "ongoing")), expressions=[case([(known(end), lit(False))])]),
            "known": exp.EQ(this=self.d.count_known(codes), expression=self.d.size(codes)),
            "bits": self.d.fold_bit_or(codes),
        }
        return self.d.struct(fields)

    def _treatment_problems(self, name: str) -> list[Problem]:
        """Conditions on one treatment (lambda variable ``t_``), each with the problem it names."""
        x, t = exp.column("x_"), exp.column(T)

        drugs = dot(t, "drugs")
        blank = or_(is_null(x), exp.EQ(this=strip(x), expression=lit("")))
        drugs_bad = or_(
            is_null(drugs), exp.EQ(this=self.d.size(drugs), expression=lit(0)), self._any(drugs, "x_", blank)
        )
        settings = self.tfields["setting"].values
        start, end = self._tdate(t, "start_date"), self._tdate(t, "end_date")
        ongoing = self._bool(dot(t, "ongoing"))
        not_a_date = "is not a real date in the form YYYY-MM-DD"
        return [
            ((not_(dot(t, "present"))), problem(name, "every item must be an object with drugs")),
            ((drugs_bad), problem(f"{name}.drugs", 'must be a non-empty list of drug names, e.g. ["trastuzumab"]')),
            (
                (and_(known(dot(t, "setting")), not_(in_list(dot(t, "setting"), settings)))),
                problem(f"{name}.setting", "is not allowed; use one of: " + ", ".join(settings)),
            ),
            ((and_(known(dot(t, "start_date")), is_null(start))), problem(f"{name}.start_date", not_a_date)),
            ((and_(known(dot(t, "end_date")), is_null(end))), problem(f"{name}.end_date", not_a_date)),
            (
                (and_(known(dot(t, "ongoing")), is_null(ongoing))),
                problem(f"{name}.ongoing", "must be true or false"),
            ),
            ((exp.LT(this=end, expression=start)), problem(f"{name}.end_date", "is before start_date")),
            (
                (and_(exp.EQ(this=ongoing, expression=lit(True)), known(end))),
                problem(f"{name}.ongoing", "is true but an end_date is given; leave one of them out"),
            ),
        ]

    # HER2 and consistency, from the Python reader ---------------------------------------------------------

    def her2(self, values: dict[str, exp.Expression]) -> tuple[exp.Expression, exp.Expression, list[Problem]]:
        table = her2_table(self.kb)
        keys = [values[k] for k in HER2_KEYS]
        domains = [self.facts[k].values for k in HER2_KEYS]
        value = nested_case(keys, domains, {c: lit(o[0]) for c, o in table.items()})
        bits = self.fields.bits
        mask = nested_case(keys, domains, {c: lit(sum(bits[m] for m in o[1])) for c, o in table.items()})
        out = []
        reason = (
            "disagrees with the other HER2 results (her2, her2_ihc, her2_ish); "
            "give only 'her2' as the care team reads them"
        )
        for field in sorted({o[2][0] for o in table.values() if o[2]}):
            bad = nested_case(keys, domains, {c: lit(bool(o[2] and o[2][0] == field)) for c, o in table.items()})
            out.append((bad, problem(field, reason)))
        return value, mask, out

    def her2_bits(self) -> int:
        """Every field the HER2 mask column may name."""
        return sum({self.fields.bits[m] for o in her2_table(self.kb).values() for m in o[1]})

    def consistency(self, values: dict[str, exp.Expression]) -> list[Problem]:
        sites = values["metastatic_sites"]
        early = and_(
            exp.EQ(this=values["extent"], expression=lit("early")), exp.GT(this=self.d.size(sites), expression=lit(0))
        )
        man = and_(exp.EQ(this=values["sex"], expression=lit("male")), known(values["menopausal_status"]))
        early_msg = _message(self.kb, {"extent": "early", "metastatic_sites": ["bone"]}, "metastatic_sites")
        man_msg = _message(self.kb, {"sex": "male", "menopausal_status": "premenopausal"}, "menopausal_status")
        return [(early, problem("metastatic_sites", early_msg)), (man, problem("menopausal_status", man_msg))]


Outcome = tuple[str | None, frozenset[str], tuple[str, str] | None]


_HER2_TABLES: dict[int, tuple[KnowledgeBase, dict[tuple[str | None, ...], Outcome]]] = {}


def her2_table(kb: KnowledgeBase) -> dict[tuple[str | None, ...], Outcome]:
    """For every (her2_ihc, her2_ish, her2) given or not: HER2 as the rules see it, the fields that would settle
    it when unknown, and the problem (field, message) when the reader refuses the combination (once per
    knowledge base: it runs the reader on every combination)."""
    cached = _HER2_TABLES.get(id(kb))
    if cached is None or cached[0] is not kb:
        cached = _HER2_TABLES[id(kb)] = (kb, _her2_table(kb))
    return cached[1]


def _her2_table(kb: KnowledgeBase) -> dict[tuple[str | None, ...], Outcome]:
    facts = {f.name: f for f in kb.facts.base}
    out: dict[tuple[str | None, ...], Outcome] = {}
    for combo in product(*[[None, *facts[k].values] for k in HER2_KEYS]):
        raw = {k: v for k, v in zip(HER2_KEYS, combo, strict=True) if v is not None}
        try:
            profile = parse_profile(raw, kb)
        except ProfileError as exc:
            first = exc.problems[0]
            out[combo] = (None, frozenset(), (first.field, first.message))
            continue
        value = profile.values.get("her2")
        out[combo] = (value, frozenset() if value else profile.hints.get("her2", frozenset({"her2"})), None)
    return out


def nested_case(
    keys: list[exp.Expression],
    domains: list[list[str]],
    leaves: dict[tuple[str | None, ...], exp.Expression],
    prefix: tuple[str | None, ...] = (),
) -> exp.Expression:
    """A CASE over each key in turn (NULL or one of its values), collapsing branches that agree."""
    depth = len(prefix)
    if depth == len(keys):
        return leaves[prefix]
    subs = {v: nested_case(keys, domains, leaves, (*prefix, v)) for v in [None, *domains[depth]]}
    texts = {v: s.sql() for v, s in subs.items()}
    if len(set(texts.values())) == 1:
        return subs[None]
    branches: list[tuple[exp.Expression, exp.Expression]] = [(is_null(keys[depth]), subs[None])]
    branches += [(exp.EQ(this=keys[depth], expression=lit(v)), subs[v]) for v in domains[depth]]
    return case(branches)


def _message(kb: KnowledgeBase, raw: dict[str, Any], field: str) -> str:
    try:
        parse_profile(raw, kb)
    except ProfileError as exc:
        return next(p.message for p in exc.problems if p.field == field)
    raise AssertionError(f"the profile reader accepts {raw}")
