"""The planning workbook `Planung_<YYYY>.xlsx` (internal, unsuppressed): the scenarios side by
side for one plan year, the proposal per account, the months of the projection with a chart, and
the backtest. Every figure comes from a planning mart (dbt/models/planning); this module formats.

Reproducible like the controlling workbook: in-memory zip (fixed timestamps), created date =
the last actual month's last day.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import xlsxwriter
from xlsxwriter.workbook import Workbook

from kim_settings import internal_dir, labels
from reports import data
from reports.formatting import COUNT, MONEY, NUMBER, RATIO, TEXT, Column, format_cell
from reports.xlsx import HEADER_ROW, Formats, setup_sheet, write_table

CITY_TOTAL = "GESAMT"  # product_id of the all-products rows of fct_planning_years

# Rows of the side-by-side sheet: label, column of fct_planning_years, kind.
SCENARIO_ROWS = [
    ("Personen (Dezember, erwartet)", "persons_december", NUMBER),
    ("davon im AsylbLG (K01)", "asylblg_persons_december", NUMBER),
    ("Zugänge im Jahr", "admissions", NUMBER),
    ("Personen in GU (höchster Monat)", "gu_persons_max", NUMBER),
    ("GU-Plätze (Dezember)", "gu_places_december", COUNT),
    ("GU-Plätze reichen bis", "gu_capacity_runs_out", TEXT),
    ("VZÄ Fallmanagement benötigt (Dezember)", "fte_needed_december", NUMBER),
    ("VZÄ Fallmanagement vorhanden (letzter Ist-Monat)", "fte_available", NUMBER),
    ("Aufwand", "expense", MONEY),
    ("Ertrag", "revenue", MONEY),
    ("Zuschussbedarf", "net", MONEY),
    ("Zuschussbedarf laut Ansatz Vorjahr", "prior_year_net_appropriation", MONEY),
    ("Veränderung Zuschussbedarf", "net_change", MONEY),
]


class PlanningError(ValueError):
    """A plan year or scenario the planning marts do not hold (German message)."""


ACCOUNT_KIND_LABELS = labels("account_kind")


def plan_path(out_dir: Path, year: int) -> Path:
    return internal_dir(out_dir, "plan") / f"Planung_{year}.xlsx"


def last_actual_month(con: duckdb.DuckDBPyConnection) -> date:
    query = "select max(last_actual_month) from marts.fct_projection_monthly"
    return con.execute(query).fetchall()[0][0]


def plan_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    rows = con.execute("select distinct year from marts.fct_planning_years order by year")
    return [r[0] for r in rows.fetchall()]


def scenario_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Scenarios in seed order (first appearance in reference.scenarios)."""
    rows = con.execute(
        "select scenario from reference.scenarios group by scenario order by min(rowid)"
    )
    return [r[0] for r in rows.fetchall()]


def _checked(con: duckdb.DuckDBPyConnection, year: int, scenarios: list[str] | None) -> list[str]:
    years = plan_years(con)
    if year not in years:
        raise PlanningError(
            f"Planjahr {year}: nicht vollständig im Projektionszeitraum; planbar sind "
            f"{', '.join(map(str, years)) or 'keine Jahre'} (letzter Ist-Monat "
            f"{data.month_label(last_actual_month(con))}, Einstellung planning_horizon_months)."
        )
    known = scenario_names(con)
    unknown = [s for s in scenarios or [] if s not in known]
    if unknown:
        raise PlanningError(
            f"Szenario {', '.join(unknown)} fehlt in dbt/seeds/scenarios.csv "
            f"(vorhanden: {', '.join(known)})."
        )
    return list(scenarios) if scenarios else known


def _sheet_scenarios(book: Workbook, fmts: Formats, con, year: int, names, subtitle) -> None:
    ws = book.add_worksheet("Szenarien")
    setup_sheet(ws, fmts, f"Szenarien {year} im Vergleich", subtitle)
    rows = {
        r["scenario"]: r
        for r in data.query(
            con,
            "select * from marts.fct_planning_years where year = ? and product_id = ?",
            [year, CITY_TOTAL],
        ).iter_rows(named=True)
    }
    columns = [(Column("Kennzahl"), 46)] + [(Column(n, MONEY), 18) for n in names]
    table, kinds = [], []
    for label, field, kind in SCENARIO_ROWS:
        values = [rows.get(n, {}).get(field) for n in names]
        if field == "gu_capacity_runs_out":
            values = [data.month_label(v) if v else "über den Horizont" for v in values]
        table.append([label, *values])
        kinds.append([TEXT, *[kind] * len(names)])
    write_table(ws, fmts, columns, table, row_kinds=kinds, filter_and_freeze=False)


