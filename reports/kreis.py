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

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook

from kim_settings import internal_dir, month_label
from reports import data
from reports.disclosure_audit import (
    CAPACITY_COUNT,
    CAPACITY_TITLE,
    DISTRICT_LABEL,
    QUOTA_COUNT,
    QUOTA_TITLE,
    SPACES_TITLE,
)
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
from reports.suppression import SuppressionConfig, SuppressionRegistry
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

    return _write(district_path(out_dir, month), first, DISTRICT_LABEL, sheets)


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
        select coalesce(m.name, ?) as name, q.*
        from marts.fct_allocation_quota_monthly as q
        left join marts.dim_municipality as m on m.ags = q.ags
        where q.month = ?
        order by q.ags = 'GESAMT', q.ags
        """,
        [DISTRICT_LABEL, first],
    )


def _capacity(con: duckdb.DuckDBPyConnection, first: date) -> pl.DataFrame:
    return data.query(
        con,
        """
        select coalesce(m.name, ?) as name, c.*
        from marts.fct_housing_capacity_monthly as c
        left join marts.dim_municipality as m on m.ags = c.ags
        where c.month = ?
        order by c.ags = 'GESAMT', c.ags, c.kind = 'GESAMT', c.kind
        """,
        [DISTRICT_LABEL, first],
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
    setup_sheet(ws, fmts, QUOTA_TITLE, subtitle, QUOTA_NOTE)
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


MUNICIPALITY = "municipality"  # first part of the registry key of a municipality's count


def district_config(
    con: duckdb.DuckDBPyConnection, config: SuppressionConfig | None = None
) -> SuppressionConfig:
    """The rule of every publication of a district (the Kreistag's and the city-style report,
    the public month tables): primary below the setting small_area_threshold, so that no
    publication shows a count another one hides."""
    config = config or SuppressionConfig()
    return config.for_district(int(data.setting(con, "small_area_threshold")))


def cell_key(figure: str, month: date, ags: str) -> tuple:
    """Registry key of a municipality's (or the district's) count `figure` in `month`."""
    return (MUNICIPALITY, figure, month, ags)


def register_counts(
    registry: SuppressionRegistry,
    figure: str,
    month: date,
    counts: Mapping[str, int | None],
    spaces_of: Mapping[str, Sequence[str]],
) -> None:
    """Register one figure of the municipalities (`counts` by AGS, the district as DISTRICT) in
    the month's registry beside the social-space tables, with what an attacker knows: district
    = Σ municipalities (+ persons of no known social space, where there are any); and where the
    figure is also published per social space (an indicator id), municipality = Σ its social
    spaces and district = the city row. So one audit protects both tables jointly, and a small
    municipality that is one social space is one figure, hidden identically in both."""
    keys = {ags: cell_key(figure, month, ags) for ags in counts}
    for ags, key in keys.items():
        registry.add_cell(key, counts[ags], f"{figure} {month:%Y-%m} [{ags}]")
    parts = [key for ags, key in keys.items() if ags != DISTRICT]
    if DISTRICT in keys:
        _relate_district(registry, keys[DISTRICT], parts)
        _relate(registry, keys[DISTRICT], [("indicator", figure, month, data.CITY)])
    for ags in counts.keys() - {DISTRICT}:
        spaces = [("indicator", figure, month, space) for space in spaces_of.get(ags, ())]
        _relate(registry, keys[ags], spaces)


def _relate(registry: SuppressionRegistry, total: tuple, members: list[tuple]) -> None:
    """total = Σ members, where every cell is registered with a value and the data adds up (a
    link the data breaks would mislead the audit, as in the council's caseload links)."""
    values = [registry.values.get(key) for key in (total, *members)]
    if members and None not in values and values[0] == sum(values[1:]):
        registry.add_relation(total, members)


def _relate_district(registry: SuppressionRegistry, total: tuple, members: list[tuple]) -> None:
    """district = Σ municipalities + an unpublished rest ≥ 0 (persons of no known social space,
    counted in the district only) where the counts leave one."""
    values = [registry.values.get(key) for key in (total, *members)]
    if not members or None in values or values[0] < sum(values[1:]):
        return
    if values[0] > sum(values[1:]):
        rest = (MUNICIPALITY, "rest", *total[1:], len(registry.model.relations))
        registry.add_unpublished(rest)
        members = [*members, rest]
    registry.add_relation(total, members)


def register_council_cells(
    con: duckdb.DuckDBPyConnection, last: date, registry: SuppressionRegistry
) -> None:
    """Every count of the district chapter into the registry of its month (before any cell is
    read), so that one audit decides the social-space and the municipality tables."""
    spaces_of = _spaces_of(con)
    register_counts(registry, "persons_au", last, _by_ags(_quota(con, last), "persons_au"), {})
    outlook = _capacity_outlook(con, last)
    totals = outlook.filter(pl.col("kind") == DISTRICT)
    register_counts(registry, "occupied", last, _by_ags(totals, "occupied"), {})
    kinds = outlook.filter(pl.col("ags") == DISTRICT)
    by_kind = {r["kind"]: r["occupied"] for r in kinds.iter_rows(named=True)}
    register_counts(registry, "occupied", last, by_kind, {})
    comparison = _comparison(con, last)
    for (indicator_id,), rows in comparison.group_by("indicator_id", maintain_order=True):
        if indicator_kind(rows["unit"][0]) == COUNT:
            counts = {r["ags"]: _count(r["value"]) for r in rows.iter_rows(named=True)}
            counts[DISTRICT] = _count(rows["district_value"][0])
            register_counts(registry, indicator_id, last, counts, spaces_of)


def _count(value: object) -> int | None:
    return None if value is None else round(value)


def _by_ags(frame: pl.DataFrame, column: str) -> dict[str, int | None]:
    return {r["ags"]: r[column] for r in frame.iter_rows(named=True)}


def _spaces_of(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    frame = data.query(
        con,
        "select ags, social_space_id from marts.dim_social_space "
        "where not is_unknown order by ags, social_space_id",
    )
    spaces: dict[str, list[str]] = {}
    for ags, space in frame.iter_rows():
        spaces.setdefault(ags, []).append(space)
    return spaces


def council_tables(
    con: duckdb.DuckDBPyConnection,
    last: date,
    registry: SuppressionRegistry,
    numbers: Iterator[int],
) -> list[Table]:
    """The district chapter of the Kreistag's council report for the month `last`: which social
    spaces form each municipality, the quota, capacity and its outlook, and the municipalities
    compared. Public: a count is shown as the registry decided (`register_council_cells`), and
    the figures that would give a hidden one back (balance, free places, the month capacity
    runs out, ranks and quartiles) are hidden with it."""
    hidden = _Hidden(registry, last)
    threshold = int(data.setting(con, "small_area_threshold"))
    tables = [
        _council_spaces(con, next(numbers)),
        _council_quota(_quota(con, last), last, hidden, next(numbers)),
        _council_capacity(con, last, hidden, next(numbers)),
        _council_outlook(con, last, hidden, next(numbers)),
    ]
    comparison = _comparison(con, last)
    for (indicator_id,), rows in comparison.group_by("indicator_id", maintain_order=True):
        tables.append(_council_comparison(indicator_id, rows, hidden, threshold, next(numbers)))
    return tables


class _Hidden:
    """The registry's decision for the municipality cells of one month."""

    def __init__(self, registry: SuppressionRegistry, month: date) -> None:
        self.registry, self.month = registry, month
        self.config = registry.config

    def __call__(self, figure: str, ags: str) -> bool:
        key = cell_key(figure, self.month, ags)
        return key in self.registry.values and self.registry.is_suppressed(key)

    def mark(self, figure: str, ags: str) -> str | None:
        return self.config.count_symbol if self(figure, ags) else None


def _council_spaces(con: duckdb.DuckDBPyConnection, number: int) -> Table:
    table = Table(
        f"Tabelle {number}: {SPACES_TITLE}",
        [Column("Gemeinde"), Column("Sozialraum")],
        notes=["Jeder Sozialraum liegt in genau einer Gemeinde; ihre Zahlen ergeben zusammen "
               "die der Gemeinde."],
    )  # fmt: skip
    frame = data.query(
        con,
        """
        select m.name as municipality, s.name as space
        from marts.dim_social_space as s
        inner join marts.dim_municipality as m on m.ags = s.ags
        where not s.is_unknown
        order by m.ags, s.social_space_id
        """,
    )
    table.rows = [list(r) for r in frame.iter_rows()]
    return table


def _council_quota(frame: pl.DataFrame, last: date, hidden: _Hidden, number: int) -> Table:
    table = Table(
        f"Tabelle {number}: {QUOTA_TITLE}, {month_label(last)}",
        [
            Column("Gemeinde"),
            Column("Anteil Einwohner", RATIO),
            Column(QUOTA_COUNT, COUNT),
            Column("Soll nach Quote", NUMBER),
            Column("Saldo", NUMBER),
            Column("Saldo seit Beginn", NUMBER),
        ],
        notes=[
            QUOTA_NOTE + " Saldo seit Beginn = Zugänge − Soll der Zugänge seit dem ersten "
            "Datenmonat (> 0 = übererfüllt)."
        ],
    )
    # Soll = district total × share: printed beside the shares it would give a hidden total back.
    target_mark = hidden.mark("persons_au", DISTRICT)
    for r in frame.iter_rows(named=True):
        mark = hidden.mark("persons_au", r["ags"])
        if r["ags"] == DISTRICT:
            table.total_rows.add(len(table.rows))
        table.rows.append(
            [r["name"], r["population_share"], mark or r["persons_au"],
             target_mark or r["quota_target"], mark or target_mark or r["balance"],
             mark or r["running_balance"]]
        )  # fmt: skip
    return table


def _council_capacity(
    con: duckdb.DuckDBPyConnection, last: date, hidden: _Hidden, number: int
) -> Table:
    frame = _capacity_outlook(con, last).filter(pl.col("kind") == DISTRICT)
    table = Table(
        f"Tabelle {number}: {CAPACITY_TITLE}, {month_label(last)}",
        [
            Column("Gemeinde"),
            Column("Plätze", COUNT),
            Column(CAPACITY_COUNT, COUNT),
            Column("frei", COUNT),
            Column("Kapazität erschöpft ab"),
        ],
        notes=[
            "Gemeinschaftsunterkünfte und Wohnungen der Gemeinden zusammen; „–“ = nicht "
            "innerhalb des Ausblicks. " + _method_note(frame)
        ],
    )
    for r in frame.iter_rows(named=True):
        mark = hidden.mark("occupied", r["ags"])
        if r["ags"] == DISTRICT:
            table.total_rows.add(len(table.rows))
        # Places go with a hidden occupancy: occupied ≤ places would bound it (8 places and a
        # hidden sum of 12 over two small municipalities pinned one to [5, 8]).
        table.rows.append(
            [r["name"], mark or r["places"], mark or r["occupied"], mark or r["free_places"],
             mark or _month_text(r["capacity_exhausted_from"])]
        )  # fmt: skip
    return table


def _council_outlook(
    con: duckdb.DuckDBPyConnection, last: date, hidden: _Hidden, number: int
) -> Table:
    frame = _capacity_outlook(con, last)
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
        # A kind's occupancy is registered under its kind (the district's total as GESAMT).
        mark = hidden.mark("occupied", r["kind"])
        figures = [r["occupied"], *(r[f"in_{h}"] for h in OUTLOOK_HORIZONS)]
        figures += [_month_text(r["capacity_exhausted_from"])]
        table.rows.append(
            [KIND_LABELS.get(r["kind"], r["kind"]), mark or r["places"]]
            + [mark or f for f in figures]
        )
    return table


def _council_comparison(
    indicator_id: str, rows: pl.DataFrame, hidden: _Hidden, threshold: int, number: int
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
    config = hidden.config
    if kind == COUNT:
        hidden_ags = {a for a in [*rows["ags"], DISTRICT] if hidden(indicator_id, a)}
        symbol = config.count_symbol
    else:
        hidden_ags = {r["ags"] for r in rows.iter_rows(named=True) if r["is_small_area"]}
        symbol = config.rate_symbol
    # A count hidden only to protect a small one (secondary) is among the ranked values of the
    # mart: its ranks and quartiles would bound it, so they are hidden in that table.
    ranked_hidden = any(
        r["ags"] in hidden_ags and r["value_rank"] for r in rows.iter_rows(named=True)
    )
    if ranked_hidden:
        table.notes.append(
            f"Rang und Quartile „{symbol}“: sie würden eine verdeckte Zahl eingrenzen."
        )
    for r in rows.iter_rows(named=True):
        shown = symbol if r["ags"] in hidden_ags else r["value"]
        rank = symbol if r["ags"] in hidden_ags or ranked_hidden else r["value_rank"]
        table.rows.append([r["name"], shown, rank])
    table.total_rows.add(len(table.rows))
    district = symbol if DISTRICT in hidden_ags else first["district_value"]
    table.rows.append([DISTRICT_LABEL, district, None])
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
        select coalesce(m.name, ?) as name, c.ags, c.kind, c.places, c.occupied,
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
        [DISTRICT_LABEL, first],
    )


def _method_note(frame: pl.DataFrame) -> str:
    methods = sorted(set(frame["method"]))
    return "Ausblick: " + "; ".join(METHOD_LABELS[m] for m in methods) + "."


def _month_text(month: date | None) -> str | None:
    return None if month is None else month_label(month)
