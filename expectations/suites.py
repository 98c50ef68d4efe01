"""The expectation suites, as code.

A `Check` is one pandas frame (read from DuckDB by a SQL query over the run's window of months)
plus the rules Great Expectations asserts on it. Every frame has a `gate_period` column (the
row's month 'YYYY-MM', or year 'YYYY' for the yearly plan): one validation covers the window and
the gates split its unexpected rows into results per month. Rules that need context beyond one
row (uniqueness across months, the original of a reversal, last month's row count) are computed
in DuckDB SQL into a helper column; GX then asserts that column (`kind="true"`: every non-NULL
value is True; NULL means "rule does not apply to this row").

Raw suites are built from `ingest.contracts`: required columns, code lists and unique keys are
read from the contract, never restated here. Only the consistency rules written in prose in the
contract (date order, reversals, reconciliation) are spelled out below.

GX is imported inside `to_expectation` only (it pulls in scipy; see stack notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from expectations.config import GateConfig
from ingest.contracts import AGE_BANDS, Source
from ingest.validate import REFERENCE_CHECKED

# Raw tables whose row-count band blocks the month, and which must never be empty (family
# "row_count_core"); the others only warn.
CORE_ROW_COUNT_TABLES = ("personen", "fibu_ist")


@dataclass(frozen=True)
class Rule:
    name: str  # expectation name as stored in meta.gate_results
    family: str  # severity family (see config.DEFAULT_SEVERITIES)
    kind: str  # not_null | in_set | true | between | null | row_count (a "true" column whose
    # observed value is the month's row count and band, see row_count_observed)
    label: str  # German description for the report
    column: str | None = None
    value_set: tuple[Any, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    row_condition: str | None = None  # pandas query limiting the rows the rule applies to
    sql: str | None = None  # helper-column expression (kind "true"), evaluated in DuckDB
    show: tuple[str, ...] = ()  # columns printed for offending rows


def zero_rule(name: str, family: str, label: str, column: str, show: tuple[str, ...]) -> Rule:
    """A rule that the column is 0 in every row (a count of offending lines, a difference)."""
    return Rule(name, family, "between", label, column=column, min_value=0, max_value=0, show=show)


@dataclass(frozen=True)
class Check:
    gate: str  # e.g. 'raw.personen'
    name: str  # frame name, unique within a gate run
    sql: str  # query with named parameters, selects the frame in a fixed order
    params: dict[str, Any]
    rules: tuple[Rule, ...]
    yearly: bool = False  # rows keyed by year: a month's results are those of its year


@dataclass(frozen=True)
class Window:
    """A run's months, first to last (inclusive): the parameters every check's query reads."""

    first: str  # 'YYYY-MM'
    last: str

    def params(self) -> dict[str, Any]:
        return {
            "window_start": month_bounds(self.first)[0],
            "window_end": month_bounds(self.last)[1],  # half-open
            "first_month": self.first,
            "last_month": self.last,
            "first_year": int(self.first[:4]),
            "last_year": int(self.last[:4]),
        }


def gate_period(check: Check, month: str) -> str:
    """The `gate_period` of `check`'s rows that belong to `month`."""
    return month[:4] if check.yearly else month


