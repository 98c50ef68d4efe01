"""A tiny hand-written warehouse for the report tests (marts as in docs/marts.md), and tests of
the period helpers and queries.

Hand-checked figures (month 2025-12):
- 31.30.01: expenses 1,150,000.55 (4331), revenues 870,000.25 (3481) → net 280,000.30.
- 31.40.06: expenses 512,345.67 (4231) → net 512,345.67. Teilhaushalt net: 792,345.97.
- K01 per social space: SR01 40, SR02 2, SR03 15, unbekannt 0, GESAMT 57.
- K03 per social space: SR01 5, SR02 0, SR03 1, unbekannt 0, GESAMT 6.
- K06 (%): SR01 30/40, SR02 1/2 (below min. denominator 10), SR03 10/15, GESAMT 41/57.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from expectations.config import GateConfig
from expectations.report import gate_rows, quarantine_rows
from ingest.warehouse import connect
from reports import data

MARTS_DDL = """
create schema if not exists reference;
create table reference.settings(setting varchar, value varchar, description varchar);
create schema if not exists marts;
create table marts.dim_month(month date, year int, quarter int, month_of_year int, label varchar);
create table marts.dim_social_space(social_space_id varchar, name varchar, ags varchar,
    is_unknown boolean);
create table marts.dim_product(product_id varchar, title varchar, product_group_id varchar,
    product_group_title varchar, product_area_id varchar, product_area_title varchar,
    budget_unit varchar, responsible_unit varchar, field_of_action varchar);
create table marts.dim_account(account_id varchar, title varchar, account_kind varchar);
create table marts.dim_indicator(indicator_id varchar, name varchar, definition varchar,
    level varchar, field_of_action varchar, product_id varchar, unit varchar, direction varchar,
    per_social_space boolean, min_denominator int, counts_persons boolean, sort_order int);
create table marts.fct_caseload_monthly(month date, social_space_id varchar,
    residence_status varchar, benefit_law varchar, benefit_form varchar, housing varchar,
    age_band varchar, sex varchar, persons bigint);
create table marts.fct_asylblg_payments_monthly(month date, product_id varchar,
    account_id varchar, benefit_type varchar, social_space_id varchar, amount decimal(18,2),
    booking_lines bigint);
create table marts.fct_budget_execution(month date, year int, product_id varchar,
    account_id varchar, account_kind varchar, budget_unit varchar,
    original_appropriation decimal(18,2), supplementary decimal(18,2),
    carried_over decimal(18,2), current_appropriation decimal(18,2), plan_month decimal(18,2),
    plan_to_date decimal(18,2), actual_month decimal(18,2), actual_to_date decimal(18,2),
    deviation_to_date decimal(18,2), deviation_to_date_ratio double, exhaustion_ratio double,
    forecast_run_rate decimal(18,2), forecast_caseload decimal(18,2), forecast decimal(18,2),
    forecast_method varchar, expected_deviation decimal(18,2), expense_to_date decimal(18,2),
    revenue_to_date decimal(18,2), net_burden_to_date decimal(18,2));
create table marts.fct_budget_product_monthly(month date, year int, product_id varchar,
    budget_unit varchar, expense_appropriation decimal(18,2),
    revenue_appropriation decimal(18,2), net_appropriation decimal(18,2),
    plan_to_date_net decimal(18,2), expense_to_date decimal(18,2),
    revenue_to_date decimal(18,2), net_burden_to_date decimal(18,2),
    deviation_to_date decimal(18,2), deviation_to_date_ratio double,
    forecast_net decimal(18,2), expected_deviation decimal(18,2), coverage_ratio double,
    traffic_light varchar);
create table marts.fct_budget_unit_monthly(month date, year int, budget_unit varchar,
    expense_appropriation decimal(18,2), revenue_appropriation decimal(18,2),
    net_appropriation decimal(18,2), plan_to_date_net decimal(18,2),
    expense_to_date decimal(18,2), revenue_to_date decimal(18,2),
    net_burden_to_date decimal(18,2), deviation_to_date decimal(18,2),
    deviation_to_date_ratio double, forecast_net decimal(18,2),
    expected_deviation decimal(18,2), coverage_ratio double, is_partial_year boolean,
    is_ledger_complete boolean, traffic_light varchar);
