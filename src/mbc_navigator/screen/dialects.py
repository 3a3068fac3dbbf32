"""The few list and date functions that DuckDB and Spark spell differently, as sqlglot expressions.

Everything else in the compiled SQL is plain sqlglot and generated for either engine by ``tree.sql(dialect)``.
"""

from __future__ import annotations

from sqlglot import exp

from mbc_navigator.screen.plan import DRUG_VALUES, LOOKUP_TYPE


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A column (or a lambda variable's struct field when ``table`` is the variable)."""
    return exp.Column(this=ident(name), table=exp.to_identifier(table) if table else None)


def lit(value: str | int | bool | None) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


def lam(body: exp.Expression, *params: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def bit_or(*parts: exp.Expression) -> exp.Expression:
    out = parts[0]
    for part in parts[1:]:
        out = exp.BitwiseOr(this=out, expression=part)
    return exp.Paren(this=out) if len(parts) > 1 else out


def array(items: list[exp.Expression]) -> exp.Array:
    return exp.Array(expressions=items)


def cast(e: exp.Expression, to: str) -> exp.Cast:
    return exp.Cast(this=e, to=exp.DataType.build(to))


def alias(e: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=exp.to_identifier(name, quoted=True))


# what Python's str.strip() and str.split() take for white space (the profile reader trims with them)
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
SPACES = f"[{WHITESPACE}]+"
STATUS_TYPE = "mbcnav_status"  # the statuses, and the missing fields' names, as DuckDB ENUMs: written
FIELD_TYPE = "mbcnav_field"  # to Parquet as plain strings, several times faster than VARCHARs


class Dialect:
    """How one engine spells list helpers; ``name`` is the sqlglot dialect."""

    name = ""

    def sql(self, tree: exp.Expression) -> str:
        return tree.sql(dialect=self.name)

    def size(self, xs: exp.Expression) -> exp.Expression:
        return exp.ArraySize(this=xs)

    def filter(self, xs: exp.Expression, var: str, cond: exp.Expression) -> exp.Expression:
        return exp.ArrayFilter(this=xs, expression=lam(cond, var))

    def transform(self, xs: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
        raise NotImplementedError

    def fold_bit_or(self, xs: exp.Expression) -> exp.Expression:
        """Bitwise OR of a list of integers, NULL items skipped; 0 for an empty list."""
        raise NotImplementedError

    def count_known(self, xs: exp.Expression) -> exp.Expression:
        """How many items of ``xs`` are not NULL."""
        return self.size(self.filter(xs, "k_", exp.Not(this=exp.Is(this=exp.column("k_"), expression=exp.Null()))))

    def contains(self, xs: exp.Expression, item: exp.Expression) -> exp.Expression:
        return exp.ArrayContains(this=xs, expression=item)

    def overlaps(self, xs: exp.Expression, ys: exp.Expression) -> exp.Expression:
        return exp.ArrayOverlaps(this=xs, expression=ys)

    def all_in(self, xs: exp.Expression, known: exp.Expression) -> exp.Expression:
        """Every item of ``xs`` is in ``known``."""
        raise NotImplementedError

    def add_months(self, day: exp.Expression, months: int) -> exp.Expression:
        raise NotImplementedError

    def struct(self, fields: dict[str, exp.Expression]) -> exp.Expression:
        items = [exp.PropertyEQ(this=exp.to_identifier(k), expression=v) for k, v in fields.items()]
        return exp.Struct(expressions=items)

    def full_match(self, text: exp.Expression, pattern: str) -> exp.Expression:
        raise NotImplementedError

    def squash_spaces(self, text: exp.Expression) -> exp.Expression:
        """Every run of white space -> one space."""
        raise NotImplementedError

    def explode(self, xs: exp.Expression, name: str) -> exp.Expression:
        """One output row per item of ``xs`` (in a SELECT list), named ``name``."""
        return alias(exp.Explode(this=xs), name)

    def parse_json(self, text: exp.Expression, duck_type: str, spark_type: str) -> exp.Expression:
        """JSON text -> typed value; NULL when the text is not JSON of that shape."""
        raise NotImplementedError

    def to_json(self, value: exp.Expression) -> exp.Expression:
        raise NotImplementedError

    def json_items(self, text: exp.Expression) -> exp.Expression:
        """The items of a JSON array (text) as JSON text each, to read their keys (``json_keys``)."""
        raise NotImplementedError

    def json_keys(self, item: exp.Expression) -> exp.Expression:
        """The keys of a JSON object (an item of ``json_items``)."""
        raise NotImplementedError

    def lookup(self, key: exp.Expression, keys: list[str], values: list[int]) -> exp.Expression:
        """``values[i]`` where ``key == keys[i]``; NULL for a key not in ``keys``."""
        raise NotImplementedError

    def bound_lookup(self, key: exp.Expression) -> exp.Expression:
        """The value bound at run time to a cohort's drug name ``key`` (DuckDB only: the trusted query)."""
        raise NotImplementedError

    def label(self, text: str, kind: str) -> exp.Expression:
        """A constant of a closed set (``STATUS_TYPE`` or ``FIELD_TYPE``)."""
        return lit(text)

    def labels(self, kind: str) -> exp.DataType:
        """The type of a list of ``label``s."""
        return exp.DataType.build("array<varchar>")

    def setup(self, enums: dict[str, list[str]]) -> list[str]:
        """Statements to run before the queries (DuckDB: ``LOOKUP_TYPE`` of the drug names, ``STATUS_TYPE``
        and ``FIELD_TYPE``, each with its values)."""
        return []


class DuckDB(Dialect):
    name = "duckdb"

    def transform(self, xs: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="list_transform", expressions=[xs, lam(body, var)])

    def fold_bit_or(self, xs: exp.Expression) -> exp.Expression:
        return exp.Coalesce(this=exp.Anonymous(this="list_bit_or", expressions=[xs]), expressions=[lit(0)])

    def count_known(self, xs: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="list_count", expressions=[xs])

    def all_in(self, xs: exp.Expression, known: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="list_has_all", expressions=[known, xs])

    def add_months(self, day: exp.Expression, months: int) -> exp.Expression:
        interval = exp.Interval(this=lit(str(months)), unit=exp.var("MONTH"))
        return cast(exp.Add(this=day, expression=interval), "date")

    def full_match(self, text: exp.Expression, pattern: str) -> exp.Expression:
        return exp.Anonymous(this="regexp_full_match", expressions=[text, lit(pattern)])

    def squash_spaces(self, text: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="regexp_replace", expressions=[text, lit(SPACES), lit(" "), lit("g")])

    def explode(self, xs: exp.Expression, name: str) -> exp.Expression:
        return alias(exp.Anonymous(this="unnest", expressions=[xs]), name)

    def parse_json(self, text: exp.Expression, duck_type: str, spark_type: str) -> exp.Expression:
        parsed = exp.Anonymous(this="from_json", expressions=[text, lit(duck_type)])
        return exp.Anonymous(this="try", expressions=[parsed])

    def to_json(self, value: exp.Expression) -> exp.Expression:
        return cast(exp.Anonymous(this="to_json", expressions=[value]), "varchar")

    def json_items(self, text: exp.Expression) -> exp.Expression:
        items = exp.Anonymous(this="json_extract", expressions=[text, lit("$[*]")])
        return exp.Anonymous(this="try", expressions=[items])

    def json_keys(self, item: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="json_keys", expressions=[item])

    def lookup(self, key: exp.Expression, keys: list[str], values: list[int]) -> exp.Expression:
        # an ENUM cast is one hash lookup per value; the code then indexes a constant list
        return _indexed(array([lit(v) for v in values]), key)

    def bound_lookup(self, key: exp.Expression) -> exp.Expression:
        # the names: the ENUM LOOKUP_TYPE; their values: the variable DRUG_VALUES (both set before the query)
        return _indexed(exp.Anonymous(this="getvariable", expressions=[lit(DRUG_VALUES)]), key)

    def label(self, text: str, kind: str) -> exp.Expression:
        return exp.Cast(this=lit(text), to=exp.DataType.build(kind, udt=True))

    def labels(self, kind: str) -> exp.DataType:
        return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[exp.DataType.build(kind, udt=True)], nested=True)

    def setup(self, enums: dict[str, list[str]]) -> list[str]:
        out = []
        for name, values in enums.items():
            quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
            out += [f"DROP TYPE IF EXISTS {name}", f"CREATE TYPE {name} AS ENUM ({quoted})"]
        return out


def _indexed(values: exp.Expression, key: exp.Expression) -> exp.Expression:
    """``values[i]`` for the name ``key`` of index i in the ENUM ``LOOKUP_TYPE`` (DuckDB)."""
    code = exp.Anonymous(
        this="enum_code", expressions=[exp.TryCast(this=key, to=exp.DataType.build(LOOKUP_TYPE, udt=True))]
    )
    return exp.Anonymous(this="list_extract", expressions=[values, exp.Add(this=code, expression=lit(1))])


def _array_only(text: exp.Expression, parsed: exp.Expression, spark_type: str) -> exp.Expression:
    """Spark's from_json reads a lone object as an array of one: for an array type, only text that is one
    (``text`` comes trimmed)."""
    if not spark_type.startswith("array<"):
        return parsed
    is_array = exp.Like(this=text.copy(), expression=lit("[%"))
    return exp.Case(ifs=[exp.If(this=is_array, true=parsed)])


class Spark(Dialect):
    name = "spark"

    def transform(self, xs: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="transform", expressions=[xs, lam(body, var)])

    def fold_bit_or(self, xs: exp.Expression) -> exp.Expression:
        item = exp.Coalesce(this=exp.column("x_"), expressions=[lit(0)])
        merge = lam(exp.BitwiseOr(this=exp.column("acc_"), expression=item), "acc_", "x_")
        return exp.Anonymous(this="aggregate", expressions=[xs, cast(lit(0), "bigint"), merge])

    def overlaps(self, xs: exp.Expression, ys: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="arrays_overlap", expressions=[xs, ys])

    def all_in(self, xs: exp.Expression, known: exp.Expression) -> exp.Expression:
        rest = exp.Anonymous(this="array_except", expressions=[xs, known])
        return exp.EQ(this=exp.ArraySize(this=rest), expression=lit(0))

    def add_months(self, day: exp.Expression, months: int) -> exp.Expression:
        return exp.Anonymous(this="add_months", expressions=[day, lit(months)])

    def full_match(self, text: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpLike(this=text, expression=lit(f"^(?:{pattern})$"))

    def squash_spaces(self, text: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="regexp_replace", expressions=[text, lit(SPACES), lit(" ")])

    def parse_json(self, text: exp.Expression, duck_type: str, spark_type: str) -> exp.Expression:
        return _array_only(text, exp.Anonymous(this="from_json", expressions=[text, lit(spark_type)]), spark_type)

    def to_json(self, value: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="to_json", expressions=[value])

    def json_items(self, text: exp.Expression) -> exp.Expression:
        items = "array<map<string,string>>"
        return _array_only(text, exp.Anonymous(this="from_json", expressions=[text, lit(items)]), items)

    def json_keys(self, item: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="map_keys", expressions=[item])

    def lookup(self, key: exp.Expression, keys: list[str], values: list[int]) -> exp.Expression:
        table = exp.Anonymous(
            this="map_from_arrays", expressions=[array([lit(k) for k in keys]), array([lit(v) for v in values])]
        )
        return exp.Anonymous(this="element_at", expressions=[table, key])


DIALECTS: dict[str, Dialect] = {"duckdb": DuckDB(), "spark": Spark()}


def select(
    items: list[exp.Expression], source: exp.Expression | str, where: exp.Expression | None = None
) -> exp.Select:
    """SELECT items FROM source [WHERE ...], built without copying the (large) expressions."""
    table: exp.Expression = exp.Table(this=exp.to_identifier(source)) if isinstance(source, str) else source
    query = exp.Select(expressions=items, from_=exp.From(this=table))
    if where is not None:
        query.set("where", exp.Where(this=where))
    return query


def subquery(query: exp.Select, name: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(name)))
