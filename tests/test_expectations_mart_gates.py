"""Reconciliation gate (after dbt) and mart gate (before reports) on hand-written marts rows
(the tables as the dbt project declares them, the rows written by hand)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from support.dbt_run import run_dbt
from support.marts import create_marts

from expectations.gates import run_mart_gate, run_reconciliation_gate, run_reconciliation_gates
from ingest.warehouse import connect

OCT = date(2026, 10, 1)

# Created from the dbt project's column contracts (support/marts.py).
MARTS = (
    "dim_social_space",
    "dim_indicator",
    "fct_indicator_values",
    "fct_reconciliation",
    "fct_budget_execution",
)

SPACES = [("S01", "Nord", False), ("S02", "Süd", False), ("unbekannt", "unbekannt", True)]
# id, unit, direction, per social space
INDICATORS = [
    ("K01", "Anzahl", "none", True),
    ("K02", "%", "lower", True),
    ("K04", "Fälle je VZÄ", "band", False),
    ("K09", "%", "higher", False),
    ("K13", "€", "lower", False),
]


def _iv(ind, space, num, den, value, target=None, low=None, high=None, att=None, light=None,
        status="ok") -> dict:  # fmt: skip
    return dict(
        month=OCT, indicator_id=ind, social_space_id=space,
        numerator=None if num is None else Decimal(num),
        denominator=None if den is None else Decimal(den), value=value, display_value=value,
        target_value=target,
        target_band_low=low, target_band_high=high, attainment_ratio=att, traffic_light=light,
        value_status=status,
    )  # fmt: skip


def clean_marts() -> dict[str, list[dict]]:
    """Traffic lights worked out by hand: green = target met, yellow = missed by <= 10 % of
    the target (or of the missed band edge), red = missed by more."""
    values = [
        _iv("K01", "GESAMT", "25", None, 25.0),
        _iv("K01", "S01", "15", None, 15.0),
        _iv("K01", "S02", "10", None, 10.0),
        _iv("K01", "unbekannt", "0", None, 0.0),
        # lower is better, target 80 %: 70 met; 85 misses by 5 <= 8; 90 misses by 10 > 8
        _iv("K02", "GESAMT", "70", "100", 70.0, 80.0, att=80 / 70, light="green"),
        _iv("K02", "S01", "85", "100", 85.0, 80.0, att=80 / 85, light="yellow"),
        _iv("K02", "S02", "90", "100", 90.0, 80.0, att=80 / 90, light="red"),
        _iv("K02", "unbekannt", "0", "0", None, 80.0, status="no_denominator"),
        # band 40..60: 65 misses the upper edge by 5 <= 6
        _iv("K04", "GESAMT", "65", "1", 65.0, None, 40.0, 60.0, light="yellow"),
        # higher is better, target 50 %: 45 misses by exactly 5 = 10 % -> still yellow
        _iv("K09", "GESAMT", "9", "20", 45.0, 50.0, att=0.9, light="yellow"),
        _iv("K13", "GESAMT", "480000", "1000", 480.0, 500.0, att=500 / 480, light="green"),
    ]
    return {
        "dim_social_space": [
            dict(social_space_id=s, name=n, ags="08111000", is_unknown=u) for s, n, u in SPACES
        ],
        "dim_indicator": [
            dict(
                indicator_id=i,
                name=i,
                unit=u,
                direction=d,
                per_social_space=p,
                min_denominator=10,
                counts_persons=False,
                sort_order=n,
            )
            for n, (i, u, d, p) in enumerate(INDICATORS)
        ],  # fmt: skip
        "fct_indicator_values": values,
        "fct_reconciliation": [
            dict(
                month=OCT,
                product_id="31.30.01",
                account_id="4331",
                payments_amount=Decimal("12502.00"),
                ledger_amount=Decimal("12502.00"),
                difference=Decimal("0.00"),
                is_reconciled=True,
            ),
            dict(
                month=OCT,
                product_id="31.30.01",
                account_id="4332",
                payments_amount=Decimal("-80.00"),
                ledger_amount=Decimal("-80.00"),
                difference=Decimal("0.00"),
                is_reconciled=True,
            ),
        ],  # fmt: skip
        "fct_budget_execution": [
            dict(
                month=OCT,
                year=2026,
                product_id="31.30.01",
                account_id="4331",
                current_appropriation=Decimal("120000.00"),
            ),
            dict(
                month=OCT,
                year=2026,
                product_id="31.30.01",
                account_id="3481",
                current_appropriation=Decimal("50000.00"),
            ),
        ],  # fmt: skip
    }


PLAN = [
    # 100000 + 15000 + 5000 = 120000.00
    ("31.30.01", "4331", "100000.00", "15000.00", "5000.00"),
    ("31.30.01", "3481", "50000.00", None, None),
]


def load(con, marts: dict[str, list[dict]], plan=PLAN) -> None:
    create_marts(con, MARTS)
    for table, rows in marts.items():
        for row in rows:
            cols = list(row)
            con.execute(
                f"insert into marts.{table} ({', '.join(cols)}) values "
                f"({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            ).fetchall()
    for i, (product, account, ansatz, nachtrag, uebertragung) in enumerate(plan):
        con.execute(
            "insert into raw.haushaltsplan values (2026, ?, ?, ?, ?, ?, 'LINEAR', null, 'L-h', "
            "'haushaltsplan_2026.csv', ?)",
            [product, account, Decimal(ansatz), nachtrag and Decimal(nachtrag),
             uebertragung and Decimal(uebertragung), i + 2],
        ).fetchall()  # fmt: skip


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "w.duckdb") as c:
        yield c


def test_clean_marts_pass_both_gates(con):
    load(con, clean_marts())
    rec = run_reconciliation_gate(con, "2026-10", run_id="r")
    marts = run_mart_gate(con, "2026-10", run_id="r")
    assert rec.passed and not rec.failed, rec.summary_text
    assert marts.passed and not marts.failed, marts.summary_text
    stored = con.execute(
        "select gate, count(*) from meta.gate_results group by gate order by gate"
    ).fetchall()
    # marts: 4 unit ranges (%, Anzahl, Tage, Fälle je VZÄ) + 2 indicator ranges (K02, K14);
    # reconciliation: difference and plan.
    assert stored == [("marts", 6), ("reconciliation", 2)]
    print(f"reconciliation gate {rec.seconds:.2f} s, mart gate {marts.seconds:.2f} s")


def _where(table: str, match: dict, **changes) -> Callable[[dict], None]:
    def mutate(marts: dict) -> None:
        rows = [r for r in marts[table] if all(r.get(k) == v for k, v in match.items())]
        assert len(rows) == 1
        rows[0].update(changes)

    return mutate


def _drop(table: str, match: dict) -> Callable[[dict], None]:
    def mutate(marts: dict) -> None:
        marts[table] = [r for r in marts[table] if not all(r.get(k) == v for k, v in match.items())]

    return mutate


K02_S02 = {"indicator_id": "K02", "social_space_id": "S02"}
K02_UNK = {"indicator_id": "K02", "social_space_id": "unbekannt"}

RECONCILIATION_VIOLATIONS = [
    (_where("fct_reconciliation", {"account_id": "4332"}, ledger_amount=Decimal("-80.01"),
            difference=Decimal("0.01"), is_reconciled=False),
     "reconciliation_difference_zero", "account_id=4332, payments_amount=-80.00, "
     "ledger_amount=-80.01, difference=0.01"),
    (_where("fct_budget_execution", {"account_id": "4331"},
            current_appropriation=Decimal("100000.00")),
     "current_appropriation_matches_plan",
     "account_id=4331, plan_amount=120000.00, mart_amount=100000.00"),
    (_drop("fct_budget_execution", {"account_id": "3481"}),
     "current_appropriation_matches_plan", "account_id=3481, plan_amount=50000.00, mart_amount=0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "expectation", "offending"),
    RECONCILIATION_VIOLATIONS,
    ids=["difference", "appropriation", "plan_line_missing_in_mart"],
)
def test_reconciliation_violation_blocks(con, mutate, expectation, offending):
    marts = clean_marts()
    mutate(marts)
    load(con, marts)
    outcome = run_reconciliation_gate(con, "2026-10")
    assert not outcome.passed
    assert [r.expectation for r in outcome.failed] == [expectation]
    assert expectation in outcome.summary_text
    assert offending in outcome.summary_text


# Rows present, value status explained, codes and traffic lights are the model's own logic:
# dbt unit/data tests of fct_indicator_values now, no longer part of the mart gate.
MART_VIOLATIONS = [
    (_where("fct_indicator_values", {"indicator_id": "K09"}, value=120.0, display_value=120.0,
            traffic_light="green", attainment_ratio=2.4),
     "indicator_value_in_range_percent", "social_space_id=GESAMT, unit=%, value=120"),
    (_where("fct_indicator_values", K02_S02, value=-1.0, display_value=-1.0),
     "indicator_value_in_range_k02", "indicator_id=K02, social_space_id=S02, unit=%, value=-1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "expectation", "offending"),
    MART_VIOLATIONS,
    ids=[f"{v[1]}-{i}" for i, v in enumerate(MART_VIOLATIONS)],
)
def test_mart_violation_blocks(con, mutate, expectation, offending):
    marts = clean_marts()
    mutate(marts)
    load(con, marts)
    outcome = run_mart_gate(con, "2026-10")
    assert not outcome.passed
    assert [r.expectation for r in outcome.failed] == [expectation]
    assert outcome.failed[0].unexpected_count == 1
    assert expectation in outcome.summary_text
    assert offending in outcome.summary_text


def test_gates_only_read_their_month(con):
    marts = clean_marts()
    # A broken September must not affect October's gates.
    marts["fct_reconciliation"].append(
        dict(month=date(2026, 9, 1), product_id="31.30.01", account_id="4331",
             payments_amount=Decimal("1.00"), ledger_amount=Decimal("0.00"),
             difference=Decimal("1.00"), is_reconciled=False)
    )  # fmt: skip
    load(con, marts)
    assert run_reconciliation_gate(con, "2026-10").passed
    assert not run_reconciliation_gate(con, "2026-09").passed
    # One run over both months: the same verdicts, per month. September: its one
    # reconciliation line differs by 1.00; the plan's 2 lines of 2026 have no September rows in
    # fct_budget_execution (the marts hold October only).
    sep, oct_ = run_reconciliation_gates(con, ["2026-09", "2026-10"], run_id="w")
    assert [(r.expectation, r.observed_value) for r in sep.failed] == [
        ("reconciliation_difference_zero", "1 von 1 Zeilen abweichend"),
        ("current_appropriation_matches_plan", "2 von 2 Zeilen abweichend"),
    ]
    assert oct_.passed and not oct_.failed, oct_.summary_text
    stored = con.execute(
        "select partition, count(*) filter (where not success) from meta.gate_results "
        "where run_id = 'w' group by partition order by partition"
    ).fetchall()
    assert stored == [("2026-09", 2), ("2026-10", 0)]


def test_occupancy_above_100_percent_is_a_finding_not_an_error(con):
    # K02: 108 persons on 90 places is overcrowding (shown red), not an invalid value.
    marts = clean_marts()
    _where(
        "fct_indicator_values",
        K02_S02,
        numerator=Decimal("108"),
        denominator=Decimal("90"),
        value=120.0,
        display_value=120.0,
        attainment_ratio=80 / 120,
        traffic_light="red",
    )(marts)
    load(con, marts)
    assert run_mart_gate(con, "2026-10").passed


def test_model_invariants_are_dbt_data_tests_of_the_window(tmp_path):
    # Formerly in the production gates, now dbt data tests of fct_indicator_values restricted
    # to the run's window [2026-10-01, 2026-11-01). October: K02 'unbekannt' shows 12.5 over
    # denominator 0, and K13 lost its value but says 'ok'. September, outside the window, has
    # K13 without value under a status of its own ('verloren'): counted, it would be a second
    # failing group of accepted_values (failures 2). Each test fails on exactly 1 group.
    marts = clean_marts()
    _where("fct_indicator_values", K02_UNK, value=12.5)(marts)
    _where("fct_indicator_values", {"indicator_id": "K13"}, value=None, display_value=None)(marts)
    values = marts["fct_indicator_values"]
    k13 = next(r for r in values if r["indicator_id"] == "K13")
    values.append({**k13, "month": date(2026, 9, 1), "value_status": "verloren"})
    warehouse = tmp_path / "kim.duckdb"
    with connect(warehouse) as con:
        load(con, marts)
    tests = ("fct_indicator_values_missing_value_explained",
             "fct_indicator_values_no_value_with_zero_denominator")  # fmt: skip
    run_dbt(
        {"KIM_WAREHOUSE": str(warehouse)}, tmp_path / "target", "test", "--select", *tests,
        "--vars", '{"min_month": "2026-10-01", "max_month": "2026-11-01"}', returncode=1,
    )  # fmt: skip
    run = json.loads((tmp_path / "target" / "run_results.json").read_text("utf-8"))
    failures = {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"])
        for r in run["results"]
        if r["unique_id"].startswith("test.")
    }  # not the on-run-start hook
    assert failures == {name: ("fail", 1) for name in tests}
