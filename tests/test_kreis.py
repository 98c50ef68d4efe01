"""A district and its municipalities (issue 15): the Gemeinde column of the persons contract,
the allocation quota and the municipality comparison (the dbt models' SQL rendered on tiny
hand-made tables), the small-area rule of a municipality's workbook, and city mode unchanged.

The models are rendered with Jinja (`ref` = the table's name, the project's macros included)
and run on an in-memory DuckDB: the SQL under test is the model file itself, no dbt build.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import jinja2
import openpyxl
import pytest

from ingest.contracts import PERSONEN
from ingest.generator import generate
from ingest.generator.kreis import SEED_FOLDER, generate_kreis
from ingest.readers import read_csv
from ingest.validate import Context, validate
from kim_settings import deployment_mode
from reports.kreis import (
    SMALL_AREA_MARK,
    council_tables,
    district_config,
    municipality_path,
    register_council_cells,
    write_municipality_workbook,
)
from reports.suppression import SuppressionRegistry

DBT = Path(__file__).resolve().parent.parent / "dbt"
MACROS = (
    "safe_ratio.sql", "traffic_light.sql", "accommodation.sql", "portable/add_months.sql",
    "portable/months_between.sql", "portable/month_end.sql", "portable/year_of.sql",
)  # fmt: skip
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
ALL_MONTHS = ("1900-01-01", "2999-01-01")  # dbt_project.yml's default window: every month


class Adapter:
    """dbt's `adapter` as the kreis models use it: dispatch to the DuckDB (else default) macro,
    and `get_relation` for the tables that exist (`relations`: schema.identifier)."""

    def __init__(self, relations: tuple[str, ...]) -> None:
        self.relations = relations
        self.module = None

    def dispatch(self, name: str):
        return getattr(self.module, f"duckdb__{name}", None) or getattr(
            self.module, f"default__{name}"
        )

    def get_relation(self, database: str, schema: str, identifier: str) -> str | None:
        del database
        name = f"{schema}.{identifier}"
        return name if name in self.relations else None


def render(
    model: str,
    *,
    window: tuple[str, str] = ALL_MONTHS,
    incremental: bool = False,
    relations: tuple[str, ...] = (),
) -> str:
    """The model's SQL with refs as plain table names and the project's macros defined; an
    incremental run reads `{{ this }}` from the table `this_table`."""
    macros = "".join((DBT / "macros" / m).read_text("utf-8") for m in MACROS)
    adapter = Adapter(relations)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals.update(
        ref=lambda name: name,
        config=lambda **_: "",
        adapter=adapter,
        execute=True,
        target=type("Target", (), {"database": "memory"}),
        # macros/month_window.sql, whose run_window reads meta.run_window: here the window given
        run_window=lambda: list(window),
        month_window=lambda column="month": (
            f"{column} >= date '{window[0]}' and {column} < date '{window[1]}'"
        ),
        is_incremental=lambda: incremental,
        this="this_table",
        **{"return": lambda value: value},
    )
    adapter.module = env.from_string(macros).module
    text = macros + (DBT / "models" / "kreis" / f"{model}.sql").read_text("utf-8")
    return env.from_string(text).render()


def create(con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: list[tuple]) -> None:
    con.execute(f"create table {table} ({columns})")
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        con.executemany(f"insert into {table} values ({marks})", rows)


# --- Contract: Gemeinde ------------------------------------------------------------------------

CITY_HEADER = ";".join(PERSONEN.column_names)
PERSON = (
    "31.01.2025;{id};F{id};01.01.1990;m;SYR;ERLAUBNIS;01.01.2024;01.06.2023;SGB2;;PRIVAT;;"
    "{space};N;"
)


def persons_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "personen_2025-01.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def context(mode: str) -> Context:
    return Context(
        period="2025-01",
        social_spaces=frozenset({"SA", "SB"}),
        accommodations=frozenset(),
        deployment_mode=mode,
        municipalities=frozenset({"08000001", "08000002"}),
        social_space_ags={"SA": "08000001", "SB": "08000002"},
    )


def checked(path: Path, mode: str):
    return validate(read_csv(path, PERSONEN).tables["personen"], context(mode), lambda c, v: v)


def test_city_file_without_gemeinde_passes_and_the_header_is_unchanged(tmp_path):
    # The city's header is the contract without the district-only column, as before.
    assert "Gemeinde" not in PERSONEN.column_names
    assert PERSONEN.all_column_names[-1] == "Gemeinde"
    path = persons_file(tmp_path, [CITY_HEADER, PERSON.format(id=1, space="SA")])
    result = checked(path, "city")
    assert result.problems == []
    assert result.good["Gemeinde"].to_list() == [None]


def test_district_requires_a_known_gemeinde_of_the_social_space(tmp_path):
    lines = [
        CITY_HEADER + ";Gemeinde",
        PERSON.format(id=1, space="SA") + ";08000001",  # line 2: fine
        PERSON.format(id=2, space="SA") + ";",  # line 3: empty in a district
        PERSON.format(id=3, space="SA") + ";08999999",  # line 4: no such municipality
        PERSON.format(id=4, space="SA") + ";08000002",  # line 5: SA belongs to 08000001
        PERSON.format(id=5, space="") + ";08000002",  # line 6: no social space: fine
    ]
    result = checked(persons_file(tmp_path, lines), "kreis")
    assert [(p.line, p.rule, p.column) for p in result.problems] == [
        (3, "required_missing", "Gemeinde"),
        (4, "unknown_municipality", "Gemeinde"),
        (5, "municipality_mismatch", "Gemeinde"),
    ]
    assert result.good["Gemeinde"].to_list() == ["08000001", "08000002"]
    # The same file in a city: an empty Gemeinde is allowed, the other rules still hold.
    city = checked(persons_file(tmp_path, lines), "city")
    assert [p.line for p in city.problems] == [4, 5]


# --- Allocation quota ----------------------------------------------------------------------------


@pytest.fixture
def quota_warehouse() -> duckdb.DuckDBPyConnection:
    """Municipality A (08000001, social space SA) and B (08000002, SB1 and SB2).

    Inhabitants 2024: SA 1,000; SB1 1,500; SB2 1,500 -> A 1,000, B 3,000: shares 0.25 / 0.75.
    (2026 has other numbers; months of 2025 use 2024, the latest year not after theirs.)
    January 2025 (the first data month): A p1, p2 in DEZENTRAL; B p3, p4 in DEZENTRAL, p5 in GU,
      p6 PRIVAT (GU and PRIVAT are not Anschlussunterbringung).
    February 2025: p1 stays (A); p2 has left; p3, p4 stay (B); p5 GU -> DEZENTRAL in B; p7 new
      in B; p8 new in A; p6 PRIVAT in B -> DEZENTRAL in A; p9 DEZENTRAL without municipality.
    """
    con = duckdb.connect()
    create(con, "int_months", "month date", [(JAN,), (FEB,)])
    create(con, "municipalities", "ags varchar, name varchar",
           [("08000001", "A-Dorf"), ("08000002", "B-Stadt")])  # fmt: skip
    spaces = [("SA", "A", "08000001"), ("SB1", "B1", "08000002"), ("SB2", "B2", "08000002")]
    create(con, "social_spaces", "social_space_id varchar, name varchar, ags varchar", spaces)
    create(
        con,
        "social_space_inhabitants",
        "social_space_id varchar, year integer, inhabitants integer",
        [("SA", 2024, 1000), ("SB1", 2024, 1500), ("SB2", 2024, 1500),
         ("SA", 2026, 5000), ("SB1", 2026, 1000), ("SB2", 2026, 1000)],
    )  # fmt: skip
    create(con, "allocation_payment_rates", "year integer, amount_per_person decimal(18,2)",
           [(2024, Decimal("137.03")), (2025, Decimal("139.08"))])  # fmt: skip
    jan = [("p1", "08000001", "DEZENTRAL"), ("p2", "08000001", "DEZENTRAL"),
           ("p3", "08000002", "DEZENTRAL"), ("p4", "08000002", "DEZENTRAL"),
           ("p5", "08000002", "GU"), ("p6", "08000002", "PRIVAT")]  # fmt: skip
    feb = [("p1", "08000001", "DEZENTRAL"), ("p3", "08000002", "DEZENTRAL"),
           ("p4", "08000002", "DEZENTRAL"), ("p5", "08000002", "DEZENTRAL"),
           ("p7", "08000002", "DEZENTRAL"), ("p8", "08000001", "DEZENTRAL"),
           ("p6", "08000001", "DEZENTRAL"), ("p9", None, "DEZENTRAL")]  # fmt: skip
    create(
        con,
        "int_person_months",
        "month date, person_id varchar, ags varchar, housing varchar",
        [(JAN, *p) for p in jan] + [(FEB, *p) for p in feb],
    )
    con.execute(
        f"create view int_municipality_population as {render('int_municipality_population')}"
    )
    return con


QUOTA_COLUMNS = (
    "persons_au, quota_target, balance, allocated, allocation_target, running_balance, "
    "payment_actual, payment_plan"
)


def test_quota_balance_per_municipality_by_hand(quota_warehouse):
    con = quota_warehouse
    rows = con.execute(
        f"select month, ags, {QUOTA_COLUMNS} from ({render('fct_allocation_quota_monthly')}) "
        "order by month, ags"
    ).fetchall()
    d = Decimal
    assert rows == [
        # January: stock A 2, B 2, district 4. Target A 4 × 0.25 = 1.00, B 4 × 0.75 = 3.00;
        # balance A +1.00, B −1.00. Opening month: allocated = stock, allocation target = quota
        # target, running balance = balance, no payments (paid before the data starts).
        (JAN, "08000001", 2, d("1.00"), d("1.00"), 2, d("1.00"), d("1.00"), d("0"), d("0")),
        (JAN, "08000002", 2, d("3.00"), d("-1.00"), 2, d("3.00"), d("-1.00"), d("0"), d("0")),
        (JAN, "GESAMT", 4, d("4.00"), d("0.00"), 4, d("4.00"), d("0.00"), d("0"), d("0")),
        # February: stock A p1, p8, p6 = 3; B p3, p4, p5, p7 = 4; district 7 (p9 has no
        # municipality). Target A 7 × 0.25 = 1.75, B 7 × 0.75 = 5.25; balance A +1.25, B −1.25.
        # Allocated A p8, p6 = 2; B p5, p7 = 2; district 4 -> targets A 1.00, B 3.00; running
        # balance A 1.00 + (2 − 1.00) = 2.00, B −1.00 + (2 − 3.00) = −2.00.
        # Payments 2025 at 139.08 €: actual 2 × 139.08 = 278.16 each; plan A 1 × 139.08,
        # B 3 × 139.08 = 417.24.
        (FEB, "08000001", 3, d("1.75"), d("1.25"), 2, d("1.00"), d("2.00"), d("278.16"),
         d("139.08")),
        (FEB, "08000002", 4, d("5.25"), d("-1.25"), 2, d("3.00"), d("-2.00"), d("278.16"),
         d("417.24")),
        (FEB, "GESAMT", 7, d("7.00"), d("0.00"), 4, d("4.00"), d("0.00"), d("556.32"),
         d("556.32")),
    ]  # fmt: skip


def quota_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(f"select * from ({sql}) order by month, ags").fetchall()


def test_a_one_month_quota_run_gives_the_rows_of_a_full_build(quota_warehouse):
    con = quota_warehouse
    full = quota_rows(con, render("fct_allocation_quota_monthly"))
    # The table after January's run; then February's run (window [Feb, Mar)) carries
    # January's running balance (A 1.00, B −1.00) from it.
    con.execute(f"create table this_table as {render('fct_allocation_quota_monthly')}")
    con.execute("delete from this_table where month = ?", [FEB])
    february = render(
        "fct_allocation_quota_monthly", window=("2025-02-01", "2025-03-01"), incremental=True
    )
    assert quota_rows(con, february) == [r for r in full if r[0] == FEB]
    # A correction of January (window [Jan, Feb)) recomputes January and every later month:
    # the running balance of February depends on January's.
    january = render(
        "fct_allocation_quota_monthly", window=("2025-01-01", "2025-02-01"), incremental=True
    )
    assert quota_rows(con, january) == full


def test_a_one_month_capacity_run_gives_the_rows_of_a_full_build(quota_warehouse):
    con = quota_warehouse
    create(con, "accommodation", "accommodation_id varchar, kind varchar, capacity integer, "
           "valid_from date, valid_to date, social_space_id varchar",
           [("U1", "GU", 10, JAN, None, "SA"),
            ("W1", "DEZENTRAL", 4, JAN, JAN, "SB1")])  # fmt: skip
    con.execute("alter table int_person_months add column accommodation_id varchar")
    con.execute("update int_person_months set accommodation_id = 'U1' where person_id = 'p1'")
    full = con.execute(
        f"select * from ({render('fct_housing_capacity_monthly')}) order by all"
    ).fetchall()
    february = render("fct_housing_capacity_monthly", window=("2025-02-01", "2025-03-01"))
    rows = con.execute(f"select * from ({february}) order by all").fetchall()
    # February: U1 10 places, p1 in it (A, GU 10/1/9); W1 closed at the end of January.
    assert (FEB, "08000001", "GU", 10, 1, 9) in rows
    assert (FEB, "08000002", "DEZENTRAL", 0, 0, 0) in rows
    assert rows == [r for r in full if r[0] == FEB]


# --- Capacity outlook ----------------------------------------------------------------------------

APR, MAY, JUN = date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)


@pytest.fixture
def outlook_warehouse() -> duckdb.DuckDBPyConnection:
    """GU places and occupancy, January to March 2025, horizon 3 months, history 12.

    A (SA): 10 places, occupied 4, 5, 7; B (SB): 20 places, occupied 12, 11, 10; district 30
    places, occupied 16, 16, 17. In March 6 persons of SA are in GU (one GU occupant of A has no
    social space), none of SB.
    """
    con = duckdb.connect()
    con.execute("create schema marts")
    create(con, "int_months", "month date", [(JAN,), (FEB,), (MAR,)])
    create(con, "settings", "setting varchar, value varchar",
           [("planning_horizon_months", "3"), ("planning_history_months", "12")])  # fmt: skip
    create(con, "social_spaces", "social_space_id varchar, ags varchar",
           [("SA", "08000001"), ("SB", "08000002")])  # fmt: skip
    occupied = {"08000001": (4, 5, 7), "08000002": (12, 11, 10), "GESAMT": (16, 16, 17)}
    places = {"08000001": 10, "08000002": 20, "GESAMT": 30}
    create(
        con,
        "fct_housing_capacity_monthly",
        "month date, ags varchar, kind varchar, places bigint, occupied bigint",
        [
            (month, ags, "GU", places[ags], occupied[ags][i])
            for ags in occupied
            for i, month in enumerate((JAN, FEB, MAR))
        ],
    )
    create(con, "int_person_months", "month date, person_id varchar, social_space_id varchar, "
           "housing varchar",
           [(MAR, f"p{i}", "SA", "GU") for i in range(6)]
           + [(MAR, "q", "SB", "PRIVAT")])  # fmt: skip
    return con


def outlook(con: duckdb.DuckDBPyConnection, **kwargs) -> dict:
    sql = render("fct_housing_capacity_outlook", **kwargs)
    rows = con.execute(
        f"select month, ags, method, projected_occupied, capacity_exhausted_from from ({sql}) "
        "where kind = 'GU' order by month, ags, horizon"
    ).fetchall()
    result: dict = {}
    for month, ags, method, projected, exhausted in rows:
        entry = result.setdefault((month, ags), [method, [], exhausted])
        entry[1].append(projected)
    return {key: (m, tuple(float(v) for v in p), e) for key, (m, p, e) in result.items()}


def test_outlook_by_trend_without_a_projection(outlook_warehouse):
    rows = outlook(outlook_warehouse)
    # January, the first data month: no history, the occupancy is held (A 4 of 10 places).
    assert rows[(JAN, "08000001")] == ("trend", (4.0, 4.0, 4.0, 4.0), None)
    # March: k = min(12, 2 months since January) = 2.
    # A: (7 − 4) / 2 = 1.5 a month: 7, 8.5, 10, 11.5; 10 does not exceed 10 places, 11.5 in June
    # does: exhausted from June.
    assert rows[(MAR, "08000001")] == ("trend", (7.0, 8.5, 10.0, 11.5), JUN)
    # B: (10 − 12) / 2 = −1: 10, 9, 8, 7 of 20 places: not within the horizon.
    assert rows[(MAR, "08000002")] == ("trend", (10.0, 9.0, 8.0, 7.0), None)
    # District: (17 − 16) / 2 = 0.5: 17, 17.5, 18, 18.5 of 30.
    assert rows[(MAR, "GESAMT")] == ("trend", (17.0, 17.5, 18.0, 18.5), None)
    # February: k = 1; A (5 − 4) / 1 = 1: 5, 6, 7, 8.
    assert rows[(FEB, "08000001")] == ("trend", (5.0, 6.0, 7.0, 8.0), None)


def test_outlook_uses_the_projection_that_starts_from_the_report_month(outlook_warehouse):
    con = outlook_warehouse
    # The projection from March (first month April): SA in GU 8, 10.5, 12 persons (scenario
    # basis); scenario hoch and Unterbringung PRIVAT are not used.
    create(con, "marts.fct_projection_monthly", "last_actual_month date, scenario varchar, "
           "month date, social_space_id varchar, housing varchar, persons decimal(12, 2)",
           [(MAR, "basis", APR, "SA", "GU", Decimal("8")),
            (MAR, "basis", MAY, "SA", "GU", Decimal("10.5")),
            (MAR, "basis", JUN, "SA", "GU", Decimal("12")),
            (MAR, "hoch", APR, "SA", "GU", Decimal("99")),
            (MAR, "basis", APR, "SB", "PRIVAT", Decimal("5"))])  # fmt: skip
    rows = outlook(con, relations=("marts.fct_projection_monthly",))
    # A: occupied 7 + (projected − 6 persons in March): 7 + 2 = 9, 7 + 4.5 = 11.5 > 10 in May.
    assert rows[(MAR, "08000001")] == ("projection", (7.0, 9.0, 11.5, 13.0), MAY)
    # B: no projected GU persons and none in March: change 0, occupancy held at 10.
    assert rows[(MAR, "08000002")] == ("projection", (10.0, 10.0, 10.0, 10.0), None)
    # District: 17 + the same changes 2, 4.5, 6.
    assert rows[(MAR, "GESAMT")] == ("projection", (17.0, 19.0, 21.5, 23.0), None)
    # February is not the projection's origin: its outlook stays the trend.
    assert rows[(FEB, "08000001")] == ("trend", (5.0, 6.0, 7.0, 8.0), None)


# --- Municipality comparison and the municipality's workbook --------------------------------------


@pytest.fixture
def comparison_warehouse() -> duckdb.DuckDBPyConnection:
    """Municipalities A (SA), B (SB), C (SC1, SC2); small-area threshold 10.

    K01 (Anzahl, direction none): SA 25, SB 4, SC1 12, SC2 8 -> A 25, B 4, C 20; district
      (GESAMT, with 1 person of unknown social space) 50.
    K06 (%, higher): SA 10/40, SB 3/6, SC1 30/50, SC2 10/30 -> A 25 %, B 50 %, C 40/80 = 50 %.
    K08 (Tage, a median): does not add up over social spaces, not compared.
    """
    con = duckdb.connect()
    for schema in ("marts", "reference"):
        con.execute(f"create schema {schema}")
    create(con, "municipalities", "ags varchar, name varchar",
           [("08000001", "A-Dorf"), ("08000002", "B-Stadt"), ("08000003", "C-Heim")])  # fmt: skip
    create(con, "social_spaces", "social_space_id varchar, name varchar, ags varchar",
           [("SA", "A", "08000001"), ("SB", "B", "08000002"),
            ("SC1", "C1", "08000003"), ("SC2", "C2", "08000003")])  # fmt: skip
    create(con, "settings", "setting varchar, value varchar", [("small_area_threshold", "10")])
    create(
        con,
        "indicators",
        "indicator_id varchar, name varchar, unit varchar, direction varchar, "
        "per_social_space boolean, sort_order integer",
        [("K01", "Leistungsberechtigte", "Anzahl", "none", True, 1),
         ("K06", "Anteil dezentral", "%", "higher", True, 6),
         ("K08", "Wartezeit (Median)", "Tage", "lower", True, 8)],
    )  # fmt: skip
    values = [
        ("K01", "SA", 25, 1, 25.0), ("K01", "SB", 4, 1, 4.0), ("K01", "SC1", 12, 1, 12.0),
        ("K01", "SC2", 8, 1, 8.0), ("K01", "GESAMT", 50, 1, 50.0),
        ("K06", "SA", 10, 40, 25.0), ("K06", "SB", 3, 6, 50.0), ("K06", "SC1", 30, 50, 60.0),
        ("K06", "SC2", 10, 30, 33.3), ("K06", "GESAMT", 53, 126, 42.1),
        ("K08", "SA", 1, 1, 30.0), ("K08", "GESAMT", 1, 1, 30.0),
    ]  # fmt: skip
    create(
        con,
        "int_indicator_values_unioned",
        "month date, indicator_id varchar, social_space_id varchar, numerator decimal(18,2), "
        "denominator decimal(18,2), value double",
        [(FEB, *v) for v in values],
    )
    con.execute(
        f"create table marts.fct_municipality_indicators as {render('fct_municipality_indicators')}"
    )
    con.execute("create table marts.dim_municipality as select * from municipalities")
    con.execute("create table reference.indicators as select * from indicators")
    return con


def test_comparison_values_quartiles_ranks_and_small_areas_by_hand(comparison_warehouse):
    rows = comparison_warehouse.execute(
        "select indicator_id, ags, value, value_rank, q1, median, q3, district_value, "
        "is_small_area from marts.fct_municipality_indicators order by indicator_id, ags"
    ).fetchall()
    assert rows == [
        # K01: B's 4 is below 10: small, neither ranked nor in the quartiles. Ranked A 25, C 20
        # (direction none: highest first): median 22.5, q1 = 20 + 0.25 × 5 = 21.25,
        # q3 = 20 + 0.75 × 5 = 23.75.
        ("K01", "08000001", 25.0, 1, 21.25, 22.5, 23.75, 50.0, False),
        ("K01", "08000002", 4.0, None, 21.25, 22.5, 23.75, 50.0, True),
        ("K01", "08000003", 20.0, 2, 21.25, 22.5, 23.75, 50.0, False),
        # K06: B's denominator 6 is below 10: small (its 50 % is left out). Ranked A 25, C 50
        # (higher is better: C first): median 37.5, q1 = 25 + 0.25 × 25 = 31.25, q3 = 43.75.
        ("K06", "08000001", 25.0, 2, 31.25, 37.5, 43.75, 42.1, False),
        ("K06", "08000002", 50.0, None, 31.25, 37.5, 43.75, 42.1, True),
        ("K06", "08000003", 50.0, 1, 31.25, 37.5, 43.75, 42.1, False),
    ]


def add_quota_and_capacity(con: duckdb.DuckDBPyConnection) -> None:
    """Minimal rows of the two other marts the workbook reads (values are not under test)."""
    con.execute(
        "create table marts.fct_allocation_quota_monthly as select * from (values "
        "(date '2025-02-01', '08000001', 1000, 0.2, 3, 1.75, 1.25, 2, 1.00, 2.00, 278.16, 139.08),"
        "(date '2025-02-01', '08000002', 3000, 0.6, 4, 5.25, -1.25, 2, 3.00, -2.00, 278.16, "
        "417.24),"
        "(date '2025-02-01', '08000003', 1000, 0.2, 0, 0.00, 0.00, 0, 0.00, 0.00, 0.00, 0.00),"
        "(date '2025-02-01', 'GESAMT', 5000, 1.0, 7, 7.00, 0.00, 4, 4.00, 0.00, 556.32, 556.32)"
        ") as t(month, ags, inhabitants, population_share, persons_au, quota_target, balance, "
        "allocated, allocation_target, running_balance, payment_actual, payment_plan)"
    )
    con.execute(
        "create table marts.fct_housing_capacity_monthly as select * from (values "
        "(date '2025-02-01', '08000001', 'DEZENTRAL', 8, 3, 5),"
        "(date '2025-02-01', '08000002', 'DEZENTRAL', 6, 4, 2),"
        "(date '2025-02-01', 'GESAMT', 'GESAMT', 14, 7, 7)"
        ") as t(month, ags, kind, places, occupied, free_places)"
    )


def sheet_rows(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_municipality_workbook_hides_other_municipalities_small_cells(
    comparison_warehouse, tmp_path
):
    con = comparison_warehouse
    add_quota_and_capacity(con)
    path = write_municipality_workbook(con, "2025-02", "08000001", tmp_path)
    assert path == municipality_path(tmp_path, "2025-02", "08000001")
    assert path.name == "Controlling_08000001_2025-02.xlsx"
    sheets = sheet_rows(path)
    # Own figures and the district only: no other municipality in quota and capacity.
    quota_names = [r[0] for r in sheets["Aufnahmequote"][4:]]
    assert quota_names == ["A-Dorf", "Landkreis"]
    assert [r[0] for r in sheets["Unterbringung"][4:]] == ["A-Dorf", "Landkreis"]
    # Own indicators: value, rank of the 2 ranked (B is small), district, quartiles.
    own = {r[0]: r[3:10] for r in sheets["Kennzahlen"][4:]}
    assert own["K01"] == (25, 1, 2, 50, 21.25, 22.5, 23.75)
    assert own["K06"] == (0.25, 2, 2, 0.421, 0.3125, 0.375, 0.4375)  # % stored as fractions
    # The comparison: B's small cells (K01 count 4, K06 on 6 persons) are the mark, C's shown.
    comparison = {(r[0], r[2]): r[3:5] for r in sheets["Gemeindevergleich"][4:]}
    assert comparison[("K01", "B-Stadt")] == (SMALL_AREA_MARK, SMALL_AREA_MARK)
    assert comparison[("K06", "B-Stadt")] == (SMALL_AREA_MARK, SMALL_AREA_MARK)
    assert comparison[("K01", "C-Heim")] == (20, 2)
    assert comparison[("K06", "C-Heim")] == (0.5, 1)
    assert "K08" not in {r[0] for r in sheets["Gemeindevergleich"][4:]}
    # Nowhere in the workbook is a B row with a number in its value or rank column.
    for rows in sheets.values():
        for row in rows:
            if "B-Stadt" in row:
                assert row[3] == SMALL_AREA_MARK and row[4] == SMALL_AREA_MARK, row


def test_a_municipality_sees_its_own_small_cells(comparison_warehouse, tmp_path):
    con = comparison_warehouse
    add_quota_and_capacity(con)
    sheets = sheet_rows(write_municipality_workbook(con, "2025-02", "08000002", tmp_path))
    own = {r[0]: r[3:5] for r in sheets["Kennzahlen"][4:]}
    assert own["K01"] == (4, None)  # its own count below 10 is shown to itself, unranked
    comparison = {(r[0], r[2]): r[3] for r in sheets["Gemeindevergleich"][4:]}
    assert comparison[("K01", "B-Stadt")] == 4
    assert comparison[("K01", "A-Dorf")] == 25


# --- City mode unchanged ------------------------------------------------------------------------

# SHA-256 over (name, SHA-256 of the bytes) of every file of
# generate(months=2, start="2023-11", persons=60, seed=3), computed with the code before the
# district work (commit 78024b6): the city sample's bytes must stay exactly as they were.
CITY_SAMPLE_DIGEST = "91f9b4169fc64e1cf5db80adf20bcb0806344b4ed55e926548944e787d0f0c5e"


def test_city_sample_bytes_are_unchanged(tmp_path):
    generate(tmp_path, months=2, start="2023-11", persons=60, seed=3)
    digest = hashlib.sha256()
    for path in sorted(tmp_path.iterdir()):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    assert digest.hexdigest() == CITY_SAMPLE_DIGEST


# --- The district sample ------------------------------------------------------------------------


def test_musterkreis_sample_has_its_municipalities_and_gemeinde_column(tmp_path):
    generate_kreis(tmp_path, months=1, persons=120, seed=5)
    seeds = tmp_path / SEED_FOLDER
    assert deployment_mode(seeds) == "kreis"
    spaces = read_rows(seeds / "social_spaces.csv")
    per_municipality: dict[str, list[str]] = {}
    for row in spaces:
        per_municipality.setdefault(row["ags"], []).append(row["social_space_id"])
    # One town with four social spaces and eleven municipalities with one each.
    assert sorted(len(v) for v in per_municipality.values()) == [1] * 11 + [4]
    inhabitants = {
        r["social_space_id"]: int(r["inhabitants"])
        for r in read_rows(seeds / "social_space_inhabitants.csv")
        if r["year"] == "2023"
    }
    small = [inhabitants[v[0]] for v in per_municipality.values() if len(v) == 1]
    assert min(small) >= 2000 and max(small) <= 30000
    # Every person's Gemeinde is a municipality, and the one of the person's social space.
    ags_of = {r["social_space_id"]: r["ags"] for r in spaces}
    persons = [
        row
        for path in sorted(tmp_path.glob("*/personen_2023-11.csv"))  # one folder per municipality
        for row in read_rows(path, encoding="cp1252", delimiter=";")
    ]
    assert persons and all(p["Gemeinde"] in per_municipality for p in persons)
    assert all(p["Gemeinde"] == ags_of[p["Sozialraum"]] for p in persons if p["Sozialraum"])


def read_rows(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[dict]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def test_the_planning_build_rebuilds_the_capacity_outlook_after_the_projection():
    from dagster_project.assets.warehouse import after_planning_dbt_args, planning_dbt_args

    # A second invocation: the outlook has no dbt ref to the projection, so within one build
    # dbt could run it first.
    assert "fct_housing_capacity_outlook" not in planning_dbt_args()
    assert after_planning_dbt_args()[:3] == ["build", "--select", "fct_housing_capacity_outlook"]


# --- The Kreistag's council report: the district chapter -----------------------------------------


def add_outlook(con: duckdb.DuckDBPyConnection) -> None:
    """Both kinds of A and B in February (as their flats) and the outlook rows of kind GESAMT:
    B exhausted from August 2025 (trend)."""
    con.execute("create table reference.settings as select * from settings")
    con.execute(
        "insert into marts.fct_housing_capacity_monthly values "
        "(date '2025-02-01', '08000001', 'GESAMT', 8, 3, 5), "
        "(date '2025-02-01', '08000002', 'GESAMT', 6, 4, 2)"
    )
    rows = []
    for ags, places, occupied, exhausted in (
        ("08000001", 8, 3, None), ("08000002", 6, 4, date(2025, 8, 1)), ("GESAMT", 14, 7, None)
    ):  # fmt: skip
        for h, projected in ((0, occupied), (6, occupied + 1.5), (12, occupied + 3)):
            rows.append((FEB, ags, "GESAMT", h, "trend", places, projected, exhausted))
    create(con, "marts.fct_housing_capacity_outlook", "month date, ags varchar, kind varchar, "
           "horizon integer, method varchar, places bigint, projected_occupied decimal(18, 2), "
           "capacity_exhausted_from date", rows)  # fmt: skip


def district_chapter(con: duckdb.DuckDBPyConnection) -> list:
    """The chapter as the Kreistag's report builds it: the month's registry (here without
    social-space tables) with the municipality counts, then the tables."""
    registry = SuppressionRegistry(district_config(con))
    register_council_cells(con, FEB, registry)
    return council_tables(con, FEB, registry, iter(range(1, 100)))


def test_district_chapter_hides_small_areas_and_what_gives_them_back(comparison_warehouse):
    con = comparison_warehouse
    add_quota_and_capacity(con)
    add_outlook(con)
    con.execute(
        "create table marts.dim_social_space as select *, false as is_unknown from social_spaces"
    )
    spaces, quota, capacity, outlook, *comparison = district_chapter(con)
    assert spaces.rows == [["A-Dorf", "A"], ["B-Stadt", "B"], ["C-Heim", "C1"], ["C-Heim", "C2"]]
    # Quota: persons in AU A 3, B 4, C 0 (add_quota_and_capacity), district 7 = 3 + 4 + 0.
    # Threshold 10: 3, 4 and 7 are primary (1 … 9); C's 0 stays visible; A + B = the hidden 7,
    # so A, B ∈ [1, ∞). Hidden with them: balance and running balance; and the target: Soll =
    # district × share, so the district's Soll (7.00) would print the hidden 7 (C's balance
    # 0 − Soll with it). Shares and C's running balance are shown.
    d = Decimal
    assert quota.title == "Tabelle 2: Aufnahmequote der Gemeinden, Februar 2025"
    assert quota.rows == [
        ["A-Dorf", d("0.2"), "*", "*", "*", "*"],
        ["B-Stadt", d("0.6"), "*", "*", "*", "*"],
        ["C-Heim", d("0.2"), 0, "*", "*", d("0.00")],
        ["Landkreis", d("1.0"), "*", "*", "*", "*"],
    ]
    # Capacity (all kinds): occupied A 3, B 4, district 7: all primary, hidden with free places
    # and the month capacity runs out (B's August 2025), and with their places (occupied ≤
    # places would bound them: A ≤ 8).
    assert capacity.rows == [
        ["A-Dorf", "*", "*", "*", "*"],
        ["B-Stadt", "*", "*", "*", "*"],
        ["Landkreis", "*", "*", "*", "*"],
    ]
    # The district's outlook: its occupancy 7 is hidden, and so are its places and the
    # projections from it.
    assert outlook.rows == [["zusammen", "*", "*", "*", "*", "*"]]
    assert "Trend" in outlook.notes[0]
    # Comparison K01 (counts): B's 4 is primary. District 50 = A 25 + B 4 + C 20 + 1 person of
    # no known social space: 50 = 25 + B + 20 + rest (rest ≥ 0) leaves B ∈ [1, 5] (< 4 + 3),
    # so C's 20 (the cheapest other) is hidden too: B + C = 25 − rest, B ∈ [1, 24].
    # C was ranked (2) and in the quartiles (median 22.5 = (25 + 20) / 2 would give it back):
    # ranks and quartiles of K01 are hidden too.
    k01, k06 = comparison
    assert k01.rows[:3] == [["A-Dorf", 25.0, "*"], ["B-Stadt", "*", "*"], ["C-Heim", "*", "*"]]
    assert k01.rows[3][:2] == ["Landkreis", 50.0]
    assert [row[1] for row in k01.rows[4:]] == ["*", "*", "*"]
    # K06 (rate): B's denominator 6 is small: "/"; rates do not add up, C stays visible.
    assert k06.rows[:3] == [["A-Dorf", 25.0, 2], ["B-Stadt", "/", "/"], ["C-Heim", 50.0, 1]]
    # Quartiles over A and C only (B small): 31.25, 37.5, 43.75.
    assert [row[1].value for row in k06.rows[4:]] == [31.25, 37.5, 43.75]
    # With threshold 3 (primary 1 … 2) no count of the chapter is small: the district's
    # occupancy 7 is shown with 14 − 7 = 7 free places; outlook 7, in 6 months 7 + 1.5, in 12
    # months 7 + 3, not exhausted within the horizon.
    con.execute("update reference.settings set value = '3' where setting = 'small_area_threshold'")
    _, _, capacity, outlook, *_ = district_chapter(con)
    assert capacity.rows[2] == ["Landkreis", 14, 7, 7, None]
    assert outlook.rows == [["zusammen", 14, 7, d("8.50"), d("10.00"), None]]
