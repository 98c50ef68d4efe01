"""Read inbox files (CSV, XLSX) into all-string polars frames with their line numbers.

Nothing is type-guessed here: every cell is text (trimmed, empty = null). Header names are
matched to the contract case-insensitively after trimming, in any order; known historical names
(`Source.renames`) are applied and reported. Totals lines (`Summe…`/`Gesamt…`) are split off and
checked against the data; blank lines are ignored. Type parsing happens in `ingest.validate`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from ingest.contracts import Source
from ingest.encoding import decode
from ingest.errors import FileRejected
from ingest.parsing import format_money, parse_money, parse_money_value

LINE = "__line"  # column with the CSV line / sheet row number (header = 1)
TOTALS_WORDS = ("summe", "gesamt")


@dataclass(frozen=True)
class Problem:
    """One rejected row, before pseudonymisation/masking (the validator masks it)."""

    line: int
    rule: str
    column: str | None
    value: str | None
    raw: dict[str, str | None] | None  # None when the fields cannot be mapped to columns


@dataclass
class RawTable:
    source: Source
    frame: pl.DataFrame  # contract column names, all pl.String, plus LINE (Int32)
    from_excel: bool
    rows_read: int = 0  # data rows + totals lines + malformed rows (blank lines not counted)
    totals_removed: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReadFile:
    file_name: str
    encoding: str  # 'utf-8', 'utf-8-sig', 'cp1252' or 'xlsx'
    tables: dict[str, RawTable]


def read_csv(path: Path, source: Source) -> ReadFile:
    text, encoding = decode(path.read_bytes(), path.name)
    rows = list(csv_rows(text, path.name))
    if not rows:
        raise FileRejected(path.name, "Die Datei ist leer", "eine Kopfzeile mit den Spaltennamen")
    table = _build_table(path.name, source, rows, from_excel=False)
    return ReadFile(path.name, encoding, {source.raw_table: table})


def read_xlsx(path: Path, sources: list[Source]) -> ReadFile:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for non-workbooks
        raise FileRejected(
            path.name, f"Keine lesbare Excel-Datei ({exc})", "XLSX-Arbeitsmappe"
        ) from exc
    tables: dict[str, RawTable] = {}
    for source in sources:
        sheet = _find_sheet(path.name, reader.sheet_names, source.sheet or "")
        # dtypes='string' forces every column to text, so no cell is type-guessed.
        frame = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        rows = [(i + 1, [_cell(v) for v in row]) for i, row in enumerate(frame.iter_rows())]
        if not rows:
            raise FileRejected(path.name, f"Blatt {sheet} ist leer", "eine Kopfzeile")
        table = _build_table(f"{path.name} [{sheet}]", source, rows, from_excel=True)
        _restore_numeric_ids(table)
        tables[source.raw_table] = table
    return ReadFile(path.name, "xlsx", tables)


def _restore_numeric_ids(table: RawTable) -> None:
    """Ids Excel stored as numbers lose their leading zeros (123 or 123.0 for "0000123").

    Such a cell is padded to the width of the zero-padded ids of the same column (the sheet's
    own convention), or to the contract's `digits` when the column has none. A value that
    already starts with 0 was stored as text and is left alone."""
    for column in table.source.columns:
        if column.kind != "id" or not column.digits:
            continue
        values = table.frame[column.name]
        digits_only = values.str.replace(r"^(\d+)\.0*$", "${1}")
        numeric = digits_only.str.contains(r"^\d+$").fill_null(False)
        padded = numeric & digits_only.str.starts_with("0").fill_null(False)
        width = int(digits_only.filter(padded).str.len_chars().max() or column.digits)
        lost = numeric & ~padded & (digits_only.str.len_chars() < width).fill_null(False)
        lost |= numeric & (digits_only != values).fill_null(False)  # "123.0" -> "123"
        if not lost.any():
            continue
        restored = pl.select(
            pl.when(lost).then(digits_only.str.zfill(width)).otherwise(values)
        ).to_series()
        table.frame = table.frame.with_columns(restored.alias(column.name))
        table.warnings.append(
            f"{column.name}: {int(lost.sum())} als Zahl gespeicherte Kennung(en) auf {width} "
            "Stellen mit führenden Nullen ergänzt"
        )


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _find_sheet(file_name: str, names: list[str], wanted: str) -> str:
    for name in names:
        if name.strip().lower() == wanted.lower():
            return name
    raise FileRejected(
        file_name, f"Blatt {wanted} fehlt (vorhanden: {', '.join(names)})", f"ein Blatt {wanted}"
    )


def csv_rows(text: str, file_name: str) -> list[tuple[int, list[str]]]:
    """(line number of the record's first line, fields); the csv module handles quoting."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            out.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRejected(
            file_name,
            f"CSV nicht lesbar ({exc})",
            "Semikolon-getrennte CSV-Datei",
            line=start,
        ) from exc
    return out


