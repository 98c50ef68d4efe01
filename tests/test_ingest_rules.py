"""Row rules that keep money and persons from disappearing silently: unknown products/accounts,
payments of unknown social spaces, persons listed twice, reversals reused or dated before their
original, and course ids Excel stored as numbers."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import xlsxwriter
from support.ingest_files import (
    FIBU_HEADER,
    KEY,
    PERSON_HEADER,
    ZAHLUNG_HEADER,
    person,
    quarantine,
    rows,
    warehouse,
    write,
    zahlung,
)

from ingest.load import load_file

PLAN_HEADER = "Jahr;Produkt;Sachkonto;Ansatz;Nachtrag;Uebertragung;Profil"


def test_unknown_product_or_account_is_quarantined_with_its_money(tmp_path):
    # 31.30.01 / 4331 are in the seeds; 99.99.99 and 9999 are not.
    lines = [
        FIBU_HEADER,
        "10.2026;31.30.01;4331;5020;1.000,00",
        "10.2026;99.99.99;4331;5020;250,50",
        "10.2026;31.30.01;9999;5020;-12,34",
        "10.2026;31.30.01;9999;5020;0,00",
    ]
    con = warehouse(tmp_path)
    [result] = load_file(con, write(tmp_path / "fibu_ist_2026-10.csv", lines), key=KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 3)
    assert quarantine(con) == [
        (
            3,
            "unknown_product",
            "Produkt",
            "Produkt 99.99.99 fehlt in den Stammdaten (products.csv); Betrag 250,50 €",
        ),
        (
            4,
            "unknown_account",
            "Sachkonto",
            "Sachkonto 9999 fehlt in den Stammdaten (accounts.csv); Betrag -12,34 €",
        ),
        (
            5,
            "unknown_reference_zero_amount",
            "Sachkonto",
            "Sachkonto 9999 fehlt in den Stammdaten (accounts.csv); Betrag 0,00 €",
        ),
    ]
    assert rows(con, "select betrag from raw.fibu_ist") == [(Decimal("1000.00"),)]


def test_unknown_account_in_the_plan_shows_every_amount(tmp_path):
    lines = [
        PLAN_HEADER,
        "2026;31.30.01;4331;100.000,00;;;LINEAR",
        "2026;31.30.01;9999;0,00;0,00;5,00;LINEAR",  # only the carry-over is non-zero
    ]
    con = warehouse(tmp_path)
    load_file(con, write(tmp_path / "haushaltsplan_2026.csv", lines), key=KEY)
    assert quarantine(con) == [
        (
            3,
            "unknown_account",
            "Sachkonto",
            "Sachkonto 9999 fehlt in den Stammdaten (accounts.csv); Ansatz 0,00 €, "
            "Nachtrag 0,00 €, Uebertragung 5,00 €",
        )
    ]


def test_payment_with_unknown_social_space_loads_and_is_noted(tmp_path):
    lines = [
        ZAHLUNG_HEADER,
        zahlung("B-0001", "05.10.2026", "450,00"),
        zahlung("B-0002", "05.10.2026", "80,00").removesuffix("SR01") + "SR99",
    ]
    con = warehouse(tmp_path)
    [result] = load_file(con, write(tmp_path / "asylblg_zahlungen_2026-10.csv", lines), key=KEY)
    # Both lines are money: 450,00 + 80,00 = 530,00 € loaded, nothing in quarantine.
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert rows(con, "select sum(betrag) from raw.asylblg_zahlungen") == [(Decimal("530.00"),)]
    assert result.warnings == [
        "Zeile 3: Sozialraum 'SR99' fehlt in den Stammdaten; die Zeile wird unter 'unbekannt' "
        "gezählt"
    ]
    stored = rows(con, "select warnings from meta.load_batches")[0][0]
    assert "Zeile 3: Sozialraum 'SR99'" in stored


def test_person_twice_quarantines_every_row_of_that_person(tmp_path):
    lines = [
        PERSON_HEADER,
        person(Person_ID="P-1", Sozialraum="SR01"),
        person(Person_ID="P-2"),
        person(Person_ID="P-1", Sozialraum="SR02"),  # which address is right? unknowable
    ]
    con = warehouse(tmp_path)
    [result] = load_file(con, write(tmp_path / "personen_2026-10.csv", lines), key=KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    assert [(line, rule) for line, rule, _, _ in quarantine(con)] == [
        (2, "duplicate_key"),
        (4, "duplicate_key"),
    ]
    assert all("Zeilen 2, 4" in value for _, _, _, value in quarantine(con))
    assert "P-1" not in str(quarantine(con))  # the key is shown as its pseudonym only


def test_reversal_twice_or_before_its_original(tmp_path):
    con = warehouse(tmp_path)
    september = [
        ZAHLUNG_HEADER,
        zahlung("B-0001", "10.09.2026", "450,00"),
        zahlung("B-0002", "11.09.2026", "-450,00", storno="B-0001"),
    ]
    load_file(con, write(tmp_path / "asylblg_zahlungen_2026-09.csv", september), key=KEY)
    october = [
        ZAHLUNG_HEADER,
        zahlung("B-0003", "20.10.2026", "100,00"),
        zahlung("B-0004", "21.10.2026", "-100,00", storno="B-0003"),  # valid
        zahlung("B-0005", "22.10.2026", "-100,00", storno="B-0003"),  # B-0003 again
        zahlung("B-0006", "02.10.2026", "-450,00", storno="B-0001"),  # reversed in September
        zahlung("B-0007", "25.10.2026", "70,00"),
        zahlung("B-0008", "05.10.2026", "-70,00", storno="B-0007"),  # before its original
    ]
    [result] = load_file(con, write(tmp_path / "asylblg_zahlungen_2026-10.csv", october), key=KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (3, 3)
    assert [(line, rule, value) for line, rule, _, value in quarantine(con)] == [
        (4, "reversal_duplicate", "B-0003 wurde bereits in Zeile 3 storniert"),
        (5, "reversal_duplicate", "B-0001 wurde bereits in einem anderen Monat storniert"),
        (7, "reversal_before_original", "B-0007 ist später gebucht als ihr Storno"),
    ]
    # Loaded October money: 100,00 - 100,00 + 70,00 = 70,00 €.
    assert rows(
        con,
        "select sum(betrag) from raw.asylblg_zahlungen where period_month = '2026-10-01'",
    ) == [(Decimal("70.00"),)]


def test_course_ids_typed_as_numbers_get_their_leading_zeros_back(tmp_path):
    path = tmp_path / "kurse_2026-10.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    kurse = wb.add_worksheet("Kurse")
    kurse.write_row(
        0, 0, ["Kurs_ID", "Kursart", "Traeger", "Sozialraum", "Beginn", "Ende", "UE_geplant"]
    )
    kurse.write_row(0, 7, ["Plaetze", "Kosten_Kommune"])
    kurse.write_row(1, 0, ["000123", "INT_ALLG", "VHS", "SR01", "01.09.2026", "28.02.2027"])
    kurse.write_row(1, 6, ["700", "20"])
    kurse.write_number(2, 0, 124)  # a number cell: Excel dropped "000"
    kurse.write_row(2, 1, ["BSK", "VHS", "SR02", "01.09.2026", "28.02.2027", "300", "15"])
    teil = wb.add_worksheet("Teilnahmen")
    header = ["Kurs_ID", "Person_ID", "Eintritt", "Austritt", "Status", "UE_besucht", "Pruefung"]
    teil.write_row(0, 0, [*header, "Pruefungsdatum"])
    teil.write_number(1, 0, 124.0)
    teil.write_number(1, 1, 42)  # no zero-padded Person_ID in the sheet: contract width 7
    teil.write_row(1, 2, ["01.09.2026", "", "LAUFEND", "10"])
    wb.close()
    con = warehouse(tmp_path)
    results = load_file(con, path, key=KEY)
    assert [(r.rows_loaded, r.rows_quarantined) for r in results] == [(2, 0), (1, 0)]
    assert rows(con, "select kurs_id from raw.kurse order by 1") == [("000123",), ("000124",)]
    assert rows(con, "select kurs_id from raw.teilnahmen") == [("000124",)]
    # Person_ID is pseudonymised: it must be the pseudonym of "0000042" (7 digits), not of "42".
    expected = hmac.new(KEY, b"0000042", hashlib.sha256).hexdigest()
    assert rows(con, "select person_id from raw.teilnahmen") == [(expected,)]
    assert results[0].warnings[-1] == (
        "Kurs_ID: 1 als Zahl gespeicherte Kennung(en) auf 6 Stellen mit führenden Nullen ergänzt"
    )


def test_persons_file_of_another_month_blocks_the_month(tmp_path):
    from expectations.gates import run_raw_gate

    con = warehouse(tmp_path)
    september = [PERSON_HEADER] + [
        person(Person_ID=f"P-{i}", Stichtag="30.09.2026") for i in (1, 2, 3)
    ]
    load_file(con, write(tmp_path / "personen_2026-09.csv", september), key=KEY)
    # October's file holds September's stock again: every Stichtag is 30.09.2026.
    october = [PERSON_HEADER] + [
        person(Person_ID=f"P-{i}", Stichtag="30.09.2026") for i in (1, 2, 3)
    ]
    [result] = load_file(con, write(tmp_path / "personen_2026-10.csv", october), key=KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (0, 3)  # rule period_mismatch
    outcome = run_raw_gate(con, "2026-10", tables=["personen"])
    assert not outcome.passed
    # quarantine share 3 / (0 + 3) = 100 % > 1 %; rows 0 outside ceil(2.1)..floor(3.9) = 3..3
    assert {(r.expectation, r.observed_value) for r in outcome.failed} == {
        ("quarantine_share_below_threshold", "1 von 1 Zeilen abweichend"),
        ("row_count_within_tolerance", "0 Zeilen (Vormonat 2026-09: 3 Zeilen, erlaubt 3..3)"),
    }


def test_first_valid_reversal_counts_and_later_ones_name_its_line(tmp_path):
    lines = [
        ZAHLUNG_HEADER,
        zahlung("B-0010", "10.10.2026", "100,00"),  # line 2
        zahlung("B-0011", "05.10.2026", "-100,00", storno="B-0010"),  # 3: before its original
        zahlung("B-0012", "12.10.2026", "-100,00", storno="B-0010"),  # 4: the valid reversal
        zahlung("B-0013", "13.10.2026", "-100,00", storno="B-0010"),  # 5: again
        zahlung("B-0014", "14.10.2026", "-50,00", storno="B-0010"),  # 6: not the exact negative
    ]
    con = warehouse(tmp_path)
    [result] = load_file(con, write(tmp_path / "asylblg_zahlungen_2026-10.csv", lines), key=KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 3)
    assert [(line, rule, value) for line, rule, _, value in quarantine(con)] == [
        (3, "reversal_before_original", "B-0010 ist später gebucht als ihr Storno"),
        (5, "reversal_duplicate", "B-0010 wurde bereits in Zeile 4 storniert"),
        (6, "reversal_amount_mismatch", "-50,00 storniert 100,00 (erwartet -100,00)"),
    ]
    # Loaded: 100,00 - 100,00 = 0,00 €.
    assert rows(con, "select sum(betrag) from raw.asylblg_zahlungen") == [(Decimal("0.00"),)]


def test_dates_after_the_file_month_are_quarantined_not_blocking(tmp_path):
    # Month 2026-10 ends on 31.10.2026: that day passes, 01.11.2026 and later are quarantined
    # (contract rules course_start_after_month, entry_after_month, exam_after_month).
    path = tmp_path / "kurse_2026-10.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    kurse = wb.add_worksheet("Kurse")
    kurse.write_row(
        0, 0, ["Kurs_ID", "Kursart", "Traeger", "Sozialraum", "Beginn", "Ende", "UE_geplant"]
    )
    kurse.write_row(0, 7, ["Plaetze", "Kosten_Kommune"])
    kurse.write_row(1, 0, ["000001", "BSK", "VHS", "SR01", "31.10.2026", "28.02.2027", "300"])
    kurse.write_row(1, 7, ["15"])
    kurse.write_row(2, 0, ["000002", "BSK", "VHS", "SR01", "01.11.2026", "28.02.2027", "300"])
    kurse.write_row(2, 7, ["15"])
    teil = wb.add_worksheet("Teilnahmen")
    header = ["Kurs_ID", "Person_ID", "Eintritt", "Austritt", "Status", "UE_besucht", "Pruefung"]
    teil.write_row(0, 0, [*header, "Pruefungsdatum"])
    teil.write_row(1, 0, ["000001", "0000001", "31.10.2026", "", "LAUFEND", "10"])
    teil.write_row(2, 0, ["000001", "0000002", "02.11.2026", "", "LAUFEND", "10"])
    teil.write_row(3, 0, ["000001", "0000003", "01.10.2026", "", "LAUFEND", "10", "B1"])
    teil.write_row(3, 7, ["01.11.2026"])
    wb.close()
    con = warehouse(tmp_path)
    results = load_file(con, path, key=KEY)
    # kurse: line 2 loads, line 3 is quarantined; teilnahmen: line 2 loads, lines 3 and 4 not
    assert [(r.rows_loaded, r.rows_quarantined) for r in results] == [(1, 1), (1, 2)]
    assert rows(
        con,
        "select file_name, source, line, rule, column_name, value from meta.quarantine "
        "order by source, line",
    ) == [
        ("kurse_2026-10.xlsx", "kurse", 3, "course_start_after_month", "Beginn", "01.11.2026"),
        ("kurse_2026-10.xlsx", "teilnahmen", 3, "entry_after_month", "Eintritt", "02.11.2026"),
        (
            "kurse_2026-10.xlsx",
            "teilnahmen",
            4,
            "exam_after_month",
            "Pruefungsdatum",
            "01.11.2026",
        ),
    ]
