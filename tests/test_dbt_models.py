"""The dbt project on a tiny hand-written warehouse: build green, hand-computed mart values,
and a month-by-month incremental build equal to a full refresh.

Fixture (two months, 2025-01 and 2025-02):

persons 2025-01 (Stichtag 31.01.2025)
  P1 SR01 ASYLBLG GU        arrival 2023-06-15  GESTATTUNG           case management
  P2 SR01 ASYLBLG DEZENTRAL arrival 2024-10-01  DULDUNG
  P3 SR02 SGB2    PRIVAT    arrival 2022-01-01  ERLAUBNIS 2024-10-10 case management
  P4 ---- KEINER  PRIVAT    arrival 2021-01-01  ERLAUBNIS 2020-05-01 (no social space)
  P5 SR02 ASYLBLG GU        arrival 2024-06-01  ERLAUBNIS 2024-10-20
persons 2025-02: P1 and P3 unchanged, P4 unchanged, P5 now SGB2 (PRIVAT), P6 new (SR03, ASYLBLG,
  GU, arrival 2025-02-01); P2 has left.
courses: C1 in SR01 in the January list, in SR02 in the February list (a later snapshot differs);
  the February list also reports a participation of P1 with an earlier Eintritt (01.12.2024).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support.dbt_fixture import fill_monthly, fill_raw
from support.dbt_run import DBT_DIR, run_dbt_duckdb

from dagster_project.assets.warehouse import dbt_build_args, reference_selection, write_run_window
from ingest.warehouse import connect
from reports.formatting import format_cell, indicator_kind

SEEDS = DBT_DIR / "seeds"
MARTS = (
    "fct_caseload_monthly",
    "fct_asylblg_payments_monthly",
    "fct_budget_execution",
    "fct_budget_product_monthly",
    "fct_budget_unit_monthly",
    "fct_reconciliation",
    "fct_indicator_values",
    "fct_course_outcomes",
    "dim_month",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dbt")
    warehouse = tmp / "kim.duckdb"
    with connect(warehouse) as con:
        fill_raw(con)
    run_dbt_duckdb(warehouse, tmp / "target", "build")  # seeds, models, data tests and unit tests
    return warehouse


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _indicator(warehouse: Path, month: str, indicator: str, space: str = "GESAMT") -> tuple:
    rows = _query(
        warehouse,
        "select numerator, denominator, value, value_status, traffic_light"
        " from marts.fct_indicator_values"
        " where month = ? and indicator_id = ? and social_space_id = ?",
        [month, indicator, space],
    )
    assert len(rows) == 1
    return rows[0]


def _seed_sum(name: str, column: str, **match: str) -> int:
    with (SEEDS / name).open(encoding="utf-8") as f:
        return sum(
            int(r[column]) for r in csv.DictReader(f) if all(r[k] == v for k, v in match.items())
        )


def test_person_indicators(built: Path) -> None:
    # K01: P1, P2, P5 in January (two in SR01); P1, P6 in February.
    assert _indicator(built, "2025-01-01", "K01")[:4] == (Decimal(3), Decimal(1), 3.0, "ok")
    assert _indicator(built, "2025-01-01", "K01", "SR01")[2] == 2.0
    assert _indicator(built, "2025-01-01", "K01", "unbekannt")[2] == 0.0
    assert _indicator(built, "2025-02-01", "K01")[2] == 2.0
    # K06 SR01 in January: P2 (DEZENTRAL) of P1, P2 = 50 %, below the minimum denominator 10.
    assert _indicator(built, "2025-01-01", "K06", "SR01")[:4] == (
        Decimal(1),
        Decimal(2),
        50.0,
        "below_min_denominator",
    )
    # K06 city-wide: P2, P3, P4 of five persons = 60 %.
    assert _indicator(built, "2025-01-01", "K06")[2] == 60.0
    # K11 needs the persons file of three months earlier (October 2024), which the fixture lacks.
    assert _indicator(built, "2025-01-01", "K11")[3] == "no_data"
    # K12 January: arrival before 31.01.2023 = P3, P4; KEINER = P4.
    assert _indicator(built, "2025-01-01", "K12")[2] == 50.0
    # K04 January: P1, P3 in case management / 14.00 FTE (staff seed, FALLMANAGEMENT 2025-01).
    k04 = _indicator(built, "2025-01-01", "K04")
    assert k04[:2] == (Decimal(2), Decimal("14.00"))
    assert k04[2] == pytest.approx(2 / 14)


def test_budget_indicators(built: Path) -> None:
    # K05 January: 1,500 + 300 (4331 of 31.30.01) / 3 persons.
    assert _indicator(built, "2025-01-01", "K05")[:3] == (Decimal(1800), Decimal(3), 600.0)
    # K13 January: (1,800 + 2,400 - 1,000) / inhabitants 2025 of all social spaces.
    inhabitants = _seed_sum("social_space_inhabitants.csv", "inhabitants", year="2025")
    k13 = _indicator(built, "2025-01-01", "K13")
    assert k13[:2] == (Decimal(3200), Decimal(inhabitants))
    # K14 February, year to date: 1,000 / (1,800 + 2,400 + 1,200 + 2,400).
    assert _indicator(built, "2025-02-01", "K14")[2] == pytest.approx(100 * 1000 / 7800)


def test_k13_target_pro_rata_and_teilhaushalt_total(built: Path) -> None:
    # K13's yearly target 2025 (targets seed) is compared pro rata: February = second month with
    # data in 2025 -> target x 2 / 12.
    yearly = _seed_sum("targets.csv", "target_value", indicator_id="K13", year="2025")
    rows = _query(
        built,
        "select month, target_value from marts.fct_indicator_values"
        " where indicator_id = 'K13' and social_space_id = 'GESAMT' order by month",
    )
    assert rows == [
        (date(2025, 1, 1), round(yearly * 1 / 12, 2)),
        (date(2025, 2, 1), round(yearly * 2 / 12, 2)),
    ]
    # K13's numerator is the Teilhaushalt's net burden to date in the budget mart (same products):
    # January 1,800 + 2,400 - 1,000 = 3,200; February 3,200 + 1,200 + 2,400 = 6,800.
    totals = _query(
        built,
        "select u.month, u.net_burden_to_date, v.numerator"
        " from marts.fct_budget_unit_monthly as u"
        " join marts.fct_indicator_values as v"
        "   on v.month = u.month and v.indicator_id = 'K13' and v.social_space_id = 'GESAMT'"
        " order by u.month",
    )
    assert totals == [
        (date(2025, 1, 1), Decimal("3200.00"), Decimal("3200.00")),
        (date(2025, 2, 1), Decimal("6800.00"), Decimal("6800.00")),
    ]


def test_traffic_lights_use_the_printed_value(built: Path) -> None:
    # The mart rounds exactly as the reports print: every value's text equals its display_value's.
    rows = _query(
        built,
        "select i.unit, v.value, v.display_value from marts.fct_indicator_values as v"
        " join marts.dim_indicator as i using (indicator_id) where v.value is not null",
    )
    assert rows
    for unit, value, shown in rows:
        kind = indicator_kind(unit)
        assert format_cell(shown, kind) == format_cell(value, kind), (unit, value, shown)


def test_course_indicators(built: Path) -> None:
    # K03 by the course's social space SR01: P1 entered in January. The February list moves C1
    # to SR02: P6's February entry counts there, January stays with SR01 (point in time).
    assert _indicator(built, "2025-01-01", "K03", "SR01")[2] == 1.0
    assert _indicator(built, "2025-01-01", "K03", "SR02")[2] == 0.0
    assert _indicator(built, "2025-02-01", "K03", "SR02")[2] == 1.0
    assert _indicator(built, "2025-02-01", "K03", "SR01")[2] == 0.0
    # K08 January: P1 is the only first participation starting in January; the February list's
    # earlier Eintritt of P1 (01.12.2024) does not change January (snapshots up to the month).
    days = (date(2025, 1, 10) - date(2023, 6, 15)).days
    assert _indicator(built, "2025-01-01", "K08")[:3] == (Decimal(days), Decimal(1), float(days))
    # K08 February: P6 arrived 01.02., entered 03.02. -> 2 days; P1 is not new.
    assert _indicator(built, "2025-02-01", "K08")[:3] == (Decimal(2), Decimal(1), 2.0)
    # K10 February (12-month window, state as of February): P5 dropped out, P3 completed.
    assert _indicator(built, "2025-02-01", "K10")[:3] == (Decimal(1), Decimal(2), 50.0)
    assert _indicator(built, "2025-02-01", "K09")[2] == 100.0


def test_reconciliation_and_budget(built: Path) -> None:
    rows = _query(
        built,
        "select month, payments_amount, ledger_amount, difference, is_reconciled"
        " from marts.fct_reconciliation order by month",
    )
    # January: 1,000 + 500 - 500 + 800 = 1,800 = ledger; February: 1,250 vs 1,200.
    assert rows == [
        (date(2025, 1, 1), Decimal("1800.00"), Decimal("1800.00"), Decimal("0.00"), True),
        (date(2025, 2, 1), Decimal("1250.00"), Decimal("1200.00"), Decimal("50.00"), False),
    ]
    line = _query(
        built,
        "select current_appropriation, plan_month, plan_to_date, actual_to_date,"
        " forecast_run_rate, forecast, forecast_method from marts.fct_budget_execution"
        " where month = '2025-02-01' and product_id = '31.30.01' and account_id = '4331'",
    )
    # 24,000 + 1,200 = 25,200; linear 2,100 a month; actual 3,000 -> run rate 3,000 x 12 / 2.
    assert line == [
        (
            Decimal("25200.00"),
            Decimal("2100.00"),
            Decimal("4200.00"),
            Decimal("3000.00"),
            Decimal("18000.00"),
            Decimal("18000.00"),
            "run_rate",
        )
    ]
    product = _query(
        built,
        "select net_appropriation, net_burden_to_date, coverage_ratio, traffic_light"
        " from marts.fct_budget_product_monthly"
        " where month = '2025-01-01' and product_id = '31.30.01'",
    )
    # Net appropriation 25,200 - 12,000; Jan forecast 1,800 x 12 - 1,000 x 4 = 17,600 -> red.
    assert product == [(Decimal("13200.00"), Decimal("800.00"), pytest.approx(1000 / 1800), "red")]


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    return {m: sorted(_query(warehouse, f"select * from marts.{m}"), key=repr) for m in MARTS}


def test_month_by_month_equals_full_rebuild(built: Path, tmp_path: Path) -> None:
    # As in production: January's files arrive and are built; then February's files arrive and
    # only February is built incrementally, with the pipeline's own arguments (window table,
    # reference part left out). The history must equal the full build over both months,
    # although February's snapshots differ (C1 moves to SR02, P1's earlier Eintritt).
    warehouse = tmp_path / "kim.duckdb"
    with connect(warehouse) as con:
        fill_raw(con, ("2025-01",))
    target = tmp_path / "target"
    run_dbt_duckdb(warehouse, target, "build", "--exclude-resource-type", "unit_test")
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    with connect(warehouse) as con:
        fill_monthly(con, ("2025-02",))
        write_run_window(con, ["2025-02"])
    # what dagster-dbt runs for warehouse_dbt: its arguments plus the asset's selection
    excluded = " ".join(["source:*", *reference_selection(manifest)])
    run_dbt_duckdb(warehouse, target, *dbt_build_args(), "--exclude", excluded)
    assert _snapshot(warehouse) == _snapshot(built)

    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ran = {r["unique_id"].split(".")[0] + "." + r["unique_id"].split(".")[2] for r in results}
    # Seeds, views and the dimensions from seeds are current: not rebuilt. dim_month reads the
    # data: rebuilt. The relationships tests from the facts to the dimensions still run.
    assert not {"seed.settings", "model.stg_case_software__persons", "model.dim_product"} & ran
    assert {"model.fct_indicator_values", "model.dim_month"} <= ran
    assert any(u.startswith("test.relationships_fct_caseload_monthly") for u in ran)
    # The facts' data tests test the window only (February), the dimensions' the whole table.
    compiled = target / "compiled" / "kim" / "models" / "marts" / "_marts__models.yml"
    fact_test = (compiled / "not_null_fct_reconciliation_month.sql").read_text(encoding="utf-8")
    assert "month >= date '2025-02-01'" in fact_test
    assert "month < date '2025-03-01'" in fact_test
    dim_test = (compiled / "not_null_dim_month_month.sql").read_text(encoding="utf-8")
    assert "2025-02-01" not in dim_test
    # The contract's tests on the raw sources (generated) are the raw gates' job in a run: left
    # out. Compiled with the window, they test it too: a monthly table by its period_month, the
    # yearly plan whole; an explicit `where:` (the condition of a conditionally required column)
    # is kept beside the window.
    assert not any(u.startswith(("test.raw_", "test.source_")) for u in ran)
    with connect(warehouse) as con:
        write_run_window(con, ["2025-02"])
    run_dbt_duckdb(warehouse, target, "compile", "--select", "source:raw")
    sources = target / "compiled" / "kim" / "models" / "staging" / "_raw__sources.yml"
    persons_key = (sources / "raw_personen_unique_key.sql").read_text(encoding="utf-8")
    assert "period_month >= date '2025-02-01'" in persons_key
    assert "period_month < date '2025-03-01'" in persons_key
    plan_key = (sources / "raw_haushaltsplan_unique_key.sql").read_text(encoding="utf-8")
    assert "2025-02-01" not in plan_key
    benefit_form = (sources / "source_not_null_raw_personen_leistungsform.sql").read_text("utf-8")
    assert "period_month >= date '2025-02-01'" in benefit_form
    assert "rechtskreis in ('ASYLBLG')" in benefit_form
