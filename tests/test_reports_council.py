"""Council report: suppressed content, HTML/PDF/XLSX files, determinism."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from pypdf import PdfReader
from support.disclosure import derivable_by_elimination, determined_by_linear_algebra
from support.report_warehouse import INDICATORS, build_warehouse

from reports.council import (
    PublishedFigures,
    build_council_report,
    render_html,
    write_council_report,
)
from reports.data import CITY, caseload_by_space_status, indicator_values
from reports.formatting import COUNT, Typed
from reports.suppression import SuppressionConfig


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("council") / "kim.duckdb")


@pytest.fixture(scope="module")
def rendered(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> list[list[Path]]:
    runs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            runs.append(write_council_report(con, "2025", out))
    return runs


def _spaces_table(report, indicator_id: str):
    for _, sections in report.chapters:
        for s in sections:
            if s.indicator_id == indicator_id:
                return [row[:2] for row in s.spaces.rows]
    raise AssertionError(indicator_id)


def test_social_space_tables_are_suppressed(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = build_council_report(con, "2025")
    # K01: SR02 = 2 primary, SR03 (15) secondary; zeros and the city total stay visible
    assert _spaces_table(report, "K01") == [
        ["Innenstadt", 40], ["Nordstadt", "*"], ["Südstadt", "*"], ["unbekannt", 0],
        ["Stadt gesamt", 57]]  # fmt: skip
    # K03: SR03 = 1 primary; SR01 (5) is smaller than the city total (6)
    assert _spaces_table(report, "K03") == [
        ["Innenstadt", "*"], ["Nordstadt", 0], ["Südstadt", "*"], ["unbekannt", 0],
        ["Stadt gesamt", 6]]  # fmt: skip
    # K06: Nordstadt rests on 2 persons (< 10) → '/', unbekannt has no denominator
    k06 = dict(_spaces_table(report, "K06"))
    assert k06["Nordstadt"] == "/" and k06["unbekannt"] is None
    assert k06["Innenstadt"] == pytest.approx(75.0)


def test_no_small_count_survives_in_any_table(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = build_council_report(con, "2025")
    for table in report.tables():
        for row in table.rows:
            for cell, column in zip(row, table.columns, strict=True):
                value, kind = (cell.value, cell.kind) if isinstance(cell, Typed) else (
                    cell, column.kind)  # fmt: skip
                if kind == COUNT and not isinstance(value, str):
                    assert value not in (1, 2), table.title


def test_caseload_cross_table_cannot_be_recomputed(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        month = build_council_report(con, "2025").period.last_month
        figures = PublishedFigures(
            indicator_values(con, month, month, city_only=False),
            caseload_by_space_status(con, month), month, SuppressionConfig(),
        )  # fmt: skip
    registry = figures.registry
    hidden = set(registry.hidden())
    # caseload primary cells: SR02/Duldung = 2, SR03/Aufenthaltserlaubnis = 1, their margins
    assert ("persons", month, "SR02", "DULDUNG") in hidden
    assert ("persons", month, "SR03", "ERLAUBNIS") in hidden
    assert derivable_by_elimination(registry.values, registry.model.relations, hidden) == set()
    assert determined_by_linear_algebra(registry.model.relations, hidden) == set()
    assert registry.show(("indicator", "K01", month, CITY)) == 57
    # the audit of the month: SR02/Duldung = 2 reaches down to 1 and up to at least 2 + 3
    assert registry.audit().passed
    checks = {c.key: (c.low, c.high) for c in registry.audit().checks}
    low, high = checks[("persons", month, "SR02", "DULDUNG")]
    assert low <= 1 and high >= 2 + 3


def test_html_is_self_contained_and_accessible(rendered: list[list[Path]]) -> None:
    html_path = rendered[0][0]
    assert html_path.name == "Integrationsbericht_2025.html"
    html = html_path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?:""", html)
    assert '<html lang="de">' in html
    assert '<th scope="col">' in html and '<th scope="row">' in html
    assert html.count('role="img" aria-label="') == len(INDICATORS)
    assert "Datenstand: 31.12.2025" in html
    for indicator in INDICATORS:
        assert indicator[2] in html  # every definition in the method chapter


def test_pdf_pages_and_text(rendered: list[list[Path]]) -> None:
    reader = PdfReader(rendered[0][1])
    assert len(reader.pages) > 1
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for indicator in INDICATORS:
        assert indicator[1] in text
    assert "Seite 2 von" in text


def test_xlsx_annex_has_every_table(warehouse: Path, rendered: list[list[Path]]) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = build_council_report(con, "2025").tables()
    book = openpyxl.load_workbook(rendered[0][2])
    assert len(book.sheetnames) == len(tables) + 1
    k01 = next(i for i, t in enumerate(tables, 1) if "K01" in t.title and "Sozialraum" in t.title)
    ws = book[f"Tabelle {k01:02d}"]
    assert [ws.cell(r, 2).value for r in range(4, 9)] == [40, "*", "*", 0, 57]


def test_rendering_twice_is_byte_identical(rendered: list[list[Path]]) -> None:
    for first, second in zip(*rendered, strict=True):
        assert first.name == second.name
        assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(
            second.read_bytes()).digest(), first.name  # fmt: skip


def test_quarter_report_uses_the_quarter_end(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        html = render_html(build_council_report(con, "2025-Q3"))
    assert "Berichtszeitraum: Juli bis September 2025" in html
    assert "Datenstand: 30.09.2025" in html


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm not installed")
def test_pdf_page_renders_to_png(rendered: list[list[Path]], tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "3", "-l", "3", "-singlefile",
                    str(rendered[0][1]), str(tmp_path / "page")], check=True)  # fmt: skip
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000


def test_cost_chapter_city_wide_and_small_groups_hidden(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = build_council_report(con, "2025")
    by_status, by_housing, budgets = report.costs
    # Columns: Aufenthaltsstatus, then Leistungen .. Gemeinkosten, Gesamt (fixture rows of
    # test_reports_warehouse.COST_PER_PERSON); no person counts are published.
    assert [c.label for c in by_status.columns][-1] == "Gesamt"
    assert all(c.kind != COUNT for c in by_status.columns + by_housing.columns)
    rows = {r[0]: r for r in by_status.rows}
    assert rows["Gesamt"][1] == Decimal("500.00") and rows["Gesamt"][-1] == Decimal("1200.00")
    assert rows["Gestattung"][-1] == Decimal("1210.53")
    # DULDUNG has 2 persons (max_count 2): every amount per person hidden.
    assert set(rows["Duldung"][1:]) == {SuppressionConfig().rate_symbol}
    housing = {r[0]: r[-1] for r in by_housing.rows}
    assert housing == {
        "Gesamt": Decimal("1200.00"),
        "Gemeinschaftsunterkunft": Decimal("1400.00"),
        "Wohnung der Stadt": Decimal("866.67"),
    }
    assert budgets.rows == [
        [
            "SR01 Innenstadt",
            "31.30.01",
            Decimal("12000.00"),
            Decimal("12000.00"),
            Decimal("12600.00"),
            Decimal("600.00"),
            Decimal("12600.00"),
            "yellow",
        ]
    ]