def month_bounds(month: str) -> tuple[date, date]:
    """'YYYY-MM' -> (first day, first day of next month); the window is half-open."""
    year, mon = (int(p) for p in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + mon // 12, mon % 12 + 1, 1)
    return start, end


def to_expectation(rule: Rule, severity: str) -> Any:
    """The GX 1.x expectation for a rule; `meta.rule` maps the result back to the rule."""
    import great_expectations as gx

    meta = {"rule": rule.name, "severity": severity}
    cond: dict[str, Any] = {}
    if rule.row_condition:
        cond = {"row_condition": rule.row_condition, "condition_parser": "pandas"}
    e = gx.expectations
    if rule.kind == "not_null":
        return e.ExpectColumnValuesToNotBeNull(column=rule.column, meta=meta, **cond)
    if rule.kind == "null":
        return e.ExpectColumnValuesToBeNull(column=rule.column, meta=meta, **cond)
    if rule.kind in ("in_set", "true", "row_count"):
        values = list(rule.value_set) if rule.kind == "in_set" else [True]
        return e.ExpectColumnValuesToBeInSet(
            column=rule.column, value_set=values, meta=meta, **cond
        )
    if rule.kind == "between":
        return e.ExpectColumnValuesToBeBetween(
            column=rule.column,
            min_value=rule.min_value,
            max_value=rule.max_value,
            meta=meta,
            **cond,
        )
    raise ValueError(f"unknown rule kind {rule.kind!r} of {rule.name}")


# ---------------------------------------------------------------------------------------------
# Raw suites


def _helper(name: str, family: str, label: str, sql: str, show: tuple[str, ...]) -> Rule:
    return Rule(name, family, "true", label, column=name, sql=sql, show=("source_line", *show))


# Consistency rules the contract states in prose, per raw table, against the row's own month
# (`t.period_month`, the file's month; `_NEXT_MONTH` is the first day after it). Each helper is
# NULL where the rule does not apply (e.g. a missing date is reported once, by the not-null
# rule, not again here).
_NEXT_MONTH = "(t.period_month + interval 1 month)"
_DATE_RULES: dict[str, tuple[Rule, ...]] = {
    "personen": (
        # Stock at month end: the Stichtag is the last day of the file's month.
        _helper(
            "stichtag_is_month_end",
            "dates",
            "Stichtag ist der letzte Tag des Monats",
            "stichtag = last_day(t.period_month)",
            ("person_id", "stichtag"),
        ),
        # A status cannot begin after the day the stock was taken.
        _helper(
            "status_seit_not_after_stichtag",
            "dates",
            "Status_seit liegt nicht nach dem Stichtag",
            "status_seit <= stichtag",
            ("person_id", "status_seit", "stichtag"),
        ),
        # Nor can the arrival in the municipality.
        _helper(
            "zuzugsdatum_not_after_stichtag",
            "dates",
            "Zuzugsdatum liegt nicht nach dem Stichtag",
            "zuzugsdatum <= stichtag",
            ("person_id", "zuzugsdatum", "stichtag"),
        ),
    ),
    "asylblg_zahlungen": (
        # The file holds the bookings posted in its month; reconciliation relies on it.
        _helper(
            "buchungsdatum_in_month",
            "dates",
            "Buchungsdatum liegt im Monat der Datei",
            f"buchungsdatum >= t.period_month and buchungsdatum < {_NEXT_MONTH}",
            ("buchungs_id", "buchungsdatum"),
        ),
        _helper(
            "leistung_von_not_after_leistung_bis",
            "dates",
            "Leistung_von liegt nicht nach Leistung_bis",
            "leistung_von <= leistung_bis",
            ("buchungs_id", "leistung_von", "leistung_bis"),
        ),
        # A reversal must cancel an existing line exactly, otherwise the cents do not add up.
        _helper(
            "storno_matches_original_amount",
            "reversal",
            "Storno verweist auf eine Buchung mit genau dem negativen Betrag",
            "case when t.storno_von is null then null else exists (select 1 from "
            "raw.asylblg_zahlungen o where o.buchungs_id = t.storno_von "
            "and o.betrag = -t.betrag) end",
            ("buchungs_id", "storno_von", "betrag"),
        ),
    ),
    "fibu_ist": (
        # Ledger totals are monthly: a posting month other than the file's is a misfiled export.
        _helper(
            "periode_is_file_month",
            "dates",
            "Periode entspricht dem Monat der Datei",
            "periode = t.period_month",
            ("produkt", "sachkonto", "periode"),
        ),
    ),
    "kurse": (
        _helper(
            "beginn_not_after_ende",
            "dates",
            "Kursbeginn liegt nicht nach dem Kursende",
            "beginn <= ende",
            ("kurs_id", "beginn", "ende"),
        ),
    ),
    "teilnahmen": (
        _helper(
            "eintritt_not_after_austritt",
            "dates",
            "Eintritt liegt nicht nach dem Austritt",
            "eintritt <= austritt",
            ("kurs_id", "eintritt", "austritt"),
        ),
        # Both sheets come from one workbook: every participation's course is on the Kurse sheet.
        _helper(
            "kurs_id_in_month_kurse",
            "reference",
            "Kurs_ID steht im Blatt Kurse desselben Monats",
            "case when t.kurs_id is null then null else exists (select 1 from raw.kurse k "
            "where k.kurs_id = t.kurs_id and k.period_month = t.period_month) end",
            ("kurs_id",),
        ),
    ),
}


def _column_rules(source: Source) -> list[Rule]:
    """Not-null and code-list rules, read from the contract."""
    rules: list[Rule] = []
    for col in source.columns:
        if col.name == "Geburtsdatum":
            # The birth date is reduced at ingest; its derived columns inherit the requirement.
            for name in ("geburtsjahr", "altersgruppe"):
                rules.append(_not_null(name))
            rules.append(_in_codes("altersgruppe", AGE_BANDS))
            continue
        # Conditionally required columns (required = condition name) are checked per row by the
        # ingest validator, which quarantines the row; only unconditional ones are asserted here.
        if col.required is True:
            rules.append(_not_null(col.raw_name))
        if col.codes:
            rules.append(_in_codes(col.raw_name, col.codes))
    return rules


def _not_null(column: str) -> Rule:
    return Rule(
        f"{column}_not_null",
        "not_null",
        "not_null",
        f"Pflichtfeld {column} ist gefüllt",
        column=column,
        show=("source_line", column),
    )


def _in_codes(column: str, codes: tuple[str, ...]) -> Rule:
    return Rule(
        f"{column}_in_codes",
        "in_codes",
        "in_set",
        f"{column} enthält nur Codes der Liste ({', '.join(codes)})",
        column=column,
        value_set=codes,
        show=("source_line", column),
    )


def _unique_rule(source: Source) -> Rule | None:
    """The contract's unique key: per file (window over the month's rows) or across all months
    (the month's keys counted against the whole table, so a re-used Buchungs_ID is caught)."""
    if not source.unique_key:
        return None
    keys = [source.column(k).raw_name for k in source.unique_key]
    not_null = " and ".join(f"t.{k} is not null" for k in keys)
    if source.unique_scope == "all":
        match = " and ".join(f"o.{k} = t.{k}" for k in keys)
        count = f"(select count(*) from raw.{source.raw_table} o where {match})"
        scope, label = "overall", "über alle Monate"
    else:
        # Per file: the window of months is one frame, so the period is part of the partition.
        period = "t.period_month" if source.period == "month" else "t.jahr"
        count = f"count(*) over (partition by {', '.join(['t.' + k for k in keys] + [period])})"
        scope = "in_month" if source.period == "month" else "in_year"
        label = "im Monat" if source.period == "month" else "im Jahr"
    return _helper(
        f"{'_'.join(keys)}_unique_{scope}",
        "unique",
        f"Schlüssel {', '.join(keys)} ist eindeutig {label}",
        f"case when {not_null} then {count} = 1 end",
        tuple(keys),
    )


def _amount_rules(config: GateConfig) -> list[Rule]:
    """One bounds rule per benefit type, so the report names the type that is out of range."""
    rules = []
    for code, (low, high) in sorted(config.amount_bounds.items()):
        rules.append(
            Rule(
                f"betrag_within_bounds_{code}",
                "amount_bounds",
                "between",
                f"Betrag einer {code}-Buchung liegt zwischen {low} und {high} €",
                column="betrag",
                min_value=float(low),
                max_value=float(high),
                row_condition=f'leistungsart == "{code}"',
                show=("source_line", "buchungs_id", "leistungsart", "betrag"),
            )
        )
    return rules


def _row_count_check(gate: str, source: Source, config: GateConfig) -> Check:
    """Rows per month of the window against the latest earlier month that has rows (±tolerance,
    rounded inwards, exact in DECIMAL). The first month is exempt (0..∞), except that a core
    table (persons, ledger) must always have at least one row."""
    core = source.raw_table in CORE_ROW_COUNT_TABLES
    sql = f"""
        with counts as (
          select period_month, count(*) as n from raw.{source.raw_table} group by period_month
        ),
        months as (
          select m::date as month from range($window_start::timestamp, $window_end::timestamp,
            interval 1 month) r(m)
        ),
        banded as (
          select m.month, coalesce(c.n, 0) as rows, p.period_month as previous_month,
            p.n as previous_rows,
            greatest(ceil(p.n * (1 - $tolerance)), $min_rows)::bigint as band_low,
            floor(p.n * (1 + $tolerance))::bigint as band_high
          from months m
          left join counts c on c.period_month = m.month
          left join counts p on p.period_month = (
            select max(period_month) from counts where period_month < m.month)
        )
        select strftime(month, '%Y-%m') as gate_period, rows,
          strftime(previous_month, '%Y-%m') as previous_month, previous_rows,
          coalesce(band_low, $min_rows) as band_low, band_high,
          rows >= coalesce(band_low, $min_rows) and (band_high is null or rows <= band_high)
            as row_count_within_tolerance
        from banded order by month
    """
    tolerance = Decimal(str(config.row_count_tolerance))
    rule = Rule(
        "row_count_within_tolerance",
        "row_count_core" if core else "row_count",
        "row_count",
        f"Zeilenzahl im Toleranzband ±{tolerance * 100:.0f} % zum Vormonat (erster Monat: "
        "ausgenommen" + (", aber mindestens 1 Zeile)" if core else ")"),
        column="row_count_within_tolerance",
        show=("rows", "previous_month", "previous_rows", "band_low", "band_high"),
    )
    params = {"tolerance": tolerance, "min_rows": 1 if core else 0}
    return Check(gate, f"{source.raw_table}_row_count", sql, params, (rule,))


def raw_checks(source: Source, config: GateConfig) -> list[Check]:
    """The suite of one raw table over a window ($window_start, $window_end, $first_year,
    $last_year): its rows, its loads' quarantine share and its row count per month."""
    gate = f"raw.{source.raw_table}"
    rules = _column_rules(source)
    unique = _unique_rule(source)
    helpers = ([unique] if unique else []) + list(_DATE_RULES.get(source.raw_table, ()))
    if source.raw_table == "asylblg_zahlungen":
        rules += _amount_rules(config)
    if source.period == "month":
        where = "t.period_month >= $window_start and t.period_month < $window_end"
        period, order = "strftime(t.period_month, '%Y-%m')", "t.period_month"
    else:
        # Yearly plan: the gate of a month validates the plan of that month's year.
        where = "t.jahr >= $first_year and t.jahr <= $last_year"
        period, order = "t.jahr::varchar", "t.jahr"
    helper_sql = "".join(f",\n  ({h.sql}) as {h.name}" for h in helpers)
    sql = (
        f"select t.*{helper_sql},\n  {period} as gate_period\nfrom raw.{source.raw_table} t\n"
        f"where {where}\norder by {order}, t.source_file, t.source_line"
    )
    yearly = source.period != "month"
    checks = [
        Check(gate, source.raw_table, sql, {}, tuple(rules + helpers), yearly),
        _quarantine_check(gate, source, config),
    ]
    if not yearly:
        checks.append(_row_count_check(gate, source, config))
    if source.raw_table == "teilnahmen":
        checks.append(_participant_check(gate, config))
    return checks


def _participant_check(gate: str, config: GateConfig) -> Check:
    # Per month: distinct participants of the course workbook found in the same month's persons
    # file (a month without participants has no row: nothing to compare).
    sql = """
        select strftime(t.period_month, '%Y-%m') as gate_period,
          count(distinct t.person_id) as participants,
          count(distinct t.person_id) filter (where exists (select 1 from raw.personen p
            where p.period_month = t.period_month and p.person_id = t.person_id)) as found,
          found / nullif(participants, 0) as participant_share
        from raw.teilnahmen t
        where t.period_month >= $window_start and t.period_month < $window_end
        group by t.period_month
        order by t.period_month
    """
    rule = Rule(
        "participants_in_persons_file",
        "participant_coverage",
        "between",
        f"Mindestens {config.min_participant_share:.0%} der Kursteilnehmenden stehen in der "
        "Personendatei des Monats",
        column="participant_share",
        min_value=config.min_participant_share,
        max_value=1.0,
        show=("participants", "found", "participant_share"),
    )
    return Check(gate, "teilnahmen_in_personen", sql, {}, (rule,))


def _quarantine_check(gate: str, source: Source, config: GateConfig) -> Check:
    # Current loads only: a load replaced by a later one no longer feeds the warehouse.
    # Periods are 'YYYY-MM' (or 'YYYY' for the yearly plan): text order is time order.
    yearly = source.period != "month"
    first, last = ("$first_year::varchar", "$last_year::varchar") if yearly else (
        "$first_month", "$last_month")  # fmt: skip
    sql = f"""
        select b.period as gate_period, b.load_id, b.file_name, b.rows_loaded, b.rows_quarantined,
          b.rows_quarantined::double / nullif(b.rows_loaded + b.rows_quarantined, 0)
            as quarantine_share,
          (select count(*) from meta.quarantine q
           where q.load_id = b.load_id and q.rule = 'totals_mismatch') as totals_mismatches,
          -- line, column and both sums with their difference (ingest/readers.py), to be shown
          (select string_agg('Zeile ' || q.line || ', ' || q.column_name || ': ' || q.value, '; '
                  order by q.line)
           from meta.quarantine q
           where q.load_id = b.load_id and q.rule = 'totals_mismatch') as totals_lines,
          (select count(*) from meta.quarantine q where q.load_id = b.load_id
           and q.rule in ('unknown_product', 'unknown_account')) as unknown_reference_with_money,
          (select count(*) from meta.quarantine q where q.load_id = b.load_id
           and q.rule = 'unknown_reference_zero_amount') as unknown_reference_zero_amount
        from meta.load_batches b
        where b.source = $source and b.period >= {first} and b.period <= {last}
          and not exists (select 1 from meta.load_batches r where r.replaced_load_id = b.load_id)
        order by b.period, b.file_name, b.load_id
    """
    rule = Rule(
        "quarantine_share_below_threshold",
        "quarantine_share",
        "between",
        f"Anteil der Quarantänezeilen je Lieferung höchstens {config.max_quarantine_share:.0%}",
        column="quarantine_share",
        min_value=0.0,
        max_value=config.max_quarantine_share,
        show=("file_name", "rows_quarantined", "rows_loaded", "quarantine_share"),
    )
    totals = zero_rule(
        "totals_line_matches_rows",
        "totals_line",
        "Summenzeile der Lieferung stimmt mit den Datenzeilen überein",
        "totals_mismatches",
        ("file_name", "totals_mismatches", "totals_lines"),
    )
    rules = (rule, totals)
    if source.raw_table in REFERENCE_CHECKED:
        rules += _unknown_reference_rules()
    params = {"source": source.raw_table}
    return Check(gate, f"{source.raw_table}_loads", sql, params, rules, yearly)


def _unknown_reference_rules() -> tuple[Rule, ...]:
    """Quarantined lines with a product/account outside the reference data: with money they
    block (the amount would be missing from every total), with all amounts zero they warn."""
    return (
        zero_rule(
            "no_unknown_reference_with_money",
            "reference",
            "Keine Zeile mit Betrag hat ein Produkt oder Sachkonto außerhalb der Stammdaten",
            "unknown_reference_with_money",
            ("file_name", "unknown_reference_with_money"),
        ),
        zero_rule(
            "no_unknown_reference_zero_amount",
            "reference_zero_amount",
            "Keine Zeile (Betrag 0) hat ein Produkt oder Sachkonto außerhalb der Stammdaten",
            "unknown_reference_zero_amount",
            ("file_name", "unknown_reference_zero_amount"),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Reconciliation gate (after dbt)


_IN_WINDOW = "month >= $window_start and month < $window_end"


def reconciliation_checks() -> list[Check]:
    """What only the inputs can show after dbt: payments vs ledger, marts vs the plan file.
    (An indicator value over a zero denominator is the model's own logic: a dbt data test.)"""
    gate = "reconciliation"
    diff = Check(
        gate,
        "fct_reconciliation",
        f"""
        select strftime(month, '%Y-%m') as gate_period, product_id, account_id,
          payments_amount, ledger_amount, difference
        from marts.fct_reconciliation where {_IN_WINDOW}
        order by month, product_id, account_id
        """,
        {},
        (
            # The ledger is the truth for money: case-software bookings must match to the cent.
            zero_rule(
                "reconciliation_difference_zero",
                "reconciliation",
                "Fallsoftware und Finanzbuchhaltung stimmen je Produkt und Konto auf den Cent",
                "difference",
                ("product_id", "account_id", "payments_amount", "ledger_amount", "difference"),
            ),
        ),
    )
    # Fortgeschriebener Ansatz in the marts vs the plan file of the month's year, per month x
    # product x account (a full join, so a line missing on either side shows up); equal lines
    # imply equal totals.
    plan = Check(
        gate,
        "current_appropriation",
        f"""
        with months as (
          select m::date as month from range($window_start::timestamp, $window_end::timestamp,
            interval 1 month) r(m)
        ),
        plan as (
          select m.month, h.produkt as product_id, h.sachkonto as account_id,
            sum(h.ansatz + coalesce(h.nachtrag, 0) + coalesce(h.uebertragung, 0)) as plan_amount
          from months m join raw.haushaltsplan h on h.jahr = year(m.month) group by all
        ),
        mart as (
          select month, product_id, account_id, sum(current_appropriation) as mart_amount
          from marts.fct_budget_execution where {_IN_WINDOW} group by all
        )
        select strftime(coalesce(p.month, m.month), '%Y-%m') as gate_period,
          coalesce(p.product_id, m.product_id) as product_id,
          coalesce(p.account_id, m.account_id) as account_id,
          coalesce(p.plan_amount, 0) as plan_amount,
          coalesce(m.mart_amount, 0) as mart_amount,
          coalesce(p.plan_amount, 0) = coalesce(m.mart_amount, 0)
            as current_appropriation_matches_plan
        from plan p full join mart m
          on p.month = m.month and p.product_id = m.product_id and p.account_id = m.account_id
        order by 1, 2, 3
        """,
        {},
        (
            Rule(
                "current_appropriation_matches_plan",
                "plan_total",
                "true",
                "Fortgeschriebener Ansatz der Marts = Ansatz + Nachtrag + Übertragung laut "
                "Haushaltsplan",
                column="current_appropriation_matches_plan",
                show=("product_id", "account_id", "plan_amount", "mart_amount"),
            ),
        ),
    )
    return [diff, plan]


# ---------------------------------------------------------------------------------------------
# Mart gate (before reports)


def _bound(value: float | None, open_end: str) -> str:
    return open_end if value is None else f"{value:g}"


def _unit_slug(unit: str) -> str:
    return {"%": "percent", "€": "euro"}.get(unit, unit.lower().replace(" ", "_"))


def mart_checks(config: GateConfig) -> list[Check]:
    """Published indicator values within their unit's (or the indicator's) valid range. Rows
    present, value status explained and traffic lights are the model's own logic: dbt unit and
    data tests (dbt/models/marts/_marts__*.yml), not a production gate."""
    gate = "marts"
    show = ("indicator_id", "social_space_id", "unit", "value")
    ranges = []
    special = sorted(config.indicator_ranges)
    for unit, (low, high) in sorted(config.unit_ranges.items()):
        if low is None and high is None:
            continue
        ranges.append(
            Rule(
                f"indicator_value_in_range_{_unit_slug(unit)}",
                "indicator_range",
                "between",
                f"Kennzahlen in {unit} liegen im gültigen Bereich ({_bound(low, '-∞')} bis "
                f"{_bound(high, '∞')})",
                column="value",
                min_value=low,
                max_value=high,
                row_condition=f'unit == "{unit}" and indicator_id not in {special!r}',
                show=show,
            )
        )
    for indicator_id, (low, high) in sorted(config.indicator_ranges.items()):
        ranges.append(
            Rule(
                f"indicator_value_in_range_{indicator_id.lower()}",
                "indicator_range",
                "between",
                f"{indicator_id} liegt im gültigen Bereich ({_bound(low, '-∞')} bis "
                f"{_bound(high, '∞')})",
                column="value",
                min_value=low,
                max_value=high,
                row_condition=f'indicator_id == "{indicator_id}"',
                show=show,
            )
        )
    values = Check(
        gate,
        "indicator_values",
        """
        select strftime(v.month, '%Y-%m') as gate_period, v.indicator_id, v.social_space_id,
          i.unit, v.value
        from marts.fct_indicator_values v join marts.dim_indicator i using (indicator_id)
        where v.month >= $window_start and v.month < $window_end
        order by v.month, v.indicator_id, v.social_space_id
        """,
        {},
        tuple(ranges),
    )
    return [values]
