"""The period helpers and queries on the tiny report warehouse (support/report_warehouse.py).

Hand-checked figures (month 2025-12):
- 31.30.01: expenses 1,150,000.55 (4331), revenues 870,000.25 (3481) → net 280,000.30.
- 31.40.06: expenses 512,345.67 (4231) → net 512,345.67. Teilhaushalt net: 792,345.97.
- K01 per social space: SR01 40, SR02 2, SR03 15, unbekannt 0, GESAMT 57.
- K03 per social space: SR01 5, SR02 0, SR03 1, unbekannt 0, GESAMT 6.
- K06 (%): SR01 30/40, SR02 1/2 (below min. denominator 10), SR03 10/15, GESAMT 41/57.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.report_warehouse import MONTH, build_warehouse

from expectations.config import GateConfig
from expectations.report import gate_rows, quarantine_rows
from reports import data


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