create table marts.fct_reconciliation(month date, product_id varchar, account_id varchar,
    payments_amount decimal(18,2), ledger_amount decimal(18,2), difference decimal(18,2),
    is_reconciled boolean);
create table marts.fct_indicator_values(month date, indicator_id varchar,
    social_space_id varchar, numerator decimal(18,2), denominator decimal(18,2), value double,
    target_value double, target_band_low double, target_band_high double,
    attainment_ratio double, traffic_light varchar, value_status varchar);
create table marts.fct_course_outcomes(month date, course_type varchar,
    social_space_id varchar, active_participations bigint, new_participations bigint,
    completions bigint, dropouts bigint, exams_taken bigint, exams_b1 bigint, exams_a2 bigint,
    exams_below_a2 bigint);
create table marts.fct_cost_per_person_monthly(month date, social_space_id varchar,
    residence_status varchar, housing varchar, cost_object varchar, persons integer,
    amount decimal(18,2), amount_per_person decimal(18,2));
create table marts.fct_social_space_budget(month date, year int, social_space_id varchar,
    product_id varchar, appropriation decimal(18,2), plan_to_date decimal(18,2),
    actual_to_date decimal(18,2), deviation_to_date decimal(18,2), deviation_to_date_ratio double,
    forecast decimal(18,2), expected_deviation decimal(18,2), is_partial_year boolean,
    is_ledger_complete boolean, traffic_light varchar);
