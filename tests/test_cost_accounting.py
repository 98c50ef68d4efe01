"""Cost accounting (issue 14): a hand-computed allocation on a tiny warehouse, and money
conservation on the generated sample of the suite's pipeline run.

Fixture: one month, January 2025; two collective accommodations, three social spaces.

persons 2025-01 (all GU, all ASYLBLG)
  A1 GU-01 SR01 GESTATTUNG case management     B1 GU-02 SR02 GESTATTUNG
  A2 GU-01 SR01 DULDUNG                        B2 GU-02 SR03 ERLAUBNIS case management
  A3 GU-01 SR02 GESTATTUNG case management     B3 GU-02 SR03 ERLAUBNIS
ledger 2025-01 (product, account, cost centre, amount)
  31.40.06 4291 531401 (GU-01)   1,000.00      31.30.01 4331 KST1        900.00
  31.40.06 4291 531402 (GU-02)     500.00      31.30.01 3481 531001      500.00 (revenue)
  31.40.06 4291 531403 (GU-03)     200.00      31.80.10 4012 531800  100,000.00 (case mgmt)
  27.10.01 4291 271000             200.00      12.22.09 4012 322100    1,000.00 (overhead)
payments 2025-01 (31.30.01 4331): A1 400.00 SR01, B2 300.00 SR03, one line without person 150.00
course C1 in SR03 with participants A1 and B3.
plan 2025: 31.40.06 4291 12,000.00 LINEAR.
February 2025 (results only, no ledger): A2 lives in flat WE-001 (SR01), K1 (SR02, arrived
2020, Rechtskreis KEINER) is in the stock, B3 completes C1 with B1 on 10.02.2025.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support.dbt_run import DBT_DIR, run_dbt_duckdb

from ingest.warehouse import connect

PERSON_COLS = (
    "stichtag, person_id, fall_id, geburtsjahr, altersgruppe, geschlecht, staatsangehoerigkeit,"
    " aufenthaltsstatus, status_seit, zuzugsdatum, rechtskreis, leistungsform, unterbringung,"
    " unterkunft_id, sozialraum, fallmanagement, fallmanager_id, period_month, load_id"
)
PERSONS = [  # id, status, accommodation, social space, case management
    ("A1", "GESTATTUNG", "GU-01", "SR01", True),
    ("A2", "DULDUNG", "GU-01", "SR01", False),
    ("A3", "GESTATTUNG", "GU-01", "SR02", True),
    ("B1", "GESTATTUNG", "GU-02", "SR02", False),
    ("B2", "ERLAUBNIS", "GU-02", "SR03", True),
    ("B3", "ERLAUBNIS", "GU-02", "SR03", False),
]
LEDGER = [
    ("31.40.06", "4291", "531401", "1000.00"),
    ("31.40.06", "4291", "531402", "500.00"),
    ("31.40.06", "4291", "531403", "200.00"),
    ("31.30.01", "4331", "KST1", "900.00"),
    ("31.30.01", "3481", "531001", "500.00"),
    ("31.80.10", "4012", "531800", "100000.00"),
    ("27.10.01", "4291", "271000", "200.00"),
    ("12.22.09", "4012", "322100", "1000.00"),
]


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    person_sql = f"insert into raw.personen ({PERSON_COLS}) values ({', '.join(['?'] * 19)})"
    con.executemany(
        person_sql,
        [
            ("2025-01-31", pid, "F" + pid, 1990, "27-44", "m", "SYR", status, "2024-01-01")
            + ("2024-01-01", "ASYLBLG", "GRUND", "GU", acc, space, cm, "CM1" if cm else None)
            + ("2025-01-01", "L-P-01")
            for pid, status, acc, space, cm in PERSONS
        ],
    )
    february = ("2025-02-01", "L-P-02")
    con.executemany(
        person_sql,
        [
            ("2025-02-28", "A2", "FA2", 1990, "27-44", "m", "SYR", "DULDUNG", "2024-01-01")
            + ("2024-01-01", "ASYLBLG", "GRUND", "DEZENTRAL", "WE-001", "SR01", False, None)
            + february,
            ("2025-02-28", "K1", "FK1", 1980, "45-64", "w", "SYR", "ERLAUBNIS", "2021-01-01")
            + ("2020-01-01", "KEINER", None, "PRIVAT", None, "SR02", False, None)
            + february,
        ],
    )
    con.executemany(
        "insert into raw.asylblg_zahlungen (buchungs_id, buchungsdatum, leistung_von,"
        " leistung_bis, person_id, leistungsart, produkt, sachkonto, betrag, storno_von,"
        " sozialraum, period_month) values (?, '2025-01-05', '2025-01-01', '2025-01-31', ?,"
        " 'GL3', '31.30.01', '4331', ?, null, ?, '2025-01-01')",
        [
            ("Z1", "A1", "400.00", "SR01"),
            ("Z2", "B2", "300.00", "SR03"),
            ("Z3", None, "150.00", None),
        ],
    )
    con.executemany(
        "insert into raw.fibu_ist (periode, produkt, sachkonto, kostenstelle, betrag,"
        " period_month) values ('2025-01-01', ?, ?, ?, ?, '2025-01-01')",
        LEDGER,
    )
    con.executemany(
        "insert into raw.kurse (kurs_id, kursart, traeger, sozialraum, beginn, ende, ue_geplant,"
        " plaetze, period_month) values ('C1', 'INT_ALLG', 'VHS', 'SR03', '2024-12-01',"
        " '2025-06-30', 700, 20, ?)",
        [("2025-01-01",), ("2025-02-01",)],
    )
    con.execute(
        "insert into raw.teilnahmen (period_month, kurs_id, person_id, eintritt, austritt,"
        " status, ue_besucht, pruefung, pruefungsdatum) values ('2025-02-01', 'C1', 'B3',"
        " '2024-12-01', '2025-02-10', 'ABGESCHLOSSEN', 700, 'B1', '2025-02-10')"
    )
    con.executemany(
        "insert into raw.teilnahmen (period_month, kurs_id, person_id, eintritt, austritt,"
        " status, ue_besucht, pruefung, pruefungsdatum) values ('2025-01-01', 'C1', ?,"
        " '2024-12-01', null, 'LAUFEND', 40, null, null)",
        [("A1",), ("B3",)],
    )
    con.execute(
        "insert into raw.haushaltsplan (jahr, produkt, sachkonto, ansatz, nachtrag, uebertragung,"
        " profil) values (2025, '31.40.06', '4291', '12000.00', null, null, 'LINEAR')"
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("costacc")
    warehouse = tmp / "kim.duckdb"
    with connect(warehouse) as con:
        _fill(con)
    run_dbt_duckdb(warehouse, tmp / "target", "build")  # the whole project and its tests
    return warehouse


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _by_space(warehouse: Path, cost_object: str) -> dict[str, Decimal]:
    rows = _query(
        warehouse,
        "select social_space_id, sum(amount) from marts.fct_cost_allocation_monthly"
        " where month = '2025-01-01' and cost_object = ? group by all",
        [cost_object],
    )
    return dict(rows)


def test_accommodation_by_residents_with_largest_remainder(built: Path) -> None:
    # GU-01 1,000.00 over A1 (SR01 GESTATTUNG), A2 (SR01 DULDUNG), A3 (SR02 GESTATTUNG): 100,000
    # cents / 3 = 33,333 rest 1 each; the one cent left goes to the first receiver in key order
    # (SR01, DULDUNG) -> 333.34 + 333.33 + 333.33.
    # GU-02 500.00 over B1 (SR02, weight 1) and B2+B3 (SR03 ERLAUBNIS, weight 2): 50,000 x 1 / 3
    # = 16,666 rest 2; 50,000 x 2 / 3 = 33,333 rest 1; the cent left goes to the larger remainder
    # (SR02) -> 166.67 and 333.33.
    # GU-03 (cost centre 531403) has no residents: 200.00 nicht_zurechenbar.
    assert _by_space(built, "unterbringung") == {
        "SR01": Decimal("666.67"),  # 333.34 + 333.33
        "SR02": Decimal("500.00"),  # 333.33 + 166.67
        "SR03": Decimal("333.33"),
        "nicht_zurechenbar": Decimal("200.00"),
    }
    rows = _query(
        built,
        "select residence_status, amount_cents from intermediate.int_cost_allocation_monthly"
        " where cost_centre = '531401' and social_space_id = 'SR01' order by 1",
    )
    assert rows == [("DULDUNG", 33334), ("GESTATTUNG", 33333)]


def test_benefits_staff_courses_and_overhead(built: Path) -> None:
    # Payments: A1 400.00 -> SR01, B2 300.00 -> SR03; the ledger's 900.00 minus 700.00 = 200.00
    # (the line without person and the difference) nicht_zurechenbar. The revenue 3481 (cost
    # centre 531001, key keine) 500.00 nicht_zurechenbar too.
    assert _by_space(built, "leistungen") == {
        "SR01": Decimal("400.00"),
        "SR03": Decimal("300.00"),
        "nicht_zurechenbar": Decimal("700.00"),  # 200.00 + 500.00
    }
    # Staff: 14.00 FTE (staff_fte, FALLMANAGEMENT 2025-01) x 6,450.00 (prices PERSONNEL_COST_PER_FTE
    # 2025) = 90,300.00 of the ledger's 100,000.00, over A1, A3, B2: 30,100.00 each; the other
    # 9,700.00 nicht_zurechenbar.
    assert _by_space(built, "personal") == {
        "SR01": Decimal("30100.00"),
        "SR02": Decimal("30100.00"),
        "SR03": Decimal("30100.00"),
        "nicht_zurechenbar": Decimal("9700.00"),
    }
    # Courses: 200.00 over the two participations of C1, both in the course's social space SR03.
    assert _by_space(built, "kurse") == {"SR03": Decimal("200.00")}
    # Overhead pool 1,000.00, weights = sum of rate x attributed cents per receiver (rates per
    # 10,000: leistungen 200, unterbringung 500, personal 1,500, kurse 500):
    #   R1 SR01 DULDUNG      33,334 x 500                                    =    16,667,000
    #   R2 SR01 GESTATTUNG   33,333 x 500 + 40,000 x 200 + 3,010,000 x 1,500 = 4,539,666,500
    #   R3 SR02 GESTATTUNG   50,000 x 500 + 3,010,000 x 1,500                = 4,540,000,000
    #   R4 SR03 ERLAUBNIS    33,333 x 500 + 30,000 x 200 + 3,010,000 x 1,500
    #                        + 10,000 x 500                                  = 4,542,666,500
    #   R5 SR03 GESTATTUNG   10,000 x 500 (A1's course in SR03)              =     5,000,000
    #   W = 13,644,000,000; floors of 100,000 x w / W: 122, 33,272, 33,274, 33,294, 36 = 99,998;
    #   largest remainders R3 (9,544,000,000) and R5 (8,816,000,000) get one cent each.
    assert _by_space(built, "gemeinkosten") == {
        "SR01": Decimal("333.94"),  # 122 + 33,272 cents
        "SR02": Decimal("332.75"),  # 33,275
        "SR03": Decimal("333.31"),  # 33,294 + 37
    }


def test_allocation_adds_up_to_the_ledger_per_cell(built: Path) -> None:
    allocated = dict(
        (f"{p} {a}", amount)
        for p, a, amount in _query(
            built,
            "select product_id, account_id, sum(amount) from marts.fct_cost_allocation_monthly"
            " group by all",
        )
    )
    assert allocated == {
        "31.40.06 4291": Decimal("1700.00"),  # 1,000 + 500 + 200
        "31.30.01 4331": Decimal("900.00"),
        "31.30.01 3481": Decimal("500.00"),
        "31.80.10 4012": Decimal("100000.00"),
        "27.10.01 4291": Decimal("200.00"),
        "12.22.09 4012": Decimal("1000.00"),
    }


def test_cost_per_person(built: Path) -> None:
    rows = _query(
        built,
        "select social_space_id, residence_status, housing, cost_object, persons, amount,"
        " amount_per_person from marts.fct_cost_per_person_monthly"
        " where month = '2025-01-01' and (social_space_id, residence_status, housing) in"
        " (('GESAMT', 'GESAMT', 'GESAMT'), ('SR02', 'GESAMT', 'GU'))"
        " and cost_object in ('gesamt', 'personal') order by 1, 4",
    )
    # City-wide expenses attributed: 1,500.00 accommodation + 700.00 benefits + 90,300.00 staff
    # + 200.00 courses + 1,000.00 overhead = 93,700.00 for 6 persons = 15,616.666... -> 15,616.67.
    # SR02 (A3, B1): 333.33 + 166.67 + 30,100.00 + 332.75 = 30,932.75 / 2 = 15,466.375
    # -> 15,466.38 (half away from zero); staff 30,100.00 / 2 = 15,050.00.
    assert rows == [
        ("GESAMT", "GESAMT", "GESAMT", "gesamt", 6, Decimal("93700.00"), Decimal("15616.67")),
        ("GESAMT", "GESAMT", "GESAMT", "personal", 6, Decimal("90300.00"), Decimal("15050.00")),
        ("SR02", "GESAMT", "GU", "gesamt", 2, Decimal("30932.75"), Decimal("15466.38")),
        ("SR02", "GESAMT", "GU", "personal", 2, Decimal("30100.00"), Decimal("15050.00")),
    ]


def test_social_space_budget(built: Path) -> None:
    rows = _query(
        built,
        "select appropriation, plan_to_date, actual_to_date, deviation_to_date, forecast,"
        " traffic_light from marts.fct_social_space_budget"
        " where month = '2025-01-01' and social_space_id = 'SR02' and product_id = '31.40.06'",
    )
    # Share of SR02 in 31.40.06 for 2025 (seed social_space_budget_shares): 0.2069.
    # Appropriation 12,000.00 x 0.2069 = 2,482.80; plan to date (LINEAR, January) 1,000.00 x
    # 0.2069 = 206.90. Actual: GU-01 333.33 + GU-02 166.67 = 500.00; deviation 293.10.
    # Forecast 500.00 x 12,000.00 / 1,000.00 = 6,000.00; overrun 6,000.00 - 2,482.80 > 5 % of
    # the appropriation -> red.
    assert rows == [
        (
            Decimal("2482.80"),
            Decimal("206.90"),
            Decimal("500.00"),
            Decimal("293.10"),
            Decimal("6000.00"),
            "red",
        )
    ]


def test_budget_lines_only_with_a_share_or_expenses(built: Path) -> None:
    spaces = _query(
        built,
        "select social_space_id from marts.fct_social_space_budget where month = '2025-01-01'"
        " and product_id = '31.40.06' order by 1",
    )
    # Shares 2025 for 31.40.06 > 0: SR02, SR04, SR05, SR06, SR08; SR01 and SR03 have a share
    # of 0 but GU expenses (GU-01, GU-02 residents); SR07 has neither.
    assert [s for (s,) in spaces] == ["SR01", "SR02", "SR03", "SR04", "SR05", "SR06", "SR08"]


def test_cost_of_results(built: Path) -> None:
    rows = _query(
        built,
        "select social_space_id, cost, independent_persons, b1_certificates, moves_to_flat,"
        " cost_per_independent_person, cost_per_b1_certificate, cost_per_move_to_flat"
        " from marts.fct_cost_of_results where month = '2025-02-01' order by social_space_id",
    )
    # 2025 as of February = January's attributed expenses (February has no ledger). Results:
    # K1 independent in February (arrived 2020 > 24 months, KEINER; SR02), B3's B1 in SR03 (the
    # course's social space), A2's move GU-01 -> WE-001 in SR01.
    # SR01: 333.34 + 333.33 + 400.00 + 30,100.00 + 333.94 = 31,500.61 per move.
    # SR02: 30,932.75 per independent person. SR03: 333.33 + 300.00 + 30,100.00 + 200.00
    # + 333.31 = 31,266.64 per B1 certificate. City: 93,700.00 per result of each kind.
    d = Decimal
    assert rows == [
        ("GESAMT", d("93700.00"), 1, 1, 1, d("93700.00"), d("93700.00"), d("93700.00")),
        ("SR01", d("31500.61"), 0, 0, 1, None, None, d("31500.61")),
        ("SR02", d("30932.75"), 1, 0, 0, d("30932.75"), None, None),
        ("SR03", d("31266.64"), 0, 1, 0, None, d("31266.64"), None),
    ]


def test_every_collective_accommodation_has_its_cost_centre() -> None:
    # The generator books GU operation on these cost centres, the cost accounting reads them:
    # one mapping (seed cost_centres.csv) for the six GUs of accommodation.csv.
    seeds = DBT_DIR / "seeds"
    with (seeds / "accommodation.csv").open(encoding="utf-8") as f:
        gus = {r["accommodation_id"] for r in csv.DictReader(f) if r["kind"] == "GU"}
    with (seeds / "cost_centres.csv").open(encoding="utf-8") as f:
        mapped = [r for r in csv.DictReader(f) if r["allocation_key"] == "unterkunft"]
    assert sorted(r["accommodation_id"] for r in mapped) == sorted(gus) == [
        "GU-01", "GU-02", "GU-03", "GU-04", "GU-05", "GU-06",
    ]  # fmt: skip
    assert {r["cost_object"] for r in mapped} == {"unterbringung"}


def test_sample_allocation_conserves_the_ledger(pipeline_run) -> None:
    """The generated sample of the suite's pipeline run: every month x product x account."""
    paths, _ = pipeline_run
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        cells = con.execute(
            "with ledger as (select month, product_id, account_id, sum(amount) as amount"
            " from staging.stg_finance__ledger_actuals group by all),"
            " allocated as (select month, product_id, account_id, sum(amount) as amount"
            " from marts.fct_cost_allocation_monthly group by all)"
            " select ledger.amount, allocated.amount from ledger"
            " full outer join allocated using (month, product_id, account_id)"
        ).fetchall()
        ledger_cells = con.execute(
            "select count(*) from (select distinct month, product_id, account_id"
            " from staging.stg_finance__ledger_actuals)"
        ).fetchone()[0]
        centres = con.execute(
            "select count(distinct cost_centre) from staging.stg_finance__ledger_actuals"
            " where product_id = '31.40.06' and account_id = '4291'"
        ).fetchone()[0]
    finally:
        con.close()
    # Every ledger cell is compared and the allocation adds no cell of its own (three months of
    # at least ten product x account pairs: payments, personnel, GU, rents, courses, revenues).
    assert len(cells) == ledger_cells >= 30
    assert [(a, b) for a, b in cells if a != b] == []
    # The GU operation lines carry one cost centre per open collective accommodation (GU-01 to
    # GU-04 and GU-06 are open in 2023-11..2024-01 per the seed accommodation.csv; GU-05 opens
    # 2024-04).
    assert centres == 5
