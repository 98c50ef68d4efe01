"""The hand-written two-month raw fixture of the dbt tests (tests/test_dbt_models.py describes
it person by person), shared by the DuckDB and the PostgreSQL tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb

PERSON_COLS = (
    "stichtag, person_id, fall_id, geburtsjahr, altersgruppe, geschlecht, staatsangehoerigkeit, "
    "aufenthaltsstatus, status_seit, zuzugsdatum, rechtskreis, leistungsform, unterbringung, "
    "unterkunft_id, sozialraum, fallmanagement, fallmanager_id, period_month, load_id"
)
JAN, FEB = "2025-01-31", "2025-02-28"
P1 = (
    "P1",
    "F1",
    1990,
    "27-44",
    "m",
    "SYR",
    "GESTATTUNG",
    "2023-06-15",
    "2023-06-15",
    "ASYLBLG",
    "GRUND",
    "GU",
    "GU-01",
    "SR01",
    True,
    "CM1",
)
P2 = (
    "P2",
    "F2",
    2000,
    "18-26",
    "w",
    "AFG",
    "DULDUNG",
    "2024-10-01",
    "2024-10-01",
    "ASYLBLG",
    "GRUND",
    "DEZENTRAL",
    "WE-001",
    "SR01",
    False,
    None,
)
P3 = (
    "P3",
    "F3",
    1985,
    "27-44",
    "m",
    "SYR",
    "ERLAUBNIS",
    "2024-10-10",
    "2022-01-01",
    "SGB2",
    None,
    "PRIVAT",
    None,
    "SR02",
    True,
    "CM1",
)
P4 = (
    "P4",
    "F4",
    1970,
    "45-64",
    "w",
    "IRQ",
    "ERLAUBNIS",
    "2020-05-01",
    "2021-01-01",
    "KEINER",
    None,
    "PRIVAT",
    None,
    None,
    False,
    None,
)
P5 = (
    "P5",
    "F5",
    2010,
    "6-17",
    "m",
    "TUR",
    "ERLAUBNIS",
    "2024-10-20",
    "2024-06-01",
    "ASYLBLG",
    "ANALOG",
    "GU",
    "GU-02",
    "SR02",
    False,
    None,
)
P5_FEB = P5[:9] + ("SGB2", None, "PRIVAT", None, "SR02", False, None)
P6 = (
    "P6",
    "F6",
    1995,
    "27-44",
    "x",
    "ERI",
    "GESTATTUNG",
    "2025-02-01",
    "2025-02-01",
    "ASYLBLG",
    "GRUND",
    "GU",
    "GU-03",
    "SR03",
    False,
    None,
)


def _person_rows() -> list[tuple]:
    rows = [(JAN, *p, "2025-01-01", "L-P-01") for p in (P1, P2, P3, P4, P5)]
    rows += [(FEB, *p, "2025-02-01", "L-P-02") for p in (P1, P3, P4, P5_FEB, P6)]
    return rows


BOTH_MONTHS = ("2025-01", "2025-02")


def fill_raw(con: duckdb.DuckDBPyConnection, months: tuple[str, ...] = BOTH_MONTHS) -> None:
    """Insert the fixture's monthly files of `months` ('YYYY-MM'); the yearly plan always."""
    fill_monthly(con, months)
    con.executemany(
        "insert into raw.haushaltsplan (jahr, produkt, sachkonto, ansatz, nachtrag,"
        " uebertragung, profil) values (2025, ?, ?, ?, ?, ?, ?)",
        [
            ("31.30.01", "4331", "24000.00", "1200.00", None, "LINEAR"),
            ("31.30.01", "3481", "12000.00", None, None, "Q"),
            ("31.40.06", "4231", "28800.00", None, None, "JAN"),
        ],
    )


