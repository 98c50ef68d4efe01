"""Row rules: split a read table into typed good rows and quarantined rows.

Every row gets at most one quarantine record, for the first rule it breaks in this order:
required_missing, type errors (invalid_<kind>, code_not_in_list), unknown_social_space,
unknown_accommodation, the contract's cross-field rules (contracts.CROSS_FIELD_RULES),
duplicate_key, reversal_without_original, reversal_amount_mismatch.
Duplicates are judged among rows that passed the earlier rules, so the first valid occurrence
loads and later ones are quarantined.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

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
    # Buchungs_ID -> Betrag of bookings loaded for OTHER periods (unique across all months).
    other_bookings: dict[str, Decimal] = field(default_factory=dict)
    # (raw table, column) -> values loaded from another sheet of the same file (exists_in rules).
    loaded_values: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

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
    for c in source.columns:
        bad = pl.col(c.name).is_not_null() & pl.col(parsed(c.name)).is_null()
        checks.append(Check(type_rule(c), (c.name,), bad))
    for name in source.column_names:
        if name == "Sozialraum":
            unknown = ~pl.col(name).is_in(list(ctx.social_spaces))
            checks.append(Check("unknown_social_space", (name,), unknown))
        if name == "Unterkunft_ID":
            unknown = ~pl.col(name).is_in(list(ctx.accommodations))
            checks.append(Check("unknown_accommodation", (name,), unknown))
    for rule in CROSS_FIELD_RULES:
        if rule.table == source.raw_table:
            checks.append(Check(rule.rule, rule.columns, cross_field_expr(rule, ctx)))
    return checks


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
    if rule.check == "file_month":
        return a != first
    raise ValueError(f"unknown cross-field check {rule.check}")


def validate(table: RawTable, ctx: Context, mask: Masker) -> Validated:
    source = table.source
    frame = table.frame.with_columns(
        parse_expr(c, table.from_excel).alias(parsed(c.name)) for c in source.columns
    )
    checks = row_checks(source, ctx)
    first_broken = pl.coalesce(
        [pl.when(ch.violated.fill_null(False)).then(pl.lit(i)) for i, ch in enumerate(checks)]
    )
    frame = frame.with_columns(first_broken.cast(pl.Int32).alias(RULE))
    problems = [
        problem(row, source, checks[row[RULE]].rule, checks[row[RULE]].columns, mask)
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
    return Validated(typed, sorted(problems, key=lambda p: p.line))


def problem(
    row: dict,
    source: Source,
    rule: str,
    columns: tuple[str, ...],
    mask: Masker,
    value: str | None = None,
) -> Problem:
    raw = {name: row[name] for name in source.column_names}
    if value is None:
        value = " / ".join(mask(c, raw[c]) or "" for c in columns).strip(" /") or None
    masked = {c: mask(c, v) for c, v in raw.items()}
    return Problem(row[LINE], rule, columns[0], value, masked)


def duplicates(
    good: pl.DataFrame, source: Source, ctx: Context, mask: Masker
) -> tuple[pl.DataFrame, list[Problem]]:
    """Later occurrences of a unique key in the file; Buchungs_IDs of other periods too."""
    key = list(source.unique_key)
    if not key:
        return good, []
    cols = [parsed(k) for k in key]
    good = good.sort(LINE).with_columns(
        pl.col(LINE).min().over(cols).alias("__first_line"),
    )
    dup = pl.col(LINE) != pl.col("__first_line")
    if source.unique_scope == "all":
        dup = dup | pl.col(cols[0]).is_in(list(ctx.other_bookings))
    good = good.with_columns(dup.alias("__dup"))
    problems = []
    for row in good.filter("__dup").iter_rows(named=True):
        where = (
            f"bereits in Zeile {row['__first_line']}"
            if row[LINE] != row["__first_line"]
            else "bereits in einem anderen Monat geladen"
        )
        shown = " / ".join(str(mask(k, row[k])) for k in key)
        problems.append(
            problem(row, source, "duplicate_key", tuple(key), mask, f"{shown} ({where})")
        )
    return good.filter(~pl.col("__dup")).drop("__first_line", "__dup"), problems


def reversals(
    good: pl.DataFrame, source: Source, ctx: Context, mask: Masker
) -> tuple[pl.DataFrame, list[Problem]]:
    """Storno_von must name a booking of this file or of earlier loads, with the exact negative."""
    amounts = dict(ctx.other_bookings)
    amounts.update(zip(good[parsed("Buchungs_ID")], good[parsed("Betrag")], strict=True))
    problems: list[Problem] = []
    bad_lines: set[int] = set()
    for row in good.filter(pl.col("Storno_von").is_not_null()).iter_rows(named=True):
        original = amounts.get(row["Storno_von"])
        amount = row[parsed("Betrag")]
        if original is None:
            rule, value = "reversal_without_original", row["Storno_von"]
        elif amount != -original:
            rule = "reversal_amount_mismatch"
            value = (
                f"{parsing.format_money(amount)} storniert {parsing.format_money(original)} "
                f"(erwartet {parsing.format_money(-original)})"
            )
        else:
            continue
        problems.append(problem(row, source, rule, ("Storno_von",), mask, value))
        bad_lines.add(row[LINE])
    return good.filter(~pl.col(LINE).is_in(list(bad_lines))), problems


def raw_row_json(problem: Problem) -> str | None:
    return None if problem.raw is None else json.dumps(problem.raw, ensure_ascii=False)
