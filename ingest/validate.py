"""Row rules: split a read table into typed good rows and quarantined rows.

Every row gets at most one quarantine record, for the first rule it breaks in this order:
required_missing, type errors (invalid_<kind>, code_not_in_list), unknown_social_space,
unknown_municipality, municipality_mismatch (Gemeinde is not the municipality that delivered the
file, or not the social space's municipality; an empty Gemeinde in a municipality's file is
filled with the municipality first),
unknown_accommodation, unknown_product / unknown_account (ledger and plan lines with money) or
unknown_reference_zero_amount (same, all amounts zero), the contract's cross-field rules
(contracts.CROSS_FIELD_RULES), duplicate_key, reversal_without_original,
reversal_amount_mismatch, reversal_duplicate, reversal_before_original.

Duplicates are judged among rows that passed the earlier rules. Within one file (persons,
courses, participations, plan lines) every occurrence of a repeated key is quarantined: which
row is right is unknowable, so none is picked. A Buchungs_ID (unique over all months) loads its
first occurrence; later ones and IDs already loaded for another month are quarantined.

Payments with a non-empty Sozialraum missing from the reference are NOT quarantined: they are
money that must reconcile and count under `unbekannt` (dbt int_asylblg_payments); each one is
listed in `Validated.notes` (file line and key), which the load stores as a warning.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

import polars as pl

from ingest import parsing
from ingest.contracts import CONDITION_TESTS, CROSS_FIELD_RULES, Column, CrossFieldRule, Source
from ingest.readers import LINE, Problem, RawTable

# (column, raw value) -> storable value (pseudonymised / masked); see ingest.pseudonymise.
Masker = Callable[[str | None, str | None], str | None]
RULE = "__rule"


@dataclass
class Context:
    """What the row rules need besides the file itself."""

    period: str  # 'YYYY-MM' or 'YYYY'
    social_spaces: frozenset[str]
    accommodations: frozenset[str]
    products: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    # Buchungs_ID -> Betrag of bookings loaded for OTHER periods (unique across all months).
    other_bookings: dict[str, Decimal] = field(default_factory=dict)
    # Buchungs_ID -> Buchungsdatum of the same bookings.
    other_booking_dates: dict[str, dt.date] = field(default_factory=dict)
    # Buchungs_IDs already reversed by a line loaded for another period.
    reversed_elsewhere: frozenset[str] = frozenset()
    # (raw table, column) -> values loaded from another sheet of the same file (exists_in rules).
    loaded_values: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    # kim_settings.deployment_mode: 'kreis' makes the columns with required_in='kreis' required.
    deployment_mode: str = "city"
    # Municipalities (AGS) of the reference and the municipality of each social space.
    municipalities: frozenset[str] = frozenset()
    social_space_ags: dict[str, str] = field(default_factory=dict)
    # The municipality that delivered the file (inbox folder or AGS in the name); '' = none.
    # Its rows' empty Gemeinde is filled with it, another one is a municipality_mismatch.
    delivery_ags: str = ""

    @property
    def month(self) -> tuple[dt.date, dt.date] | None:
        if len(self.period) != 7:
            return None
        year, month = int(self.period[:4]), int(self.period[5:])
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, 1), dt.date(year, month, last)


@dataclass
class Validated:
    good: pl.DataFrame  # typed contract columns + LINE
    problems: list[Problem]
    notes: list[str] = field(default_factory=list)  # loaded, but worth a warning


# Ledger and plan lines must name a product and account of the reference data (dbt seeds).
REFERENCE_CHECKED = ("fibu_ist", "haushaltsplan")
UNKNOWN_SPACE_COUNTS_AS_UNKNOWN = ("asylblg_zahlungen",)


def parsed(name: str) -> str:
    return f"__p_{name}"


def parse_expr(column: Column, from_excel: bool) -> pl.Expr:
    e = pl.col(column.name)
    kind = column.kind
    if kind == "money":
        return parsing.parse_money(e, from_excel=from_excel)
    if kind == "date":
        return parsing.parse_date(e, from_excel=from_excel)
    if kind == "month":
        return parsing.parse_month(e)
    if kind == "year":
        return parsing.parse_year(e)
    if kind == "int":
        return parsing.parse_int(e)
    if kind == "bool":
        return parsing.parse_bool(e)
    if kind == "profile":
        return parsing.parse_profile(e)
    if kind == "code" and column.codes:
        return parsing.parse_code(e, column.codes)
    return e


def type_rule(column: Column) -> str:
    return "code_not_in_list" if column.kind == "code" else f"invalid_{column.kind}"


def condition_expr(name: str) -> pl.Expr:
    column, values = CONDITION_TESTS[name]
    return pl.col(parsed(column)).is_in(list(values)).fill_null(False)


@dataclass(frozen=True)
class Check:
    rule: str
    columns: tuple[str, ...]  # first = the column reported
    violated: pl.Expr
    describe: Callable[[dict], str] | None = None  # quarantine value; default: the columns


def row_checks(source: Source, ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for c in source.columns:
        missing = pl.col(c.name).is_null()
        if c.required is True:
            checks.append(Check("required_missing", (c.name,), missing))
        elif isinstance(c.required, str):
            checks.append(
                Check("required_missing", (c.name,), missing & condition_expr(c.required))
            )
        elif c.required_in and c.required_in == ctx.deployment_mode:
            checks.append(Check("required_missing", (c.name,), missing))
    for c in source.columns:
        bad = pl.col(c.name).is_not_null() & pl.col(parsed(c.name)).is_null()
        checks.append(Check(type_rule(c), (c.name,), bad))
    for name in source.all_column_names:
        if name == "Sozialraum" and source.raw_table not in UNKNOWN_SPACE_COUNTS_AS_UNKNOWN:
            unknown = ~pl.col(name).is_in(list(ctx.social_spaces))
            checks.append(Check("unknown_social_space", (name,), unknown))
        if name == "Gemeinde":
            checks += municipality_checks(ctx)
        if name == "Unterkunft_ID":
            unknown = ~pl.col(name).is_in(list(ctx.accommodations))
            checks.append(Check("unknown_accommodation", (name,), unknown))
    if source.raw_table in REFERENCE_CHECKED:
        checks += reference_checks(source, ctx)
    for rule in CROSS_FIELD_RULES:
        if rule.table == source.raw_table:
            checks.append(Check(rule.rule, rule.columns, cross_field_expr(rule, ctx)))
    return checks


def municipality_checks(ctx: Context) -> list[Check]:
    """Gemeinde must be a municipality of the reference and, with a Sozialraum, the one that
    social space belongs to (else the person would count in two municipalities)."""
    unknown = ~pl.col("Gemeinde").is_in(list(ctx.municipalities))
    space_ags = pl.col("Sozialraum").replace_strict(
        ctx.social_space_ags, default=None, return_dtype=pl.String
    )
    mismatch = pl.col("Gemeinde").is_not_null() & (space_ags != pl.col("Gemeinde"))
    other_file = pl.lit(bool(ctx.delivery_ags)) & (pl.col("Gemeinde") != ctx.delivery_ags)
    return [
        Check("unknown_municipality", ("Gemeinde",), unknown),
        Check(
            "municipality_mismatch",
            ("Gemeinde",),
            other_file,
            lambda row: f"Gemeinde {row['Gemeinde']} in der Datei der Gemeinde {ctx.delivery_ags}",
        ),
        Check(
            "municipality_mismatch",
            ("Gemeinde", "Sozialraum"),
            mismatch,
            lambda row: (
                f"Gemeinde {row['Gemeinde']}, Sozialraum {row['Sozialraum']} "
                f"gehört zu {ctx.social_space_ags.get(row['Sozialraum'])}"
            ),
        ),
    ]


def reference_checks(source: Source, ctx: Context) -> list[Check]:
    """Unknown product or account: with money the month must not pass (the amount would vanish
    from every product total); with all amounts zero it is only worth a warning."""
    money = [c.name for c in source.columns if c.kind == "money"]
    has_money = pl.any_horizontal([pl.col(parsed(m)).fill_null(0) != 0 for m in money])
    checks = []
    for column, known, rule, seed in (
        ("Produkt", ctx.products, "unknown_product", "products.csv"),
        ("Sachkonto", ctx.accounts, "unknown_account", "accounts.csv"),
    ):
        unknown = ~pl.col(column).is_in(list(known))
        describe = partial(_unknown_reference, column=column, seed=seed, money=money)
        checks.append(Check(rule, (column,), unknown & has_money, describe))
        checks.append(
            Check("unknown_reference_zero_amount", (column,), unknown & ~has_money, describe)
        )
    return checks


def _unknown_reference(row: dict, column: str, seed: str, money: list[str]) -> str:
    amounts = ", ".join(
        f"{m} {parsing.format_money(row[parsed(m)] or Decimal(0))} €" for m in money
    )
    return f"{column} {row[column]} fehlt in den Stammdaten ({seed}); {amounts}"


def cross_field_expr(rule: CrossFieldRule, ctx: Context) -> pl.Expr:
    a = pl.col(parsed(rule.columns[0]))
    if rule.check == "not_after":
        return a > pl.col(parsed(rule.columns[1]))
    if rule.check == "only_if":
        return a.is_not_null() & ~condition_expr(rule.condition or "")
    if rule.check == "exists_in":
        table, column = rule.other or ("", "")
        return ~a.is_in(list(ctx.loaded_values.get((table, column), frozenset())))
    if rule.check == "file_year":
        return a != int(ctx.period[:4])
    first, last = ctx.month or (None, None)
    if first is None:
        raise ValueError(f"rule {rule.rule} needs a monthly file, got period {ctx.period}")
    if rule.check == "in_file_month":
        return (a < first) | (a > last)
    if rule.check == "file_month_end":
        return a != last
    if rule.check == "not_after_file_month":
        return a > last
    if rule.check == "file_month":
        return a != first
    raise ValueError(f"unknown cross-field check {rule.check}")


def validate(table: RawTable, ctx: Context, mask: Masker) -> Validated:
    source = table.source
    frame = table.frame
    if ctx.delivery_ags and "Gemeinde" in source.all_column_names:
        frame = frame.with_columns(pl.col("Gemeinde").fill_null(ctx.delivery_ags))
    frame = frame.with_columns(
        parse_expr(c, table.from_excel).alias(parsed(c.name)) for c in source.columns
    )
    checks = row_checks(source, ctx)
    first_broken = pl.coalesce(
        [pl.when(ch.violated.fill_null(False)).then(pl.lit(i)) for i, ch in enumerate(checks)]
    )
    frame = frame.with_columns(first_broken.cast(pl.Int32).alias(RULE))
    problems = [
        _broken(row, source, checks[row[RULE]], mask)
        for row in frame.filter(pl.col(RULE).is_not_null()).iter_rows(named=True)
    ]
    good = frame.filter(pl.col(RULE).is_null())
    good, more = duplicates(good, source, ctx, mask)
    problems += more
    if source.raw_table == "asylblg_zahlungen":
        good, more = reversals(good, source, ctx, mask)
        problems += more
    typed = good.select(
        *(pl.col(parsed(c.name)).alias(c.name) for c in source.columns), pl.col(LINE)
    )
    return Validated(typed, sorted(problems, key=lambda p: p.line), unknown_space_notes(good, ctx))


def _broken(row: dict, source: Source, check: Check, mask: Masker) -> Problem:
    value = check.describe(row) if check.describe else None
    return problem(row, source, check.rule, check.columns, mask, value)


def unknown_space_notes(good: pl.DataFrame, ctx: Context) -> list[str]:
    """Loaded rows whose Sozialraum is not in the reference (only where that is allowed)."""
    if "Sozialraum" not in good.columns:
        return []
    unknown = good.filter(
        pl.col("Sozialraum").is_not_null() & ~pl.col("Sozialraum").is_in(list(ctx.social_spaces))
    )
    return [
        f"Zeile {row[LINE]}: Sozialraum '{row['Sozialraum']}' fehlt in den Stammdaten; "
        "die Zeile wird unter 'unbekannt' gezählt"
        for row in unknown.iter_rows(named=True)
    ]


def problem(
    row: dict,
    source: Source,
    rule: str,
    columns: tuple[str, ...],
    mask: Masker,
    value: str | None = None,
) -> Problem:
    raw = {name: row[name] for name in source.all_column_names}
    if value is None:
        value = " / ".join(mask(c, raw[c]) or "" for c in columns).strip(" /") or None
    masked = {c: mask(c, v) for c, v in raw.items()}
    return Problem(row[LINE], rule, columns[0], value, masked)


def duplicates(
    good: pl.DataFrame, source: Source, ctx: Context, mask: Masker
) -> tuple[pl.DataFrame, list[Problem]]:
    """Repeated unique keys: within a file every occurrence (none is picked); for keys unique
    over all months (Buchungs_ID) later occurrences and IDs of other periods."""
    key = list(source.unique_key)
    if not key:
        return good, []
    cols = [parsed(k) for k in key]
    good = good.sort(LINE).with_columns(
        pl.col(LINE).min().over(cols).alias("__first_line"),
        pl.col(LINE).cast(pl.String).str.join(", ").over(cols).alias("__lines"),
        pl.len().over(cols).alias("__count"),
    )
    if source.unique_scope == "all":
        dup = (pl.col(LINE) != pl.col("__first_line")) | pl.col(cols[0]).is_in(
            list(ctx.other_bookings)
        )
    else:
        dup = pl.col("__count") > 1
    good = good.with_columns(dup.alias("__dup"))
    problems = []
    for row in good.filter("__dup").iter_rows(named=True):
        if source.unique_scope != "all":
            where = f"mehrfach in der Datei, Zeilen {row['__lines']}; keine geladen"
        elif row[LINE] != row["__first_line"]:
            where = f"bereits in Zeile {row['__first_line']}"
        else:
            where = "bereits in einem anderen Monat geladen"
        shown = " / ".join(str(mask(k, row[k])) for k in key)
        problems.append(
            problem(row, source, "duplicate_key", tuple(key), mask, f"{shown} ({where})")
        )
    kept = good.filter(~pl.col("__dup")).drop("__first_line", "__lines", "__count", "__dup")
    return kept, problems


ORIGINAL_ID, ORIGINAL_AMOUNT, ORIGINAL_DATE = "__orig_id", "__orig_amount", "__orig_date"
FIRST_VALID = "__first_valid"  # line of the booking's first valid reversal in this file
REVERSAL_RULE = "__reversal_rule"


def reversals(
    good: pl.DataFrame, source: Source, ctx: Context, mask: Masker
) -> tuple[pl.DataFrame, list[Problem]]:
    """Storno_von must name a booking of this file or of earlier loads, with the exact negative,
    booked no later than the reversal, and not reversed already (here or in another month).

    Within the file the first reversal of a booking that passes every other check counts; any
    later reversal of the same booking (with the right amount) is a duplicate of that line."""
    checked = (
        good.filter(pl.col("Storno_von").is_not_null())
        .join(_bookings(good, ctx), left_on="Storno_von", right_on=ORIGINAL_ID, how="left")
        .with_columns(_first_valid_reversal(ctx).alias(FIRST_VALID))
        .with_columns(_reversal_rule(ctx).alias(REVERSAL_RULE))
        .sort(LINE)
    )
    bad = checked.filter(pl.col(REVERSAL_RULE).is_not_null())
    problems = [
        problem(row, source, row[REVERSAL_RULE], ("Storno_von",), mask, _reversal_value(row))
        for row in bad.iter_rows(named=True)
    ]
    return good.filter(~pl.col(LINE).is_in(bad[LINE].to_list())), problems


def _bookings(good: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Every booking a reversal may name: those loaded for other periods and this file's."""
    earlier = pl.DataFrame(
        {
            ORIGINAL_ID: list(ctx.other_bookings),
            ORIGINAL_AMOUNT: list(ctx.other_bookings.values()),
            ORIGINAL_DATE: [ctx.other_booking_dates[b] for b in ctx.other_bookings],
        },
        schema={ORIGINAL_ID: pl.String, ORIGINAL_AMOUNT: parsing.MONEY, ORIGINAL_DATE: pl.Date},
    )
    here = good.select(
        pl.col(parsed("Buchungs_ID")).alias(ORIGINAL_ID),
        pl.col(parsed("Betrag")).alias(ORIGINAL_AMOUNT),
        pl.col(parsed("Buchungsdatum")).alias(ORIGINAL_DATE),
    )
    return pl.concat([earlier, here]).unique(ORIGINAL_ID, keep="last", maintain_order=True)


