"""The vectorised CSV reader: records, line numbers and field counts on tiny hand-written files.

Supported CSV form: `;` between fields, `\\n` or `\\r\\n` line ends, RFC 4180 quoting (a field in
"…" may hold `;`, a line break, or a quote written as ""). A quote left open to the end of the
file, or a field that is quoted only in part (`"x"y`), rejects the file: the old csv-module
reader guessed there (it read `xy`, or swallowed the rest of the file into one field).
Line numbers are those of the file (header = 1); a record spanning lines has the number of its
first line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from ingest.contracts import SOURCES
from ingest.errors import FileRejected
from ingest.readers import FIELDS, LINE, csv_grid, read_csv

FIBU = SOURCES["fibu_ist"]
HEADER = "Periode;Produkt;Sachkonto;Kostenstelle;Betrag"


def fibu_file(tmp_path: Path, lines: list[str], *, encoding: str, newline: str) -> Path:
    path = tmp_path / "fibu_ist_2026-10.csv"
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_cp1252_quotes_blank_lines_and_line_numbers(tmp_path, newline):
    lines = [
        HEADER,  # line 1
        "10.2026;31.30.01;4331;Büro Süd;1,50",  # line 2
        "",  # line 3: blank, not counted
        '10.2026;31.30.01;4331;"Träger; Süd";1,00',  # line 4: the ; is inside quotes
        f'10.2026;31.30.01;4331;"Größe{newline}zwei Zeilen";2,00',  # lines 5-6: one record
        ";;;;",  # line 7: only separators = blank
        "10.2026;31.30.01",  # line 8: 2 fields instead of 5
        "Summe;;;;4,50",  # line 9: 1,50 + 1,00 + 2,00 = 4,50 -> removed
    ]
    read = read_csv(fibu_file(tmp_path, lines, encoding="cp1252", newline=newline), FIBU)
    table = read.tables["fibu_ist"]
    assert read.encoding == "cp1252"
    assert table.frame.select(LINE, "Kostenstelle", "Betrag").rows() == [
        (2, "Büro Süd", "1,50"),
        (4, "Träger; Süd", "1,00"),
        (5, f"Größe{newline}zwei Zeilen", "2,00"),
    ]
    # read = lines 2, 4, 5-6, 8, 9 (blank lines 3 and 7 not counted)
    assert (table.rows_read, table.totals_removed) == (5, 1)
    assert [(p.line, p.rule, p.value) for p in table.problems] == [
        (8, "wrong_field_count", "2 statt 5 Felder")
    ]


def test_record_wider_than_the_header_is_counted_exactly(tmp_path):
    # polars takes its width from line 1; line 3 has 7 fields (6 separators), line 4 has 6
    # because the quoted "x;y" is one field.
    lines = [
        HEADER,
        "10.2026;31.30.01;4331;K1;1,00",
        "10.2026;31.30.01;4331;K1;1,00;a;b",
        '10.2026;31.30.01;4331;K1;1,00;"x;y"',
    ]
    table = read_csv(fibu_file(tmp_path, lines, encoding="utf-8", newline="\n"), FIBU)
    problems = table.tables["fibu_ist"].problems
    assert [(p.line, p.value) for p in problems] == [
        (3, "7 statt 5 Felder"),
        (4, "6 statt 5 Felder"),
    ]


def test_quote_left_open_rejects_the_file_at_its_line(tmp_path):
    lines = [HEADER, "10.2026;31.30.01;4331;K1;1,00", '10.2026;31.30.01;4331;"K1;1,00', "x;y"]
    with pytest.raises(FileRejected) as err:
        read_csv(fibu_file(tmp_path, lines, encoding="utf-8", newline="\n"), FIBU)
    assert err.value.line == 3
    assert "Anführungszeichen nicht geschlossen" in str(err.value)
    assert "fibu_ist_2026-10.csv" in str(err.value)


def test_field_quoted_only_in_part_rejects_the_file_at_its_line(tmp_path):
    lines = [HEADER, "10.2026;31.30.01;4331;K1;1,00", '10.2026;31.30.01;4331;"K"1;2,00']
    with pytest.raises(FileRejected) as err:
        read_csv(fibu_file(tmp_path, lines, encoding="utf-8", newline="\r\n"), FIBU)
    assert (err.value.line, err.value.value) == (3, '"K"1')
    assert "Anführungszeichen falsch gesetzt" in str(err.value)


def test_empty_file_and_header_only(tmp_path):
    path = tmp_path / "fibu_ist_2026-10.csv"
    path.write_bytes(b"")
    with pytest.raises(FileRejected, match="Die Datei ist leer"):
        read_csv(path, FIBU)
    path.write_bytes(HEADER.encode() + b"\r\n\r\n")
    table = read_csv(path, FIBU).tables["fibu_ist"]
    assert (table.frame.height, table.rows_read, table.problems) == (0, 0, [])


@pytest.mark.parametrize(
    "text",
    [
        'a;b;c\n1;"x;y";3\n\n4;"zwei\nZeilen";6\n7;8\n',
        'a;b;c\r\n"1";"Verein ""Hilfe"" e.V.";\r\n;;\r\n  \r\n4;5;6;7',
        'a;b\n"x\n\ny";1\n2;"";3\n',
    ],
)
def test_grid_matches_the_csv_module(text):
    """Python's csv module (an independent parser) gives the same fields and first lines; it
    reads a blank line as no field, the grid as one empty field."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    expected, start = [], 1
    for fields in reader:
        expected.append((start, fields or [""]))
        start = reader.line_num + 1
    grid = csv_grid(text, "x.csv")
    assert grid.schema[LINE] == pl.Int32
    actual = [
        (row[LINE], [row[str(i)] or "" for i in range(row[FIELDS])])
        for row in grid.iter_rows(named=True)
    ]
    assert actual == expected
