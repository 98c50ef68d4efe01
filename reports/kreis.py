"""Workbooks of a district (issue 15): the district's `Landkreis_<YYYY-MM>.xlsx` and one
`Controlling_<AGS>_<YYYY-MM>.xlsx` per municipality in `internal/<YYYY-MM>/gemeinden/`.

The district workbook shows every municipality (internal, unsuppressed, like the controlling
workbook). A municipality's workbook shows its own figures in full, the district's totals and the
comparison (district value, quartiles, median, rank); of the other municipalities it shows only
the comparison cells that are not small (`is_small_area` of fct_municipality_indicators: base
below the setting small_area_threshold), a small one as the suppression mark. The figures come
from the marts; this module only selects and formats. Same warehouse, same bytes (the created
date is the data's Stand; xlsxwriter in memory writes fixed zip timestamps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook

from kim_settings import internal_dir, month_label
from reports import data
from reports.formatting import (
    COUNT,
    MONEY,
    NUMBER,
    RATIO,
    TEXT,
    Column,
    Table,
    Typed,
    indicator_kind,
)
from reports.suppression import SuppressionConfig, small_area_hidden
from reports.xlsx import HEADER_ROW, Formats, setup_sheet, write_table

DISTRICT = "GESAMT"  # the district's rows in the marts
SMALL_AREA_MARK = "•"  # a cell of another municipality below the small-area threshold
KIND_LABELS = {"GU": "Gemeinschaftsunterkunft", "DEZENTRAL": "Wohnungen", DISTRICT: "zusammen"}

QUOTA_COLUMNS = [
    (Column("Gemeinde"), 24),
    (Column("AGS"), 10),
    (Column("Einwohner", COUNT), 11),
    (Column("Anteil Einwohner", RATIO), 10),
    (Column("Personen in Anschluss-unterbringung", COUNT), 14),
    (Column("Soll nach Quote", NUMBER), 11),
    (Column("Saldo", NUMBER), 9),
    (Column("Zugänge im Monat", COUNT), 10),
    (Column("Soll Zugänge", NUMBER), 10),
    (Column("Saldo seit Beginn (Über-/Unter-erfüllung)", NUMBER), 14),
    (Column("Pauschale Ist", MONEY), 13),
    (Column("Pauschale Plan", MONEY), 13),
]
CAPACITY_COLUMNS = [
    (Column("Gemeinde"), 24),
    (Column("Art"), 22),
    (Column("Plätze", COUNT), 10),
    (Column("belegt", COUNT), 10),
    (Column("frei", COUNT), 10),
]
COMPARISON_COLUMNS = [
    (Column("Kennzahl"), 8),
    (Column("Bezeichnung"), 34),
    (Column("Gemeinde"), 24),
    (Column("Wert", NUMBER), 10),
    (Column("Rang", COUNT), 7),
    (Column("von", COUNT), 6),
    (Column("Kreis", NUMBER), 10),
    (Column("1. Quartil", NUMBER), 10),
    (Column("Median", NUMBER), 10),
    (Column("3. Quartil", NUMBER), 10),
]
# Mart columns in the order of the number columns of the tables above.
QUOTA_FIGURES = (
    "inhabitants", "population_share", "persons_au", "quota_target", "balance", "allocated",
    "allocation_target", "running_balance", "payment_actual", "payment_plan",
)  # fmt: skip
CAPACITY_FIGURES = ("places", "occupied", "free_places")
QUOTA_NOTE = (
    "Anschlussunterbringung = Unterbringung DEZENTRAL; Soll = Kreissumme × Anteil an den "
    "Einwohnern; Saldo > 0 = über, < 0 = unter der Quote."
)


def district_path(out_dir: Path, month: str) -> Path:
    return internal_dir(out_dir, month) / f"Landkreis_{month}.xlsx"


def municipality_path(out_dir: Path, month: str, ags: str) -> Path:
    return internal_dir(out_dir, month, "gemeinden") / f"Controlling_{ags}_{month}.xlsx"


def municipalities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return data.query(con, "select ags, name from marts.dim_municipality order by ags")


def write_kreis_workbooks(con: duckdb.DuckDBPyConnection, month: str, out_dir: Path) -> list[Path]:
    """The district's workbook and one per municipality; returns their paths."""
    paths = [write_district_workbook(con, month, out_dir)]
    for ags in municipalities(con)["ags"]:
        paths.append(write_municipality_workbook(con, month, ags, out_dir))
    return paths