def _reversal_checks(ctx: Context) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(original found, exact negative, reversed in another month, original not later)."""
    return (
        pl.col(ORIGINAL_AMOUNT).is_not_null(),
        pl.col(parsed("Betrag")) == -pl.col(ORIGINAL_AMOUNT),
        pl.col("Storno_von").is_in(list(ctx.reversed_elsewhere)),
        pl.col(ORIGINAL_DATE) <= pl.col(parsed("Buchungsdatum")),
    )


def _first_valid_reversal(ctx: Context) -> pl.Expr:
    found, exact, elsewhere, in_time = _reversal_checks(ctx)
    valid = found & exact & ~elsewhere & in_time
    return pl.when(valid).then(pl.col(LINE)).min().over("Storno_von")


def _reversal_rule(ctx: Context) -> pl.Expr:
    """The first reversal rule a line breaks (null: valid), in the order of the docstring."""
    found, exact, elsewhere, in_time = _reversal_checks(ctx)
    reversed_before = (pl.col(FIRST_VALID) < pl.col(LINE)).fill_null(False)
    return (
        pl.when(~found)
        .then(pl.lit("reversal_without_original"))
        .when(~exact)
        .then(pl.lit("reversal_amount_mismatch"))
        .when(elsewhere | reversed_before)
        .then(pl.lit("reversal_duplicate"))
        .when(~in_time)
        .then(pl.lit("reversal_before_original"))
    )


def _reversal_value(row: dict) -> str:
    target, rule = row["Storno_von"], row[REVERSAL_RULE]
    if rule == "reversal_without_original":
        return target
    if rule == "reversal_amount_mismatch":
        amount, original = row[parsed("Betrag")], row[ORIGINAL_AMOUNT]
        return (
            f"{parsing.format_money(amount)} storniert {parsing.format_money(original)} "
            f"(erwartet {parsing.format_money(-original)})"
        )
    if rule == "reversal_duplicate":
        first = row[FIRST_VALID]
        where = "in einem anderen Monat" if first is None else f"in Zeile {first}"
        return f"{target} wurde bereits {where} storniert"
    return f"{target} ist später gebucht als ihr Storno"


def raw_row_json(problem: Problem) -> str | None:
    return None if problem.raw is None else json.dumps(problem.raw, ensure_ascii=False)
