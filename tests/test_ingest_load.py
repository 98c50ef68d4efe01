"""load_file on tiny hand-written files: formats, rules, idempotence, atomicity, privacy."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import xlsxwriter
from support.ingest_files import (
    FIBU_HEADER,
    KEY,
    PERSON_HEADER,
    ZAHLUNG_HEADER,
    person,
    quarantine,
    rows,
    snapshot,
    warehouse,
    write,
    zahlung,
)

from ingest import load as load_module
from ingest.errors import FileRejected
from ingest.inbox import months_in_inbox, scan
from ingest.load import load_file

# --- CSV format rules -----------------------------------------------------------------------


def test_cp1252_file_with_umlauts_loads_exactly(tmp_path):
    path = write(
        tmp_path / "fibu_ist_2026-10.csv",
        [FIBU_HEADER, "10.2026;31.30.01;4331;Büro Süd;1.234,56"],
        encoding="cp1252",
        newline="\r\n",
    )
    con = warehouse(tmp_path)
    [result] = load_file(con, path, key=KEY)
    assert result.encoding == "cp1252"
    assert rows(con, "select periode, kostenstelle, betrag, source_line from raw.fibu_ist") == [
        (dt.date(2026, 10, 1), "Büro Süd", Decimal("1234.56"), 2)
    ]


def test_utf8_bom_money_and_leading_zero_ids(tmp_path):
    path = tmp_path / "fibu_ist_2026-10.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + "\n".join(
            [
                FIBU_HEADER,
                "2026-10;31.30.01;4331;000123;-0,01",
                "10.2026;31.30.01;3481;123;1.234,56",
            ]
        ).encode()
    )
    con = warehouse(tmp_path)
    [result] = load_file(con, path, key=KEY)
    assert result.encoding == "utf-8-sig"
    assert rows(con, "select kostenstelle, betrag from raw.fibu_ist order by source_line") == [
        ("000123", Decimal("-0.01")),
        ("123", Decimal("1234.56")),
    ]
    assert rows(con, "select typeof(betrag) from raw.fibu_ist limit 1") == [("DECIMAL(18,2)",)]


def test_matching_totals_line_is_removed_and_counted(tmp_path):
    path = write(
        tmp_path / "fibu_ist_2026-10.csv",
        [
            FIBU_HEADER,
            "10.2026;31.30.01;4331;;1.234,56",
            "10.2026;31.30.01;4331;;-0,01",
            "Summe;;;;1.234,55",
            "",
            "",
        ],
    )
    con = warehouse(tmp_path)
    [result] = load_file(con, path, key=KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_totals_removed) == (3, 2, 1)
    assert result.rows_quarantined == 0


def test_wrong_totals_line_is_quarantined_with_difference(tmp_path):
    path = write(
        tmp_path / "fibu_ist_2026-10.csv",
        [
            FIBU_HEADER,
            "10.2026;31.30.01;4331;;1.234,56",
            "10.2026;31.30.01;4331;;-0,01",
            "Gesamtsumme;;;;1.000,00",
        ],
    )
    con = warehouse(tmp_path)
    [result] = load_file(con, path, key=KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    # data 1.234,56 + (-0,01) = 1.234,55; stated 1.000,00 - data 1.234,55 = -234,55
    assert quarantine(con) == [
        (
            4,
            "totals_mismatch",
            "Betrag",
            "Summenzeile 1.000,00 €, Summe der Datenzeilen 1.234,55 €, Differenz -234,55 €",
        )
    ]


def test_renamed_and_unknown_columns(tmp_path):
    path = write(
        tmp_path / "fibu_ist_2026-10.csv",
        ["betrag ; KONTO;Periode;Produkt;KST;Bemerkung", "5,00;4331;10.2026;31.30.01;K1;x"],
    )
    con = warehouse(tmp_path)
    [result] = load_file(con, path, key=KEY)
    assert rows(con, "select sachkonto, kostenstelle, betrag from raw.fibu_ist") == [
        ("4331", "K1", Decimal("5.00"))
    ]
    assert any("'KONTO'" in w and "Sachkonto" in w for w in result.warnings)
    assert any("'Bemerkung'" in w and "ignoriert" in w for w in result.warnings)
    assert "Bemerkung" in rows(con, "select warnings from meta.load_batches")[0][0]


def test_missing_required_column_rejects_whole_file(tmp_path):
    path = write(
        tmp_path / "fibu_ist_2026-10.csv",
        ["Periode;Produkt;Sachkonto;Kostenstelle", "10.2026;31.30.01;4331;K1"],
    )
    con = warehouse(tmp_path)
    with pytest.raises(FileRejected) as err:
        load_file(con, path, key=KEY)
    assert "fibu_ist_2026-10.csv" in str(err.value)
    assert "Betrag" in str(err.value)
    assert rows(con, "select count(*) from raw.fibu_ist") == [(0,)]
    assert rows(con, "select count(*) from meta.load_batches") == [(0,)]


def test_unknown_file_name_is_rejected(tmp_path):
    path = write(tmp_path / "personen_oktober.csv", [PERSON_HEADER])
    with pytest.raises(FileRejected, match="personen_oktober.csv"):
        load_file(warehouse(tmp_path), path, key=KEY)


# --- person rules, invariant, pseudonymisation --------------------------------------------


def test_invariant_with_known_bad_rows(tmp_path):
    lines = [
        PERSON_HEADER,
        person(Person_ID="P-1"),
        person(Person_ID="P-2", Sozialraum=""),  # empty = unknown, allowed
        person(Person_ID="P-3", Sozialraum="SR99"),
        person(Person_ID="P-1", Fall_ID="F-9"),  # twice: both P-1 rows are quarantined
        person(Person_ID="P-4", Status_seit="01.11.2026"),
        person(Person_ID="P-5", Rechtskreis="SGB2"),  # Leistungsform without ASYLBLG
        person(Person_ID="P-6", Unterkunft_ID="GU-99"),
        person(Person_ID="P-7", Geburtsdatum="31.02.1990"),
        person(Person_ID="P-8", Fallmanager_ID=""),
        person(Person_ID="P-9", Geschlecht="q"),
        person(Person_ID="P-10", Stichtag="30.10.2026"),
        "31.10.2026;P-11;zu;wenig",
    ]
    con = warehouse(tmp_path)
    [result] = load_file(con, write(tmp_path / "personen_2026-10.csv", lines), key=KEY)
    # 12 rows read: only P-2 (line 3) loads; lines 2 and 5 (P-1 twice) and 9 more are quarantined.
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (12, 1, 11)
    assert [(line, rule) for line, rule, _, _ in quarantine(con)] == [
        (2, "duplicate_key"),
        (4, "unknown_social_space"),
        (5, "duplicate_key"),
        (6, "status_after_stichtag"),
        (7, "benefit_form_without_asylblg"),
        (8, "unknown_accommodation"),
        (9, "invalid_date"),
        (10, "required_missing"),
        (11, "code_not_in_list"),
        (12, "period_mismatch"),
        (13, "wrong_field_count"),
    ]
    assert rows(con, "select rows_read, rows_loaded, rows_quarantined from meta.load_batches") == [
        (12, 1, 11)
    ]
    assert rows(con, "select sozialraum from raw.personen order by source_line") == [(None,)]


def test_invariant_violation_raises_and_loads_nothing(tmp_path, monkeypatch):
    path = write(tmp_path / "personen_2026-10.csv", [PERSON_HEADER, person()])
    con = warehouse(tmp_path)
    real = load_module._prepare

    def losing_a_row(*args, **kwargs):
        prepared = real(*args, **kwargs)
        prepared[0].rows = prepared[0].rows.head(0)
        return prepared

    monkeypatch.setattr(load_module, "_prepare", losing_a_row)
    with pytest.raises(load_module.InvariantViolated):
        load_file(con, path, key=KEY)
    assert rows(con, "select count(*) from meta.load_batches") == [(0,)]


def test_pseudonyms_birth_year_and_age_band(tmp_path):
    lines = [
        PERSON_HEADER,
        person(Person_ID="P-000123", Geburtsdatum="01.11.2008"),  # 17 at 31.10.2026
        person(
            Person_ID="P-000124", Geburtsdatum="2008-10-31", Fallmanagement="N", Fallmanager_ID=""
        ),  # 18 on the Stichtag
    ]
    con = warehouse(tmp_path)
    load_file(con, write(tmp_path / "personen_2026-10.csv", lines), key=KEY)
    expected = hmac.new(KEY, b"P-000123", hashlib.sha256).hexdigest()
    assert rows(
        con, "select person_id, geburtsjahr, altersgruppe from raw.personen order by source_line"
    ) == [
        (expected, 2008, "6-17"),
        (hmac.new(KEY, b"P-000124", hashlib.sha256).hexdigest(), 2008, "18-26"),
    ]
    columns = [
        c
        for (c,) in rows(
            con, "select column_name from information_schema.columns where table_name = 'personen'"
        )
    ]
    assert "geburtsdatum" not in columns


def test_no_raw_person_key_or_birth_date_anywhere(tmp_path):
    births = ["15.03.1990", "1985-07-04", "29.02.2000"]
    persons = [
        PERSON_HEADER,
        person(Person_ID="P-777001", Geburtsdatum=births[0]),
        person(Person_ID="P-777001", Geburtsdatum=births[1]),  # duplicate -> both quarantined
        person(Person_ID="P-777002", Geburtsdatum=births[2], Sozialraum="SR99"),
        "31.10.2026;P-777003;F-777003;15.03.1990;m",  # wrong field count
    ]
    zahlungen = [
        ZAHLUNG_HEADER,
        zahlung("B1", "05.10.2026", "450,00", person="P-777001"),
        zahlung("B2", "05.10.2026", "-400,00", storno="B1", person="P-777002"),
    ]
    con = warehouse(tmp_path)
    load_file(con, write(tmp_path / "personen_2026-10.csv", persons), key=KEY)
    load_file(con, write(tmp_path / "asylblg_zahlungen_2026-10.csv", zahlungen), key=KEY)
    # persons: 2 (P-777001 twice) + 1 (SR99) + 1 (field count); payments: 1 (amount mismatch)
    assert rows(con, "select count(*) from meta.quarantine") == [(5,)]
    forbidden = [
        "P-777001",
        "P-777002",
        "P-777003",
        "F-777003",
        "FM-000007",
        *births,
        "1990-03-15",
        "2000-02-29",
    ]
    text_columns = rows(
        con,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_schema in ('raw', 'meta')",
    )
    for schema, table, column in text_columns:
        for value in forbidden:
            hits = rows(
                con,
                f'select count(*) from {schema}.{table} where "{column}" like ?',
                [f"%{value}%"],
            )
            assert hits == [(0,)], (schema, table, column, value)


# --- bookings -----------------------------------------------------------------------------


def test_booking_rules_within_and_across_months(tmp_path):
    con = warehouse(tmp_path)
    september = [ZAHLUNG_HEADER, zahlung("B-0001", "30.09.2026", "450,00")]
    load_file(con, write(tmp_path / "asylblg_zahlungen_2026-09.csv", september), key=KEY)
    october = [
        ZAHLUNG_HEADER,
        zahlung("B-0002", "01.10.2026", "100,00"),
        zahlung("B-0003", "02.10.2026", "-450,00", storno="B-0001"),  # reverses September
        zahlung("B-0004", "02.10.2026", "-99,99", storno="B-0002"),  # not the exact negative
        zahlung("B-0005", "02.10.2026", "-10,00", storno="B-9999"),  # nothing to reverse
        zahlung("B-0001", "03.10.2026", "1,00"),  # Buchungs_ID of September
        zahlung("B-0002", "03.10.2026", "1,00"),  # twice in this file
        zahlung("B-0006", "01.11.2026", "1,00"),  # outside the file's month
    ]
    [result] = load_file(con, write(tmp_path / "asylblg_zahlungen_2026-10.csv", october), key=KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 2, 5)
    assert [(line, rule) for line, rule, _, _ in quarantine(con)] == [
        (4, "reversal_amount_mismatch"),
        (5, "reversal_without_original"),
        (6, "duplicate_key"),
        (7, "duplicate_key"),
        (8, "booking_outside_period"),
    ]
    assert rows(
        con, "select buchungs_id, betrag from raw.asylblg_zahlungen order by period_month, 1"
    ) == [
        ("B-0001", Decimal("450.00")),
        ("B-0002", Decimal("100.00")),
        ("B-0003", Decimal("-450.00")),
    ]


# --- XLSX ---------------------------------------------------------------------------------


def _kurse_workbook(path):
    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "dd.mm.yyyy"})
    kurse = wb.add_worksheet("Kurse")
    kurse.write_row(
        0,
        0,
        [
            "Kurs_ID",
            "Kursart",
            "Traeger",
            "Sozialraum",
            "Beginn",
            "Ende",
            "UE_geplant",
            "Plaetze",
            "Kosten_Kommune",
        ],
    )
    kurse.write_row(1, 0, ["007", "INT_ALLG", "VHS Süd", "SR02"])
    kurse.write_datetime(1, 4, dt.datetime(2026, 9, 1), date)  # Excel date cell
    kurse.write_string(1, 5, "28.02.2027")  # text date
    kurse.write_number(1, 6, 700)
    kurse.write_number(1, 7, 20)
    kurse.write_row(2, 0, ["008", "KOMMUNAL", "Verein", "SR03", "2026-10-01"])
    kurse.write_number(2, 5, 46387)  # serial number without date format: 2026-12-31
    kurse.write_row(2, 6, ["120", "12", "1.500,00"])
    teil = wb.add_worksheet("Teilnahmen")
    teil.write_row(
        0,
        0,
        [
            "Kurs_ID",
            "Person_ID",
            "Eintritt",
            "Austritt",
            "Status",
            "UE_besucht",
            "Pruefung",
            "Pruefungsdatum",
        ],
    )
    teil.write_row(1, 0, ["007", "P-000001", "01.09.2026", "", "LAUFEND", "120", "", ""])
    teil.write_row(3, 0, ["009", "P-000002", "01.09.2026", "", "LAUFEND", "10", "", ""])
    teil.write_row(4, 0, ["008", "P-000003", "01.10.2026", "", "LAUFEND", "8", "", "01.10.2026"])
    wb.close()
    return path


def test_xlsx_dates_row_numbers_and_course_reference(tmp_path):
    con = warehouse(tmp_path)
    results = load_file(con, _kurse_workbook(tmp_path / "kurse_2026-10.xlsx"), key=KEY)
    assert [(r.source, r.encoding, r.rows_loaded, r.rows_quarantined) for r in results] == [
        ("kurse", "xlsx", 2, 0),
        ("teilnahmen", "xlsx", 1, 2),
    ]
    assert rows(
        con,
        "select kurs_id, beginn, ende, ue_geplant, kosten_kommune, source_line from raw.kurse "
        "order by kurs_id",
    ) == [
        ("007", dt.date(2026, 9, 1), dt.date(2027, 2, 28), 700, None, 2),
        ("008", dt.date(2026, 10, 1), dt.date(2026, 12, 31), 120, Decimal("1500.00"), 3),
    ]
    assert [(line, rule) for line, rule, _, _ in quarantine(con)] == [
        (4, "unknown_course"),
        (5, "exam_date_without_result"),
    ]


# --- idempotence and atomicity ------------------------------------------------------------


def test_same_file_twice_changes_nothing(tmp_path):
    con = warehouse(tmp_path)
    path = write(
        tmp_path / "personen_2026-10.csv",
        [PERSON_HEADER, person(), person(Person_ID="P-2", Sozialraum="SR99")],
    )
    first = load_file(con, path, key=KEY)
    before = snapshot(con)
    second = load_file(con, path, key=KEY)
    assert snapshot(con) == before
    assert second[0].skipped and second[0].load_id == first[0].load_id


def test_corrected_month_replaces_only_that_month(tmp_path):
    con = warehouse(tmp_path)
    oct_v1 = write(tmp_path / "personen_2026-10.csv", [PERSON_HEADER, person(Person_ID="P-1")])
    nov = write(
        tmp_path / "personen_2026-11.csv",
        [PERSON_HEADER, person(Person_ID="P-1", Stichtag="30.11.2026")],
    )
    [first] = load_file(con, oct_v1, key=KEY)
    load_file(con, nov, key=KEY)
    november = rows(con, "select * from raw.personen where period_month = '2026-11-01'")
    write(oct_v1, [PERSON_HEADER, person(Person_ID="P-1"), person(Person_ID="P-2")])
    [second] = load_file(con, oct_v1, key=KEY)
    assert second.replaced_load_id == first.load_id
    assert rows(con, "select count(*) from raw.personen where period_month = '2026-10-01'") == [
        (2,)
    ]
    assert rows(con, "select * from raw.personen where period_month = '2026-11-01'") == november
    assert rows(
        con, "select replaced_load_id from meta.load_batches where load_id = ?", [second.load_id]
    ) == [(first.load_id,)]


def test_failed_insert_leaves_previous_state(tmp_path, monkeypatch):
    con = warehouse(tmp_path)
    path = write(tmp_path / "personen_2026-10.csv", [PERSON_HEADER, person(Person_ID="P-1")])
    load_file(con, path, key=KEY)
    before = snapshot(con)
    write(
        path,
        [
            PERSON_HEADER,
            person(Person_ID="P-1"),
            person(Person_ID="P-2"),
            person(Person_ID="P-3", Sozialraum="SR99"),
        ],
    )
    real = load_module.insert_frame

    def failing(con_, table, frame):
        real(con_, table, frame)
        if table == "meta.quarantine":  # raw rows already inserted, old month deleted
            raise RuntimeError("disk full")

    monkeypatch.setattr(load_module, "insert_frame", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        load_file(con, path, key=KEY)
    assert snapshot(con) == before


# --- key handling and inbox ---------------------------------------------------------------


def test_inbox_scan(tmp_path):
    for name in [
        "personen_2026-11.csv",
        "fibu_ist_2026-10.csv",
        "personen_2026-10.csv",
        "haushaltsplan_2026.csv",
        "_kim_sample.json",
        "notes.txt",
        "teilergebnisplan_2012.csv",
        "personen_2026-1.csv",
    ]:
        (tmp_path / name).write_text("x")
    files = scan(tmp_path)
    assert [(f.kind, f.period) for f in files] == [
        ("teilergebnisplan", "2012"),
        ("haushaltsplan", "2026"),
        ("personen", "2026-10"),
        ("fibu_ist", "2026-10"),
        ("personen", "2026-11"),
    ]
    assert files[0].size == 1
    assert files[0].sha256 == hashlib.sha256(b"x").hexdigest()
    assert months_in_inbox(tmp_path) == ["2026-10", "2026-11"]


def test_quarantine_raw_row_is_json_with_pseudonyms(tmp_path):
    con = warehouse(tmp_path)
    path = write(
        tmp_path / "personen_2026-10.csv",
        [PERSON_HEADER, person(Person_ID="P-5", Sozialraum="SR99")],
    )
    load_file(con, path, key=KEY)
    [(raw_row, value)] = rows(con, "select raw_row, value from meta.quarantine")
    row = json.loads(raw_row)
    assert value == "SR99"
    assert row["Person_ID"] == hmac.new(KEY, b"P-5", hashlib.sha256).hexdigest()
    assert row["Geburtsdatum"] == "***"


def test_warehouse_of_an_older_contract_gets_the_new_columns():
    import duckdb

    from ingest.contracts import SOURCES, raw_columns
    from ingest.warehouse import ensure_schema

    con = duckdb.connect()
    con.execute("create schema raw")
    # raw.personen as an older program made it: without the last contract column
    *older, (newest, _) = raw_columns(SOURCES["personen"])
    con.execute(f"create table raw.personen ({', '.join(f'{n} {t}' for n, t in older)})")
    con.execute("insert into raw.personen (person_id) values ('P1')")
    ensure_schema(con)
    ensure_schema(con)  # idempotent
    columns = [r[0] for r in con.execute("describe raw.personen").fetchall()]
    assert columns == [n for n, _ in raw_columns(SOURCES["personen"])]
    assert con.execute(f"select person_id, {newest} from raw.personen").fetchall() == [("P1", None)]
