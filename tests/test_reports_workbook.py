"""Controlling workbook: cells, formats, layout and byte-identical re-rendering."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from support.report_warehouse import build_warehouse

from reports.data import PeriodError
from reports.workbook import write_controlling_workbook

MONEY = '#,##0.00 "€"'


@pytest.fixture(scope="module")
def workbook_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("workbook")
    warehouse = build_warehouse(root / "kim.duckdb")
    paths = []
    for name in ("a", "b"):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            paths.append(write_controlling_workbook(con, "2025-12", root / name))
    return paths[0], paths[1]


def _row(ws, first_cell: str) -> list:
    for row in ws.iter_rows(min_row=5):
        if row[0].value == first_cell:
            return row
    raise AssertionError(f"no row {first_cell!r} in {ws.title}")


def _amount(cell) -> Decimal:
    return Decimal(str(cell.value))


def test_path_sheets_and_properties(workbook_files: tuple[Path, Path]) -> None:
    path, _ = workbook_files
    assert path.name == "Controlling_2025-12.xlsx" and path.parent.name == "2025-12"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Übersicht", "Konten", "Kennzahlen", "Sozialräume",
                               "Sozialraumbudgets", "Kosten je Person", "Abstimmung",
                               "Datenqualität", "Verlauf"]  # fmt: skip
    assert book.properties.created == datetime(2025, 12, 31)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9
        assert ws.freeze_panes is not None
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml"} <= set(names)
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_overview_figures_computed_by_hand(workbook_files: tuple[Path, Path]) -> None:
    ws = openpyxl.load_workbook(workbook_files[0])["Übersicht"]
    headers = [c.value for c in ws[4]]
    col = {h: i for i, h in enumerate(headers)}
    hilfen = _row(ws, "31.30.01")
    # Ist bis Monat (net) = expenses 4331 − revenues 3481 = 1,150,000.55 − 870,000.25
    assert _amount(hilfen[col["Ist bis Monat"]]) == Decimal("1150000.55") - Decimal("870000.25")
    assert _amount(hilfen[col["Erträge bis Monat"]]) == Decimal("870000.25")
    assert hilfen[col["Ampel"]].value == "grün"
    total = _row(ws, "Teilhaushalt 50")
    assert _amount(total[col["Ist bis Monat"]]) == Decimal("792345.97")  # 280,000.30 + 512,345.67
    assert _amount(total[col["Fortgeschriebener Ansatz"]]) == Decimal("800000.00")
    # (−19,999.70 + 12,345.67) ÷ (300,000 + 500,000)
    assert total[col["Abweichung %"]].value == pytest.approx(-7654.03 / 800000)
    assert total[col["Deckungsgrad"]].value == pytest.approx(870000.25 / 1662346.22)
    assert total[col["Ampel"]].value == "grün"  # the Teilhaushalt's light comes from its mart
    assert hilfen[col["Ist bis Monat"]].number_format == MONEY
    assert hilfen[col["Abweichung %"]].number_format == "0.0 %"
    assert ws.auto_filter.ref == "A4:N7"  # header, two products, Teilhaushalt
    assert ws.freeze_panes == "C5"


def test_accounts_indicators_reconciliation_quality(workbook_files: tuple[Path, Path]) -> None:
    book = openpyxl.load_workbook(workbook_files[0])
    accounts = book["Konten"]
    assert [(r[0].value, r[2].value) for r in accounts.iter_rows(min_row=5)] == [
        ("31.30.01", "3481"), ("31.30.01", "4331"), ("31.40.06", "4231")]  # fmt: skip
    revenue = _row(accounts, "31.30.01")  # first row: 3481
    assert revenue[4].value == "Ertrag" and _amount(revenue[11]) == Decimal("870000.25")

    indicators = book["Kennzahlen"]
    k06 = _row(indicators, "K06")
    assert k06[5].value == pytest.approx(41 / 57)  # 41 of 57 persons, shown as 71.9 %
    assert k06[5].number_format == "0.0 %"
    k01 = _row(indicators, "K01")
    assert k01[5].value == 57 and k01[5].number_format == "#,##0"
    assert [k01[10 + i].value for i in range(12)] == [100 + i for i in range(11)] + [57]

    spaces = book["Sozialräume"]
    assert [(r[0].value, r[2].value, r[4].value) for r in spaces.iter_rows(min_row=5)
            if r[0].value == "K01"] == [
        ("K01", "SR01", 40), ("K01", "SR02", 2), ("K01", "SR03", 15), ("K01", "unbekannt", 0),
        ("K01", "GESAMT", 57)]  # fmt: skip

    reconciliation = book["Abstimmung"]
    diff = _row(reconciliation, "Dezember 2025")
    rows = [r for r in reconciliation.iter_rows(min_row=5, values_only=True)]
    assert rows[1][2] == "4332" and Decimal(str(rows[1][5])) == Decimal("0.10")
    assert rows[1][6] == "nein" and diff[6].value == "ja"

    quality = book["Datenqualität"]
    values = [r for r in quality.iter_rows(min_row=5, values_only=True) if r[0]]
    assert values[0][:4] == ("Rohdaten personen", "not_null_person", "Fehler", "bestanden")
    assert values[1][1:4] == ("Abgleich (difference_zero)", "Warnung", "nicht bestanden")
    assert values[1][6] == "31.30.01/4332"
    assert ("personen_2025-12.csv", "R03", 2) in [v[:3] for v in values]


def test_rendering_twice_is_byte_identical(workbook_files: tuple[Path, Path]) -> None:
    first, second = (hashlib.sha256(p.read_bytes()).hexdigest() for p in workbook_files)
    assert first == second


def test_bad_month_is_refused(tmp_path: Path) -> None:
    with duckdb.connect() as con, pytest.raises(PeriodError):
        write_controlling_workbook(con, "2025-13", tmp_path)


def test_indicator_note_states_the_seed_tolerance(workbook_files: tuple[Path, Path]) -> None:
    note = openpyxl.load_workbook(workbook_files[0])["Kennzahlen"]["A3"].value
    # reference.settings traffic_light_tolerance = 0.10 -> "10 %"
    assert "gelb = um höchstens 10 % des Zielwerts verfehlt" in note


def test_history_has_no_invented_zeros_before_the_data_start(tmp_path: Path) -> None:
    # The caseload starts in March 2025; in March no person has status ERLAUBNIS.
    warehouse = build_warehouse(tmp_path / "kim.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from marts.fct_caseload_monthly where month < '2025-03-01'")
        con.execute(
            "delete from marts.fct_caseload_monthly"
            " where month = '2025-03-01' and residence_status = 'ERLAUBNIS'"
        )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        path = write_controlling_workbook(con, "2025-12", tmp_path / "out")
    sheet = openpyxl.load_workbook(path)["Verlauf"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[4] == "Monat")
    by_month = {r[4]: r[5:8] for r in sheet.iter_rows(values_only=True) if r[4]}
    assert header[5:8] == ("Duldung", "Aufenthaltserlaubnis", "Gestattung")
    assert by_month["Januar 2025"] == (None, None, None)
    assert by_month["Februar 2025"] == (None, None, None)
    # March (fixture month index 2, each count + 2): Duldung (10+2) + (2+2) + (0+2) = 18,
    # Gestattung (30+2) + (14+2) = 48; Aufenthaltserlaubnis absent in a month with data -> 0.
    assert by_month["März 2025"] == (18, 0, 48)


def test_cost_sheets(workbook_files: tuple[Path, Path]) -> None:
    book = openpyxl.load_workbook(workbook_files[0])
    # Fixture rows (test_reports_warehouse): SR01 x 31.30.01 budget, yellow light.
    budget = [c.value for c in _row(book["Sozialraumbudgets"], "SR01")]
    assert budget[2] == "31.30.01" and budget[-1] == "gelb"
    assert _amount(book["Sozialraumbudgets"].cell(5, 7)) == Decimal("12600.00")
    # Kosten je Person: the city rows first, cost objects in order (Leistungen: 40 persons,
    # 20,000.00 €, 500.00 € per person), then their total (48,000.00 €, 1,200.00 €).
    ws = book["Kosten je Person"]
    assert [c.value for c in ws[5]][:5] == ["Gesamt", "Gesamt", "Gesamt", "Leistungen", 40]
    assert (_amount(ws.cell(5, 6)), _amount(ws.cell(5, 7))) == (Decimal("20000"), Decimal("500"))
    assert [c.value for c in ws[6]][3:6] == ["Gesamt", 40, 48000]