def _sheet_products(book: Workbook, fmts: Formats, con, year: int, names, subtitle) -> None:
    ws = book.add_worksheet("Produkte")
    setup_sheet(ws, fmts, f"Aufwand, Ertrag und Zuschussbedarf {year} je Produkt", subtitle)
    frame = data.query(
        con,
        "select y.*, p.title from marts.fct_planning_years as y"
        " left join reference.products as p using (product_id)"
        " where y.year = ? and list_contains(?, y.scenario)"
        " order by y.scenario, y.product_id = 'GESAMT', y.product_id",
        [year, names],
    )
    columns = [
        (Column("Szenario"), 12),
        (Column("Produkt"), 12),
        (Column("Bezeichnung"), 44),
        (Column("Aufwand", MONEY), 18),
        (Column("Ertrag", MONEY), 18),
        (Column("Zuschussbedarf", MONEY), 18),
        (Column("Zuschussbedarf Ansatz Vorjahr", MONEY), 18),
        (Column("Veränderung", MONEY), 18),
    ]
    rows = [
        [
            r["scenario"],
            r["product_id"],
            r["title"] or "Teilhaushalt gesamt",
            r["expense"],
            r["revenue"],
            r["net"],
            r["prior_year_net_appropriation"],
            r["net_change"],
        ]
        for r in frame.iter_rows(named=True)
    ]
    totals = {i for i, r in enumerate(rows) if r[1] == CITY_TOTAL}
    write_table(ws, fmts, columns, rows, total_rows=totals, freeze_cols=2)


def _sheet_proposal(book: Workbook, fmts: Formats, con, year: int, names, subtitle) -> None:
    ws = book.add_worksheet("Ansatzvorschlag")
    setup_sheet(
        ws,
        fmts,
        f"Vorgeschlagener Ansatz {year} je Produkt und Konto",
        subtitle,
        "Vorschlag = Summe der projizierten Monate; Ist Vorjahr = gebucht bis zum letzten"
        " Ist-Monat.",
    )
    frame = data.query(
        con,
        "select b.*, a.title from marts.fct_budget_proposal as b"
        " left join reference.accounts as a using (account_id)"
        " where b.year = ? and list_contains(?, b.scenario)"
        " order by b.scenario, b.product_id, b.account_id",
        [year, names],
    )
    columns = [
        (Column("Szenario"), 12),
        (Column("Produkt"), 12),
        (Column("Konto"), 9),
        (Column("Bezeichnung"), 36),
        (Column("Art"), 10),
        (Column(f"Vorschlag {year}", MONEY), 18),
        (Column(f"Ansatz {year - 1}", MONEY), 18),
        (Column(f"Ist {year - 1} bis Stand", MONEY), 18),
        (Column("Veränderung zum Ansatz", MONEY), 18),
    ]
    rows = [
        [
            r["scenario"],
            r["product_id"],
            r["account_id"],
            r["title"],
            ACCOUNT_KIND_LABELS.get(r["account_kind"], r["account_kind"]),
            r["proposed_appropriation"],
            r["prior_year_appropriation"],
            r["prior_year_actual"],
            r["change"],
        ]
        for r in frame.iter_rows(named=True)
    ]
    write_table(ws, fmts, columns, rows, freeze_cols=3)


def _sheet_months(book: Workbook, fmts: Formats, con, names, subtitle) -> None:
    """Persons per scenario and month over the whole horizon, with a line chart."""
    ws = book.add_worksheet("Monate")
    setup_sheet(ws, fmts, "Personen je Szenario und Monat (Projektion)", subtitle)
    frame = data.query(
        con,
        "select scenario, month, persons, gu_persons, gu_places"
        " from marts.fct_projection_resources order by month",
    )
    by_key = {(r["scenario"], r["month"]): r for r in frame.iter_rows(named=True)}
    months = sorted({m for _, m in by_key})
    columns = [(Column("Monat"), 16)] + [(Column(f"Personen {n}", NUMBER), 16) for n in names]
    columns += [(Column(f"in GU {n}", NUMBER), 14) for n in names]
    columns += [(Column("GU-Plätze basis", COUNT), 14)]
    rows = [
        [data.month_label(m)]
        + [by_key.get((n, m), {}).get("persons") for n in names]
        + [by_key.get((n, m), {}).get("gu_persons") for n in names]
        + [by_key.get(("basis", m), {}).get("gu_places")]
        for m in months
    ]
    last = write_table(ws, fmts, columns, rows, freeze_cols=1)
    chart = book.add_chart({"type": "line"})
    for j in range(len(names)):
        chart.add_series(
            {
                "name": ["Monate", HEADER_ROW, 1 + j],
                "categories": ["Monate", HEADER_ROW + 1, 0, last, 0],
                "values": ["Monate", HEADER_ROW + 1, 1 + j, last, 1 + j],
            }
        )
    chart.set_title({"name": "Personen je Szenario"})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 340})
    ws.insert_chart(HEADER_ROW + 1, len(columns) + 1, chart)


