"""Read the marts for the reports: periods, and one sorted query per table shown.

Every query sorts explicitly (DuckDB and polars do not guarantee row order), so the same
warehouse always gives byte-identical files. Nothing here reads the clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import duckdb
import polars as pl

from kim_settings import MONTH_NAMES, deployment_mode, month_label

CITY = "GESAMT"


@dataclass(frozen=True)
class Area:
    """How the reports name the whole deployment: a city or a district (kim_settings'
    deployment_mode), so that a district is never called "Stadt"."""

    name: str  # Stadt / Landkreis
    of: str  # genitive: "Kennzahlen der Stadt"
    whole: str  # "gesamte Stadt"

    @property
    def total(self) -> str:
        return f"{self.name} gesamt"


CITY_AREA = Area("Stadt", "der Stadt", "gesamte Stadt")
DISTRICT_AREA = Area("Landkreis", "des Landkreises", "gesamter Landkreis")


def area() -> Area:
    return DISTRICT_AREA if deployment_mode() == "kreis" else CITY_AREA


UNKNOWN_SPACE = "unbekannt"


class PeriodError(ValueError):
    """A period string that is neither 'YYYY', 'YYYY-Qn' nor 'YYYY-MM'."""


@dataclass(frozen=True)
class Period:
    """A report period: its label and first and last month (first day of the month)."""

    label: str
    first_month: date
    last_month: date

    @property
    def stand(self) -> date:
        """Data status (Stand): the last day of the period's last month."""
        return month_end(self.last_month)

    @property
    def title(self) -> str:
        """German name of the period, e.g. 'Juli bis September 2026'."""
        if self.first_month == self.last_month:
            return month_label(self.last_month)
        first = MONTH_NAMES[self.first_month.month - 1]
        return f"{first} bis {month_label(self.last_month)}"


def parse_period(text: str) -> Period:
    """'2025' → the year, '2026-Q3' → the quarter, '2026-10' → one month."""
    if match := re.fullmatch(r"(\d{4})", text):
        year = int(match[1])
        return Period(text, date(year, 1, 1), date(year, 12, 1))
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, quarter = int(match[1]), int(match[2])
        return Period(text, date(year, 3 * quarter - 2, 1), date(year, 3 * quarter, 1))
    if match := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text):
        first = date(int(match[1]), int(match[2]), 1)
        return Period(text, first, first)
    raise PeriodError(f"period {text!r}: expected 'YYYY', 'YYYY-Qn' or 'YYYY-MM'")


def parse_month(text: str) -> date:
    """'2026-10' → date(2026, 10, 1)."""
    period = parse_period(text)
    if period.first_month != period.last_month:
        raise PeriodError(f"month {text!r}: expected 'YYYY-MM'")
    return period.first_month


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def short_month_label(month: date) -> str:
    return f"{month.month:02d}/{month.year % 100:02d}"