def write_district_workbook(con: duckdb.DuckDBPyConnection, month: str, out_dir: Path) -> Path:
    first = data.parse_month(month)

    def sheets(book: Workbook, fmts: Formats, subtitle: str) -> None:
        quota = _quota(con, first)
        _quota_sheet(book, fmts, subtitle, quota)
        _capacity_sheet(book, fmts, subtitle, _capacity(con, first))
        rows = _comparison(con, first)
        _comparison_sheet(book, fmts, subtitle, rows, "Gemeindevergleich", _all_cells)

    return _write(district_path(out_dir, month), first, "Landkreis", sheets)


def write_municipality_workbook(
    con: duckdb.DuckDBPyConnection, month: str, ags: str, out_dir: Path
) -> Path:
    first = data.parse_month(month)
    name = municipalities(con).filter(pl.col("ags") == ags)["name"].item()

    def own_and_district(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("ags").is_in([ags, DISTRICT]))

    def sheets(book: Workbook, fmts: Formats, subtitle: str) -> None:
        _quota_sheet(book, fmts, subtitle, own_and_district(_quota(con, first)))
        _capacity_sheet(book, fmts, subtitle, own_and_district(_capacity(con, first)))
        rows = _comparison(con, first)
        _comparison_sheet(
            book, fmts, subtitle, rows.filter(pl.col("ags") == ags), "Kennzahlen", _all_cells
        )
        _comparison_sheet(
            book, fmts, subtitle, rows, "Gemeindevergleich", lambda row: _cells_for(row, ags)
        )

    return _write(municipality_path(out_dir, month, ags), first, f"Gemeinde {name}", sheets)


def _write(
    path: Path, first: date, title: str, sheets: Callable[[Workbook, Formats, str], None]
) -> Path:
    stand = data.month_end(first)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False, "in_memory": True})
    try:
        book.set_properties(
            {
                "title": f"{title}: Controlling {month_label(first)}",
                "author": "KIM Haushalt",
                "created": datetime(stand.year, stand.month, stand.day),
            }
        )
        subtitle = f"{title} · {month_label(first)} · Stand {data.german_date(stand)}"
        sheets(book, Formats(book), subtitle)
    finally:
        book.close()
    return path


def _quota(con: duckdb.DuckDBPyConnection, first: date) -> pl.DataFrame:
    return data.query(
        con,
        """
        select coalesce(m.name, 'Landkreis') as name, q.*
        from marts.fct_allocation_quota_monthly as q
        left join marts.dim_municipality as m on m.ags = q.ags
        where q.month = ?
        order by q.ags = 'GESAMT', q.ags
        """,
        [first],
    )


def _capacity(con: duckdb.DuckDBPyConnection, first: date) -> pl.DataFrame:
    return data.query(
        con,
        """
        select coalesce(m.name, 'Landkreis') as name, c.*
        from marts.fct_housing_capacity_monthly as c
        left join marts.dim_municipality as m on m.ags = c.ags
        where c.month = ?
        order by c.ags = 'GESAMT', c.ags, c.kind = 'GESAMT', c.kind
        """,
        [first],
    )


def _comparison(con: duckdb.DuckDBPyConnection, first: date) -> pl.DataFrame:
    return data.query(
        con,
        """
        select c.*, i.name as indicator_name, i.unit, m.name
        from marts.fct_municipality_indicators as c
        inner join reference.indicators as i on i.indicator_id = c.indicator_id
        inner join marts.dim_municipality as m on m.ags = c.ags
        where c.month = ?
        order by i.sort_order, c.ags
        """,
        [first],
    )


