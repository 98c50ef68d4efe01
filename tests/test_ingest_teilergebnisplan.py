"""Teilergebnisplan import (contract 4b) on a tiny hand-written plan with hand-checked subtotals."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from ingest.errors import FileRejected, SubtotalMismatch
from ingest.load import load_file
from ingest.teilergebnisplan import import_teilergebnisplan
from ingest.warehouse import ensure_schema

HEADER = (
    "Produktbereich;Produktbereichsbezeichnung;Teilplan;Teilplanbezeichnung;Teilplanzeile;"
    "Ergebnis 2010;Plan 2011"
)
PREFIX = "05;Soziale Leistungen;050101;Hilfen für Flüchtlinge   "
# Hand-checked: 10 = 01 + 02; 17 = 11 + 15; 18 = 10 - 17; 21 = 19 - 20; 22 = 18 + 21;
# 25 = 23 - 24; 26 = 22 + 25; 28 = 26 - 27.
PLAN = [
    ("01 - Steuern und ähnliche Abgaben", "100", "110"),
    ("02 - Zuwendungen und allgemeine Umlagen", "1.000", "1.200"),
    ("10 = Ordentliche Erträge", "1.100", "1.310"),
    ("11 - Personalaufwendungen", "500", "520"),
    ("15 - Transferaufwendungen", "12.301.847", "12.000.000"),
    ("17 = Ordentliche Aufwendungen", "12.302.347", "12.000.520"),
    ("18 = Ergebnis der laufenden Verwaltungstätigkeit", "-12.301.247", "-11.999.210"),
    ("19 - Finanzerträge", "0", "0"),
    ("20 - Zinsen und sonstige Finanzaufwendungen", "10", "10"),
    ("21 = Finanzergebnis", "-10", "-10"),
    ("22 = Ordentliches Ergebnis", "-12.301.257", "-11.999.220"),
    ("23 - Außerordentliche Erträge", "0", ""),
    ("24 - Außerordentliche Aufwendungen", "0", ""),
    ("25 = Außerordentliches Ergebnis", "0", "0"),
    (
        "26 = Ergebnis vor Berücksichtigung der internen Leistungsbeziehungen",
        "-12.301.257",
        "-11.999.220",
    ),
    ("27 - Aufwendungen aus internen Leistungsbeziehungen", "100", "100"),
    ("28 = Jahresergebnis", "-12.301.357", "-11.999.320"),
]


def write_plan(path, changes: dict[str, tuple[str, str]] | None = None):
    changes = changes or {}
    lines = [HEADER]
    for label, a, b in PLAN:
        a, b = changes.get(label[:2], (a, b))
        lines.append(f"{PREFIX};{label};{a};{b}")
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return path


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    return con


def test_correct_plan_loads_posting_lines_only(tmp_path, con):
    summary = import_teilergebnisplan(con, write_plan(tmp_path / "teilergebnisplan_2011.csv"))
    # 9 posting lines x 2 years, minus the two empty cells of lines 23 and 24 in Plan 2011
    assert summary.posting_rows == 16
    assert con.execute(
        "select wert_art, jahr, count(*), sum(betrag) from raw.teilergebnisplan "
        "group by all order by jahr"
    ).fetchall() == [
        ("Ergebnis", 2010, 9, Decimal("12303557.00")),  # 100+1000+500+12301847+0+10+0+0+100
        ("Plan", 2011, 7, Decimal("12001940.00")),  # 110+1200+520+12000000+0+10+100
    ]
    assert con.execute(
        "select distinct produktbereich, teilplan, teilplanbezeichnung from raw.teilergebnisplan"
    ).fetchall() == [("05", "050101", "Hilfen für Flüchtlinge")]
    assert con.execute(
        "select zeile, zeile_bezeichnung, betrag, source_line from raw.teilergebnisplan "
        "where jahr = 2010 and zeile = 15"
    ).fetchall() == [(15, "Transferaufwendungen", Decimal("12301847.00"), 6)]
    assert [
        (r.teilplan, r.wert_art, r.jahr, r.ordentliches_ergebnis, r.jahresergebnis)
        for r in summary.results
    ] == [
        ("050101", "Ergebnis", 2010, Decimal("-12301247"), Decimal("-12301357")),
        ("050101", "Plan", 2011, Decimal("-11999210"), Decimal("-11999320")),
    ]
    assert "-12.301.357,00" in str(summary)


def test_rounding_difference_within_allowance_is_accepted(tmp_path, con):
    # line 10 has k = 2 components: allowance ceil(2/2) = 1 euro; 1.101 - 1.100 = 1
    path = write_plan(tmp_path / "teilergebnisplan_2011.csv", {"10": ("1.101", "1.310")})
    assert import_teilergebnisplan(con, path).posting_rows == 16


def test_broken_subtotal_is_rejected_with_line_teilplan_year_difference(tmp_path, con):
    path = write_plan(tmp_path / "teilergebnisplan_2011.csv", {"17": ("12.302.350", "12.000.520")})
    with pytest.raises(SubtotalMismatch) as err:
        import_teilergebnisplan(con, path)
    e = err.value
    assert (e.line, e.teilplan, e.year_column, e.zeile, e.difference) == (
        7,
        "050101",
        "Ergebnis 2010",
        17,
        "3,00",  # 12.302.350 - (500 + 12.301.847)
    )
    assert "teilergebnisplan_2011.csv" in str(e)
    assert con.execute("select count(*) from raw.teilergebnisplan").fetchall() == [(0,)]


def test_amounts_in_cents_allow_no_difference(tmp_path, con):
    path = write_plan(tmp_path / "teilergebnisplan_2011.csv", {"10": ("1.100,01", "1.310,00")})
    with pytest.raises(SubtotalMismatch) as err:
        import_teilergebnisplan(con, path)
    assert (err.value.zeile, err.value.difference) == (10, "0,01")


def test_unreadable_line_label_is_rejected(tmp_path, con):
    path = tmp_path / "teilergebnisplan_2011.csv"
    path.write_text(f"{HEADER}\n{PREFIX};Transferaufwendungen;1;2\n", encoding="utf-8")
    with pytest.raises(FileRejected, match="Zeile 2"):
        import_teilergebnisplan(con, path)


def test_reimport_replaces_and_inbox_loading_uses_same_import(tmp_path, con):
    path = write_plan(tmp_path / "teilergebnisplan_2011.csv")
    import_teilergebnisplan(con, path)
    write_plan(
        path,
        {
            "15": ("12.301.847", "12.000.001"),
            "17": ("12.302.347", "12.000.521"),
            "18": ("-12.301.247", "-11.999.211"),
            "22": ("-12.301.257", "-11.999.221"),
            "26": ("-12.301.257", "-11.999.221"),
            "28": ("-12.301.357", "-11.999.321"),
        },
    )
    [result] = load_file(con, path, key=b"unused-for-plans-but-required-000")
    assert (result.source, result.rows_read, result.rows_loaded, result.rows_totals_removed) == (
        "teilergebnisplan",
        17,
        9,
        8,
    )
    assert result.replaced_load_id is not None
    assert con.execute(
        "select count(*), sum(betrag) from raw.teilergebnisplan where jahr = 2011"
    ).fetchall() == [(7, Decimal("12001941.00"))]
