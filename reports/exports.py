"""Exports of the marts: CSV for Excel (German) and Parquet, plus suppressed public versions.

`out_dir/internal/<YYYY-MM>/export/`: every mart of the month (dimensions whole) as
`<table>.csv` and `<table>.parquet`. `out_dir/public/<YYYY-MM>/`: person counts (social space ×
residence status) and indicator values per social space, suppressed with the same pattern as
the council report of the month, written only after the disclosure audit of the month passed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from kim_settings import internal_dir, public_dir
from reports import data
from reports.council import STATUS_LABELS, TOTAL_LABEL, PublishedFigures, published_figures
from reports.disclosure_audit import NOTE_PREFIX
from reports.formatting import indicator_kind, printed_value
from reports.suppression import SuppressionConfig

NOTE_TABLES = {
    "personen_sozialraum_status": "Personen am Monatsende je Sozialraum und Aufenthaltsstatus.",
    "kennzahlen_sozialraum": "Kennzahlen je Sozialraum und insgesamt (GESAMT); Einheit in "
    "der Spalte einheit.",
}


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, bool]]:
    """(table name, is a monthly fact) of every fact and dimension in schema marts.

    Facts (`fct_*` with a `month` column) are exported for the month; dimensions whole. Other
    tables there (the planning intermediates, one of them a row per person and month) are
    working tables, not published figures: an export is aggregated, never person-level.
    """
    rows = con.sql(
        """
        select t.table_name,
               t.table_name like 'fct\\_%' escape '\\'
                 and bool_or(c.column_name = 'month') as has_month
        from information_schema.tables as t
        join information_schema.columns as c
          on c.table_schema = t.table_schema and c.table_name = t.table_name
        where t.table_schema = 'marts'
          and (t.table_name like 'fct\\_%' escape '\\' or t.table_name like 'dim\\_%' escape '\\')
        group by t.table_name
        order by t.table_name
        """
    ).fetchall()
    return [(name, bool(has_month)) for name, has_month in rows]


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """`;`-separated, UTF-8 with BOM, decimal comma: opens correctly in German Excel."""
    frame.write_csv(
        path,
        separator=";",
        include_bom=True,
        decimal_comma=True,
        date_format="%Y-%m-%d",
        datetime_format="%Y-%m-%d %H:%M:%S",
    )


def _write_both(frame: pl.DataFrame, folder: Path, name: str) -> list[Path]:
    csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
    write_csv(frame, csv_path)
    frame.write_parquet(parquet_path, compression="zstd", statistics=True)
    return [csv_path, parquet_path]


def public_figures(
    con: duckdb.DuckDBPyConnection, month: data.date, config: SuppressionConfig
) -> tuple[pl.DataFrame, PublishedFigures]:
    """The month's indicator values and its one suppression pattern (as in the council report)."""
    values = data.indicator_values(con, month, month, city_only=False)
    return values, published_figures(con, values, month, config)


def _public_frames(
    values: pl.DataFrame, pub: PublishedFigures, month: data.date
) -> dict[str, pl.DataFrame]:
    """The suppressed public tables; published cells are text ('*', '/', or the number)."""
    persons = [
        {
            "monat": month,
            "sozialraum": space,
            **{STATUS_LABELS.get(s, s): _text(pub.caseload(space, s)) for s in pub.statuses},
            TOTAL_LABEL: _text(pub.caseload(space, TOTAL_LABEL)),
        }
        for space in [*pub.spaces, TOTAL_LABEL]
    ]
    indicators = [
        {
            "monat": month,
            "kennzahl": r["indicator_id"],
            "name": r["name"],
            "einheit": r["unit"],
            "sozialraum": r["social_space_id"],
            "wert": _text(pub.value(r), r["unit"]),
        }
        for r in values.iter_rows(named=True)
        if pub.published(r)
    ]
    return {
        f"personen_sozialraum_status_{month:%Y-%m}": pl.DataFrame(persons),
        f"kennzahlen_sozialraum_{month:%Y-%m}": pl.DataFrame(
            indicators,
            schema={
                "monat": pl.Date,
                "kennzahl": pl.String,
                "name": pl.String,
                "einheit": pl.String,
                "sozialraum": pl.String,
                "wert": pl.String,
            },
        ),
    }


def _text(value: object, unit: str = "Anzahl") -> str | None:
    """A published cell as text with decimal comma, rounded to the printed precision of its
    unit (symbols pass through, None stays empty)."""
    if value is None or isinstance(value, str):
        return value
    return f"{printed_value(value, indicator_kind(unit)):f}".replace(".", ",")


def write_exports(
    con: duckdb.DuckDBPyConnection,
    month: str,
    out_dir: Path,
    config: SuppressionConfig | None = None,
) -> list[Path]:
    """Write the internal and public exports of `month` ('YYYY-MM'); returns the paths."""
    first = data.parse_month(month)
    folder = internal_dir(out_dir, month, "export")
    public = public_dir(out_dir, month)
    folder.mkdir(parents=True, exist_ok=True)
    public.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for table, has_month in mart_tables(con):
        where = "where month = ?" if has_month else ""
        frame = data.query(
            con, f"select * from marts.{table} {where} order by all", [first] if has_month else []
        )
        paths += _write_both(frame, folder, table)
    # The folder holds this month's export only: a table no longer exported (renamed, or no
    # longer a fact or dimension) must not linger from an earlier run.
    for stale in set(folder.iterdir()) - set(paths):
        stale.unlink()
    config = config or SuppressionConfig()
    values, pub = public_figures(con, first, config)
    pub.assert_safe(f"öffentliche Tabellen {month}")
    frames = _public_frames(values, pub, first)
    for name, frame in frames.items():
        paths += _write_both(frame, public, name)
    paths.append(_write_note(public, first, list(frames), config))
    return paths


def _write_note(
    folder: Path, month: data.date, tables: list[str], config: SuppressionConfig
) -> Path:
    """`hinweise_<YYYY-MM>.txt` beside the public tables: what they hold and the suppression
    rule they follow, in the words of the council report's method chapter (the disclosure
    audit reads the rule from it, as from the report's annex)."""
    path = folder / f"{NOTE_PREFIX}{month:%Y-%m}.txt"
    lines = [
        f"Öffentliche Tabellen {data.month_label(month)}",
        "",
        *(f"{name}.csv / {name}.parquet: {NOTE_TABLES[name.rsplit('_', 1)[0]]}" for name in tables),
        "",
        f"Geheimhaltung: {config.describe()}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
