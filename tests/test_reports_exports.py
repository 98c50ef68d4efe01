"""Exports (CSV for German Excel, Parquet, suppressed public files) and the UI preview."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.marts import mart_columns
from support.report_warehouse import build_warehouse

from reports.exports import mart_tables, write_exports
from reports.preview import key_figures_markdown


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    root = tmp_path_factory.mktemp("exports")
    warehouse = build_warehouse(root / "kim.duckdb")
    # A file an earlier run left in run a's export folder: gone after the export.
    stale = root / "a" / "internal" / "2025-12" / "export" / "int_planning_person_months.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("month;person_id\n", encoding="utf-8")
    runs = []
    for name in ("a", "b"):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            runs.append(write_exports(con, "2025-12", root / name))
    return runs[0], runs[1]


def test_every_mart_as_csv_and_parquet(exported: tuple[list[Path], list[Path]]) -> None:
    paths, _ = exported
    folder = paths[0].parent
    assert folder.name == "export" and folder.parent.name == "2025-12"
    assert folder.parent.parent.name == "internal"
    internal = sorted(p.name for p in paths if p.parent == folder)
    # every mart of the fixture (all marts the dbt project declares), as CSV and Parquet each
    assert internal == sorted(f"{m}.{x}" for m in mart_columns() for x in ("csv", "parquet"))
    assert "fct_budget_product_monthly.parquet" in internal and "dim_month.csv" in internal


def test_csv_is_german_excel_friendly(exported: tuple[list[Path], list[Path]]) -> None:
    folder = exported[0][0].parent
    raw = (folder / "fct_budget_product_monthly.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("month;year;product_id;")
    assert len(lines) == 1 + 2  # only the month's two products
    assert lines[1].startswith("2025-12-01;2025;31.30.01;50;1200000,00;900000,00;300000,00;")
    assert ";280000,30;" in lines[1]  # net burden 1,150,000.55 − 870,000.25
    months = (folder / "dim_month.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(months) == 1 + 12  # dimensions are exported whole


def test_parquet_keeps_exact_decimals(exported: tuple[list[Path], list[Path]]) -> None:
    folder = exported[0][0].parent
    frame = pl.read_parquet(folder / "fct_budget_execution.parquet")
    assert frame.schema["actual_to_date"] == pl.Decimal(18, 2)
    assert sum(frame["actual_to_date"].to_list()) == Decimal("2532346.47")


def test_public_files_are_suppressed(exported: tuple[list[Path], list[Path]]) -> None:
    public = exported[0][0].parents[3] / "public" / "2025-12"
    assert not any(p.is_relative_to(public.parent) for p in exported[0] if "export" in p.parts)
    persons = pl.read_csv(public / "personen_sozialraum_status_2025-12.csv", separator=";",
                          infer_schema=False)  # fmt: skip
    counts = persons.drop("monat", "sozialraum")
    cells = [v for column in counts.columns for v in counts[column].to_list()]
    assert "1" not in cells and "2" not in cells and "*" in cells
    indicators = pl.read_csv(public / "kennzahlen_sozialraum_2025-12.csv", separator=";",
                             infer_schema=False)  # fmt: skip
    shown = {(r["kennzahl"], r["sozialraum"]): r["wert"] for r in indicators.iter_rows(named=True)}
    assert shown[("K01", "SR02")] == "*" and shown[("K01", "SR03")] == "*"
    assert shown[("K01", "GESAMT")] == "57" and shown[("K01", "unbekannt")] == "0"
    assert shown[("K06", "SR02")] == "/" and shown[("K06", "SR01")] == "75,0"
    note = (public / "hinweise_2025-12.txt").read_text(encoding="utf-8")
    assert note.startswith("Öffentliche Tabellen Dezember 2025\n")
    assert "Fallzahlen von 1 bis 2 Personen werden durch „*“ ersetzt" in note


def test_exports_are_byte_identical(exported: tuple[list[Path], list[Path]]) -> None:
    for first, second in zip(*exported, strict=True):
        assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(
            second.read_bytes()).digest(), first.name  # fmt: skip


def test_key_figures_markdown(tmp_path: Path) -> None:
    warehouse = build_warehouse(tmp_path / "kim.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        text = key_figures_markdown(con, "2025-12")
    lines = text.splitlines()
    assert lines[0] == "**Kennzahlen Dezember 2025** (Stadt gesamt)"
    assert "| K01 Leistungsberechtigte nach AsylbLG | 57 | – | – |" in lines
    assert "| K06 Anteil dezentral oder privat wohnend | 71,9 % | 70,0 % | grün |" in lines
    assert "| K13 Zuschussbedarf je Einwohner | 12,20 € | 12,00 € – 14,00 € | – |" in lines


def test_only_facts_and_dimensions_are_exported() -> None:
    """A working table in schema marts (the planning intermediates: one is a row per person and
    month) is never exported; facts and dimensions are."""
    con = duckdb.connect()
    con.sql(
        "create schema marts;"
        " create table marts.fct_caseload(month date, persons integer);"
        " create table marts.dim_month(month date);"
        " create table marts.int_planning_person_months(month date, person_id varchar)"
    )
    assert mart_tables(con) == [("dim_month", False), ("fct_caseload", True)]


def test_an_earlier_runs_export_file_does_not_linger(
    exported: tuple[list[Path], list[Path]],
) -> None:
    internal = exported[0][0].parent  # run a's internal export folder (written first)
    assert internal.name == "export"
    assert not (internal / "int_planning_person_months.csv").exists()
    assert {p.name for p in internal.iterdir()} == {
        p.name for p in exported[0] if p.parent == internal
    }
