"""Read inbox files (CSV, XLSX) into all-string polars frames with their line numbers.

Nothing is type-guessed here: every cell is text (trimmed, empty = null). Header names are
matched to the contract case-insensitively after trimming, in any order; known historical names
(`Source.renames`) are applied and reported. Totals lines (`Summe…`/`Gesamt…`) are split off and
checked against the data; blank lines are ignored. Type parsing happens in `ingest.validate`.

Both formats become a grid (`csv_grid`, `sheet_grid`): one row per CSV record / sheet row with
its line number and field count, built set-based in polars; no Python loop runs over the rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from ingest.contracts import Source
from ingest.encoding import decode
from ingest.errors import FileRejected
from ingest.parsing import clean_text, format_money, parse_money, parse_money_value

LINE = "__line"  # column with the CSV line / sheet row number (header = 1)
FIELDS = "__fields"  # number of fields of the record (a sheet row: the sheet's width)
TOTALS_START = r"(?i)^(summe|gesamt)"
START = "__start"  # a row's text from its first non-blank cell on


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
    table = _build_table(path.name, source, csv_grid(text, path.name), from_excel=False)
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
        if frame.height == 0:
            raise FileRejected(path.name, f"Blatt {sheet} ist leer", "eine Kopfzeile")
        table = _build_table(f"{path.name} [{sheet}]", source, sheet_grid(frame), from_excel=True)
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


def csv_grid(text: str, file_name: str) -> pl.DataFrame:
    """The CSV text as a grid: one row per record (blank lines included, header first), cells
    as read (untrimmed; empty = null) in columns "0", "1", ..., plus LINE and FIELDS.

    polars parses the cells (RFC 4180 quoting: `"a;b"`, `""` for a quote, line breaks inside
    quotes); `_records` finds the same records from the raw lines to know where each one starts
    and how many fields it has, which a grid of nulls cannot tell. If the two disagree the file
    is rejected rather than guessed."""
    if not text:
        raise FileRejected(file_name, "Die Datei ist leer", "eine Kopfzeile mit den Spaltennamen")
    records = _records(text, file_name)
    width = int(records[FIELDS].max() or 1)
    schema = {str(i): pl.String for i in range(width)}
    data = text.encode()
    try:
        cells = pl.read_csv(
            data,
            separator=";",
            has_header=False,
            schema=schema,
            missing_columns="insert",  # polars takes the width from line 1; wider records exist
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        raise _misquoted(file_name, data, str(exc)) from exc
    if cells.height != records.height:
        detail = f"{cells.height} Datensätze gelesen, {records.height} Zeilenanfänge gefunden"
        raise _unreadable(file_name, detail, None)
    return pl.concat([cells, records], how="horizontal")


def _records(text: str, file_name: str) -> pl.DataFrame:
    """LINE (first line of the record) and FIELDS (separators outside quotes + 1) of each record.

    A line break ends a record unless an odd number of quotes precedes it; a record's text
    without its quoted parts holds exactly its separators. Without any quote, a line is a record.
    """
    lines = pl.DataFrame({"text": pl.Series([text]).str.split("\n").explode()})
    if text.endswith("\n"):  # the empty piece after the last line break is no line
        lines = lines.head(-1)
    lines = lines.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias(LINE))
    if '"' not in text:
        return lines.select(LINE, _field_count(pl.col("text")))
    quotes = pl.col("text").str.count_matches('"', literal=True).cum_sum()
    continued = (quotes % 2 == 1).shift(1, fill_value=False)  # inside quotes at line start
    lines = lines.with_columns(continued.not_().cum_sum().alias("record"))
    records = lines.group_by("record", maintain_order=True).agg(
        pl.col(LINE).first(), pl.col("text").str.join("\n")
    )
    if records["text"].str.count_matches('"', literal=True).sum() % 2:
        start = records[LINE][-1]
        raise _unreadable(file_name, "Anführungszeichen nicht geschlossen", start)
    return records.select(LINE, _field_count(pl.col("text").str.replace_all(r'"[^"]*"', "")))


def _field_count(record: pl.Expr) -> pl.Expr:
    return record.str.count_matches(";", literal=True).add(1).cast(pl.Int32).alias(FIELDS)


def _unreadable(
    file_name: str, detail: str, line: int | None, value: str | None = None
) -> FileRejected:
    return FileRejected(
        file_name,
        f"CSV nicht lesbar ({detail})",
        'Semikolon-getrennte CSV-Datei; Felder mit ; oder Zeilenumbruch in "…"',
        line=line,
        value=value,
    )


def _misquoted(file_name: str, data: bytes, error: str) -> FileRejected:
    """polars fails on quotes inside a field (`"x"y`, or a lone `5" Zoll` beside another one).
    Its message names the field and the byte offset when it knows them; the line is derived
    from the offset."""
    offset = re.search(r"offset in the file is (\d+) bytes", error)
    field = re.search(r"could not parse `(.*?)` as dtype", error, re.DOTALL)
    return _unreadable(
        file_name,
        "Anführungszeichen falsch gesetzt",
        data[: int(offset.group(1))].count(b"\n") + 1 if offset else None,
        field.group(1) if field else None,
    )


def sheet_grid(frame: pl.DataFrame) -> pl.DataFrame:
    """A sheet as a grid like `csv_grid`: every row has the sheet's width (sheets are
    rectangular, so empty cells right of the header are no error)."""
    cells = frame.rename({c: str(i) for i, c in enumerate(frame.columns)})
    return cells.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias(LINE),
        pl.lit(frame.width, dtype=pl.Int32).alias(FIELDS),
    )


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
        # A district-only column is absent from every city file (and may be from a
        # municipality's own file, which names its municipality) by design.
        if c.name not in seen and not (c.required_in or c.district_only):
            warnings.append(f"Optionale Spalte '{c.name}' fehlt; als leer gelesen")
    return positions, warnings


def _cells(grid: pl.DataFrame) -> list[str]:
    return [c for c in grid.columns if c not in (LINE, FIELDS)]


def _header(grid: pl.DataFrame) -> list[str]:
    first = grid.row(0, named=True)
    return [first[str(i)] or "" for i in range(first[FIELDS])]


def _build_table(
    file_label: str, source: Source, grid: pl.DataFrame, *, from_excel: bool
) -> RawTable:
    positions, warnings = match_header(file_label, source, _header(grid))
    width = len(positions)
    # The row's cells joined by line breaks, leading whitespace removed: empty for a blank row,
    # else it starts with the first non-blank cell (trimmed), where a totals word would stand.
    start = pl.concat_str(_cells(grid), separator="\n", ignore_nulls=True).str.strip_chars_start()
    body = grid.slice(1).with_columns(start.alias(START)).filter(pl.col(START) != "")
    is_totals = pl.col(START).str.contains(TOTALS_START)
    totals = body.filter(is_totals)
    records = body.filter(~is_totals)
    table = RawTable(source, pl.DataFrame(), from_excel, rows_read=body.height, warnings=warnings)
    table.problems = _field_count_problems(records.filter(pl.col(FIELDS) != width), width)
    by_name = {name: str(i) for i, name in enumerate(positions) if name is not None}
    table.frame = records.filter(pl.col(FIELDS) == width).select(
        *(_contract_column(name, by_name.get(name)) for name in source.all_column_names),
        pl.col(LINE),
    )
    _check_totals(table, positions, totals)
    return table


def _contract_column(name: str, cell: str | None) -> pl.Expr:
    """Trimmed text of the cell column read as `name`; an absent optional column is null."""
    value = pl.lit(None, pl.String) if cell is None else clean_text(pl.col(cell))
    return value.alias(name)


def _field_count_problems(wrong: pl.DataFrame, width: int) -> list[Problem]:
    return [
        Problem(line, "wrong_field_count", None, f"{fields} statt {width} Felder", None)
        for line, fields in wrong.select(LINE, FIELDS).iter_rows()
    ]


def _check_totals(table: RawTable, positions: list[str | None], totals: pl.DataFrame) -> None:
    """Matching totals lines are removed and counted; a mismatch is quarantined."""
    if totals.height == 0:
        return
    money = [c.name for c in table.source.columns if c.kind == "money"]
    sums = table.frame.select(
        parse_money(pl.col(m), from_excel=table.from_excel).sum() for m in money
    )
    data_sums = {m: Decimal(sums[m].item() or 0) for m in money}
    for row in totals.iter_rows(named=True):
        raw = {
            name: row[str(i)] or ""
            for i, name in enumerate(positions)
            if name is not None and i < row[FIELDS]
        }
        problem = _totals_problem(row[LINE], raw, data_sums)
        if problem is None:
            table.totals_removed += 1
        else:
            table.problems.append(problem)


def _totals_problem(line: int, raw: dict[str, str], sums: dict[str, Decimal]) -> Problem | None:
    for name, data_sum in sums.items():
        text = (raw.get(name) or "").strip()
        if not text:
            continue
        stated = parse_money_value(text)
        if stated is None:
            return Problem(line, "totals_mismatch", name, f"Summenzeile '{text}' unlesbar", raw)
        if stated != data_sum:
            # Both sums and their difference in euros: the controller sees which is off by how much.
            detail = (
                f"Summenzeile {format_money(stated)} €, Summe der Datenzeilen "
                f"{format_money(data_sum)} €, Differenz {format_money(stated - data_sum)} €"
            )
            return Problem(line, "totals_mismatch", name, detail, raw)
    return None