def fill_monthly(con: duckdb.DuckDBPyConnection, months: tuple[str, ...]) -> None:
    def keep(day: str) -> bool:
        return day[:7] in months

    con.executemany(
        f"insert into raw.personen ({PERSON_COLS}) values ({', '.join(['?'] * 19)})",
        [row for row in _person_rows() if keep(row[0])],
    )
    payments = [
        ("B1", "2025-01-05", "P1", "GL3", "1000.00", None, "SR01"),
        ("B2", "2025-01-06", "P2", "GL3", "500.00", None, "SR01"),
        ("B3", "2025-01-20", "P2", "GL3", "-500.00", "B2", "SR01"),
        ("B4", "2025-01-10", "P5", "AL2", "800.00", None, "SR02"),
        ("B5", "2025-02-05", "P1", "GL3", "1200.00", None, "SR01"),
        ("B6", "2025-02-07", None, "UK", "50.00", None, None),
    ]
    con.executemany(
        "insert into raw.asylblg_zahlungen (buchungs_id, buchungsdatum, leistung_von,"
        " leistung_bis, person_id, leistungsart, produkt, sachkonto, betrag, storno_von,"
        " sozialraum, period_month) values (?, ?, ?, ?, ?, ?, '31.30.01', '4331', ?, ?, ?,"
        " date_trunc('month', cast(? as date)))",
        [(b, d, d, d, p, t, a, s, sr, d) for b, d, p, t, a, s, sr in payments if keep(d)],
    )
    ledger = [
        ("2025-01-01", "31.30.01", "4331", "KST1", "1500.00"),
        ("2025-01-01", "31.30.01", "4331", "KST2", "300.00"),
        ("2025-01-01", "31.30.01", "3481", None, "1000.00"),
        ("2025-01-01", "31.40.06", "4231", None, "2400.00"),
        ("2025-02-01", "31.30.01", "4331", "KST1", "1200.00"),
        ("2025-02-01", "31.40.06", "4231", None, "2400.00"),
    ]
    con.executemany(
        "insert into raw.fibu_ist (periode, produkt, sachkonto, kostenstelle, betrag,"
        " period_month) values (?, ?, ?, ?, ?, ?)",
        [(*row, row[0]) for row in ledger if keep(row[0])],
    )
    for month, space in (("2025-01-01", "SR01"), ("2025-02-01", "SR02")):
        if keep(month):
            con.execute(
                "insert into raw.kurse (kurs_id, kursart, traeger, sozialraum, beginn, ende,"
                " ue_geplant, plaetze, period_month) values ('C1', 'INT_ALLG', 'VHS', ?,"
                " '2024-09-01', '2025-06-30', 700, 20, ?)",
                [space, month],
            )
    participations = [
        ("2025-01-01", "P1", "2025-01-10", None, "LAUFEND", None, None),
        ("2025-01-01", "P3", "2024-09-01", "2025-01-20", "ABGESCHLOSSEN", "B1", "2025-01-15"),
        ("2025-01-01", "P5", "2024-11-01", "2025-01-05", "ABGEBROCHEN", None, None),
        ("2025-02-01", "P1", "2025-01-10", None, "LAUFEND", None, None),
        ("2025-02-01", "P6", "2025-02-03", None, "LAUFEND", None, None),
        ("2025-02-01", "P1", "2024-12-01", None, "UNTERBROCHEN", None, None),
    ]
    con.executemany(
        "insert into raw.teilnahmen (period_month, kurs_id, person_id, eintritt, austritt,"
        " status, ue_besucht, pruefung, pruefungsdatum) values (?, 'C1', ?, ?, ?, ?, 100, ?, ?)",
        [row for row in participations if keep(row[0])],
    )


