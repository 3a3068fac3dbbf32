"""The whole screening query, stage by stage: raw -> checked -> derived facts -> verdicts -> statuses and lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from mbc_navigator.knowledge.loader import KnowledgeBase
from mbc_navigator.rules.vocabulary import TREATMENT
from mbc_navigator.screen.dialects import (
    FIELD_TYPE,
    STATUS_TYPE,
    Dialect,
    alias,
    col,
    lit,
    select,
    subquery,
)
from mbc_navigator.screen.output import STATUSES
from mbc_navigator.screen.plan import LOOKUP_TYPE, UNKNOWN_DRUG
from mbc_navigator.screen.prep import FILE, ID, ROW, Prep
from mbc_navigator.screen.sqlgen import (
    ANY,
    CODES,
    PRIOR,
    Fields,
    RuleSql,
    T,
    and_,
    case,
    coalesce,
    drug_tests,
    is_null,
    mask_expr,
    mask_when_null,
    not_,
    union,
)
from mbc_navigator.screen.treatments import SM, SMS, PriorCodes


@dataclass(frozen=True)
class ScreenQueries:
    """``output``: one row per valid patient; ``rejects``: one row per problem of an invalid row (empty for a
    cohort the survey found clean: there are none). ``drug_values`` (trusted): a drug name's flag bits -> the
    value its name is bound to (``Dialect.bound_lookup``)."""

    output: str
    rejects: str
    columns: tuple[str, ...]
    setup: tuple[str, ...] = ()
    drug_values: dict[int, int] = field(default_factory=dict)


def build(
    kb: KnowledgeBase,
    dialect: Dialect,
    layout: dict[str, str],
    source: str,
    json_lists: bool = False,
    trusted: bool = False,
) -> ScreenQueries:
    """Compile the knowledge base's criteria for ``source`` (a table or view with ``row_``, ``file_`` and the
    input columns described by ``layout``). ``json_lists``: write missing lists as JSON text (CSV output).
    ``trusted``: for a cohort ``survey.py`` found clean, read unchecked; the cohort's drug names are bound when
    it runs (DuckDB: the ENUM ``LOOKUP_TYPE`` and the variable ``DRUG_VALUES``)."""
    fields = Fields(kb)
    enums: dict[str, list[str]] = {STATUS_TYPE: list(STATUSES), FIELD_TYPE: fields.names}

    prep = Prep(kb, dialect, fields)
    hints = {"her2": prep.her2_bits()}

    def checked() -> exp.Select:  # built twice: a sqlglot node has one parent
        return prep.checked(prep.raw(layout, source))

    codes = PriorCodes(drug_tests(kb), fields.bits[f"{PRIOR}.drugs"], lambda node: inline.compile(node, TREATMENT))
    inline = RuleSql(kb, dialect, fields, hints, derived_columns=False, codes=codes)
    derived_cols: list[exp.Expression] = [exp.Star()]
    for name in kb.vocab.derived:
        v = inline.derived_val(name)
        if v.lo is not None and v.hi is not None:
            derived_cols += [alias(v.lo, f"{name}__lo"), alias(v.hi, f"{name}__hi")]
        else:
            derived_cols.append(alias(v.value, name))
        derived_cols.append(alias(mask_expr(v.mask), f"{name}__m"))
    sm: exp.Expression | None = None
    drug_values: dict[int, int] = {}
    if not trusted:
        valid_rows = select([exp.Star()], subquery(checked(), "checked_"), where=col("valid_"))
        enums[LOOKUP_TYPE] = prep.drug_table()[0]
    else:
        if codes.complete:  # each treatment straight to its atoms: no checked copy of it
            drug = dialect.bound_lookup(exp.column("d_"))
            drugs = dialect.fold_bit_or(dialect.transform(col("drugs", table=T), "d_", drug))
            sm = codes.sm_raw(prep.treatment_view(exp.column(T), layout), drugs)
        for flags in {*prep.drug_table()[1], UNKNOWN_DRUG}:  # packed into atoms, or the flags as they are
            drug_values[flags] = codes.packed(flags, UNKNOWN_DRUG) if sm is not None else flags
        valid_rows = prep.trusted(layout, source, raw_treatments=sm is not None)
    # earlier treatments: atoms, then conditions, per treatment; their OR per patient (``treatments.py``)
    atoms = select(
        [exp.Star(), alias(dialect.transform(col(PRIOR), T, sm or codes.sm()), SMS)],
        subquery(valid_rows, "valid_rows_"),
    )
    coded = select([exp.Star(), alias(dialect.transform(col(SMS), SM, codes.code()), CODES)], subquery(atoms, "atoms_"))
    ored = select([exp.Star(), alias(dialect.fold_bit_or(col(CODES)), ANY)], subquery(coded, "coded_"))
    derived = select(derived_cols, subquery(ored, "ored_"))

    rules = RuleSql(kb, dialect, fields, hints, derived_columns=True)
    verdict_cols: list[exp.Expression] = [col(ID)]
    out_cols: list[exp.Expression] = [col(ID)]
    names = [ID]
    seen: dict[str, str] = {}  # options whose criteria compile alike (palbociclib, ribociclib ...) share columns
    for rid, reg in kb.regimens.items():
        vals = [rules.compile(c.rule.tree) for c in reg.criteria]
        verdict = and_(*[v.value for v in vals]) if vals else lit(True)
        mask, bits = union([mask_when_null(v) for v in vals])
        src = seen.setdefault(dialect.sql(verdict) + " " + dialect.sql(mask_expr(mask)), rid)
        if src == rid:
            verdict_cols += [alias(verdict, f"{rid}__v"), alias(mask_expr(mask), f"{rid}__mk")]
        status = case(
            [
                (coalesce(col(f"{src}__v"), False), dialect.label("eligible", STATUS_TYPE)),
                (not_(coalesce(col(f"{src}__v"), True)), dialect.label("ineligible", STATUS_TYPE)),
            ],
            dialect.label("needs_info", STATUS_TYPE),
        )
        missing = fields.to_list(dialect, case([(is_null(col(f"{src}__v")), col(f"{src}__mk"))], lit(0)), bits)
        if json_lists:
            missing = dialect.to_json(missing)
        out_cols += [alias(status, rid), alias(missing, f"{rid}__missing")]
        names += [rid, f"{rid}__missing"]
    verdicts = select(verdict_cols, subquery(derived, "derived_"))
    output = select(out_cols, subquery(verdicts, "verdicts_"))

    if trusted:
        return ScreenQueries(dialect.sql(output), "", tuple(names), tuple(dialect.setup(enums)), drug_values)
    invalid = select(
        [col(ROW), col(FILE), col(ID), dialect.explode(col("problems_"), "p_")],
        subquery(checked(), "checked_"),
        where=not_(col("valid_")),
    )
    rejects = select(
        [
            alias(col(ROW), "row"),
            alias(col(FILE), "file"),
            col(ID),
            alias(exp.Dot(this=exp.column("p_"), expression=exp.to_identifier("field")), "field"),
            alias(exp.Dot(this=exp.column("p_"), expression=exp.to_identifier("reason")), "reason"),
        ],
        subquery(invalid, "invalid_"),
    )
    return ScreenQueries(dialect.sql(output), dialect.sql(rejects), tuple(names), tuple(dialect.setup(enums)))