def _sheet_backtest(book: Workbook, fmts: Formats, con, subtitle) -> None:
    ws = book.add_worksheet("Backtest")
    setup_sheet(
        ws,
        fmts,
        "Treffsicherheit der Projektion (Backtest, Szenario basis)",
        subtitle,
        "MAPE = mittlerer absoluter prozentualer Fehler; naiv = Wert des Ausgangsmonats.",
    )
    frame = data.query(
        con, "select * from marts.fct_planning_backtest order by measure desc, horizon"
    )
    columns = [
        (Column("Größe"), 26),
        (Column("Horizont (Monate)", COUNT), 12),
        (Column("Ausgangsmonate", COUNT), 12),
        (Column("erster"), 16),
        (Column("letzter"), 16),
        (Column("MAPE Projektion", RATIO), 14),
        (Column("MAPE naiv", RATIO), 14),
    ]
    rows = [
        [
            r["measure"],
            r["horizon"],
            r["origins"],
            data.month_label(r["first_origin"]),
            data.month_label(r["last_origin"]),
            r["mape"],
            r["mape_naive"],
        ]
        for r in frame.iter_rows(named=True)
    ]
    write_table(ws, fmts, columns, rows, filter_and_freeze=False)


def write_planning_workbook(
    con: duckdb.DuckDBPyConnection,
    year: int,
    out_dir: Path,
    scenarios: list[str] | None = None,
) -> Path:
    """Write `out_dir/internal/plan/Planung_<year>.xlsx` for `scenarios` (default: all of the
    seed) and return its path. Raises PlanningError for a year or scenario the marts lack."""
    names = _checked(con, year, scenarios)
    stand = data.month_end(last_actual_month(con))
    subtitle = f"Planjahr {year} · letzter Ist-Monat {data.month_label(stand)}"
    path = plan_path(out_dir, year)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"in_memory": True})
    try:
        book.set_properties(
            {
                "title": f"Planung {year}",
                "subject": "Teilhaushalt Migration und Integration",
                "author": "KIM Haushalt",
                "created": datetime(stand.year, stand.month, stand.day),
            }
        )
        fmts = Formats(book)
        _sheet_scenarios(book, fmts, con, year, names, subtitle)
        _sheet_products(book, fmts, con, year, names, subtitle)
        _sheet_proposal(book, fmts, con, year, names, subtitle)
        _sheet_months(book, fmts, con, names, subtitle)
        _sheet_backtest(book, fmts, con, subtitle)
    finally:
        book.close()
    return path


BACKTEST_START = "<!-- backtest:start -->"
BACKTEST_END = "<!-- backtest:end -->"


def backtest_markdown(con: duckdb.DuckDBPyConnection) -> str:
    """The backtest (marts.fct_planning_backtest) as a Markdown table for docs/planning.md."""
    rows = data.query(
        con, "select * from marts.fct_planning_backtest order by measure desc, horizon"
    ).iter_rows(named=True)
    lines = [
        "| Größe | Horizont | Ausgangsmonate | MAPE Projektion | MAPE naiv |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['measure']} | {r['horizon']} Monate | {r['origins']} "
        f"({data.short_month_label(r['first_origin'])}–{data.short_month_label(r['last_origin'])})"
        f" | {format_cell(r['mape'], RATIO)} | {format_cell(r['mape_naive'], RATIO)} |"
        for r in rows
    ]
    return "\n".join(lines)


def replace_backtest(document: str, table: str) -> str:
    """`document` with the text between the backtest markers replaced by `table`."""
    head, rest = document.split(BACKTEST_START, 1)
    _, tail = rest.split(BACKTEST_END, 1)
    return f"{head}{BACKTEST_START}\n{table}\n{BACKTEST_END}{tail}"