def _quota_sheet(book: Workbook, fmts: Formats, subtitle: str, frame: pl.DataFrame) -> None:
    ws = book.add_worksheet("Aufnahmequote")
    setup_sheet(ws, fmts, "Aufnahmequote der Gemeinden", subtitle, QUOTA_NOTE)
    rows = [
        [r["name"], "" if r["ags"] == DISTRICT else r["ags"], *_numbers(r, QUOTA_FIGURES)]
        for r in frame.iter_rows(named=True)
    ]
    totals = {i for i, r in enumerate(frame.iter_rows(named=True)) if r["ags"] == DISTRICT}
    write_table(ws, fmts, QUOTA_COLUMNS, rows, total_rows=totals)


def _capacity_sheet(book: Workbook, fmts: Formats, subtitle: str, frame: pl.DataFrame) -> None:
    ws = book.add_worksheet("Unterbringung")
    setup_sheet(ws, fmts, "Plätze, Belegung und freie Plätze", subtitle)
    rows = [
        [r["name"], KIND_LABELS.get(r["kind"], r["kind"]), *_numbers(r, CAPACITY_FIGURES)]
        for r in frame.iter_rows(named=True)
    ]
    totals = {i for i, r in enumerate(frame.iter_rows(named=True)) if r["ags"] == DISTRICT}
    write_table(ws, fmts, CAPACITY_COLUMNS, rows, total_rows=totals)


def _numbers(row: dict, columns: tuple[str, ...]) -> list[object]:
    return [row[c] for c in columns]


def _all_cells(row: dict) -> tuple[object, object]:
    return row["value"], row["value_rank"]


def _cells_for(row: dict, own: str) -> tuple[object, object]:
    """Value and rank as another municipality may see them: a small cell becomes the mark."""
    if row["ags"] != own and row["is_small_area"]:
        return SMALL_AREA_MARK, SMALL_AREA_MARK
    return row["value"], row["value_rank"]


def _comparison_sheet(
    book: Workbook,
    fmts: Formats,
    subtitle: str,
    frame: pl.DataFrame,
    sheet: str,
    cells: Callable[[dict], tuple[object, object]],
) -> None:
    ws = book.add_worksheet(sheet)
    note = (
        f"Rang 1 = günstigster Wert; {SMALL_AREA_MARK} = kleine Fallzahl einer anderen Gemeinde "
        "(unter der Schwelle small_area_threshold), nicht gezeigt."
    )
    setup_sheet(ws, fmts, "Kennzahlen im Gemeindevergleich", subtitle, note)
    rows, kinds = [], []
    for r in frame.iter_rows(named=True):
        value, rank = cells(r)
        kind = indicator_kind(r["unit"])
        rows.append(
            [r["indicator_id"], r["indicator_name"], r["name"], value, rank,
             r["municipalities_ranked"], r["district_value"], r["q1"], r["median"], r["q3"]]
        )  # fmt: skip
        kinds.append([TEXT, TEXT, TEXT, kind, COUNT, COUNT, kind, kind, kind, kind])
    write_table(ws, fmts, COMPARISON_COLUMNS, rows, row_kinds=kinds, top=HEADER_ROW)


# ---------------------------------------------------------------- the Kreistag's council report

METHOD_LABELS = {
    "projection": "Projektion der Planung (Szenario basis)",
    "trend": "Trend: mittlere monatliche Veränderung der letzten Monate",
}
OUTLOOK_HORIZONS = (6, 12)  # months ahead shown in the council report's outlook table


def council_tables(
    con: duckdb.DuckDBPyConnection, last: date, config: SuppressionConfig, numbers: Iterator[int]
) -> list[Table]:
    """The district chapter of the Kreistag's council report for the month `last`: the quota,
    capacity and its outlook, and the municipalities compared. Public: a municipality's count
    below the setting small_area_threshold is hidden (`small_area_hidden`), with the figures
    that would give it back (balance, free places, the month capacity runs out)."""
    threshold = int(data.setting(con, "small_area_threshold"))
    tables = [
        _council_quota(_quota(con, last), last, threshold, config, next(numbers)),
        _council_capacity(con, last, threshold, config, next(numbers)),
        _council_outlook(con, last, threshold, config, next(numbers)),
    ]
    comparison = _comparison(con, last)
    for (indicator_id,), rows in comparison.group_by("indicator_id", maintain_order=True):
        tables.append(_council_comparison(indicator_id, rows, config, threshold, next(numbers)))
    return tables


