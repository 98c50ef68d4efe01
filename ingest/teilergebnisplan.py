"""Import of a published Teilergebnisplan (NKF shape, contract section 4b).

Shape: `Produktbereich;Produktbereichsbezeichnung;Teilplan;Teilplanbezeichnung;Teilplanzeile;
Ergebnis 2010;Plan 2011;...`. A Teilplanzeile is `15 - Transferaufwendungen` (posting line) or
`17 = ordentliche Aufwendungen` (subtotal). Subtotals are checked against their components and
not stored; a difference beyond rounding rejects the whole file. Posting lines are loaded into
raw.teilergebnisplan, replacing an earlier import of the same file name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from ingest.encoding import decode
from ingest.errors import FileRejected, SubtotalMismatch
from ingest.parsing import MONEY_DE, format_money
from ingest.readers import csv_rows
from ingest.warehouse import LoadResult, ensure_schema, insert_frame

SOURCE = "teilergebnisplan"
FIXED = (
    "Produktbereich",
    "Produktbereichsbezeichnung",
    "Teilplan",
    "Teilplanbezeichnung",
    "Teilplanzeile",
)
YEAR_COLUMN = re.compile(r"^(Ergebnis|Plan|Ansatz)\s+(\d{4})$", re.IGNORECASE)
LINE_LABEL = re.compile(r"^(\d{1,2})\s*([-=])\s*(.*)$")
WHOLE_EUROS = r"^-?(\d{1,3}(\.\d{3})+|\d+)$"
ORDINARY_RESULT, ANNUAL_RESULT = 18, 28

# Subtotal line -> (sign, component line) terms, contract section 4b.
SUBTOTALS: dict[int, tuple[tuple[int, int], ...]] = {
    10: tuple((1, z) for z in range(1, 10)),
    17: tuple((1, z) for z in range(11, 17)),
    18: ((1, 10), (-1, 17)),
    21: ((1, 19), (-1, 20)),
    22: ((1, 18), (1, 21)),
    25: ((1, 23), (-1, 24)),
    26: ((1, 22), (1, 25)),
    28: ((1, 26), (-1, 27)),
}
EXPECTED = (
    "Kopfzeile Produktbereich;Produktbereichsbezeichnung;Teilplan;Teilplanbezeichnung;"
    "Teilplanzeile;Ergebnis JJJJ|Plan JJJJ|Ansatz JJJJ;..."
)


@dataclass(frozen=True)
class PlanLine:
    line: int  # CSV line
    produktbereich: str
    produktbereichsbezeichnung: str
    teilplan: str
    teilplanbezeichnung: str
    zeile: int
    bezeichnung: str
    subtotal: bool
    values: tuple[Decimal | None, ...]  # one per year column


@dataclass(frozen=True)
class YearColumn:
    label: str  # header as written, e.g. 'Plan 2011'
    wert_art: str  # 'Ergebnis', 'Plan', 'Ansatz'
    jahr: int


@dataclass(frozen=True)
class ResultRow:
    teilplan: str
    teilplanbezeichnung: str
    wert_art: str
    jahr: int
    ordentliches_ergebnis: Decimal | None  # line 18
    jahresergebnis: Decimal | None  # line 28


@dataclass(frozen=True)
class TeilergebnisplanSummary:
    file_name: str
    load_id: str
    posting_rows: int  # rows written to raw.teilergebnisplan
    results: tuple[ResultRow, ...]
    skipped: bool = False

    def __str__(self) -> str:
        head = f"{self.file_name}: {self.posting_rows} Planwerte geladen (load_id {self.load_id})"
        columns = f"{'Teilplan':<12} {'Spalte':<14} {'Ord. Ergebnis':>16} {'Jahresergebnis':>16}"
        lines = [head, columns]
        for r in self.results:
            lines.append(
                f"{r.teilplan:<12} {r.wert_art + ' ' + str(r.jahr):<14} "
                f"{_fmt(r.ordentliches_ergebnis):>16} {_fmt(r.jahresergebnis):>16}"
            )
        return "\n".join(lines)


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else format_money(value)


def parse(path: Path) -> tuple[str, list[YearColumn], list[PlanLine], bool]:
    """(encoding, year columns, plan lines, amounts_have_cents); rejects malformed files."""
    text, encoding = decode(path.read_bytes(), path.name)
    rows = [(n, f) for n, f in csv_rows(text, path.name) if any(x.strip() for x in f)]
    if not rows:
        raise FileRejected(path.name, "Die Datei ist leer", EXPECTED)
    header = [h.strip() for h in rows[0][1]]
    if [h.lower() for h in header[:5]] != [f.lower() for f in FIXED]:
        raise FileRejected(
            path.name,
            "Kopfzeile entspricht nicht dem Teilergebnisplan",
            EXPECTED,
            line=1,
            value=";".join(header[:5]),
        )
    years = [_year_column(path.name, h) for h in header[5:]]
    if not years:
        raise FileRejected(path.name, "Keine Jahresspalte gefunden", EXPECTED, line=1)
    lines: list[PlanLine] = []
    cents = False
    for n, fields in rows[1:]:
        if len(fields) != len(header):
            raise FileRejected(
                path.name, f"{len(fields)} statt {len(header)} Felder", EXPECTED, line=n
            )
        plan_line, has_cents = _plan_line(path.name, n, fields)
        lines.append(plan_line)
        cents = cents or has_cents
    return encoding, years, lines, cents


def _year_column(file_name: str, header: str) -> YearColumn:
    match = YEAR_COLUMN.match(header)
    if not match:
        raise FileRejected(
            file_name,
            f"Spalte '{header}' ist keine Jahresspalte",
            "Ergebnis JJJJ, Plan JJJJ oder Ansatz JJJJ",
            line=1,
        )
    return YearColumn(header, match.group(1).capitalize(), int(match.group(2)))


def _plan_line(file_name: str, n: int, fields: list[str]) -> tuple[PlanLine, bool]:
    label = LINE_LABEL.match(fields[4].strip())
    if not label:
        raise FileRejected(
            file_name,
            "Teilplanzeile nicht lesbar",
            "'15 - Bezeichnung' oder '17 = Bezeichnung'",
            line=n,
            value=fields[4],
        )
    values: list[Decimal | None] = []
    cents = False
    for raw in fields[5:]:
        value, has_cents = _amount(file_name, n, raw.strip())
        values.append(value)
        cents = cents or has_cents
    return (
        PlanLine(
            n,
            fields[0].strip(),
            fields[1].strip(),
            fields[2].strip(),
            fields[3].strip(),
            int(label.group(1)),
            label.group(3).strip(),
            label.group(2) == "=",
            tuple(values),
        ),
        cents,
    )


def _amount(file_name: str, n: int, text: str) -> tuple[Decimal | None, bool]:
    if not text:
        return None, False
    if re.fullmatch(WHOLE_EUROS, text):
        return Decimal(text.replace(".", "")), False
    if re.fullmatch(MONEY_DE, text):
        return Decimal(text.replace(".", "").replace(",", ".")), True
    raise FileRejected(
        file_name,
        "Betrag nicht lesbar",
        "ganze Euro mit Tausenderpunkten, z. B. 12.301.847 oder -80",
        line=n,
        value=text,
    )


def check_subtotals(
    file_name: str, years: list[YearColumn], lines: list[PlanLine], cents: bool
) -> None:
    """Raise SubtotalMismatch for the first subtotal beyond the rounding allowance."""
    for plan in _by_teilplan(lines).values():
        for i, year in enumerate(years):
            stated = {pl_.zeile: pl_.values[i] for pl_ in plan}
            for pl_ in plan:
                if not pl_.subtotal or pl_.zeile not in SUBTOTALS or pl_.values[i] is None:
                    continue
                expected, k = _computed(pl_.zeile, stated)
                difference = pl_.values[i] - expected
                allowed = Decimal(0) if cents else Decimal(max(1, math.ceil(k / 2)))
                if abs(difference) > allowed:
                    raise SubtotalMismatch(
                        file_name,
                        pl_.line,
                        pl_.teilplan,
                        year.label,
                        pl_.zeile,
                        format_money(difference),
                        format_money(allowed),
                    )


def _computed(zeile: int, stated: dict[int, Decimal | None]) -> tuple[Decimal, int]:
    """Sum of the component lines and how many of them there are (missing lines count 0)."""
    total, k = Decimal(0), 0
    for sign, part in SUBTOTALS[zeile]:
        value = stated.get(part)
        if value is None and part in SUBTOTALS:
            value, _ = _computed(part, stated)
        if value is None:
            continue
        total += sign * value
        k += 1
    return total, k


def _by_teilplan(lines: list[PlanLine]) -> dict[tuple[str, str], list[PlanLine]]:
    out: dict[tuple[str, str], list[PlanLine]] = {}
    for line in lines:
        out.setdefault((line.produktbereich, line.teilplan), []).append(line)
    return out


def summarise(years: list[YearColumn], lines: list[PlanLine]) -> tuple[ResultRow, ...]:
    rows = []
    for plan in _by_teilplan(lines).values():
        for i, year in enumerate(years):
            stated = {pl_.zeile: pl_.values[i] for pl_ in plan}
            results = []
            for zeile in (ORDINARY_RESULT, ANNUAL_RESULT):
                value = stated.get(zeile)
                results.append(value if value is not None else _computed(zeile, stated)[0])
            rows.append(
                ResultRow(
                    plan[0].teilplan,
                    plan[0].teilplanbezeichnung,
                    year.wert_art,
                    year.jahr,
                    results[0],
                    results[1],
                )
            )
    return tuple(rows)


def posting_frame(
    file_name: str, years: list[YearColumn], lines: list[PlanLine], load_id: str
) -> pl.DataFrame:
    records = [
        {
            "source_file": file_name,
            "produktbereich": line.produktbereich,
            "produktbereichsbezeichnung": line.produktbereichsbezeichnung,
            "teilplan": line.teilplan,
            "teilplanbezeichnung": line.teilplanbezeichnung,
            "zeile": line.zeile,
            "zeile_bezeichnung": line.bezeichnung,
            "wert_art": year.wert_art,
            "jahr": year.jahr,
            "betrag": value,
            "load_id": load_id,
            "source_line": line.line,
        }
        for line in lines
        if not line.subtotal
        for year, value in zip(years, line.values, strict=True)
        if value is not None
    ]
    schema = {
        "source_file": pl.String,
        "produktbereich": pl.String,
        "produktbereichsbezeichnung": pl.String,
        "teilplan": pl.String,
        "teilplanbezeichnung": pl.String,
        "zeile": pl.Int32,
        "zeile_bezeichnung": pl.String,
        "wert_art": pl.String,
        "jahr": pl.Int32,
        "betrag": pl.Decimal(18, 2),
        "load_id": pl.String,
        "source_line": pl.Int32,
    }
    return pl.DataFrame(records, schema=schema)


def import_teilergebnisplan(
    con: duckdb.DuckDBPyConnection, path: Path, *, run_id: str | None = None
) -> TeilergebnisplanSummary:
    """Validate and load a Teilergebnisplan; raises FileRejected/SubtotalMismatch on bad input."""
    return _import(con, Path(path), run_id)[1]


def load_teilergebnisplan(
    con: duckdb.DuckDBPyConnection, path: Path, *, run_id: str | None = None
) -> LoadResult:
    """Same as import_teilergebnisplan, returning the LoadResult of the batch."""
    return _import(con, Path(path), run_id)[0]


def _import(
    con: duckdb.DuckDBPyConnection, path: Path, run_id: str | None
) -> tuple[LoadResult, TeilergebnisplanSummary]:
    ensure_schema(con)
    encoding, years, lines, cents = parse(path)
    check_subtotals(path.name, years, lines, cents)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    previous = con.execute(
        "select load_id, sha256 from meta.load_batches where source = ? and file_name = ? "
        "order by loaded_at desc limit 1",
        [SOURCE, path.name],
    ).fetchone()
    skipped = previous is not None and previous[1] == digest
    load_id = previous[0] if skipped else uuid.uuid4().hex
    postings = posting_frame(path.name, years, lines, load_id)
    subtotals = sum(1 for line in lines if line.subtotal)
    result = LoadResult(
        source=SOURCE,
        period=_label(path),
        file_name=path.name,
        sha256=digest,
        encoding=encoding,
        rows_read=len(lines),
        rows_loaded=len(lines) - subtotals,
        rows_quarantined=0,
        rows_totals_removed=subtotals,
        warnings=[],
        load_id=load_id,
        skipped=skipped,
        replaced_load_id=None if previous is None or skipped else previous[0],
    )
    if not skipped:
        batch = pl.DataFrame(
            [
                {
                    "load_id": load_id,
                    "source": SOURCE,
                    "period": result.period,
                    "file_name": path.name,
                    "sha256": digest,
                    "size_bytes": path.stat().st_size,
                    "encoding": encoding,
                    "rows_read": result.rows_read,
                    "rows_loaded": result.rows_loaded,
                    "rows_quarantined": 0,
                    "rows_totals_removed": subtotals,
                    "replaced_load_id": result.replaced_load_id,
                    "warnings": None,
                    "run_id": run_id,
                    "loaded_at": dt.datetime.now(),
                }
            ],
            schema_overrides={
                "replaced_load_id": pl.String,
                "warnings": pl.String,
                "run_id": pl.String,
            },
        )
        con.begin()
        try:
            con.execute("delete from raw.teilergebnisplan where source_file = ?", [path.name])
            insert_frame(con, "raw.teilergebnisplan", postings)
            insert_frame(con, "meta.load_batches", batch)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    summary = TeilergebnisplanSummary(
        path.name, load_id, postings.height, summarise(years, lines), skipped
    )
    return result, summary


def _label(path: Path) -> str:
    stem = path.stem
    return stem.split("_", 1)[1] if "_" in stem else stem
