"""Reference data as a workbook (`kim stammdaten`): round trip, German input, named errors."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from dagster_project.cli import main
from ingest.reference_workbook import WorkbookError, export_workbook, import_workbook
from kim_settings import DBT_PROJECT_DIR, SEEDS_DIR

PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A copy of the seeds (CSV files and their `_seeds.yml` rules) to rewrite freely."""
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    return copy


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def edit(workbook: Path, changes: dict[tuple[str, str], object]) -> None:
    """Set cells given as (sheet, cell reference) -> value, as a controller would in Excel."""
    wb = openpyxl.load_workbook(workbook)
    for (sheet, ref), value in changes.items():
        wb[sheet][ref] = value
    wb.save(workbook)


def test_export_then_import_gives_byte_identical_seeds(seeds: Path, tmp_path: Path) -> None:
    before = snapshot(seeds)
    workbook = tmp_path / "Stammdaten.xlsx"
    sheets = export_workbook(seeds, PROJECT_FILE, workbook)
    assert sheets == [name.removesuffix(".csv") for name in before]
    import_workbook(workbook, seeds, PROJECT_FILE)
    # Also the files with CRLF line ends (accommodation) and always-quoted columns (indicators).
    assert snapshot(seeds) == before


def test_export_is_typed_with_bold_frozen_header(tmp_path: Path) -> None:
    workbook = tmp_path / "out" / "Stammdaten.xlsx"
    assert main(["stammdaten", "export", "--out", str(workbook)]) == 0
    wb = openpyxl.load_workbook(workbook)
    staff = wb["staff_fte"]
    assert staff.freeze_panes == "A2" and staff["A1"].font.bold
    # staff_fte.csv line 2: FALLMANAGEMENT,2023-11-01,12.50 -> a date and a 2-decimal number.
    assert staff["B2"].value == dt.datetime(2023, 11, 1)
    assert staff["B2"].number_format == "DD.MM.YYYY"
    assert staff["C2"].value == 12.5 and staff["C2"].number_format == "#,##0.00"
    # social_spaces.csv line 2: SR01,Innenstadt,08999000 -> the AGS stays text with its zero.
    spaces = wb["social_spaces"]
    assert spaces["C2"].value == "08999000" and spaces["C2"].number_format == "@"
    # indicators: per_social_space is boolean, min_denominator integer.
    assert wb["indicators"]["I2"].value is True and wb["indicators"]["J2"].value == 0


def test_german_numbers_and_dates_are_accepted(seeds: Path, tmp_path: Path) -> None:
    workbook = tmp_path / "Stammdaten.xlsx"
    export_workbook(seeds, PROJECT_FILE, workbook)
    before = (seeds / "staff_fte.csv").read_text(encoding="utf-8").splitlines()
    # staff_fte row 2: fte typed as German text 12,75; row 3: month typed as text 01.01.2024.
    # targets row 2 (K02 2024): target_value 1.234,5 -> 1234.5 (thousands dot, decimal comma).
    edit(
        workbook,
        {
            ("staff_fte", "C2"): "12,75",
            ("staff_fte", "B3"): "01.12.2023",
            ("targets", "D2"): "1.234,5",
        },
    )
    import_workbook(workbook, seeds, PROJECT_FILE)
    after = (seeds / "staff_fte.csv").read_text(encoding="utf-8").splitlines()
    assert after[1] == "FALLMANAGEMENT,2023-11-01,12.75"
    assert after[2] == before[2]  # 01.12.2023 is the month already there: same line
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [1]
    targets = (seeds / "targets.csv").read_text(encoding="utf-8").splitlines()
    assert targets[1] == "K02,2024,,1234.5,,"


def test_bad_cells_are_named_and_nothing_is_written(seeds: Path, tmp_path: Path) -> None:
    workbook = tmp_path / "Stammdaten.xlsx"
    export_workbook(seeds, PROJECT_FILE, workbook)
    before = snapshot(seeds)
    edit(
        workbook,
        {
            ("staff_fte", "C3"): "zwölf",
            ("staff_fte", "C4"): "12,505",
            ("accommodation", "B2"): "HOTEL",
            ("accommodation", "E3"): "4,5",
            ("accounts", "A3"): "3011",  # row 2 holds 3011 already
            ("settings", "B2"): None,
            ("targets", "G5"): "x",
        },
    )
    with pytest.raises(WorkbookError) as error:
        import_workbook(workbook, seeds, PROJECT_FILE)
    assert error.value.problems == [
        "Blatt 'accommodation', Zeile 2, Spalte 'kind': Wert 'HOTEL' nicht erlaubt "
        "(erlaubt: GU, DEZENTRAL).",
        "Blatt 'accommodation', Zeile 3, Spalte 'capacity': Wert '4,5' ist keine ganze Zahl.",
        "Blatt 'accounts', Zeile 3, Spalte 'account_id': Wert '3011' doppelt (schon in Zeile 2).",
        "Blatt 'settings', Zeile 2, Spalte 'value': Wert fehlt (Pflichtfeld).",
        "Blatt 'staff_fte', Zeile 3, Spalte 'fte': Wert 'zwölf' ist keine Zahl.",
        "Blatt 'staff_fte', Zeile 4, Spalte 'fte': Wert '12,505' hat mehr als 2 Nachkommastellen.",
        "Blatt 'targets', Zeile 5: Werte rechts der letzten Spalte 'band_high' "
        "(neue Spalten nur zusammen mit der Entwicklung).",
    ]
    assert snapshot(seeds) == before


def test_missing_sheet_and_renamed_column_are_reported(seeds: Path, tmp_path: Path) -> None:
    workbook = tmp_path / "Stammdaten.xlsx"
    export_workbook(seeds, PROJECT_FILE, workbook)
    wb = openpyxl.load_workbook(workbook)
    del wb["products"]
    wb["targets"]["D1"] = "Zielwert"
    wb.save(workbook)
    with pytest.raises(WorkbookError) as error:
        import_workbook(workbook, seeds, PROJECT_FILE)
    assert error.value.problems[0] == "Blatt 'products' fehlt (eine Tabelle je Blatt)."
    assert error.value.problems[1].startswith("Blatt 'targets', Zeile 1: Spalten ")
    assert "'Zielwert'" in error.value.problems[1] and "'target_value'" in error.value.problems[1]
