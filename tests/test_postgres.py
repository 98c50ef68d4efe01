"""The same warehouse on PostgreSQL (docs/postgres.md): the hand-made fixture of
test_dbt_models.py is loaded into DuckDB as ingest does, copied to a throwaway PostgreSQL server
through the PostgreSQL ingest path (ingest/pg_writer.py), `dbt build` runs on both targets
(seeds, models with the planning models, data tests; the district models are not ported yet),
and every mart is compared row by row: money to the cent, rates to 1e-9, everything else
exactly. Fourteen months of history before the fixture (support.dbt_fixture.fill_history) give
the planning marts (backtest, outlook) and the cost allocation keys rows to compare."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
from support.compare import compare_marts, postgres_rows
from support.dbt_fixture import HISTORY_MONTHS, fill_history, fill_raw
from support.dbt_run import run_dbt

from ingest.pg_writer import copy_raw_tables, dbt_env
from ingest.warehouse import connect, ensure_schema

BUILD = ("build", "--exclude-resource-type", "unit_test")
# DuckDB's column types (information_schema) and PostgreSQL's (format_type) that are the same.
SAME_TYPE = {
    "VARCHAR": "character varying",
    "DECIMAL(18,2)": "numeric(18,2)",
    "DECIMAL(38,2)": "numeric(38,2)",
    "DECIMAL(12,2)": "numeric(12,2)",
    "DECIMAL(8,2)": "numeric(8,2)",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DATE": "date",
}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> tuple[Path, str]:
    """The fixture built on DuckDB and on PostgreSQL; (DuckDB file, PostgreSQL URL)."""
    tmp = tmp_path_factory.mktemp("both")
    warehouse = tmp / "kim.duckdb"
    with connect(warehouse) as duck:
        fill_raw(duck)
        fill_history(duck)
        with psycopg.connect(postgres_url) as pg:
            copied = copy_raw_tables(duck, pg)
    # The fixture's raw rows (test_dbt_models.py): persons 5 in January + 5 in February,
    # 6 payments, ledger 4 + 2 lines, 2 course lists, 6 participations, 3 plan lines; the
    # history: 80 person rows, 14 months x 3 ledger lines = 42.
    assert copied == {
        "raw.personen": 10 + 80,
        "raw.asylblg_zahlungen": 6,
        "raw.fibu_ist": 6 + 42,
        "raw.kurse": 2,
        "raw.teilnahmen": 6,
        "raw.haushaltsplan": 3,
        "raw.teilergebnisplan": 0,
    }
    run_dbt({"KIM_WAREHOUSE": str(warehouse)}, tmp / "duckdb", *BUILD)
    # On PostgreSQL with the dbt unit tests too: their hand-computed expectations hold there.
    pg_env = {"KIM_WAREHOUSE": str(warehouse), **dbt_env(postgres_url)}
    run_dbt(pg_env, tmp / "postgres", "build")
    return warehouse, postgres_url


PLANNING_MARTS = (
    "fct_budget_projection",
    "fct_budget_proposal",
    "fct_midyear_forecast",
    "fct_planning_backtest",
    "fct_planning_outlook",
    "fct_planning_years",
    "fct_projection_monthly",
    "fct_projection_resources",
)
KREIS_MARTS = (
    "fct_allocation_quota_monthly",
    "fct_housing_capacity_monthly",
    "fct_housing_capacity_outlook",
    "fct_municipality_indicators",
)
COST_MARTS = (
    "fct_cost_allocation_monthly",
    "fct_cost_per_person_monthly",
    "fct_social_space_budget",
    "fct_cost_of_results",
)


def test_marts_equal_on_duckdb_and_postgres(both: tuple[Path, str]) -> None:
    warehouse, url = both
    compared = compare_marts(warehouse, url)
    assert "fct_indicator_values" in compared and "fct_budget_execution" in compared
    assert not [mart for mart, rows in compared.items() if rows == 0]
    assert {*PLANNING_MARTS, *COST_MARTS, *KREIS_MARTS} <= compared.keys()


def test_dbt_env_from_url() -> None:
    env = dbt_env("postgresql://kim:geheim@db.example:5433/kim_kreis")
    assert env["KIM_PG_HOST"] == "db.example" and env["KIM_PG_PORT"] == "5433"
    assert (env["KIM_PG_USER"], env["KIM_PG_PASSWORD"]) == ("kim", "geheim")
    assert env["KIM_PG_DATABASE"] == "kim_kreis" and env["KIM_DBT_TARGET"] == "postgres"
    socket = dbt_env("postgresql://postgres:@/kim?host=/tmp/pg")
    assert socket["KIM_PG_HOST"] == "/tmp/pg" and socket["KIM_PG_PORT"] == "5432"


def test_mart_column_types_equal(both: tuple[Path, str]) -> None:
    """Every mart column has the same type on both (money DECIMAL(18,2), never a bare NUMERIC)."""
    warehouse, url = both
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        duck = con.execute(
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_schema = 'marts'"
        ).fetchall()
    finally:
        con.close()
    with psycopg.connect(url) as pg:
        pg_types = dict(
            ((table, column), kind)
            for table, column, kind in pg.execute(
                "select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
                " from pg_attribute a join pg_class c on c.oid = a.attrelid"
                " join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = 'marts' and a.attnum > 0 and not a.attisdropped"
            ).fetchall()
        )
    assert len(duck) == len(pg_types)
    different = [
        (t, c, k, pg_types.get((t, c))) for t, c, k in duck if SAME_TYPE[k] != pg_types.get((t, c))
    ]
    assert not different


def test_month_window_reads_run_window_on_postgres(both: tuple[Path, str], tmp_path: Path) -> None:
    """Without meta.run_window every month is built; with it (as a Dagster run writes it) only
    the window [2025-02-01, 2025-03-01): after emptying the mart, an incremental run of every
    incremental model rebuilds February only.
    Last in this file: it leaves fct_caseload_monthly with February alone."""
    warehouse, url = both
    _, rows = postgres_rows(url, "fct_caseload_monthly")
    history = {date.fromisoformat(f"{month}-01") for month in HISTORY_MONTHS}
    assert {row[0] for row in rows} == {*history, date(2025, 1, 1), date(2025, 2, 1)}
    with psycopg.connect(url) as pg:
        pg.execute("create schema if not exists meta")
        pg.execute(
            "create table meta.run_window as"
            " select date '2025-02-01' as min_month, date '2025-03-01' as max_month"
        )
        pg.execute("delete from marts.fct_caseload_monthly")
    env = {"KIM_WAREHOUSE": str(warehouse), **dbt_env(url)}
    try:
        # Every incremental model, a second time: also no column type may change (PostgreSQL
        # types a literal CASE as text, the first build's columns are varchar).
        run_dbt(
            env,
            tmp_path,
            "run",
            "--select",
            "config.materialized:incremental",
        )
    finally:
        with psycopg.connect(url) as pg:
            pg.execute("drop table meta.run_window")
    _, rows = postgres_rows(url, "fct_caseload_monthly")
    assert {row[0] for row in rows} == {date(2025, 2, 1)}


# Each portable macro on a literal, with its value computed by hand.
MACRO_CASES = {
    # -10 / 4 = -2.5: half away from zero -> -3; 10 / 4 = 2.5 -> 3; -4 / 3 = -1.33 -> -1.
    "round_div_neg_half": ("{{ round_div('-10', '4') }}", -3),
    "round_div_pos_half": ("{{ round_div('10', '4') }}", 3),
    "round_div_neg": ("{{ round_div('-4', '3') }}", -1),
    "int_div": ("{{ int_div('7', '2') }}", 3),  # 3.5 truncated
    # November 2024 -> February 2025: Dec, Jan, Feb = 3; within one month 0.
    "months_between": ("{{ months_between(\"date '2024-11-01'\", \"date '2025-02-01'\") }}", 3),
    "months_same": ("{{ months_between(\"date '2025-01-31'\", \"date '2025-01-01'\") }}", 0),
    "month_end_leap": ("cast({{ month_end(\"date '2024-02-10'\") }} as varchar)", "2024-02-29"),
    "year_of": ("{{ year_of(\"date '2025-03-01'\") }}", 2025),
    "month_of": ("{{ month_of(\"date '2025-03-01'\") }}", 3),
    "split_item": ("{{ split_item(\"'1|2|3'\", \"'|'\", '2') }}", "2"),
    "split_item_past_end": ("{{ split_item(\"'1|2|3'\", \"'|'\", '4') }}", None),
    # Of 5, 10, 30, 40: median (10 + 30) / 2 = 20; values > 7: 10, 30, 40 = 3.
    "median": ("(select {{ median('v') }} from sample)", 20),
    "count_if": ("(select {{ count_if('v > 7') }} from sample)", 3),
    # A NULL condition in every row counts 0 (DuckDB's own count_if said NULL).
    "count_if_all_null": ("(select {{ count_if('v > null') }} from sample)", 0),
    # 16772.14 is 16772.139999999999418… in binary, a quarter of it 4193.0349999…: below the
    # half, so 4193.03 (a 15-digit numeric would say 4193.035 and round up); -0.125 is exact:
    # half away from zero -> -0.13.
    "round_double_below_half": (
        "{{ round_double('cast(0.25 as double precision) * cast(16772.14 as double precision)',"
        " 2) }}",
        4193.03,
    ),
    "round_double_half": ("{{ round_double('cast(-0.125 as double precision)', 2) }}", -0.13),
    # 30 November + 3 months: 30 February does not exist -> the month's last day.
    "months_interval": (
        "cast(cast(date '2024-11-30' + {{ months_interval('3') }} as date) as varchar)",
        "2025-02-28",
    ),
    "try_cast_number": ("{{ try_cast_number(\"'1.5'\", 'double precision') }}", 1.5),
    "try_cast_empty": ("{{ try_cast_number(\"''\", 'integer') }}", None),
    "try_cast_text": ("{{ try_cast_number(\"'x'\", 'integer') }}", None),
    # Bytes: 'W' (0x57) before 'u' (0x75), whatever the server's collation.
    "binary_text": (
        "case when {{ binary_text(\"'W'\") }} < {{ binary_text(\"'u'\") }} then 1 else 0 end",
        1,
    ),
}


def _show(env: dict[str, str], target: Path) -> dict:
    columns = ", ".join(f"{sql} as {name}" for name, (sql, _) in MACRO_CASES.items())
    inline = (
        f"with sample as (select * from (values (5), (10), (30), (40)) as t (v)) select {columns}"
    )
    result = run_dbt(env, target, "show", "--inline", inline, "--output", "json", "--quiet")
    return json.loads(result.stdout)["show"][0]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_portable_macros(both: tuple[Path, str], tmp_path: Path, engine: str) -> None:
    warehouse, url = both
    env = {"KIM_WAREHOUSE": str(warehouse), **(dbt_env(url) if engine == "postgres" else {})}
    row = _show(env, tmp_path)
    assert {name: row[name] for name in MACRO_CASES} == {
        name: expected for name, (_, expected) in MACRO_CASES.items()
    }


def test_failed_copy_leaves_raw_tables_as_they_were(both: tuple[Path, str]) -> None:
    """An empty DuckDB would empty raw.personen, but the next table fails: all rolled back."""
    _, url = both
    empty = duckdb.connect()
    ensure_schema(empty)
    with psycopg.connect(url) as pg, pytest.raises(duckdb.CatalogException):
        copy_raw_tables(empty, pg, tables=("raw.personen", "raw.fehlt"))
    with psycopg.connect(url) as pg:
        assert pg.execute("select count(*) from raw.personen").fetchone() == (10 + 80,)
