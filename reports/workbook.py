"""Monthly controlling workbook for the finance controllers: `Controlling_<YYYY-MM>.xlsx`.

Internal output: aggregated figures, no suppression (domain.md, sections 4 and 5).
Reproducible: the created date is the data's Stand (last day of the month), and with
`in_memory` xlsxwriter writes every zip entry with the fixed timestamp 1980-01-01 (with temp files
it would copy their mode bits and a local-time stamp), so the same warehouse gives a
byte-identical file.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_range
from xlsxwriter.workbook import Workbook

from expectations.gates import DISCLOSURE_GATE
from expectations.report import gate_rows, quarantine_rows
from kim_settings import internal_dir, labels, month_label
from reports import cost_accounting, data
from reports.formatting import (
    COUNT,
    MONEY,
    NUMBER,
    RATIO,
    TEXT,
    Column,
    indicator_kind,
    traffic_light_rule,
)
from reports.xlsx import HEADER_ROW, Formats, setup_sheet, write_table

STATUS_LABELS = labels("residence_status")
LEVEL_LABELS = labels("level")
VALUE_STATUS_LABELS = labels("value_status")
OVERVIEW_COLUMNS = [
    (Column("Produkt"), 11),
    (Column("Bezeichnung"), 36),
    (Column("Fortgeschriebener Ansatz", MONEY), 17),
    (Column("Plan bis Monat", MONEY), 16),
    (Column("Ist bis Monat", MONEY), 16),
    (Column("Abweichung €", MONEY), 15),
    (Column("Abweichung %", RATIO), 11),
    (Column("Hochrechnung Jahr", MONEY), 16),
    (Column("Erwartete Abweichung", MONEY), 15),
    (Column("Erträge bis Monat", MONEY), 16),
    (Column("Aufwendungen bis Monat", MONEY), 16),
    (Column("Zuschussbedarf bis Monat", MONEY), 16),
    (Column("Deckungsgrad", RATIO), 11),
    (Column("Ampel"), 8),
]


def _overview_row(label: str, title: str, r: dict) -> list[object]:
    return [
        label,
        title,
        r["net_appropriation"],
        r["plan_to_date_net"],
        r["net_burden_to_date"],
        r["deviation_to_date"],
        r["deviation_to_date_ratio"],
        r["forecast_net"],
        r["expected_deviation"],
        r["revenue_to_date"],
        r["expense_to_date"],
        r["net_burden_to_date"],
        r["coverage_ratio"],
        r["traffic_light"],
    ]


def _overview_rows(
    products: pl.DataFrame, units: pl.DataFrame
) -> tuple[list[list[object]], set[int]]:
    """Product rows, and after each budget unit its Teilhaushalt row (from the mart)."""
    rows: list[list[object]] = []
    totals: set[int] = set()
    unit_rows = {r["budget_unit"]: r for r in units.iter_rows(named=True)}
    for (unit,), group in products.group_by("budget_unit", maintain_order=True):
        rows += [_overview_row(p["product_id"], p["title"], p) for p in group.iter_rows(named=True)]
        if unit in unit_rows:
            totals.add(len(rows))
            rows.append(
                _overview_row(f"Teilhaushalt {unit}", "Summe der Produkte", unit_rows[unit])
            )
    return rows, totals


def _sheet_overview(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Übersicht")
    setup_sheet(
        ws,
        fmts,
        "Budgetübersicht je Produkt",
        subtitle,
        "Beträge netto: Aufwendungen − Erträge (Zuschussbedarf). Abweichung = Ist − Plan.",
    )
    rows, totals = _overview_rows(
        data.budget_products(con, month), data.budget_unit_totals(con, month)
    )
    last = write_table(
        ws, fmts, OVERVIEW_COLUMNS, rows, total_rows=totals, light_col=13, freeze_cols=2
    )
    chart = book.add_chart({"type": "line"})
    months = len(data.budget_cumulative(con, month))
    for col, name in ((1, "Plan bis Monat (kumuliert)"), (2, "Ist bis Monat (kumuliert)")):
        chart.add_series(
            {
                "name": name,
                "categories": ["Verlauf", HEADER_ROW + 1, 0, HEADER_ROW + months, 0],
                "values": ["Verlauf", HEADER_ROW + 1, col, HEADER_ROW + months, col],
                "marker": {"type": "circle", "size": 4},
            }
        )
    chart.set_title({"name": f"Zuschussbedarf {month.year}: Ist und Plan kumuliert"})
    chart.set_y_axis({"num_format": '#,##0 "€"'})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 320})
    ws.insert_chart(last + 3, 1, chart)


ACCOUNT_COLUMNS = [
    (Column("Produkt"), 11),
    (Column("Produktbezeichnung"), 30),
    (Column("Sachkonto"), 10),
    (Column("Kontobezeichnung"), 30),
    (Column("Kontoart"), 10),
    (Column("Ansatz", MONEY), 15),
    (Column("Nachtrag", MONEY), 14),
    (Column("Übertragungen", MONEY), 14),
    (Column("Fortgeschriebener Ansatz", MONEY), 16),
    (Column("Plan bis Monat", MONEY), 15),
    (Column("Ist Monat", MONEY), 14),
    (Column("Ist bis Monat", MONEY), 15),
    (Column("Abweichung €", MONEY), 14),
    (Column("Abweichung %", RATIO), 11),
    (Column("Ausschöpfung", RATIO), 11),
    (Column("Hochrechnung", MONEY), 15),
    (Column("Verfahren", TEXT), 11),
    (Column("Erwartete Abweichung", MONEY), 15),
]
ACCOUNT_KIND_LABELS = labels("account_kind")
FORECAST_LABELS = labels("forecast_method")


def _sheet_accounts(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Konten")
    setup_sheet(ws, fmts, "Produkte × Sachkonten", subtitle)
    rows = [
        [
            r["product_id"],
            r["product_title"],
            r["account_id"],
            r["account_title"],
            ACCOUNT_KIND_LABELS.get(r["account_kind"], r["account_kind"]),
            r["original_appropriation"],
            r["supplementary"],
            r["carried_over"],
            r["current_appropriation"],
            r["plan_to_date"],
            r["actual_month"],
            r["actual_to_date"],
            r["deviation_to_date"],
            r["deviation_to_date_ratio"],
            r["exhaustion_ratio"],
            r["forecast"],
            FORECAST_LABELS.get(r["forecast_method"], r["forecast_method"]),
            r["expected_deviation"],
        ]
        for r in data.budget_accounts(con, month).iter_rows(named=True)
    ]
    write_table(ws, fmts, ACCOUNT_COLUMNS, rows, freeze_cols=3)


MIDYEAR_MONTH = 6  # the mid-year report to the supervisory authority, reference date 30 June
MIDYEAR_COLUMNS = [
    (Column("Produkt"), 11),
    (Column("Produktbezeichnung"), 30),
    (Column("Sachkonto"), 10),
    (Column("Kontobezeichnung"), 30),
    (Column("Kontoart"), 10),
    (Column("Fortgeschriebener Ansatz", MONEY), 16),
    (Column("Ist bis Monat", MONEY), 15),
    (Column("Projektion Restmonate", MONEY), 15),
    (Column("Prognose Jahresende", MONEY), 15),
    (Column("Erwartete Abweichung", MONEY), 15),
    (Column("Hochrechnung (Blatt Konten)", MONEY), 15),
]


def _sheet_midyear(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    """The mid-year forecast (fct_midyear_forecast, scenario basis), June only."""
    ws = book.add_worksheet("Prognose Jahresende")
    frame = data.midyear_forecast(con, month)
    note = (
        "Ist bis Monat + Projektion der Restmonate (Szenario basis, docs/planning.md)."
        if frame is not None
        else "Nicht berechnet: die Planungsmodelle fehlen (kim plan ausführen)."
    )
    setup_sheet(ws, fmts, "Prognose zum Jahresende (Halbjahresbericht)", subtitle, note)
    rows = [
        [
            r["product_id"],
            r["product_title"],
            r["account_id"],
            r["account_title"],
            ACCOUNT_KIND_LABELS.get(r["account_kind"], r["account_kind"]),
            r["current_appropriation"],
            r["actual_to_date"],
            r["projected_remainder"],
            r["forecast"],
            r["expected_deviation"],
            r["run_rate_forecast"],
        ]
        for r in (frame.iter_rows(named=True) if frame is not None else [])
    ]
    write_table(ws, fmts, MIDYEAR_COLUMNS, rows, freeze_cols=3)


def _target_text(row: dict) -> object:
    if row["target_value"] is not None:
        return row["target_value"]
    if row["target_band_low"] is not None or row["target_band_high"] is not None:
        low, high = row["target_band_low"], row["target_band_high"]
        return f"{'' if low is None else low:g} – {'' if high is None else high:g}".strip()
    return None


def _sheet_indicators(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Kennzahlen")
    setup_sheet(
        ws,
        fmts,
        "Kennzahlen der Stadt",
        subtitle,
        "Zielerreichung: Wert im Verhältnis zum Ziel; Trend: letzte 12 Monate. "
        + traffic_light_rule(data.traffic_light_tolerance(con)),
    )
    first = data.add_months(month, -11)
    values = data.indicator_values(con, first, month, city_only=True)
    trend_months = [data.add_months(first, i) for i in range(12)]
    columns = (
        [
            (Column("Nr"), 6),
            (Column("Kennzahl"), 38),
            (Column("Handlungsfeld"), 18),
            (Column("Ebene"), 9),
            (Column("Einheit"), 9),
            (Column("Wert", NUMBER), 12),
            (Column("Ziel", NUMBER), 12),
            (Column("Zielerreichung", RATIO), 11),
            (Column("Ampel"), 8),
            (Column("Hinweis"), 18),
        ]
        + [(Column(data.short_month_label(m), NUMBER), 9) for m in trend_months]
        + [(Column("Trend"), 14)]
    )
    rows, kinds = [], []
    for (_,), group in values.group_by("indicator_id", maintain_order=True):
        by_month = {r["month"]: r for r in group.iter_rows(named=True)}
        current = by_month.get(month)
        meta = group.row(0, named=True)
        kind = indicator_kind(meta["unit"])
        target = _target_text(current) if current else None
        rows.append(
            [
                meta["indicator_id"],
                meta["name"],
                meta["field_of_action"],
                LEVEL_LABELS.get(meta["level"], meta["level"]),
                meta["unit"],
                current["value"] if current else None,
                target,
                current["attainment_ratio"] if current else None,
                current["traffic_light"] if current else None,
                VALUE_STATUS_LABELS.get(current["value_status"], current["value_status"])
                if current
                else "keine Daten",
            ]
            + [by_month[m]["value"] if m in by_month else None for m in trend_months]
            + [None]
        )
        kinds.append(
            [TEXT] * 5
            + [kind, kind if not isinstance(target, str) else TEXT, RATIO]
            + [TEXT, TEXT]
            + [kind] * 12
            + [TEXT]
        )
    write_table(ws, fmts, columns, rows, row_kinds=kinds, light_col=8, freeze_cols=2)
    spark_col = len(columns) - 1
    for index in range(len(rows)):
        row = HEADER_ROW + 1 + index
        ws.add_sparkline(
            row, spark_col, {"range": f"'{ws.name}'!{xl_range(row, 10, row, 21)}", "markers": True}
        )


def _sheet_spaces(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Sozialräume")
    setup_sheet(
        ws,
        fmts,
        "Kennzahlen je Sozialraum",
        subtitle,
        "Interne Auswertung ohne Geheimhaltung kleiner Fallzahlen.",
    )
    values = data.indicator_values(con, month, month, city_only=False).filter(
        pl.col("per_social_space")
    )
    columns = [
        (Column("Nr"), 6),
        (Column("Kennzahl"), 38),
        (Column("Sozialraum-Nr"), 12),
        (Column("Sozialraum"), 20),
        (Column("Wert", NUMBER), 12),
        (Column("Zähler", NUMBER), 11),
        (Column("Nenner", NUMBER), 11),
        (Column("Ziel", NUMBER), 11),
        (Column("Zielerreichung", RATIO), 11),
        (Column("Ampel"), 8),
        (Column("Hinweis"), 18),
    ]
    rows, kinds = [], []
    for r in values.iter_rows(named=True):
        kind = indicator_kind(r["unit"])
        target = _target_text(r)
        rows.append(
            [
                r["indicator_id"],
                r["name"],
                r["social_space_id"],
                r["social_space_name"],
                r["value"],
                r["numerator"],
                r["denominator"],
                target,
                r["attainment_ratio"],
                r["traffic_light"],
                VALUE_STATUS_LABELS.get(r["value_status"], r["value_status"]),
            ]
        )
        kinds.append(
            [TEXT] * 4
            + [
                kind,
                NUMBER,
                NUMBER,
                kind if not isinstance(target, str) else TEXT,
                RATIO,
                TEXT,
                TEXT,
            ]
        )
    write_table(ws, fmts, columns, rows, row_kinds=kinds, light_col=9, freeze_cols=4)


def _sheet_reconciliation(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Abstimmung")
    setup_sheet(
        ws,
        fmts,
        "Abstimmung AsylbLG-Fallsoftware mit der Finanzbuchhaltung",
        subtitle,
        "Differenz = Fallsoftware − Finanzbuchhaltung, Monate des Jahres.",
    )
    columns = [
        (Column("Monat"), 15),
        (Column("Produkt"), 11),
        (Column("Sachkonto"), 10),
        (Column("Fallsoftware", MONEY), 16),
        (Column("Finanzbuchhaltung", MONEY), 16),
        (Column("Differenz", MONEY), 14),
        (Column("Abgestimmt"), 11),
    ]
    rows = [
        [
            month_label(r["month"]),
            r["product_id"],
            r["account_id"],
            r["payments_amount"],
            r["ledger_amount"],
            r["difference"],
            r["is_reconciled"],
        ]
        for r in data.reconciliation(con, month).iter_rows(named=True)
    ]
    last = write_table(ws, fmts, columns, rows, freeze_cols=3)
    if rows:
        ws.conditional_format(
            HEADER_ROW + 1,
            6,
            last,
            6,
            {"type": "cell", "criteria": "equal to", "value": '"nein"', "format": fmts.bad},
        )


def _sheet_quality(book: Workbook, fmts: Formats, con, month_text: str, subtitle: str) -> None:
    ws = book.add_worksheet("Datenqualität")
    setup_sheet(
        ws,
        fmts,
        "Datenqualität: Prüfergebnisse und Quarantäne",
        subtitle,
        "Letztes Ergebnis je Prüfung; Quarantäne: abgewiesene Zeilen je Datei und Regel.",
    )
    # Same rows as the HTML gate report (expectations.report), so both always agree.
    columns = [
        (Column("Prüfstufe"), 22),
        (Column("Erwartung"), 44),
        (Column("Schwere"), 9),
        (Column("Ergebnis"), 14),
        (Column("Beobachtet"), 22),
        (Column("Abweichende Zeilen", COUNT), 11),
        (Column("Beispiele"), 60),
    ]
    rows = [
        [
            r["gate_title"],
            f"{r['description']} ({r['expectation']})" if r["description"] else r["expectation"],
            "Fehler" if r["severity"] == "error" else "Warnung",
            "bestanden" if r["success"] else "nicht bestanden",
            r["observed_value"],
            r["unexpected_count"],
            "; ".join(r["sample_values"]) or None,
        ]
        for r in gate_rows(con, month_text)
        # The disclosure audit is decided while publishing, after this workbook may have been
        # written; its outcome stands in the data-quality page (and the run's failure notice).
        if r["gate"] != DISCLOSURE_GATE
    ]
    last = write_table(ws, fmts, columns, rows)
    if rows:
        ws.conditional_format(
            HEADER_ROW + 1,
            3,
            last,
            3,
            {
                "type": "cell",
                "criteria": "equal to",
                "value": '"nicht bestanden"',
                "format": fmts.bad,
            },
        )
    top = last + 3
    ws.write_string(top - 1, 0, "Quarantäne", fmts.title)
    quarantine = [[r["file_name"], r["rule"], r["rows"]] for r in quarantine_rows(con, month_text)]
    q_columns = [
        (Column("Datei"), 40),
        (Column("Regel"), 30),
        (Column("Zeilen", COUNT), 14),
    ]
    write_table(ws, fmts, q_columns, quarantine, top=top, filter_and_freeze=False)


def _sheet_trends(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    """Data of both charts; the persons-by-status chart sits here too."""
    ws = book.add_worksheet("Verlauf")
    setup_sheet(ws, fmts, "Verläufe", subtitle)
    cumulative = data.budget_cumulative(con, month)
    rows = [
        [month_label(r["month"]), r["plan_to_date_net"], r["net_burden_to_date"]]
        for r in cumulative.iter_rows(named=True)
    ]
    columns = [
        (Column("Monat"), 16),
        (Column("Plan bis Monat", MONEY), 16),
        (Column("Ist bis Monat", MONEY), 16),
    ]
    write_table(ws, fmts, columns, rows, filter_and_freeze=False)

    first = data.add_months(month, -11)
    caseload = data.caseload_by_status(con, first, month)
    statuses = sorted(set(caseload["residence_status"].to_list()))
    months = [data.add_months(first, i) for i in range(12)]
    counts = {
        (r["month"], r["residence_status"]): r["persons"] for r in caseload.iter_rows(named=True)
    }
    left = 4
    ws.write_string(HEADER_ROW, left, "Monat", fmts.header)
    ws.set_column(left, left, 16)
    for j, status in enumerate(statuses):
        ws.write_string(HEADER_ROW, left + 1 + j, STATUS_LABELS.get(status, status), fmts.header)
        ws.set_column(left + 1 + j, left + 1 + j, 14)
    months_with_data = {m for m, _ in counts}
    for i, m in enumerate(months):
        ws.write_string(HEADER_ROW + 1 + i, left, month_label(m))
        if m not in months_with_data:
            continue  # before the data start: empty cells, not invented zeros
        for j, status in enumerate(statuses):
            value = counts.get((m, status), 0)  # a month with data: a status absent is 0
            ws.write_number(HEADER_ROW + 1 + i, left + 1 + j, value, fmts.by_kind[COUNT])
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    for j in range(len(statuses)):
        chart.add_series(
            {
                "name": ["Verlauf", HEADER_ROW, left + 1 + j],
                "categories": ["Verlauf", HEADER_ROW + 1, left, HEADER_ROW + 12, left],
                "values": ["Verlauf", HEADER_ROW + 1, left + 1 + j, HEADER_ROW + 12, left + 1 + j],
            }
        )
    chart.set_title({"name": "Personen nach Aufenthaltsstatus (12 Monate)"})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 320})
    ws.insert_chart(HEADER_ROW + 16, 0, chart)
    ws.freeze_panes(HEADER_ROW + 1, 0)


def _sheet_space_budgets(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Sozialraumbudgets")
    setup_sheet(ws, fmts, "Sozialraumbudgets", subtitle, cost_accounting.BUDGET_NOTE)
    rows = cost_accounting.budget_rows(con, month)
    columns = cost_accounting.BUDGET_COLUMNS
    write_table(ws, fmts, columns, rows, light_col=len(columns) - 1, freeze_cols=3)


def _sheet_cost_per_person(book: Workbook, fmts: Formats, con, month: date, subtitle: str) -> None:
    ws = book.add_worksheet("Kosten je Person")
    setup_sheet(ws, fmts, "Kosten je Person", subtitle, cost_accounting.COST_NOTE)
    rows = cost_accounting.cost_rows(con, month)
    write_table(ws, fmts, cost_accounting.COST_COLUMNS, rows, freeze_cols=4)


def workbook_path(out_dir: Path, month_text: str) -> Path:
    return internal_dir(out_dir, month_text) / f"Controlling_{month_text}.xlsx"


def write_controlling_workbook(
    con: duckdb.DuckDBPyConnection, month: str, out_dir: Path, *, run_date: date | None = None
) -> Path:
    """Write `out_dir/internal/<YYYY-MM>/Controlling_<YYYY-MM>.xlsx` and return its path.

    `run_date` is only printed in the subtitle (when given); file metadata uses the data's Stand,
    so the bytes depend on the warehouse alone. Raises `PeriodError` for a malformed month.
    """
    first = data.parse_month(month)
    stand = data.month_end(first)
    path = workbook_path(out_dir, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    subtitle = f"{month_label(first)} · Stand {data.german_date(stand)}"
    if run_date is not None:
        subtitle += f" · erstellt {data.german_date(run_date)}"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False, "in_memory": True})
    try:
        book.set_properties(
            {
                "title": f"Controlling {month_label(first)}",
                "subject": "Teilhaushalt Migration und Integration",
                "author": "KIM Haushalt",
                "created": datetime(stand.year, stand.month, stand.day),
            }
        )
        fmts = Formats(book)
        _sheet_overview(book, fmts, con, first, subtitle)
        _sheet_accounts(book, fmts, con, first, subtitle)
        if first.month == MIDYEAR_MONTH:
            _sheet_midyear(book, fmts, con, first, subtitle)
        _sheet_indicators(book, fmts, con, first, subtitle)
        _sheet_spaces(book, fmts, con, first, subtitle)
        _sheet_space_budgets(book, fmts, con, first, subtitle)
        _sheet_cost_per_person(book, fmts, con, first, subtitle)
        _sheet_reconciliation(book, fmts, con, first, subtitle)
        _sheet_quality(book, fmts, con, month, subtitle)
        _sheet_trends(book, fmts, con, first, subtitle)
    finally:
        book.close()
    return path
