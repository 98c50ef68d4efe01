"""The benchmark's pandas peer computes the indicators its definitions state.

Two independent statements: a few lines of csv-module counting over the newest persons file of a
generated town, and the warehouse's values after the session's pipeline run (the shared
`pipeline_run` fixture of conftest.py; no run of its own).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import pytest

from benchmarks.peer_pandas import indicators


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    """300 persons × 4 months from 2023-11: the newest month is 2024-02 (Stichtag 29.02.2024)."""
    from ingest.generator import generate

    inbox = tmp_path_factory.mktemp("peer_town")
    generate(inbox, months=4, start="2023-11", persons=300, seed=7)
    return inbox


def newest_persons(inbox: Path) -> list[dict[str, str]]:
    text = (inbox / "personen_2024-02.csv").read_bytes().decode("cp1252")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def arrival(row: dict[str, str]) -> date:
    day, month, year = row["Zuzugsdatum"].split(".")
    return date(int(year), int(month), int(day))


def test_peer_counts_match_the_persons_file(town):
    month, figures = indicators(town)
    rows = newest_persons(town)
    assert month == "2024-02"

    # K01: rows with Rechtskreis ASYLBLG (126 of the 334 rows for this seed when written).
    k01 = sum(r["Rechtskreis"] == "ASYLBLG" for r in rows)
    assert figures["K01"]["GESAMT"][:1] == (k01,)

    # K06: rows housed DEZENTRAL or PRIVAT over all rows (246 / 334 = 73.65 % when written).
    housed = sum(r["Unterbringung"] in ("DEZENTRAL", "PRIVAT") for r in rows)
    assert figures["K06"]["GESAMT"][:2] == (housed, len(rows))

    # K12: arrived more than 24 months before 29.02.2024, i.e. before 28.02.2022 (29.02.2022
    # does not exist, the month end of 24 months earlier); share with Rechtskreis KEINER
    # (19 / 197 = 9.64 % when written).
    cohort = [r for r in rows if arrival(r) < date(2022, 2, 28)]
    independent = sum(r["Rechtskreis"] == "KEINER" for r in cohort)
    assert figures["K12"]["GESAMT"][:2] == (independent, len(cohort))
    assert 0 < independent < len(cohort)  # a real share, not a degenerate 0 or 100 %


def warehouse_figures(con, month: str) -> dict[tuple[str, str], tuple]:
    rows = con.execute(
        "select indicator_id, social_space_id, numerator, denominator, value"
        " from marts.fct_indicator_values where month = ?",
        [date.fromisoformat(month + "-01")],
    ).fetchall()
    return {(i, s): (n, d, v) for i, s, n, d, v in rows}


def same(peer_value, warehouse_value) -> bool:
    if peer_value is None or warehouse_value is None:
        return peer_value is None and warehouse_value is None
    return float(peer_value) == pytest.approx(float(warehouse_value), abs=1e-6)


def test_peer_agrees_with_the_warehouse(pipeline_run, small_municipality):
    paths, result = pipeline_run
    assert result.success
    month, figures = indicators(small_municipality)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        warehouse = warehouse_figures(con, month)
    finally:
        con.close()
    disagreements = []
    for indicator, spaces in figures.items():
        for space, (_, _, value) in spaces.items():
            stored = warehouse.get((indicator, space))
            if stored is None or not same(value, stored[2]):
                disagreements.append((indicator, space, value, stored))
    assert disagreements == []