def _hidden_rows(frame: pl.DataFrame, column: str, threshold: int) -> set[str]:
    counts = {r["ags"]: r[column] for r in frame.iter_rows(named=True) if r["ags"] != DISTRICT}
    return small_area_hidden(counts, threshold, total=DISTRICT)


def _council_quota(
    frame: pl.DataFrame, last: date, threshold: int, config: SuppressionConfig, number: int
) -> Table:
    table = Table(
        f"Tabelle {number}: Aufnahmequote der Gemeinden, {month_label(last)}",
        [
            Column("Gemeinde"),
            Column("Anteil Einwohner", RATIO),
            Column("Personen in Anschlussunterbringung", COUNT),
            Column("Soll nach Quote", NUMBER),
            Column("Saldo", NUMBER),
            Column("Saldo seit Beginn", NUMBER),
        ],
        notes=[
            QUOTA_NOTE + " Saldo seit Beginn = Zugänge − Soll der Zugänge seit dem ersten "
            "Datenmonat (> 0 = übererfüllt)."
        ],
    )
    hidden = _hidden_rows(frame, "persons_au", threshold)
    for r in frame.iter_rows(named=True):
        mark = config.count_symbol if r["ags"] in hidden else None
        if r["ags"] == DISTRICT:
            table.total_rows.add(len(table.rows))
        table.rows.append(
            [r["name"], r["population_share"], mark or r["persons_au"], r["quota_target"],
             mark or r["balance"], mark or r["running_balance"]]
        )  # fmt: skip
    return table


def _council_capacity(
    con: duckdb.DuckDBPyConnection,
    last: date,
    threshold: int,
    config: SuppressionConfig,
    number: int,
) -> Table:
    frame = _capacity_outlook(con, last).filter(pl.col("kind") == DISTRICT)
    table = Table(
        f"Tabelle {number}: Unterbringung der Gemeinden, {month_label(last)}",
        [
            Column("Gemeinde"),
            Column("Plätze", COUNT),
            Column("belegt", COUNT),
            Column("frei", COUNT),
            Column("Kapazität erschöpft ab"),
        ],
        notes=[
            "Gemeinschaftsunterkünfte und Wohnungen der Gemeinden zusammen; „–“ = nicht "
            "innerhalb des Ausblicks. " + _method_note(frame)
        ],
    )
    hidden = _hidden_rows(frame, "occupied", threshold)
    for r in frame.iter_rows(named=True):
        mark = config.count_symbol if r["ags"] in hidden else None
        if r["ags"] == DISTRICT:
            table.total_rows.add(len(table.rows))
        table.rows.append(
            [r["name"], r["places"], mark or r["occupied"], mark or r["free_places"],
             mark or _month_text(r["capacity_exhausted_from"])]
        )  # fmt: skip
    return table


def _council_outlook(
    con: duckdb.DuckDBPyConnection,
    last: date,
    threshold: int,
    config: SuppressionConfig,
    number: int,
) -> Table:
    frame = _capacity_outlook(con, last)
    # Hidden as in the capacity table: the district's occupancy when it is itself small.
    hidden = DISTRICT in _hidden_rows(
        frame.filter(pl.col("kind") == DISTRICT), "occupied", threshold
    )
    mark = config.count_symbol if hidden else None
    table = Table(
        f"Tabelle {number}: Ausblick Unterbringung des Landkreises ab {month_label(last)}",
        [Column("Art"), Column("Plätze", COUNT), Column("belegt", COUNT)]
        + [Column(f"belegt in {h} Monaten", NUMBER) for h in OUTLOOK_HORIZONS]
        + [Column("Kapazität erschöpft ab")],
        notes=[
            "Erwartete Belegung (keine Zählung) bei gleichbleibender Platzzahl. "
            + _method_note(frame)
        ],
    )
    for r in frame.filter(pl.col("ags") == DISTRICT).iter_rows(named=True):
        figures = [r["occupied"], *(r[f"in_{h}"] for h in OUTLOOK_HORIZONS)]
        figures += [_month_text(r["capacity_exhausted_from"])]
        table.rows.append(
            [KIND_LABELS.get(r["kind"], r["kind"]), r["places"]] + [mark or f for f in figures]
        )
    return table