# Fourteen months before the fixture's January (2023-11 to 2024-12) for the PostgreSQL
# comparison (tests/test_postgres.py): enough history for every planning mart (a full
# 12-pair estimation window for the backtest, a December origin for the outlook) and for the
# cost allocation keys. Not used by the hand-computed DuckDB tests.
HISTORY_MONTHS = tuple(f"{2023 + (10 + i) // 12}-{(10 + i) % 12 + 1:02d}" for i in range(14))
H1 = ("H1", "F7", 1988, "27-44", "w", "SYR", "DULDUNG", "2023-01-01", "2023-01-01", "ASYLBLG",
      "GRUND", "GU", "GU-01", "SR01", True, "CM1")  # fmt: skip
H2_GU = ("H2", "F8", 1992, "27-44", "m", "AFG", "GESTATTUNG", "2023-03-01", "2023-03-01",
         "ASYLBLG", "GRUND", "GU", "GU-02", "SR02", False, None)  # fmt: skip
H2_FLAT = H2_GU[:6] + ("ERLAUBNIS", "2024-06-01", "2023-03-01", "SGB2", None, "DEZENTRAL",
                       "WE-002", "SR02", True, "CM1")  # fmt: skip
# Children in H1's case (Fall F7): Bedarfsstufen 6 and 4/5 of the AsylbLG rate index.
K1 = ("K1", "F7", 2015, "6-17", "m", "SYR", "DULDUNG", "2023-01-01", "2023-01-01", "ASYLBLG",
      "ANALOG", "GU", "GU-01", "SR01", False, None)  # fmt: skip
K2 = ("K2", "F7", 2022, "0-5", "w", "SYR", "DULDUNG", "2023-01-01", "2023-01-01", "ASYLBLG",
      "GRUND", "GU", "GU-01", "SR01", False, None)  # fmt: skip


def _arrival(i: int) -> tuple:
    day = f"{HISTORY_MONTHS[i]}-01"
    return (f"A{i:02d}", f"FA{i:02d}", 2001, "18-26", "m", "ERI", "GESTATTUNG", day, day,
            "ASYLBLG", "GRUND", "GU", "GU-03", "SR03", False, None)  # fmt: skip


def _history_persons(i: int) -> list[tuple]:
    """Month i of HISTORY_MONTHS: P1 throughout, H1 with K1 and K2 leave after i = 9, H2 moves
    from a GU to a flat at i = 7, P3 comes at i = 11, an arrival every other month stays three
    months."""
    persons = [P1]
    persons += [H1, K1, K2] if i <= 9 else []
    persons += [H2_GU] if 1 <= i <= 6 else [H2_FLAT] if i >= 7 else []
    persons += [P3] if i >= 11 else []
    persons += [_arrival(j) for j in range(0, 14, 2) if j <= i <= j + 2]
    return persons


def fill_history(con: duckdb.DuckDBPyConnection) -> None:
    """Insert HISTORY_MONTHS: 80 person rows and 42 ledger lines (per month: 31.30.01/4331
    growing by 123.45 a month; 100.01 on the GU-01 cost centre, split between two residence
    statuses, one cent left for the tie-break; 250.00 overhead keyed by the overhead rates)."""
    rows, ledger = [], []
    for i, month in enumerate(HISTORY_MONTHS):
        first = f"{month}-01"
        next_month = (date.fromisoformat(first).replace(day=28) + timedelta(days=4)).replace(day=1)
        stichtag = str(next_month - timedelta(days=1))
        rows += [(stichtag, *p, first, f"L-H-{i:02d}") for p in _history_persons(i)]
        ledger += [
            (first, "31.30.01", "4331", "KST1", f"{1000 + Decimal('123.45') * i:.2f}"),
            (first, "31.40.06", "4291", "531401", "100.01"),
            (first, "12.22.09", "4012", "322100", "250.00"),
        ]
    con.executemany(
        f"insert into raw.personen ({PERSON_COLS}) values ({', '.join(['?'] * 19)})", rows
    )
    con.executemany(
        "insert into raw.fibu_ist (periode, produkt, sachkonto, kostenstelle, betrag,"
        " period_month) values (?, ?, ?, ?, ?, ?)",
        [(*row, row[0]) for row in ledger],
    )
