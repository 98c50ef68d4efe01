"""A tiny hand-written warehouse for the report tests: the marts' tables come from the dbt
project (support/marts.py), the rows are written here.

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

from ingest.warehouse import connect
from kim_settings import SEEDS_DIR, month_label
from support.marts import create_marts, create_seed_table, insert

# The columns each fixture row fills, in the order of its tuples (the rest stay NULL).
INDICATOR_COLUMNS = (
    "indicator_id name definition level field_of_action product_id unit direction "
    "per_social_space min_denominator counts_persons sort_order"
)
INDICATOR_VALUE_COLUMNS = (
    "month indicator_id social_space_id numerator denominator value target_value "
    "target_band_low target_band_high attainment_ratio traffic_light value_status"
)
EXECUTION_COLUMNS = (
    "month year product_id account_id account_kind budget_unit original_appropriation "
    "supplementary carried_over current_appropriation plan_month plan_to_date actual_month "
    "actual_to_date deviation_to_date deviation_to_date_ratio exhaustion_ratio "
    "forecast_run_rate forecast_caseload forecast forecast_method expected_deviation "
    "expense_to_date revenue_to_date net_burden_to_date"
)
PRODUCT_COLUMNS = (
    "month year product_id budget_unit expense_appropriation revenue_appropriation "
    "net_appropriation plan_to_date_net expense_to_date revenue_to_date net_burden_to_date "
    "deviation_to_date deviation_to_date_ratio forecast_net expected_deviation coverage_ratio "
    "traffic_light"
)
UNIT_COLUMNS = (
    "month year budget_unit expense_appropriation revenue_appropriation net_appropriation "
    "plan_to_date_net expense_to_date revenue_to_date net_burden_to_date deviation_to_date "
    "deviation_to_date_ratio forecast_net expected_deviation coverage_ratio is_partial_year "
    "is_ledger_complete traffic_light"
)

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


SETTINGS_SEED = SEEDS_DIR / "settings.csv"


COST_PER_PERSON = [  # December 2025, city-wide (GESAMT); DULDUNG has two persons (small)
    ("GESAMT", "GESAMT", "gesamt", 40, "48000.00", "1200.00"),
    ("GESAMT", "GESAMT", "leistungen", 40, "20000.00", "500.00"),
    ("GESTATTUNG", "GESAMT", "gesamt", 38, "46000.00", "1210.53"),
    ("DULDUNG", "GESAMT", "gesamt", 2, "2000.00", "1000.00"),
    ("GESAMT", "GU", "gesamt", 25, "35000.00", "1400.00"),
    ("GESAMT", "DEZENTRAL", "gesamt", 15, "13000.00", "866.67"),
]


def _insert_cost_accounting(con) -> None:
    insert(
        con,
        "marts.fct_cost_per_person_monthly",
        "month social_space_id residence_status housing cost_object persons amount "
        "amount_per_person",
        [[MONTH, "GESAMT", *row] for row in COST_PER_PERSON],
    )
    insert(
        con,
        "marts.fct_social_space_budget",
        "month year social_space_id product_id appropriation plan_to_date actual_to_date "
        "deviation_to_date deviation_to_date_ratio forecast expected_deviation is_partial_year "
        "is_ledger_complete traffic_light",
        [[MONTH, 2025, "SR01", "31.30.01", "12000.00", "12000.00", "12600.00", "600.00", 0.05,
          "12600.00", "600.00", False, True, "yellow"]],
    )  # fmt: skip


def build_warehouse(path: Path) -> Path:
    """Create the marts and meta tables of the tiny warehouse at `path`; reference.settings is
    the seed, as `dbt seed` loads it."""
    with connect(path) as con:
        create_marts(con)
        create_seed_table(con, "settings")
        with SETTINGS_SEED.open(encoding="utf-8", newline="") as f:
            insert(
                con,
                "reference.settings",
                "setting value description",
                [[r["setting"], r["value"], r["description"]] for r in csv.DictReader(f)],
            )
        insert(
            con,
            "marts.dim_month",
            "month year quarter month_of_year label",
            [[m, 2025, (m.month - 1) // 3 + 1, m.month, month_label(m)] for m in MONTHS],
        )
        _insert_cost_accounting(con)
        insert(
            con,
            "marts.dim_social_space",
            "social_space_id name ags is_unknown",
            [[s, n, "08999000", s == "unbekannt"] for s, n in SPACES],
        )
        insert(
            con,
            "marts.dim_product",
            "product_id title product_group_id product_group_title product_area_id "
            "product_area_title budget_unit responsible_unit field_of_action",
            [
                ["31.30.01", "Hilfen für Flüchtlinge", "31.30", "", "31", "", "50", "FB 50",
                 "Existenzsicherung"],
                ["31.40.06", "Einrichtungen für Flüchtlinge (vorläufige Unterbringung)", "31.40",
                 "", "31", "", "50", "FB 50", "Wohnen"],
            ],
        )  # fmt: skip
        insert(
            con,
            "marts.dim_account",
            "account_id title account_kind",
            [
                ["3481", "Erstattungen vom Land", "revenue"],
                ["4231", "Mieten und Pachten", "expense"],
                ["4331", "Sozialleistungen außerhalb von Einrichtungen", "expense"],
            ],
        )
        insert(con, "marts.dim_indicator", INDICATOR_COLUMNS, INDICATORS)
        insert(con, "marts.fct_indicator_values", INDICATOR_VALUE_COLUMNS, _indicator_rows())
        insert(con, "marts.fct_budget_execution", EXECUTION_COLUMNS, _budget_execution_rows())
        insert(con, "marts.fct_budget_product_monthly", PRODUCT_COLUMNS, _budget_product_rows())
        # The Teilhaushalt in 2025-12, by hand from the two products (docstring): appropriations
        # 1,700,000 − 900,000 = 800,000; expenses 1,150,000.55 + 512,345.67 = 1,662,346.22;
        # net 792,345.97; deviation 792,345.97 − 800,000 = −7,654.03.
        insert(con, "marts.fct_budget_unit_monthly", UNIT_COLUMNS, [[
             MONTH, 2025, "50", Decimal("1700000.00"), Decimal("900000.00"),
             Decimal("800000.00"), Decimal("800000.00"), Decimal("1662346.22"),
             Decimal("870000.25"), Decimal("792345.97"), Decimal("-7654.03"),
             -7654.03 / 800000, Decimal("792345.97"), Decimal("-7654.03"),
             870000.25 / 1662346.22, False, True, "green"]],
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
        insert(
            con,
            "marts.fct_caseload_monthly",
            "month social_space_id residence_status benefit_law benefit_form housing age_band "
            "sex persons",
            caseload,
        )
        insert(
            con,
            "marts.fct_reconciliation",
            "month product_id account_id payments_amount ledger_amount difference is_reconciled",
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
        insert(
            con,
            "marts.fct_asylblg_payments_monthly",
            "month product_id account_id benefit_type social_space_id amount booking_lines",
            [[MONTH, "31.30.01", "4331", "GRUND", "SR01", Decimal("1234.56"), 3]],
        )
        insert(
            con,
            "marts.fct_course_outcomes",
            "month course_type social_space_id active_participations new_participations "
            "completions dropouts exams_taken exams_b1 exams_a2 exams_below_a2",
            [[MONTH, "INTEGRATION", "SR01", 12, 5, 2, 1, 3, 2, 1, 0]],
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