def german_date(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run a query and return the whole result as a polars frame."""
    return con.sql(sql, params=params or []).pl()


# Social spaces in seed order, then `unbekannt`, then the city total.
SPACE_ORDER_SQL = f"""
    case when social_space_id = '{CITY}' then 2
         when social_space_id = '{UNKNOWN_SPACE}' then 1 else 0 end, social_space_id
"""


class SettingError(LookupError):
    """A setting missing from reference.settings (the seed dbt/seeds/settings.csv)."""


def setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The value of one row of reference.settings (seed settings.csv), as text."""
    rows = con.execute("select value from reference.settings where setting = ?", [name]).fetchall()
    if len(rows) != 1 or rows[0][0] is None:
        raise SettingError(
            f"reference.settings (dbt/seeds/settings.csv): Einstellung {name!r} fehlt"
        )
    return rows[0][0]


def traffic_light_tolerance(con: duckdb.DuckDBPyConnection) -> Decimal:
    """Indicator traffic light: yellow = target missed by at most this share of the target.

    The same seed row the dbt models and the mart gate decide the lights with; report texts
    stating the rule take it from here."""
    return Decimal(setting(con, "traffic_light_tolerance"))


def indicators(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return query(con, "select * from marts.dim_indicator order by sort_order, indicator_id")


def social_spaces(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The social spaces with their names, `unbekannt` last (without the city total)."""
    return query(
        con,
        f"select social_space_id, name from marts.dim_social_space order by {SPACE_ORDER_SQL}",
    )


def indicator_values(
    con: duckdb.DuckDBPyConnection, first_month: date, last_month: date, *, city_only: bool
) -> pl.DataFrame:
    """Indicator values with their catalogue attributes, months first..last inclusive."""
    where = f"and v.social_space_id = '{CITY}'" if city_only else ""
    return query(
        con,
        f"""
        select v.month, v.indicator_id, i.name, i.unit, i.field_of_action, i.level,
               i.counts_persons, i.per_social_space, i.min_denominator, i.direction,
               v.social_space_id,
               coalesce(s.name, case when v.social_space_id = '{CITY}' then '{area().total}'
                                     else v.social_space_id end) as social_space_name,
               v.numerator, v.denominator, v.value, v.target_value, v.target_band_low,
               v.target_band_high, v.attainment_ratio, v.traffic_light, v.value_status
        from marts.fct_indicator_values as v
        join marts.dim_indicator as i using (indicator_id)
        left join marts.dim_social_space as s using (social_space_id)
        where v.month >= ? and v.month <= ? {where}
        order by i.sort_order, v.indicator_id, v.month,
                 case when v.social_space_id = '{CITY}' then 2
                      when v.social_space_id = '{UNKNOWN_SPACE}' then 1 else 0 end,
                 v.social_space_id
        """,
        [first_month, last_month],
    )


def budget_products(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Per product of the month: appropriations, to-date figures, forecast, traffic light."""
    return query(
        con,
        """
        select b.budget_unit, b.product_id, p.title, p.field_of_action,
               b.net_appropriation, b.expense_appropriation, b.revenue_appropriation,
               b.plan_to_date_net, b.net_burden_to_date, b.deviation_to_date,
               b.deviation_to_date_ratio, b.forecast_net, b.expected_deviation,
               b.revenue_to_date, b.expense_to_date, b.coverage_ratio, b.traffic_light
        from marts.fct_budget_product_monthly as b
        left join marts.dim_product as p using (product_id)
        where b.month = ?
        order by b.budget_unit, b.product_id
        """,
        [month],
    )


def budget_unit_totals(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Per Teilhaushalt of the month: the sums over its products (the product set of K13/K14)."""
    return query(
        con,
        """
        select budget_unit, net_appropriation, expense_appropriation, revenue_appropriation,
               plan_to_date_net, net_burden_to_date, deviation_to_date, deviation_to_date_ratio,
               forecast_net, expected_deviation, revenue_to_date, expense_to_date,
               coverage_ratio, is_partial_year, is_ledger_complete, traffic_light
        from marts.fct_budget_unit_monthly
        where month = ?
        order by budget_unit
        """,
        [month],
    )


def budget_accounts(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Per product × account of the month (the Konten sheet)."""
    return query(
        con,
        """
        select e.product_id, p.title as product_title, e.account_id,
               a.title as account_title, e.account_kind,
               e.original_appropriation, e.supplementary, e.carried_over,
               e.current_appropriation, e.plan_to_date, e.actual_month, e.actual_to_date,
               e.deviation_to_date, e.deviation_to_date_ratio, e.exhaustion_ratio,
               e.forecast, e.forecast_method, e.expected_deviation
        from marts.fct_budget_execution as e
        left join marts.dim_product as p using (product_id)
        left join marts.dim_account as a using (account_id)
        where e.month = ?
        order by e.product_id, e.account_id
        """,
        [month],
    )


MIDYEAR_SCENARIO = "basis"  # the scenario of the mid-year forecast in the controlling workbook


def midyear_forecast(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame | None:
    """Per product × account: the planning mart's forecast to year end (scenario basis) beside
    the run-rate/caseload Hochrechnung of fct_budget_execution. None when the planning models
    were not built (the monthly run builds them when its window holds a June)."""
    if not _has_mart(con, "fct_midyear_forecast"):
        return None
    return query(
        con,
        """
        select f.product_id, p.title as product_title, f.account_id,
               a.title as account_title, f.account_kind, f.current_appropriation,
               f.actual_to_date, f.projected_remainder, f.forecast, f.expected_deviation,
               e.forecast as run_rate_forecast
        from marts.fct_midyear_forecast as f
        left join marts.dim_product as p using (product_id)
        left join marts.dim_account as a using (account_id)
        left join marts.fct_budget_execution as e
            on e.month = f.month and e.product_id = f.product_id and e.account_id = f.account_id
        where f.month = ? and f.scenario = ?
        order by f.product_id, f.account_id
        """,
        [month, MIDYEAR_SCENARIO],
    )


def _has_mart(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'marts' and table_name = ?",
            [name],
        ).fetchall()[0][0]
    )


def planning_outlook(con: duckdb.DuckDBPyConnection, december: date) -> pl.DataFrame:
    """The outlook from `december` (fct_planning_outlook), scenarios in seed order; empty when
    the planning models were not built or `december` is not a December with data."""
    if not _has_mart(con, "fct_planning_outlook"):
        return pl.DataFrame()
    return query(
        con,
        """
        select o.*
        from marts.fct_planning_outlook as o
        inner join (select scenario, min(rowid) as seed_order from reference.scenarios
                    group by scenario) as s using (scenario)
        where o.origin = ?
        order by s.seed_order, o.month
        """,
        [december],
    )


def budget_cumulative(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Plan and actual net to date of all products, per month of the year up to `month`."""
    return query(
        con,
        """
        select month, sum(plan_to_date_net) as plan_to_date_net,
               sum(net_burden_to_date) as net_burden_to_date
        from marts.fct_budget_product_monthly
        where month >= ? and month <= ?
        group by month
        order by month
        """,
        [month.replace(month=1), month],
    )


def caseload_by_status(
    con: duckdb.DuckDBPyConnection, first_month: date, last_month: date
) -> pl.DataFrame:
    """Persons per month and residence status (all social spaces)."""
    return query(
        con,
        """
        select month, residence_status, sum(persons)::bigint as persons
        from marts.fct_caseload_monthly
        where month >= ? and month <= ?
        group by month, residence_status
        order by month, residence_status
        """,
        [first_month, last_month],
    )


def caseload_by_space_status(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Persons per social space and residence status in one month."""
    return query(
        con,
        f"""
        select social_space_id, residence_status, sum(persons)::bigint as persons
        from marts.fct_caseload_monthly
        where month = ?
        group by social_space_id, residence_status
        order by {SPACE_ORDER_SQL}, residence_status
        """,
        [month],
    )


def reconciliation(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """AsylbLG bookings against the ledger, months of the year up to `month`."""
    return query(
        con,
        """
        select month, product_id, account_id, payments_amount, ledger_amount, difference,
               is_reconciled
        from marts.fct_reconciliation
        where month >= ? and month <= ?
        order by month, product_id, account_id
        """,
        [month.replace(month=1), month],
    )