def _council_comparison(
    indicator_id: str,
    rows: pl.DataFrame,
    config: SuppressionConfig,
    threshold: int,
    number: int,
) -> Table:
    first = rows.row(0, named=True)
    kind = indicator_kind(first["unit"])
    table = Table(
        f"Tabelle {number}: {indicator_id} {first['indicator_name']} im Gemeindevergleich",
        [Column("Gemeinde"), Column("Wert", kind), Column("Rang", COUNT)],
        notes=[
            "Rang 1 = günstigster Wert; Rang, Quartile und Median über die Gemeinden ohne "
            f"kleine Fallzahl (Basis unter {threshold}), deren Wert verdeckt ist."
        ],
    )
    if kind == COUNT:
        hidden = small_area_hidden(
            {r["ags"]: int(r["value"]) for r in rows.iter_rows(named=True)}, threshold, DISTRICT
        )
        symbol = config.count_symbol
    else:
        hidden = {r["ags"] for r in rows.iter_rows(named=True) if r["is_small_area"]}
        symbol = config.rate_symbol
    # A count hidden only to protect a small one (secondary) is among the ranked values of the
    # mart: its ranks and quartiles would bound it, so they are hidden in that table.
    ranked_hidden = any(r["ags"] in hidden and r["value_rank"] for r in rows.iter_rows(named=True))
    if ranked_hidden:
        table.notes.append(
            f"Rang und Quartile „{symbol}“: sie würden eine verdeckte Zahl eingrenzen."
        )
    for r in rows.iter_rows(named=True):
        shown = symbol if r["ags"] in hidden else r["value"]
        rank = symbol if r["ags"] in hidden or ranked_hidden else r["value_rank"]
        table.rows.append([r["name"], shown, rank])
    table.total_rows.add(len(table.rows))
    district = symbol if DISTRICT in hidden else first["district_value"]
    table.rows.append(["Landkreis", district, None])
    for label, column in (("1. Quartil", "q1"), ("Median", "median"), ("3. Quartil", "q3")):
        table.rows.append([label, symbol if ranked_hidden else Typed(first[column], kind), None])
    return table


def _capacity_outlook(con: duckdb.DuckDBPyConnection, first: date) -> pl.DataFrame:
    """Capacity of the month beside its outlook: projected occupancy in OUTLOOK_HORIZONS months
    and the month capacity runs out (fct_housing_capacity_outlook)."""
    horizons = ", ".join(
        f"max(o.projected_occupied) filter (where o.horizon = {h}) as in_{h}"
        for h in OUTLOOK_HORIZONS
    )
    return data.query(
        con,
        f"""
        select coalesce(m.name, 'Landkreis') as name, c.ags, c.kind, c.places, c.occupied,
               c.free_places, any_value(o.method) as method,
               any_value(o.capacity_exhausted_from) as capacity_exhausted_from, {horizons}
        from marts.fct_housing_capacity_monthly as c
        inner join marts.fct_housing_capacity_outlook as o
            on o.month = c.month and o.ags = c.ags and o.kind = c.kind
        left join marts.dim_municipality as m on m.ags = c.ags
        where c.month = ?
        group by m.name, c.ags, c.kind, c.places, c.occupied, c.free_places
        order by c.ags = 'GESAMT', c.ags, c.kind = 'GESAMT', c.kind
        """,
        [first],
    )


def _method_note(frame: pl.DataFrame) -> str:
    methods = sorted(set(frame["method"]))
    return "Ausblick: " + "; ".join(METHOD_LABELS[m] for m in methods) + "."


def _month_text(month: date | None) -> str | None:
    return None if month is None else month_label(month)