def match_header(file_label: str, source: Source, header: list[str]) -> tuple[list, list[str]]:
    """Map header positions to contract names; returns (positions, warnings).

    positions[i] is the contract name of column i, or None for an unknown extra column.
    """
    wanted = {c.name.lower(): c.name for c in source.columns}
    renames = {old.lower(): new for old, new in source.renames.items()}
    positions: list[str | None] = []
    warnings: list[str] = []
    for raw in header:
        key = raw.strip().lower()
        if key in wanted:
            positions.append(wanted[key])
        elif key in renames:
            positions.append(renames[key])
            warnings.append(f"Spalte '{raw.strip()}' als '{renames[key]}' gelesen (Umbenennung)")
        else:
            positions.append(None)
            if key:
                warnings.append(f"Unbekannte Spalte '{raw.strip()}' ignoriert")
    seen: set[str] = set()
    for name in positions:
        if name is not None and name in seen:
            raise FileRejected(
                file_label,
                f"Spalte {name} kommt mehrfach vor",
                "jede Spalte genau einmal",
                line=1,
            )
        if name is not None:
            seen.add(name)
    missing = [c.name for c in source.columns if c.name not in seen and c.required is not False]
    if missing:
        raise FileRejected(
            file_label,
            f"Pflichtspalte(n) {', '.join(missing)} fehlen in der Kopfzeile",
            f"Spalten {';'.join(source.column_names)} (Reihenfolge beliebig)",
            line=1,
            rule="missing_column",
        )
    for c in source.columns:
        if c.name not in seen:
            warnings.append(f"Optionale Spalte '{c.name}' fehlt; als leer gelesen")
    return positions, warnings


def _is_blank(fields: list[str]) -> bool:
    return all(not f.strip() for f in fields)


def _is_totals(fields: list[str]) -> bool:
    first = next((f.strip() for f in fields if f.strip()), "")
    return first.lower().startswith(TOTALS_WORDS)


def _build_table(
    file_label: str, source: Source, rows: list[tuple[int, list[str]]], *, from_excel: bool
) -> RawTable:
    header_line, header = rows[0]
    positions, warnings = match_header(file_label, source, header)
    width = len(header)
    data: dict[str, list] = {c.name: [] for c in source.columns}
    data[LINE] = []
    table = RawTable(source, pl.DataFrame(), from_excel, warnings=warnings)
    totals: list[tuple[int, list[str]]] = []
    for line, fields in rows[1:]:
        if _is_blank(fields):
            continue
        table.rows_read += 1
        if from_excel and not any(f.strip() for f in fields[width:]):
            # Sheets are rectangular: empty cells right of the header are not an error.
            fields = (fields + [""] * width)[:width]
        if _is_totals(fields):
            totals.append((line, fields))
            continue
        if len(fields) != width:
            count = f"{len(fields)} statt {width} Felder"
            table.problems.append(Problem(line, "wrong_field_count", None, count, None))
            continue
        data[LINE].append(line)
        values = dict.fromkeys(data, None)
        for name, value in zip(positions, fields, strict=True):
            if name is not None:
                values[name] = value.strip() or None
        for name in source.column_names:
            data[name].append(values[name])
    schema = {name: pl.String for name in source.column_names} | {LINE: pl.Int32}
    table.frame = pl.DataFrame(data, schema=schema)
    _check_totals(table, positions, totals)
    return table


def _check_totals(
    table: RawTable, positions: list[str | None], totals: list[tuple[int, list[str]]]
) -> None:
    """Matching totals lines are removed and counted; a mismatch is quarantined."""
    money = [c.name for c in table.source.columns if c.kind == "money"]
    sums: dict[str, Decimal] = {}
    for name in money:
        parsed = table.frame.select(parse_money(pl.col(name), from_excel=table.from_excel))
        sums[name] = Decimal(parsed.to_series().sum() or 0)
    for line, fields in totals:
        problem = _totals_problem(line, fields, positions, sums, table.from_excel)
        if problem is None:
            table.totals_removed += 1
        else:
            table.problems.append(problem)


def _totals_problem(
    line: int,
    fields: list[str],
    positions: list[str | None],
    sums: dict[str, Decimal],
    from_excel: bool,
) -> Problem | None:
    raw = {p: f for p, f in zip(positions, fields, strict=False) if p is not None}
    for name, data_sum in sums.items():
        text = (raw.get(name) or "").strip()
        if not text:
            continue
        stated = parse_money_value(text)
        if stated is None:
            return Problem(line, "totals_mismatch", name, f"Summenzeile '{text}' unlesbar", raw)
        if stated != data_sum:
            detail = (
                f"Summenzeile {format_money(stated)}, Daten {format_money(data_sum)}, "
                f"Differenz {format_money(stated - data_sum)}"
            )
            return Problem(line, "totals_mismatch", name, detail, raw)
    return None
