"""Planning (issue 13) on a tiny hand-written warehouse: the projection, the money that follows
it, the proposal, the scenario order and the rates of each year.

Fixture (three months 2025-01 to 2025-03, every person alone in a household, adult, Grundleistung,
social space SR01). States: S1 = GESTATTUNG | ASYLBLG | GU, S2 = ERLAUBNIS | SGB2 | DEZENTRAL.

  2025-01: A1 A2 A3 A4 in S1
  2025-02: A1 A2 in S1, A3 -> S2, A4 gone; B1 arrives in S1
  2025-03: A1 B1 in S1, A2 -> S2, A3 in S2; B2 arrives in S1, B3 in S2

Flows over the window (month pairs 02 and 03):
  S1 exposure = 4 (January) + 3 (February) = 7 person-months
  S1 -> S1: 2 + 2 = 4 -> p = 4/7;  S1 -> S2: 1 + 1 = 2 -> p = 2/7;  departures 1 -> d = 1/7
  S2 exposure = 1, S2 -> S2: 1 -> p = 1
  arrivals: 3 over 2 month pairs = 1.5 a month; mix S1 2/3, S2 1/3
Stock at the origin 2025-03: S1 = 3 (A1 B1 B2), S2 = 3 (A2 A3 B3).

Prices (reference.prices replaced by the test): GL3_BS1 400 € in 2025, 500 € in 2026. The mix is
all Bedarfsstufe 1 (single adults), so the rate index is GL3_BS1 of the year.
Ledger 31.30.01/4331: 1,600 (Jan: 4 AsylbLG persons × 400), 1,200 (Feb: 3), 1,200 (Mar: 3)
  -> cost per AsylbLG person-month at price 1 = (1600 + 1200 + 1200) / 400 / (4 + 3 + 3) = 1.
Ledger 31.30.01/3481 (the Land's yearly share): 100 in March (its amount does not matter: the
share is LAND_YEARLY_SHARE 0.25 × last year's AsylbLG expense, in June).
Plan 2025: 31.30.01/4331 Ansatz 15,000.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
from support.dbt_run import run_dbt_duckdb

from dagster_project.assets.warehouse import planning_dbt_args
from ingest.warehouse import connect

PERSON_COLS = (
    "stichtag, person_id, fall_id, geburtsjahr, altersgruppe, geschlecht, staatsangehoerigkeit, "
    "aufenthaltsstatus, status_seit, zuzugsdatum, rechtskreis, leistungsform, unterbringung, "
    "unterkunft_id, sozialraum, fallmanagement, fallmanager_id, period_month, load_id"
)
S1 = ("GESTATTUNG", "ASYLBLG", "GRUND", "GU", "GU-01")
S2 = ("ERLAUBNIS", "SGB2", None, "DEZENTRAL", "WE-001")
MONTHS = {"2025-01-31": "2025-01-01", "2025-02-28": "2025-02-01", "2025-03-31": "2025-03-01"}
STOCK = {
    "2025-01-31": {"A1": S1, "A2": S1, "A3": S1, "A4": S1},
    "2025-02-28": {"A1": S1, "A2": S1, "A3": S2, "B1": S1},
    "2025-03-31": {"A1": S1, "B1": S1, "A2": S2, "A3": S2, "B2": S1, "B3": S2},
}
KEY_S1 = "SR01|GESTATTUNG|ASYLBLG|GU"
KEY_S2 = "SR01|ERLAUBNIS|SGB2|DEZENTRAL"
CENT = Decimal("0.01")
LEDGER_4331 = ("1600.00", "1200.00", "1200.00")  # 4, 3, 3 AsylbLG persons × 400 €


def _person(day: str, person: str, state: tuple) -> tuple:
    status, law, form, housing, place = state
    return (
        day, person, f"F{person}", 1990, "27-44", "m", "SYR", status, "2024-12-01",
        "2024-12-01", law, form, housing, place, "SR01", False, None, MONTHS[day], f"L{day}",
    )  # fmt: skip


def fill_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany(
        f"insert into raw.personen ({PERSON_COLS}) values ({', '.join(['?'] * 19)})",
        [_person(day, p, s) for day, stock in STOCK.items() for p, s in stock.items()],
    )
    con.executemany(
        "insert into raw.fibu_ist (periode, produkt, sachkonto, kostenstelle, betrag,"
        " period_month) values (?, '31.30.01', '4331', 'KST1', ?, ?)",
        [(m, amount, m) for m, amount in zip(MONTHS.values(), LEDGER_4331, strict=True)],
    )
    con.execute(  # the Land's June share line: its driver, not this amount, projects it
        "insert into raw.fibu_ist (periode, produkt, sachkonto, kostenstelle, betrag,"
        " period_month) values ('2025-03-01', '31.30.01', '3481', 'KST1', 100.00, '2025-03-01')"
    )
    con.execute(
        "insert into raw.haushaltsplan (jahr, produkt, sachkonto, ansatz, nachtrag,"
        " uebertragung, profil) values (2025, '31.30.01', '4331', 15000.00, null, null, 'LINEAR')"
    )


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("planning")
    warehouse = tmp / "kim.duckdb"
    with connect(warehouse) as con:
        fill_raw(con)
    target = tmp / "target"
    # The upstream models, then the fixture's prices, then the planning asset's own dbt command
    # without the seeds it re-seeds (they would overwrite the fixture's prices).
    run_dbt_duckdb(warehouse, target, "build", "--select", "+tag:planning", "resource_type:seed",
         "--exclude", "tag:planning", "--indirect-selection", "cautious",
         "--exclude-resource-type", "unit_test")  # fmt: skip
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from reference.prices")
        con.execute(
            "insert into reference.prices values ('GL3_BS1', 2025, 400, 'x'),"
            " ('GL3_BS1', 2026, 500, 'x'), ('LAND_YEARLY_SHARE', 2025, 0.25, 'x')"
        )
    run_dbt_duckdb(warehouse, target, "build", "--select", "tag:planning",
         "--exclude-resource-type", "unit_test")  # fmt: skip
    return warehouse


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _s1(h: int, arrivals: Fraction = Fraction(3, 2)) -> Fraction:
    """Persons in S1 h months after the origin: S1(h + 1) = 4/7 S1(h) + 2/3 × arrivals."""
    value = Fraction(3)
    for _ in range(h):
        value = Fraction(4, 7) * value + Fraction(2, 3) * arrivals
    return value


def _cents(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, ROUND_HALF_UP)


def test_planning_dbt_command_builds_the_tag_and_reseeds_its_seeds():
    args = planning_dbt_args()
    assert args[:3] == ["build", "--select", "tag:planning"]
    assert {"scenarios", "prices", "planning_drivers", "settings"} <= set(args)


def test_projection_after_two_months_by_hand(planned: Path) -> None:
    rows = _query(
        planned,
        "select strftime(month, '%Y-%m'), residence_status, persons"
        " from marts.fct_projection_monthly where scenario = 'basis' and month <= '2025-05-01'"
        " order by 1, 2",
    )
    # April: S1 = 3 × 4/7 + 1.5 × 2/3 = 12/7 + 1 = 19/7 = 2.714…
    #        S2 = 3 × 2/7 + 3 × 1 + 1.5 × 1/3 = 6/7 + 3.5 = 61/14 = 4.357…
    # May:   S1 = 19/7 × 4/7 + 1 = 125/49 = 2.551…
    #        S2 = 19/7 × 2/7 + 61/14 + 0.5 = 38/49 + 61/14 + 1/2 = 552/98 = 5.632…
    assert rows == [
        ("2025-04", "ERLAUBNIS", Decimal("4.36")),
        ("2025-04", "GESTATTUNG", Decimal("2.71")),
        ("2025-05", "ERLAUBNIS", Decimal("5.63")),
        ("2025-05", "GESTATTUNG", Decimal("2.55")),
    ]
    assert _s1(1) == Fraction(19, 7) and _s1(2) == Fraction(125, 49)
    exact = _query(
        planned,
        "select state_key, persons from intermediate.int_planning_projection"
        " where origin = '2025-03-01' and scenario = 'basis' and month = '2025-05-01'"
        " and not is_arrivals order by 1",
    )
    assert exact == [
        (KEY_S2, pytest.approx(552 / 98, abs=1e-12)),
        (KEY_S1, pytest.approx(125 / 49, abs=1e-12)),
    ]


def test_money_follows_the_asylblg_persons_at_each_years_rate(planned: Path) -> None:
    amounts = dict(
        _query(
            planned,
            "select strftime(month, '%Y-%m'), amount from marts.fct_budget_projection"
            " where scenario = 'basis' and product_id = '31.30.01' and account_id = '4331'",
        )
    )
    # AsylbLG persons = S1 (S2 is SGB II); amount = 1 × persons × GL3_BS1 of the year.
    assert amounts["2025-04"] == Decimal("1085.71")  # 19/7 × 400 = 1085.714…
    assert amounts["2025-05"] == Decimal("1020.41")  # 125/49 × 400 = 1020.408…
    # December 2025 (h = 9) at the 2025 rate, January 2026 (h = 10) at the 2026 rate.
    assert amounts["2025-12"] == _cents(_s1(9) * 400)
    assert amounts["2026-01"] == _cents(_s1(10) * 500)
    assert amounts["2026-01"] != _cents(_s1(10) * 400)


def test_proposal_is_the_sum_of_its_months_to_the_cent(planned: Path) -> None:
    rows = _query(
        planned,
        "select proposed_appropriation, prior_year_appropriation, prior_year_actual, change"
        " from marts.fct_budget_proposal"
        " where scenario = 'basis' and year = 2026 and product_id = '31.30.01'"
        " and account_id = '4331'",
    )
    months = _query(
        planned,
        "select sum(amount) from marts.fct_budget_projection where scenario = 'basis'"
        " and year(month) = 2026 and product_id = '31.30.01' and account_id = '4331'",
    )
    # 2026 = h 10 … 21 after March 2025, each month rounded to the cent, at 500 €.
    by_hand = sum(_cents(_s1(h) * 500) for h in range(10, 22))
    assert rows == [(by_hand, Decimal("15000.00"), Decimal("4000.00"), by_hand - 15000)]
    assert months == [(by_hand,)]
    # 2025 is not fully projected (January-March are actuals): no proposal.
    assert _query(planned, "select count(*) from marts.fct_budget_proposal where year = 2025") == [
        (0,)
    ]


def test_scenarios_keep_their_order_on_arrival_driven_figures(planned: Path) -> None:
    rows = _query(
        planned,
        "select scenario, sum(persons), sum(admissions) from marts.fct_projection_resources"
        " group by scenario",
    )
    persons = {s: p for s, p, _ in rows}
    admissions = {s: a for s, _, a in rows}
    assert persons["hoch"] > persons["basis"] > persons["niedrig"]
    # 36 months × 1.5 arrivals × 1.5 / 1 / 0.5
    assert admissions == {
        "hoch": Decimal("81.00"),
        "basis": Decimal("54.00"),
        "niedrig": Decimal("27.00"),
    }
    money = dict(
        _query(
            planned,
            "select scenario, proposed_appropriation from marts.fct_budget_proposal"
            " where year = 2027 and account_id = '4331'",
        )
    )
    assert money["hoch"] > money["basis"] > money["niedrig"]
    # hoch in April: S1 = 12/7 + 2.25 × 2/3 = 12/7 + 1.5 = 3.214… -> 3.21
    hoch_april = _query(
        planned,
        "select persons from marts.fct_projection_monthly where scenario = 'hoch'"
        " and month = '2025-04-01' and residence_status = 'GESTATTUNG'",
    )
    assert hoch_april == [(Decimal("3.21"),)]


def test_midyear_forecast_is_actual_to_date_plus_projected_remainder(planned: Path) -> None:
    rows = _query(
        planned,
        "select current_appropriation, actual_to_date, projected_remainder, forecast,"
        " expected_deviation from marts.fct_midyear_forecast where month = '2025-03-01'"
        " and scenario = 'basis' and product_id = '31.30.01' and account_id = '4331'",
    )
    actual = Decimal("4000.00")  # 1,600 + 1,200 + 1,200 booked January to March
    remainder = sum(_cents(_s1(h) * 400) for h in range(1, 10))  # April … December at 400 €
    assert rows == [
        (Decimal("15000.00"), actual, remainder, actual + remainder, actual + remainder - 15000)
    ]


def test_planning_workbook_formats_the_marts_reproducibly(planned: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from reports.planning import PlanningError, write_planning_workbook

    with duckdb.connect(str(planned), read_only=True) as con:
        first = write_planning_workbook(con, 2026, tmp_path / "a", ["basis", "hoch"])
        second = write_planning_workbook(con, 2026, tmp_path / "b", ["basis", "hoch"])
        with pytest.raises(PlanningError, match="Planjahr 2031"):
            write_planning_workbook(con, 2031, tmp_path / "c")
        with pytest.raises(PlanningError, match="Szenario extrem fehlt"):
            write_planning_workbook(con, 2026, tmp_path / "c", ["extrem"])
    assert first == tmp_path / "a" / "internal" / "plan" / "Planung_2026.xlsx"
    assert first.read_bytes() == second.read_bytes()
    book = load_workbook(first)
    assert book.sheetnames == ["Szenarien", "Produkte", "Ansatzvorschlag", "Monate", "Backtest"]
    sheet = book["Szenarien"]
    labels = {sheet.cell(row, 1).value: row for row in range(5, sheet.max_row + 1)}
    # Aufwand basis 2026 = the proposal of 31.30.01/4331 (the only expense line), by hand.
    by_hand = sum(_cents(_s1(h) * 500) for h in range(10, 22))
    assert sheet.cell(labels["Aufwand"], 2).value == pytest.approx(float(by_hand), abs=0.001)
    assert sheet.cell(4, 2).value == "basis" and sheet.cell(4, 3).value == "hoch"


def test_land_share_in_june_is_a_quarter_of_last_years_asylblg_expense(planned: Path) -> None:
    rows = _query(
        planned,
        "select strftime(month, '%Y-%m'), amount from marts.fct_budget_projection"
        " where scenario = 'basis' and product_id = '31.30.01' and account_id = '3481'"
        " order by 1",
    )
    # 2025: 4,000 actual (Jan-Mar) + April-December projected at 400 €; 2026: h 10-21 at 500 €.
    expense_2025 = Decimal("4000.00") + sum(_cents(_s1(h) * 400) for h in range(1, 10))
    expense_2026 = sum(_cents(_s1(h) * 500) for h in range(10, 22))
    quarter = Decimal("0.25")
    # June 2025 has no row: 2024 has no data. One row a year, in June.
    assert rows == [
        ("2026-06", (quarter * expense_2025).quantize(CENT, ROUND_HALF_UP)),
        ("2027-06", (quarter * expense_2026).quantize(CENT, ROUND_HALF_UP)),
    ]


def test_kim_plan_command_line():
    from dagster_project.cli import build_parser, cmd_plan

    args = build_parser().parse_args(["plan", "--year", "2027", "--scenario", "hoch"])
    assert (args.year, args.scenario, args.func) == (2027, ["hoch"], cmd_plan)
    assert build_parser().parse_args(["plan", "--year", "2027"]).scenario is None


def test_intermediates_left_in_marts_by_an_earlier_version_are_dropped(tmp_path: Path) -> None:
    """Readers of marts must not keep the person-level table an earlier version built there: the
    on-run-start hook of every dbt run drops marts.int_* whose model now lives in another schema,
    and nothing else."""
    warehouse = tmp_path / "kim.duckdb"
    with connect(warehouse) as con:
        con.execute("create schema if not exists marts")
        con.execute("create table marts.int_planning_person_months (month date, person_id text)")
        con.execute("create table marts.int_unknown_to_dbt (x integer)")
        con.execute("create table marts.fct_caseload_monthly (month date)")
    run_dbt_duckdb(warehouse, tmp_path / "target", "seed", "--select", "settings")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        left = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " order by table_name"
        ).fetchall()
    assert left == [("fct_caseload_monthly",), ("int_unknown_to_dbt",)]
