"""Markdown previews for the Dagster UI (asset metadata). Internal: no suppression."""

from __future__ import annotations

import duckdb

from kim_settings import month_label
from reports import data
from reports.formatting import TRAFFIC_LIGHTS, format_cell, indicator_kind


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def key_figures_markdown(con: duckdb.DuckDBPyConnection, month: str) -> str:
    """City-wide indicator values of `month` ('YYYY-MM') as a small Markdown table."""
    first = data.parse_month(month)
    values = data.indicator_values(con, first, first, city_only=True)
    lines = [
        f"**Kennzahlen {month_label(first)}** (Stadt gesamt)",
        "",
        "| Kennzahl | Wert | Ziel | Ampel |",
        "| --- | ---: | ---: | --- |",
    ]
    for r in values.iter_rows(named=True):  # sorted by the catalogue's sort order
        kind = indicator_kind(r["unit"])
        target = r["target_value"]
        band = (r["target_band_low"], r["target_band_high"])
        if target is None and band != (None, None):
            target_text = (
                f"{format_cell(r['target_band_low'], kind)} – "
                f"{format_cell(r['target_band_high'], kind)}"
            )
        else:
            target_text = format_cell(target, kind)
        lines.append(
            f"| {_cell(r['indicator_id'] + ' ' + r['name'])} | {format_cell(r['value'], kind)} "
            f"| {target_text} | {TRAFFIC_LIGHTS.get(r['traffic_light'] or '', '–')} |"
        )
    if values.is_empty():
        lines.append("| keine Werte für diesen Monat | | | |")
    return "\n".join(lines) + "\n"