"""

MONTH = date(2025, 12, 1)
MONTHS = [date(2025, m, 1) for m in range(1, 13)]
SPACES = [
    ("SR01", "Innenstadt"),
    ("SR02", "Nordstadt"),
    ("SR03", "Südstadt"),
    ("unbekannt", "unbekannt"),
]
INDICATORS = [
    # id, name, definition, level, field, product, unit, direction, per_space, min_den, persons
    (
        "K01",
        "Leistungsberechtigte nach AsylbLG",
        "Personen mit Rechtskreis AsylbLG am Stichtag",
        "output",
        "Existenzsicherung",
        "31.30.01",
        "Anzahl",
        "none",
        True,
        None,
        True,
        1,
    ),
    (
        "K03",
        "Neue Kursteilnahmen",
        "Kursteilnahmen mit Eintritt im Monat",
        "output",
        "Sprache",
        "31.80.09",
        "Anzahl",
        "higher",
        True,
        None,
        True,
        3,
    ),
    (
        "K06",
        "Anteil dezentral oder privat wohnend",
        "Personen in dezentraler oder privater Unterbringung je Person",
        "outcome",
        "Wohnen",
        "31.40.07",
        "%",
        "higher",
        True,
        10,
        False,
        6,
    ),
    (
        "K13",
        "Zuschussbedarf je Einwohner",
        "Aufwendungen minus Erträge je Einwohner",
        "impact",
        "Steuerung",
        None,
        "€",
        "lower",
        False,
        None,
        False,
        13,
    ),
]

# month 2025-12, per social space: K01 counts, K03 counts, K06 numerator/denominator
K01 = {"SR01": 40, "SR02": 2, "SR03": 15, "unbekannt": 0, "GESAMT": 57}
K03 = {"SR01": 5, "SR02": 0, "SR03": 1, "unbekannt": 0, "GESAMT": 6}
K06 = {"SR01": (30, 40), "SR02": (1, 2), "SR03": (10, 15), "unbekannt": (0, 0), "GESAMT": (41, 57)}


def _indicator_rows() -> list[tuple]:
    rows = []
    for i, month in enumerate(MONTHS):
        last = month == MONTH
        for space in [s for s, _ in SPACES] + ["GESAMT"]:
            # earlier months add up like the real marts: the city is the sum of the spaces
            earlier = {"SR01": 40 + i, "SR02": 30, "SR03": 30, "unbekannt": 0, "GESAMT": 100 + i}
            k01 = K01[space] if last else earlier[space]
            rows.append((month, "K01", space, k01, None, k01, None, None, None, None, None, "ok"))
            k03 = K03[space] if last else {"SR01": 20 + i, "GESAMT": 20 + i}.get(space, 0)
            light = "green" if k03 >= 6 else "red"
            rows.append(
                (month, "K03", space, k03, None, k03, 6.0, None, None, k03 / 6, light, "ok")
            )
            num, den = (
                K06[space]
                if last
                else {"SR01": (50 + i, 100), "GESAMT": (50 + i, 100)}.get(space, (0, 0))
            )
            value = None if den == 0 else 100 * num / den
            status = "no_denominator" if den == 0 else "below_min_denominator" if den < 10 else "ok"
            rows.append(
                (
                    month,
                    "K06",
                    space,
                    num,
                    den,
                    value,
                    70.0,
                    None,
                    None,
                    None if value is None else value / 70,
                    None if value is None else ("green" if value >= 70 else "red"),
                    status,
                )
            )
        rows.append(
            (month, "K13", "GESAMT", None, None, 10.0 + i * 0.2, None, 12.0, 14.0, None, None, "ok")
        )
    return rows


def _budget_execution_rows() -> list[tuple]:
    d = Decimal
    # product, account, kind, appropriation, actual_to_date
    accounts = [
        ("31.30.01", "4331", "expense", d("1200000.00"), d("1150000.55")),
        ("31.30.01", "3481", "revenue", d("900000.00"), d("870000.25")),
        ("31.40.06", "4231", "expense", d("500000.00"), d("512345.67")),
    ]
    rows = []
    for product, account, kind, appr, actual in accounts:
        dev = actual - appr
        exp = actual if kind == "expense" else d(0)
        rev = actual if kind == "revenue" else d(0)
        rows.append(
            (
                MONTH,
                2025,
                product,
                account,
                kind,
                "50",
                appr,
                d(0),
                d(0),
                appr,
                appr / 12,
                appr,
                d("1000.00"),
                actual,
                dev,
                float(dev / appr),
                float(actual / appr),
                actual,
                None,
                actual,
                "run_rate",
                dev,
                exp,
                rev,
                exp - rev,
            )
        )
    return rows


def _budget_product_rows() -> list[tuple]:
    d = Decimal
    rows = []
    for i, month in enumerate(MONTHS, start=1):
        last = month == MONTH
        # 31.30.01: net appropriation 300,000; 31.40.06: 500,000
        exp1 = d("1150000.55") if last else d(95000) * i
        rev1 = d("870000.25") if last else d(70000) * i
        exp2 = d("512345.67") if last else d(42000) * i
        for product, exp, rev, appr_e, appr_r in (
            ("31.30.01", exp1, rev1, d("1200000.00"), d("900000.00")),
            ("31.40.06", exp2, d(0), d("500000.00"), d(0)),
        ):
            net_appr = appr_e - appr_r
            plan = (net_appr * i / 12).quantize(d("0.01"))
            net = exp - rev
            dev = net - plan
            light = "green" if dev <= 0 else "yellow"
            rows.append(
                (
                    month,
                    2025,
                    product,
                    "50",
                    appr_e,
                    appr_r,
                    net_appr,
                    plan,
                    exp,
                    rev,
                    net,
                    dev,
                    float(dev / plan),
                    net,
                    dev,
                    float(rev / exp) if exp else None,
                    light,
                )
            )
    return rows


SETTINGS_SEED = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "settings.csv"


COST_PER_PERSON = [  # December 2025, city-wide (GESAMT); DULDUNG has two persons (small)
    ("GESAMT", "GESAMT", "gesamt", 40, "48000.00", "1200.00"),
    ("GESAMT", "GESAMT", "leistungen", 40, "20000.00", "500.00"),
    ("GESTATTUNG", "GESAMT", "gesamt", 38, "46000.00", "1210.53"),
    ("DULDUNG", "GESAMT", "gesamt", 2, "2000.00", "1000.00"),
    ("GESAMT", "GU", "gesamt", 25, "35000.00", "1400.00"),
    ("GESAMT", "DEZENTRAL", "gesamt", 15, "13000.00", "866.67"),
]


def _insert_cost_accounting(con) -> None:
    con.executemany(
        "insert into marts.fct_cost_per_person_monthly values"
        " ('2025-12-01', 'GESAMT', ?, ?, ?, ?, ?, ?)",
        COST_PER_PERSON,
    )
    con.execute(
        "insert into marts.fct_social_space_budget values ('2025-12-01', 2025, 'SR01',"
        " '31.30.01', 12000.00, 12000.00, 12600.00, 600.00, 0.05, 12600.00, 600.00, false,"
        " true, 'yellow')"
    )


def build_warehouse(path: Path) -> Path:
    """Create the marts and meta tables of the tiny warehouse at `path`; reference.settings is
    the seed, as `dbt seed` loads it."""
    with connect(path) as con:
        con.execute(MARTS_DDL)
        with SETTINGS_SEED.open(encoding="utf-8", newline="") as f:
            con.executemany(
                "insert into reference.settings values (?, ?, ?)",
                [[r["setting"], r["value"], r["description"]] for r in csv.DictReader(f)],
            )
        for m in MONTHS:
            con.execute(
                "insert into marts.dim_month values (?, 2025, ?, ?, ?)",
                [m, (m.month - 1) // 3 + 1, m.month, data.month_label(m)],
            )
        _insert_cost_accounting(con)
        con.executemany(
            "insert into marts.dim_social_space values (?, ?, '08999000', ?)",
            [[s, n, s == "unbekannt"] for s, n in SPACES],
        )
        con.executemany(
            "insert into marts.dim_product values (?, ?, ?, '', ?, '', '50', 'FB 50', ?)",
            [
                ["31.30.01", "Hilfen für Flüchtlinge", "31.30", "31", "Existenzsicherung"],
                [
                    "31.40.06",
                    "Einrichtungen für Flüchtlinge (vorläufige Unterbringung)",
                    "31.40",
                    "31",
                    "Wohnen",
                ],
            ],
        )
        con.executemany(
            "insert into marts.dim_account values (?, ?, ?)",
            [
                ["3481", "Erstattungen vom Land", "revenue"],
                ["4231", "Mieten und Pachten", "expense"],
                ["4331", "Sozialleistungen außerhalb von Einrichtungen", "expense"],
            ],
        )
        con.executemany(
            "insert into marts.dim_indicator values (" + ", ".join("?" * 12) + ")",
            [list(r) for r in INDICATORS],
        )
        con.executemany(
            "insert into marts.fct_indicator_values values (" + ", ".join("?" * 12) + ")",
            [list(r) for r in _indicator_rows()],
        )
        con.executemany(
            "insert into marts.fct_budget_execution values (" + ", ".join("?" * 25) + ")",
            [list(r) for r in _budget_execution_rows()],
        )
        con.executemany(
            "insert into marts.fct_budget_product_monthly values (" + ", ".join("?" * 17) + ")",
            [list(r) for r in _budget_product_rows()],
        )
        # The Teilhaushalt in 2025-12, by hand from the two products (docstring): appropriations
        # 1,700,000 − 900,000 = 800,000; expenses 1,150,000.55 + 512,345.67 = 1,662,346.22;
        # net 792,345.97; deviation 792,345.97 − 800,000 = −7,654.03.
        con.execute(
            "insert into marts.fct_budget_unit_monthly values (" + ", ".join("?" * 18) + ")",
            [MONTH, 2025, "50", Decimal("1700000.00"), Decimal("900000.00"),
             Decimal("800000.00"), Decimal("800000.00"), Decimal("1662346.22"),
             Decimal("870000.25"), Decimal("792345.97"), Decimal("-7654.03"),
             -7654.03 / 800000, Decimal("792345.97"), Decimal("-7654.03"),
             870000.25 / 1662346.22, False, True, "green"],
        )  # fmt: skip
        caseload = []
        for i, m in enumerate(MONTHS):
            for space, status, persons in (
                ("SR01", "GESTATTUNG", 30),
                ("SR01", "DULDUNG", 10),
                ("SR02", "DULDUNG", 2),
                ("SR03", "GESTATTUNG", 14),
                ("SR03", "ERLAUBNIS", 1),
                ("unbekannt", "DULDUNG", 0),
            ):
                caseload.append(
                    [
                        m,
                        space,
                        status,
                        "ASYLBLG",
                        "GELD",
                        "GU",
                        "18-26",
                        "w",
                        persons if m == MONTH else persons + i,
                    ]
                )
        con.executemany(
            "insert into marts.fct_caseload_monthly values (?, ?, ?, ?, ?, ?, ?, ?, ?)", caseload
        )
        con.executemany(
            "insert into marts.fct_reconciliation values (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    MONTH,
                    "31.30.01",
                    "4331",
                    Decimal("1000.00"),
                    Decimal("1000.00"),
                    Decimal(0),
                    True,
                ],
                [
                    MONTH,
                    "31.30.01",
                    "4332",
                    Decimal("250.10"),
                    Decimal("250.00"),
                    Decimal("0.10"),
                    False,
                ],
            ],
        )
        con.execute(
            "insert into marts.fct_asylblg_payments_monthly values "
            "(?, '31.30.01', '4331', 'GRUND', 'SR01', 1234.56, 3)",
            [MONTH],
        )
        con.execute(
            "insert into marts.fct_course_outcomes values "
            "(?, 'INTEGRATION', 'SR01', 12, 5, 2, 1, 3, 2, 1, 0)",
            [MONTH],
        )
        con.executemany(
            "insert into meta.gate_results values (?, ?, '2025-12', ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    "r1",
                    "raw.personen",
                    "not_null_person",
                    False,
                    "error",
                    "3",
                    3,
                    '{"description": "alt", "sample_values": []}',
                    datetime(2026, 1, 5, 8, 0),
                ],
                [
                    "r2",
                    "raw.personen",
                    "not_null_person",
                    True,
                    "error",
                    "0",
                    0,
                    None,
                    datetime(2026, 1, 6, 8, 0),
                ],
                [
                    "r2",
                    "reconciliation",
                    "difference_zero",
                    False,
                    "warning",
                    "0.10",
                    1,
                    '{"description": "Abgleich", "sample_values": ["31.30.01/4332"]}',
                    datetime(2026, 1, 6, 8, 5),
                ],
            ],
        )
        con.executemany(
            "insert into meta.quarantine values ('l1', 'personen', '2025-12', ?, ?, ?, "
            "'x', 'y', '{}')",
            [
                ["personen_2025-12.csv", 4, "R03"],
                ["personen_2025-12.csv", 9, "R03"],
                ["personen_2025-12.csv", 11, "R07"],
            ],
        )
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "kim.duckdb")


def test_parse_period() -> None:
    year = data.parse_period("2025")
    assert (year.first_month, year.last_month, year.stand) == (
        date(2025, 1, 1),
        date(2025, 12, 1),
        date(2025, 12, 31),
    )
    quarter = data.parse_period("2026-Q3")
    assert (quarter.first_month, quarter.stand) == (date(2026, 7, 1), date(2026, 9, 30))
    assert quarter.title == "Juli bis September 2026"
    assert data.parse_month("2024-02") == date(2024, 2, 1)
    assert data.month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert data.add_months(date(2025, 1, 1), -11) == date(2024, 2, 1)
    for bad in ("2025-13", "2025-Q5", "25", "2025-1"):
        with pytest.raises(data.PeriodError):
            data.parse_period(bad)
    with pytest.raises(data.PeriodError):
        data.parse_month("2025")


def test_queries_sorted_and_latest_gate(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        spaces = (
            data.indicator_values(con, MONTH, MONTH, city_only=False)
            .filter(pl.col("indicator_id") == "K01")["social_space_id"]
            .to_list()
        )
        gates = gate_rows(con, "2025-12")
        quarantine = quarantine_rows(con, "2025-12")
    assert spaces == ["SR01", "SR02", "SR03", "unbekannt", "GESAMT"]
    # the later run of not_null_person replaced the failed one
    assert [(g["gate"], g["expectation"], g["success"]) for g in gates] == [
        ("raw.personen", "not_null_person", True),
        ("reconciliation", "difference_zero", False),
    ]
    assert [(q["rule"], q["rows"]) for q in quarantine] == [("R03", 2), ("R07", 1)]


def test_one_traffic_light_tolerance_for_dbt_gates_and_reports(warehouse: Path) -> None:
    # The seed says 0.10 (domain.md: yellow = missed by at most 10 % of the target). The report
    # reads it from reference.settings, the gate from the seed file: the same row.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert data.traffic_light_tolerance(con) == Decimal("0.10")
        with pytest.raises(data.SettingError, match="nicht_da"):
            data.setting(con, "nicht_da")
    assert GateConfig().yellow_tolerance == 0.10
    with pytest.raises(ValueError, match="traffic_light_tolerance"):
        GateConfig.from_mapping({"yellow_tolerance": 0.2})
    # K14 (Deckungsgrad) above 100 % is valid (advance payments of the Land): open upper bound.
    assert GateConfig().indicator_ranges["K14"] == (0.0, None)
