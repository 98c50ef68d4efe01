"""The expectation suites, as code.

A `Check` is one pandas frame (read from DuckDB by a SQL query for one month) plus the rules Great
Expectations asserts on it. Rules that need context beyond one row (uniqueness across months,
the original of a reversal, last month's row count, the traffic-light rule) are computed in
DuckDB SQL into a helper column; GX then asserts that column (`kind="true"`: every non-NULL value
is True; NULL means "rule does not apply to this row").

Raw suites are built from `ingest.contracts`: required columns, code lists and unique keys are
read from the contract, never restated here. Only the consistency rules written in prose in the
contract (date order, reversals, reconciliation) are spelled out below.

GX is imported inside `to_expectation` only (it pulls in scipy; see stack notes).
"""

from __future__ import annotations

import math
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

VALUE_STATUSES = ("ok", "no_denominator", "below_min_denominator", "no_data")
TRAFFIC_LIGHTS = ("green", "yellow", "red")


@dataclass(frozen=True)
class Rule:
    name: str  # expectation name as stored in meta.gate_results
    family: str  # severity family (see config.DEFAULT_SEVERITIES)
    kind: str  # not_null | in_set | true | between | null | row_count
    label: str  # German description for the report
    column: str | None = None
    value_set: tuple[Any, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    row_condition: str | None = None  # pandas query limiting the rows the rule applies to
    sql: str | None = None  # helper-column expression (kind "true"), evaluated in DuckDB
    show: tuple[str, ...] = ()  # columns printed for offending rows
    note: str = ""  # extra observed context (e.g. the previous month's row count)


@dataclass(frozen=True)
class Check:
    gate: str  # e.g. 'raw.personen'
    name: str  # frame name, unique within a gate run
    sql: str  # query with named parameters, selects the frame in a fixed order
    params: dict[str, Any]
    rules: tuple[Rule, ...]


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
    if rule.kind in ("in_set", "true"):
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
    if rule.kind == "row_count":
        return e.ExpectTableRowCountToBeBetween(
            min_value=rule.min_value, max_value=rule.max_value, meta=meta
        )
    raise ValueError(f"unknown rule kind {rule.kind!r} of {rule.name}")


# ---------------------------------------------------------------------------------------------
# Raw suites


def _helper(name: str, family: str, label: str, sql: str, show: tuple[str, ...]) -> Rule:
    return Rule(name, family, "true", label, column=name, sql=sql, show=("source_line", *show))


# Consistency rules the contract states in prose, per raw table. `$month_start`/`$month_end` are
# the half-open month window. Each helper is NULL where the rule does not apply (e.g. a missing
# date is reported once, by the not-null rule, not again here).
_DATE_RULES: dict[str, tuple[Rule, ...]] = {
    "personen": (
        # Stock at month end: the Stichtag is the last day of the file's month.
        _helper(
            "stichtag_is_month_end",
            "dates",
            "Stichtag ist der letzte Tag des Monats",
            "stichtag = $month_end - interval 1 day",
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
            "buchungsdatum >= $month_start and buchungsdatum < $month_end",
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
            "periode = $month_start",
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
        # The snapshot lists courses running in the month: none may start after it.
        _helper(
            "beginn_not_after_month_end",
            "dates",
            "Kursbeginn liegt nicht nach dem Monatsende",
            "beginn < $month_end",
            ("kurs_id", "beginn"),
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
        # Participations active in the month: entry before the month ends.
        _helper(
            "eintritt_not_after_month_end",
            "dates",
            "Eintritt liegt nicht nach dem Monatsende",
            "eintritt < $month_end",
            ("kurs_id", "eintritt"),
        ),
        # Status is "as of month end": an exam cannot be dated later.
        _helper(
            "pruefungsdatum_not_after_month_end",
            "dates",
            "Prüfungsdatum liegt nicht nach dem Monatsende",
            "pruefungsdatum < $month_end",
            ("kurs_id", "pruefungsdatum"),
        ),
        # Both sheets come from one workbook: every participation's course is on the Kurse sheet.
        _helper(
            "kurs_id_in_month_kurse",
            "reference",
            "Kurs_ID steht im Blatt Kurse desselben Monats",
            "case when t.kurs_id is null then null else exists (select 1 from raw.kurse k "
            "where k.kurs_id = t.kurs_id and k.period_month = $month_start) end",
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
        count = f"count(*) over (partition by {', '.join('t.' + k for k in keys)})"
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


def row_count_rule(previous: tuple[str, int] | None, tolerance: float, table: str = "") -> Rule:
    """Rows within ±tolerance of the latest earlier month; the first month is exempt (0..∞),
    except that a core table (persons, ledger) must always have at least one row."""
    core = table in CORE_ROW_COUNT_TABLES
    family = "row_count_core" if core else "row_count"
    if previous is None or previous[1] == 0:
        return Rule(
            "row_count_within_tolerance",
            family,
            "row_count",
            "Zeilenzahl im Toleranzband zum Vormonat (erster Monat: ausgenommen"
            + (", aber mindestens 1 Zeile)" if core else ")"),
            min_value=1 if core else 0,
            note="no earlier month: exempt" + (", at least 1 row" if core else ""),
        )
    prev_month, prev_rows = previous
    tol = Decimal(str(tolerance))
    low = math.ceil(prev_rows * (1 - tol))
    high = math.floor(prev_rows * (1 + tol))
    if core:
        low = max(low, 1)
    return Rule(
        "row_count_within_tolerance",
        family,
        "row_count",
        f"Zeilenzahl im Toleranzband ±{tol * 100:.0f} % zum Vormonat",
        min_value=low,
        max_value=high,
        note=f"Vormonat {prev_month}: {prev_rows} Zeilen, erlaubt {low}..{high}",
    )


def raw_checks(
    source: Source, month: str, config: GateConfig, previous: tuple[str, int] | None
) -> list[Check]:
    """The suite of one raw table for one month: its rows, and its loads' quarantine share."""
    start, end = month_bounds(month)
    gate = f"raw.{source.raw_table}"
    rules = _column_rules(source)
    unique = _unique_rule(source)
    helpers = ([unique] if unique else []) + list(_DATE_RULES.get(source.raw_table, ()))
    if source.raw_table == "asylblg_zahlungen":
        rules += _amount_rules(config)
    if source.period == "month":
        where = "t.period_month = $month_start"
        rules.append(row_count_rule(previous, config.row_count_tolerance, source.raw_table))
        period = month
    else:
        # Yearly plan: the gate of a month validates the plan of that month's year.
        where = "t.jahr = $year"
        period = str(start.year)
    helper_sql = "".join(f",\n  ({h.sql}) as {h.name}" for h in helpers)
    sql = (
        f"select t.*{helper_sql}\nfrom raw.{source.raw_table} t\nwhere {where}\n"
        "order by t.source_file, t.source_line"
    )
    params = {"month_start": start, "month_end": end, "year": start.year}
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    rows = Check(gate, source.raw_table, sql, used, tuple(rules + helpers))
    checks = [rows, _quarantine_check(gate, source, period, config)]
    if source.raw_table == "teilnahmen":
        checks.append(_participant_check(gate, start, config))
    return checks


def _participant_check(gate: str, start: date, config: GateConfig) -> Check:
    # Distinct participants of the month's course workbook found in the same month's persons
    # file; NULL when there are no participants (nothing to compare).
    sql = """
        select count(distinct t.person_id) as participants,
          count(distinct t.person_id) filter (where exists (select 1 from raw.personen p
            where p.period_month = $month_start and p.person_id = t.person_id)) as found,
          found / nullif(participants, 0) as participant_share
        from raw.teilnahmen t
        where t.period_month = $month_start
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
    return Check(gate, "teilnahmen_in_personen", sql, {"month_start": start}, (rule,))


def _quarantine_check(gate: str, source: Source, period: str, config: GateConfig) -> Check:
    # Current loads only: a load replaced by a later one no longer feeds the warehouse.
    sql = """
        select b.load_id, b.file_name, b.rows_loaded, b.rows_quarantined,
          b.rows_quarantined::double / nullif(b.rows_loaded + b.rows_quarantined, 0)
            as quarantine_share,
          (select count(*) from meta.quarantine q
           where q.load_id = b.load_id and q.rule = 'totals_mismatch') as totals_mismatches,
          (select count(*) from meta.quarantine q where q.load_id = b.load_id
           and q.rule in ('unknown_product', 'unknown_account')) as unknown_reference_with_money,
          (select count(*) from meta.quarantine q where q.load_id = b.load_id
           and q.rule = 'unknown_reference_zero_amount') as unknown_reference_zero_amount
        from meta.load_batches b
        where b.source = $source and b.period = $period
          and not exists (select 1 from meta.load_batches r where r.replaced_load_id = b.load_id)
        order by b.file_name, b.load_id
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
    totals = Rule(
        "totals_line_matches_rows",
        "totals_line",
        "between",
        "Summenzeile der Lieferung stimmt mit den Datenzeilen überein",
        column="totals_mismatches",
        min_value=0,
        max_value=0,
        show=("file_name", "totals_mismatches"),
    )
    rules = (rule, totals)
    if source.raw_table in REFERENCE_CHECKED:
        rules += _unknown_reference_rules()
    return Check(
        gate,
        f"{source.raw_table}_loads",
        sql,
        {"source": source.raw_table, "period": period},
        rules,
    )


def _unknown_reference_rules() -> tuple[Rule, ...]:
    """Quarantined lines with a product/account outside the reference data: with money they
    block (the amount would be missing from every total), with all amounts zero they warn."""
    return (
        Rule(
            "no_unknown_reference_with_money",
            "reference",
            "between",
            "Keine Zeile mit Betrag hat ein Produkt oder Sachkonto außerhalb der Stammdaten",
            column="unknown_reference_with_money",
            min_value=0,
            max_value=0,
            show=("file_name", "unknown_reference_with_money"),
        ),
        Rule(
            "no_unknown_reference_zero_amount",
            "reference_zero_amount",
            "between",
            "Keine Zeile (Betrag 0) hat ein Produkt oder Sachkonto außerhalb der Stammdaten",
            column="unknown_reference_zero_amount",
            min_value=0,
            max_value=0,
            show=("file_name", "unknown_reference_zero_amount"),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Reconciliation gate (after dbt)


def reconciliation_checks(month: str) -> list[Check]:
    start, _ = month_bounds(month)
    gate = "reconciliation"
    diff = Check(
        gate,
        "fct_reconciliation",
        """
        select product_id, account_id, payments_amount, ledger_amount, difference
        from marts.fct_reconciliation where month = $month_start
        order by product_id, account_id
        """,
        {"month_start": start},
        (
            # The ledger is the truth for money: case-software bookings must match to the cent.
            Rule(
                "reconciliation_difference_zero",
                "reconciliation",
                "between",
                "Fallsoftware und Finanzbuchhaltung stimmen je Produkt und Konto auf den Cent",
                column="difference",
                min_value=0,
                max_value=0,
                show=("product_id", "account_id", "payments_amount", "ledger_amount", "difference"),
            ),
        ),
    )
    # Fortgeschriebener Ansatz in the marts vs the plan file, per product × account (a full
    # join, so a line missing on either side shows up); equal lines imply equal totals.
    plan = Check(
        gate,
        "current_appropriation",
        """
        with plan as (
          select produkt as product_id, sachkonto as account_id,
            sum(ansatz + coalesce(nachtrag, 0) + coalesce(uebertragung, 0)) as plan_amount
          from raw.haushaltsplan where jahr = $year group by all
        ),
        mart as (
          select product_id, account_id, sum(current_appropriation) as mart_amount
          from marts.fct_budget_execution where month = $month_start group by all
        )
        select coalesce(p.product_id, m.product_id) as product_id,
          coalesce(p.account_id, m.account_id) as account_id,
          coalesce(p.plan_amount, 0) as plan_amount,
          coalesce(m.mart_amount, 0) as mart_amount,
          coalesce(p.plan_amount, 0) = coalesce(m.mart_amount, 0)
            as current_appropriation_matches_plan
        from plan p full join mart m
          on p.product_id = m.product_id and p.account_id = m.account_id
        order by 1, 2
        """,
        {"year": start.year, "month_start": start},
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
    # A rate over nothing must not be published as a number.
    zero = Check(
        gate,
        "fct_indicator_values",
        """
        select indicator_id, social_space_id, numerator, denominator, value, value_status
        from marts.fct_indicator_values where month = $month_start
        order by indicator_id, social_space_id
        """,
        {"month_start": start},
        (
            Rule(
                "no_value_with_zero_denominator",
                "denominator_zero",
                "null",
                "Kein Kennzahlwert bei Nenner 0",
                column="value",
                row_condition="denominator == 0",
                show=("indicator_id", "social_space_id", "denominator", "value"),
            ),
        ),
    )
    return [diff, plan, zero]


# ---------------------------------------------------------------------------------------------
# Mart gate (before reports)


def _bound(value: float | None, open_end: str) -> str:
    return open_end if value is None else f"{value:g}"


def _unit_slug(unit: str) -> str:
    return {"%": "percent", "€": "euro"}.get(unit, unit.lower().replace(" ", "_"))


def mart_checks(month: str, config: GateConfig) -> list[Check]:
    start, _ = month_bounds(month)
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
        select v.indicator_id, v.social_space_id, i.unit, v.value, v.value_status
        from marts.fct_indicator_values v join marts.dim_indicator i using (indicator_id)
        where v.month = $month_start
        order by v.indicator_id, v.social_space_id
        """,
        {"month_start": start},
        tuple(ranges),
    )
    return [values, _completeness_check(gate, start), _traffic_light_check(gate, start, config)]


def _completeness_check(gate: str, start: date) -> Check:
    # Every catalogue indicator has a GESAMT row, and one per social space if it is broken down
    # by social space; a row without a value must say why (value_status).
    sql = """
        with expected as (
          select indicator_id, 'GESAMT' as social_space_id from marts.dim_indicator
          union
          select i.indicator_id, s.social_space_id
          from marts.dim_indicator i cross join marts.dim_social_space s
          where i.per_social_space
        ),
        actual as (select * from marts.fct_indicator_values where month = $month_start)
        select e.indicator_id, e.social_space_id, a.value, a.value_status,
          a.indicator_id is not null as indicator_row_present,
          case when a.indicator_id is not null
            then a.value is not null or coalesce(a.value_status, 'ok') <> 'ok' end
            as missing_value_explained
        from expected e left join actual a
          on a.indicator_id = e.indicator_id and a.social_space_id = e.social_space_id
        order by e.indicator_id, e.social_space_id
    """
    show = ("indicator_id", "social_space_id", "value", "value_status")
    rules = (
        Rule(
            "indicator_row_present",
            "indicator_complete",
            "true",
            "Jede Kennzahl des Katalogs ist für GESAMT und jeden Sozialraum vorhanden",
            column="indicator_row_present",
            show=("indicator_id", "social_space_id"),
        ),
        Rule(
            "missing_value_explained",
            "indicator_complete",
            "true",
            "Fehlender Kennzahlwert ist durch value_status erklärt",
            column="missing_value_explained",
            show=show,
        ),
        Rule(
            "value_status_in_codes",
            "indicator_complete",
            "in_set",
            f"value_status enthält nur Codes der Liste ({', '.join(VALUE_STATUSES)})",
            column="value_status",
            value_set=VALUE_STATUSES,
            show=show,
        ),
    )
    return Check(gate, "indicator_completeness", sql, {"month_start": start}, rules)


def _traffic_light_check(gate: str, start: date, config: GateConfig) -> Check:
    # shortfall = how far the value misses the target in the bad direction (<= 0: target met);
    # margin = the yellow zone, a share of the target (or of the band edge that was missed).
    # The yellow/red edge gets a tiny tolerance (margin is a float product); "met" is exact.
    # Lights are decided on the value as printed (display_value), like the mart's.
    sql = """
        with base as (
          select v.indicator_id, v.social_space_id, i.direction, v.display_value as value,
            v.target_value,
            v.target_band_low, v.target_band_high, v.attainment_ratio, v.traffic_light,
            case
              when v.display_value is null then null
              when i.direction = 'higher' then v.target_value - v.display_value
              when i.direction = 'lower' then v.display_value - v.target_value
              when i.direction = 'band'
                and (v.target_band_low is not null or v.target_band_high is not null)
                then greatest(coalesce(v.target_band_low - v.display_value, 0),
                              coalesce(v.display_value - v.target_band_high, 0))
            end as shortfall,
            $yellow * abs(case
              when i.direction in ('higher', 'lower') then v.target_value
              when v.display_value < v.target_band_low then v.target_band_low
              else v.target_band_high end) as margin
          from marts.fct_indicator_values v join marts.dim_indicator i using (indicator_id)
          where v.month = $month_start
        )
        select *,
          case when shortfall is null then null
            when shortfall <= 0 then 'green'
            when shortfall <= margin then 'yellow'
            else 'red' end as expected_traffic_light,
          case
            when shortfall is null then traffic_light is null
            when traffic_light = 'green' then shortfall <= 0
            when traffic_light = 'yellow' then shortfall > 0 and shortfall <= margin + 1e-9
            when traffic_light = 'red' then shortfall > 0 and shortfall >= margin - 1e-9
            else false
          end as traffic_light_consistent,
          case when direction in ('higher', 'lower') and shortfall is not null
              and attainment_ratio is not null
            then (attainment_ratio >= 1) = (shortfall <= 0) end as attainment_consistent
        from base
        order by indicator_id, social_space_id
    """
    show = (
        "indicator_id",
        "social_space_id",
        "direction",
        "value",
        "target_value",
        "traffic_light",
        "expected_traffic_light",
    )
    rules = (
        Rule(
            "traffic_light_in_codes",
            "traffic_light",
            "in_set",
            "Ampel ist green, yellow, red oder leer",
            column="traffic_light",
            value_set=TRAFFIC_LIGHTS,
            show=show,
        ),
        Rule(
            "traffic_light_consistent",
            "traffic_light",
            "true",
            f"Ampel passt zu Richtung, Zielwert und Wert (gelb: Ziel um höchstens "
            f"{config.yellow_tolerance:.0%} verfehlt)",
            column="traffic_light_consistent",
            show=show,
        ),
        Rule(
            "attainment_consistent",
            "traffic_light",
            "true",
            "Zielerreichung ≥ 1 genau dann, wenn das Ziel erreicht ist",
            column="attainment_consistent",
            show=(
                "indicator_id",
                "social_space_id",
                "direction",
                "value",
                "target_value",
                "attainment_ratio",
            ),
        ),
    )
    params = {"month_start": start, "yellow": config.yellow_tolerance}
    return Check(gate, "traffic_lights", sql, params, rules)
