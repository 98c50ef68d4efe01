"""Integration report for the council: `Integrationsbericht_<period>` as HTML, PDF and XLSX.

All three files are rendered from one `CouncilReport` whose person counts went through one
`SuppressionRegistry`, so every output and every table shows the same (suppressed) figures.

Figures of a period are those of its **last month**: indicators are stocks at the month end
or, where the catalogue defines it, rolling 12-month or monthly values of that month (domain.md,
section 3). Trends show the 12 months ending with the period's last month.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from kim_settings import labels, month_label, public_dir
from reports import cost_accounting, data, kreis
from reports.charts import fan_svg, trend_svg
from reports.disclosure_audit import (
    NUMERATOR_WITHIN_DENOMINATOR,
    PERSONS_DENOMINATOR,
    SUBSET_OF_PERSONS,
    Rate,
)
from reports.formatting import (
    COUNT,
    MONEY,
    NUMBER,
    PERCENT,
    RATIO,
    TEXT,
    Column,
    Table,
    Typed,
    cell_value_kind,
    format_cell,
    half_width,
    indicator_kind,
    printed_value,
    traffic_light_rule,
)
from reports.suppression import (
    SuppressionConfig,
    SuppressionRegistry,
    is_rate_suppressed,
)
from reports.xlsx import Formats, setup_sheet, write_table

STATUS_LABELS = labels("residence_status")
LEVEL_LABELS = labels("level_long")
DIRECTION_LABELS = labels("direction")
CSS_PATH = Path(__file__).with_name("report.css")
TOTAL_LABEL = "Gesamt"
DISTRICT_TITLE = "Integrationsbericht Landkreis"
DISTRICT_CHAPTER = ("kap-landkreis", "Aufnahmequote, Unterbringung und Gemeindevergleich")


@dataclass
class IndicatorSection:
    indicator_id: str
    name: str
    definition: str
    summary: Table
    trend: Table
    chart_svg: str
    spaces: Table | None


@dataclass
class Outlook:
    """The "Ausblick" chapter: city-wide scenarios of the year after a yearly report's period
    (marts.fct_planning_outlook). City totals only, never per social space; the persons are
    expected values of a projection, not counts of individuals."""

    year: int
    persons: Table
    money: Table
    chart_svg: str


@dataclass
class CouncilReport:
    """Everything the council report publishes, already suppressed."""

    period: data.Period
    config: SuppressionConfig
    key_figures: Table
    caseload: Table
    chapters: list[tuple[str, list[IndicatorSection]]]
    budget: Table
    catalogue: Table
    notes: list[str] = field(default_factory=list)
    costs: list[Table] = field(default_factory=list)  # cost per person, social-space budgets
    outlook: Outlook | None = None
    # The Kreistag's report (issue 15): its title and the district chapter (reports/kreis.py).
    title: str = "Integrationsbericht"
    district: list[Table] = field(default_factory=list)

    def tables(self) -> list[Table]:
        """Every table in the order it appears in the report."""
        tables = [self.key_figures, self.caseload]
        for _, sections in self.chapters:
            for s in sections:
                tables += [s.summary, s.trend] + ([s.spaces] if s.spaces else [])
        outlook = [self.outlook.persons, self.outlook.money] if self.outlook else []
        return tables + [self.budget, *self.costs, *self.district, *outlook, self.catalogue]


def _caseload_grid(caseload: pl.DataFrame, spaces: list[str], statuses: list[str]) -> dict:
    """Persons per (space, status) with margins; a combination without rows has 0 persons."""
    grid: dict[tuple[str, str], int] = {
        (space, status): 0
        for space in [*spaces, TOTAL_LABEL]
        for status in [*statuses, TOTAL_LABEL]
    }
    for r in caseload.iter_rows(named=True):
        space, status, persons = r["social_space_id"], r["residence_status"], r["persons"]
        for key in ((space, status), (space, TOTAL_LABEL), (TOTAL_LABEL, status)):
            grid[key] += persons
        grid[(TOTAL_LABEL, TOTAL_LABEL)] += persons
    return grid


def is_model_rate(row: dict) -> bool:
    """Rates of persons per social space: additive numerators and denominators (not medians)."""
    return bool(row["per_social_space"]) and row["unit"] == "%"


class PublishedFigures:
    """The published value of every indicator and caseload cell of one month.

    One `SuppressionRegistry` holds every table any output publishes for the month (caseload
    by space and status, indicator values per social space and city), so the council report
    and the public exports of the month show one suppression pattern.
    """

    def __init__(
        self, values: pl.DataFrame, caseload: pl.DataFrame, month: date, config: SuppressionConfig
    ) -> None:
        self.config = config
        self.month = month
        self.registry = SuppressionRegistry(config)
        self.statuses = sorted(set(caseload["residence_status"].to_list()))
        self.spaces = list(dict.fromkeys(caseload["social_space_id"].to_list()))
        self.caseload_key = ("persons", month)
        self.registry.add_table(
            _caseload_grid(caseload, self.spaces, self.statuses),
            self.spaces + [TOTAL_LABEL],
            self.statuses + [TOTAL_LABEL],
            total_row=TOTAL_LABEL,
            total_column=TOTAL_LABEL,
            key=self.caseload_key,
            label=f"Personen nach Sozialraum und Aufenthaltsstatus {month:%Y-%m}",
        )
        month_rows = values.filter(pl.col("month") == month)
        rows = month_rows.filter(
            pl.Series(
                [self.published(r) for r in month_rows.iter_rows(named=True)], dtype=pl.Boolean
            )
        )
        for (indicator_id,), group in rows.group_by(["indicator_id"], maintain_order=True):
            first = group.row(0, named=True)
            if first["counts_persons"]:
                self._register_counts(indicator_id, group)
            elif is_model_rate(first):
                self._register_rates(indicator_id, group)

    def _space_row(self, space: str) -> str:
        return TOTAL_LABEL if space == data.CITY else space

    def _persons_key(self, space: str, holds) -> tuple | None:
        """The caseload cell of a space's persons, for a definitional link the data satisfies
        (`holds(persons)`); a link the data breaks would mislead the audit, so it is left out."""
        key = (*self.caseload_key, self._space_row(space), TOTAL_LABEL)
        persons = self.registry.values.get(key)
        return key if persons is not None and holds(persons) else None

    def _register_counts(self, indicator_id: str, group: pl.DataFrame) -> None:
        keys = []
        for r in group.iter_rows(named=True):
            key = ("indicator", indicator_id, self.month, r["social_space_id"])
            value = None if r["value"] is None else round(r["value"])
            label = f"{indicator_id} {self.month:%Y-%m} [{r['social_space_id']}]"
            self.registry.add_cell(key, value, label)
            keys.append(key)
            whole = self._persons_key(r["social_space_id"], lambda p, v=value: (v or 0) <= p)
            if indicator_id in SUBSET_OF_PERSONS and whole is not None:
                self.registry.add_at_most(key, whole)
        self._add_city_relation(indicator_id, keys, "indicator")

    def _add_city_relation(self, indicator_id: str, keys: list, kind: str) -> None:
        city = (kind, indicator_id, self.month, data.CITY)
        members = [k for k in keys if k != city]
        if city in keys and members:  # the social spaces add up to the city
            self.registry.add_relation(city, members)

    def _register_rates(self, indicator_id: str, group: pl.DataFrame) -> None:
        keys, denominators = [], []
        for r in group.iter_rows(named=True):
            space = r["social_space_id"]
            key = ("rate", indicator_id, self.month, space)
            denominator = None
            if indicator_id in PERSONS_DENOMINATOR:
                denominator = self._persons_key(space, lambda p, d=r["denominator"]: d == p)
            if denominator is None:
                denominator = ("denominator", indicator_id, self.month, space)
                self.registry.add_unpublished(denominator)
                denominators.append(denominator)
            numerator = None if r["numerator"] is None else int(r["numerator"])
            printed = None if r["value"] is None else printed_value(r["value"], PERCENT)
            rate = Rate(
                denominator,
                printed,
                half_width(PERCENT),
                100,
                self._min_denominator(r),
                numerator,
            )
            self.registry.add_rate(
                key,
                rate,
                forced=self._too_few(r),
                label=f"{indicator_id} {self.month:%Y-%m} [{space}]",
            )
            if indicator_id in NUMERATOR_WITHIN_DENOMINATOR:
                self.registry.add_at_most(key, denominator)
            keys.append(key)
        self._add_city_relation(indicator_id, keys, "rate")
        city = ("denominator", indicator_id, self.month, data.CITY)
        if city in denominators and len(denominators) > 1:
            self.registry.add_relation(city, [d for d in denominators if d != city])

    def _min_denominator(self, row: dict) -> int:
        limit = row["min_denominator"]
        return self.config.min_denominator if limit is None else int(limit)

    def _too_few(self, row: dict) -> bool:
        return row["value"] is not None and (
            row["value_status"] == "below_min_denominator"
            or is_rate_suppressed(row["denominator"], row["min_denominator"], self.config)
        )

    def published(self, row: dict) -> bool:
        """Whether a row is published at all (rolling windows per space only in December)."""
        return row["social_space_id"] == data.CITY or self.config.per_space_published(
            row["indicator_id"], row["month"].month
        )

    def value(self, row: dict) -> object:
        """Published value of an indicator row of this month: number, '*', '/' or None."""
        if row["counts_persons"]:
            return self.registry.show(
                ("indicator", row["indicator_id"], row["month"], row["social_space_id"])
            )
        key = ("rate", row["indicator_id"], row["month"], row["social_space_id"])
        if key in self.registry.model.rates:
            hidden = row["value"] is not None and self.registry.is_suppressed(key)
            return self.config.rate_symbol if hidden else row["value"]
        return self.config.rate_symbol if self._too_few(row) else row["value"]

    def caseload(self, space: str, status: str) -> object:
        return self.registry.show((*self.caseload_key, space, status))

    def assert_safe(self, publication: str):
        """The disclosure gate of everything published for this month."""
        return self.registry.assert_safe(publication)


def published_figures(
    con: duckdb.DuckDBPyConnection, values: pl.DataFrame, month: date, config: SuppressionConfig
) -> PublishedFigures:
    """The one pattern of a month; in a district with the municipality counts of the month in
    the same registry (every publication of the month then hides a figure identically)."""
    figures = PublishedFigures(values, data.caseload_by_space_status(con, month), month, config)
    if config.district:
        kreis.register_council_cells(con, month, figures.registry)
    return figures


class ReportFigures:
    """Published figures of every month a report shows (trends reach back 12 months); each
    month has the one pattern its public exports have too."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        values: pl.DataFrame,
        months: list[date],
        config: SuppressionConfig,
    ) -> None:
        self.months = {m: published_figures(con, values, m, config) for m in months}
        self.last = self.months[months[-1]]

    def value(self, row: dict) -> object:
        return self.months[row["month"]].value(row)

    def assert_safe(self, publication: str) -> None:
        for figures in self.months.values():
            figures.assert_safe(f"{publication}, {month_label(figures.month)}")


def _target(row: dict) -> object:
    if row["target_value"] is not None:
        return Typed(row["target_value"], indicator_kind(row["unit"]))
    low, high = row["target_band_low"], row["target_band_high"]
    if low is None and high is None:
        return None
    kind = indicator_kind(row["unit"])
    parts = ["" if v is None else format_cell(v, kind) for v in (low, high)]
    return f"{parts[0]} – {parts[1]}".strip()


def _assessment(row: dict, published: object) -> list[object]:
    """Target, attainment and traffic light; hidden when the value itself is hidden."""
    if isinstance(published, str):
        return [_target(row), published, published]
    return [_target(row), row["attainment_ratio"], row["traffic_light"]]


def _key_figures(city: pl.DataFrame, pub: ReportFigures, month: date, number: int) -> Table:
    table = Table(
        f"Tabelle {number}: Kennzahlen {data.area().of}, {month_label(month)}",
        [
            Column("Kennzahl"),
            Column("Handlungsfeld"),
            Column("Wert", NUMBER),
            Column("Ziel", NUMBER),
            Column("Zielerreichung", RATIO),
            Column("Ampel"),
        ],
    )
    for r in city.filter(pl.col("month") == month).iter_rows(named=True):
        shown = pub.value(r)
        table.rows.append(
            [
                f"{r['indicator_id']} {r['name']}",
                r["field_of_action"],
                Typed(shown, indicator_kind(r["unit"])),
                *_assessment(r, shown),
            ]
        )
    return table


def _caseload_table(
    pub: PublishedFigures, names: dict[str, str], month: date, number: int
) -> Table:
    table = Table(
        f"Tabelle {number}: Personen nach Sozialraum und Aufenthaltsstatus, {month_label(month)}",
        [Column("Sozialraum")]
        + [Column(STATUS_LABELS.get(s, s), COUNT) for s in pub.statuses]
        + [Column(TOTAL_LABEL, COUNT)],
    )
    for space in pub.spaces + [TOTAL_LABEL]:
        if space == TOTAL_LABEL:
            table.total_rows.add(len(table.rows))
        table.rows.append(
            [names.get(space, space)]
            + [pub.caseload(space, s) for s in pub.statuses + [TOTAL_LABEL]]
        )
    return table


def _indicator_section(
    indicator: dict, values: pl.DataFrame, pub: ReportFigures, months: list[date], numbers: list
) -> IndicatorSection:
    """Summary, trend table, chart and social-space table of one indicator."""
    last = months[-1]
    kind = indicator_kind(indicator["unit"])
    rows = values.filter(pl.col("indicator_id") == indicator["indicator_id"])
    city = {
        r["month"]: r
        for r in rows.filter(pl.col("social_space_id") == data.CITY).iter_rows(named=True)
    }
    label = f"{indicator['indicator_id']} {indicator['name']}"

    summary = Table(
        f"Tabelle {numbers.pop(0)}: {label}, {month_label(last)}",
        [
            Column(data.area().name),
            Column("Wert", kind),
            Column("Ziel", kind),
            Column("Zielerreichung", RATIO),
            Column("Ampel"),
        ],
    )
    if last in city:
        shown = pub.value(city[last])
        summary.rows.append([data.area().total, shown, *_assessment(city[last], shown)])

    trend_values = [pub.value(city[m]) if m in city else None for m in months]
    trend = Table(
        f"Tabelle {numbers.pop(0)}: {label}, Verlauf 12 Monate",
        [Column("Monat")] + [Column(data.short_month_label(m), kind) for m in months],
    )
    trend.rows.append(["Wert"] + trend_values)

    target_row = city.get(last)
    chart = trend_svg(
        months,
        [None if isinstance(v, str) else v for v in trend_values],
        title=f"{label}: Verlauf der letzten 12 Monate ({data.area().total})",
        target=target_row["target_value"] if target_row else None,
        band=(target_row["target_band_low"], target_row["target_band_high"])
        if target_row
        else None,
        unit=indicator["unit"],
    )

    spaces = None
    if _has_spaces_table(indicator, last, pub.last.config):
        spaces = Table(
            f"Tabelle {numbers.pop(0)}: {label} nach Sozialraum, {month_label(last)}",
            [
                Column("Sozialraum"),
                Column("Wert", kind),
                Column("Ziel", kind),
                Column("Zielerreichung", RATIO),
                Column("Ampel"),
            ],
        )
        for r in rows.filter(pl.col("month") == last).iter_rows(named=True):
            if not pub.last.published(r):
                continue
            if r["social_space_id"] == data.CITY:
                spaces.total_rows.add(len(spaces.rows))
            shown = pub.value(r)
            spaces.rows.append([r["social_space_name"], shown, *_assessment(r, shown)])
    return IndicatorSection(
        indicator["indicator_id"],
        indicator["name"],
        indicator["definition"],
        summary,
        trend,
        chart,
        spaces,
    )


def _has_spaces_table(indicator: dict, last: date, config: SuppressionConfig) -> bool:
    return bool(indicator["per_social_space"]) and config.per_space_published(
        indicator["indicator_id"], last.month
    )


def _budget_table(products: pl.DataFrame, units: pl.DataFrame, month: date, number: int) -> Table:
    """Products, then each Teilhaushalt's row from its mart (the product set of K13/K14)."""
    table = Table(
        f"Tabelle {number}: Haushalt der Produkte bis {month_label(month)} "
        "(Zuschussbedarf = Aufwendungen − Erträge)",
        [
            Column("Produkt"),
            Column("Bezeichnung"),
            Column("Fortgeschriebener Ansatz", MONEY),
            Column("Plan bis Monat", MONEY),
            Column("Ist bis Monat", MONEY),
            Column("Aufwendungen", MONEY),
            Column("Erträge", MONEY),
            Column("Deckungsgrad", RATIO),
        ],
    )

    def row(label: str, title: str, r: dict) -> list[object]:
        return [
            label,
            title,
            r["net_appropriation"],
            r["plan_to_date_net"],
            r["net_burden_to_date"],
            r["expense_to_date"],
            r["revenue_to_date"],
            r["coverage_ratio"],
        ]

    table.rows += [row(r["product_id"], r["title"], r) for r in products.iter_rows(named=True)]
    for r in units.iter_rows(named=True):
        table.total_rows.add(len(table.rows))
        table.rows.append(row("Teilhaushalt", "Summe der Produkte", r))
    return table


def _outlook(frame: pl.DataFrame, numbers: list[int]) -> Outlook | None:
    """The Ausblick from the planning mart's rows of one December (None: no rows)."""
    if frame.is_empty():
        return None
    rows = list(frame.iter_rows(named=True))
    year = rows[0]["month"].year
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    months = list(dict.fromkeys(r["month"] for r in rows))
    persons = {(r["scenario"], r["month"]): r["persons"] for r in rows}
    person_table = Table(
        f"Tabelle {numbers[0]}: Ausblick {year}, Personen je Szenario "
        f"(erwartet, {data.area().whole})",
        [Column("Monat")] + [Column(name, COUNT) for name in scenarios],
        notes=[
            "Projektion ab Dezember des Berichtsjahres (Zugänge, Übergänge und Abgänge der "
            "letzten 12 Monate; Szenarien laut Planungsdaten). Erwartungswerte, keine Zählung."
        ],
    )
    person_table.rows = [
        [data.month_label(m)] + [persons.get((name, m)) for name in scenarios] for m in months
    ]
    totals = {r["scenario"]: r for r in rows}
    money = Table(
        f"Tabelle {numbers[1]}: Ausblick {year}, Haushalt je Szenario ({data.area().whole})",
        [
            Column("Szenario"),
            Column("Aufwendungen", MONEY),
            Column("Erträge", MONEY),
            Column("Zuschussbedarf", MONEY),
        ],
        notes=["Zuschussbedarf = Aufwendungen − Erträge der Produkte des Teilhaushalts."],
    )
    money.rows = [
        [name, totals[name]["year_expense"], totals[name]["year_revenue"], totals[name]["year_net"]]
        for name in scenarios
    ]
    chart = fan_svg(
        months,
        {name: [persons[(name, m)] for m in months] for name in scenarios},
        title=f"Ausblick {year}: Personen je Szenario",
        unit="Personen",
    )
    return Outlook(year, person_table, money, chart)


def _catalogue_table(indicators: pl.DataFrame, config: SuppressionConfig, number: int) -> Table:
    table = Table(
        f"Tabelle {number}: Kennzahlenkatalog",
        [
            Column("Kennzahl"),
            Column("Definition"),
            Column("Ebene"),
            Column("Handlungsfeld"),
            Column("Einheit"),
            Column("Richtung"),
            Column("Je Sozialraum"),
            Column("Mindestnenner", COUNT),
        ],
    )
    for r in indicators.iter_rows(named=True):
        min_den = None
        if not r["counts_persons"]:
            min_den = r["min_denominator"]
            if min_den is None:
                min_den = config.min_denominator
        table.rows.append(
            [
                f"{r['indicator_id']} {r['name']}",
                r["definition"],
                LEVEL_LABELS.get(r["level"], r["level"]),
                r["field_of_action"],
                r["unit"],
                DIRECTION_LABELS.get(r["direction"], r["direction"]),
                "ja" if r["per_social_space"] else "nein",
                min_den,
            ]
        )
    return table


def build_council_report(
    con: duckdb.DuckDBPyConnection,
    period: str,
    config: SuppressionConfig | None = None,
    *,
    district: bool = False,
) -> CouncilReport:
    """Read the marts and build the suppressed content of the report for `period`; `district`:
    the Kreistag's report, with the chapter on the municipalities (reports/kreis.py)."""
    config = config or SuppressionConfig()
    if district:  # one small-area rule for the social-space and the municipality tables
        config = kreis.district_config(con, config)
    p = data.parse_period(period)
    last = p.last_month
    months = [data.add_months(last, i - 11) for i in range(12)]
    values = data.indicator_values(con, months[0], last, city_only=False)
    pub = ReportFigures(con, values, months, config)
    pub.assert_safe(f"Integrationsbericht {p.label}")
    names = dict(data.social_spaces(con).select("social_space_id", "name").iter_rows())
    names[data.UNKNOWN_SPACE] = "unbekannt"
    indicators = data.indicators(con)

    counter = iter(range(1, 10_000))
    key_figures = _key_figures(
        values.filter(pl.col("social_space_id") == data.CITY), pub, last, next(counter)
    )
    caseload_table = _caseload_table(pub.last, names, last, next(counter))
    chapters: list[tuple[str, list[IndicatorSection]]] = []
    for (field_name,), group in indicators.group_by("field_of_action", maintain_order=True):
        sections = []
        for ind in group.iter_rows(named=True):
            count = 3 if _has_spaces_table(ind, last, config) else 2
            numbers = [next(counter) for _ in range(count)]
            sections.append(_indicator_section(ind, values, pub, months, numbers))
        chapters.append((field_name, sections))
    budget = _budget_table(
        data.budget_products(con, last), data.budget_unit_totals(con, last), last, next(counter)
    )
    numbers = [next(counter) for _ in range(3)]
    costs = cost_accounting.council_tables(con, last, config, numbers, STATUS_LABELS)
    district_tables = []
    if district:
        district_tables = kreis.council_tables(con, last, pub.last.registry, counter)
    outlook = None
    if p.first_month.month == 1 and last.month == 12:  # a yearly report
        frame = data.planning_outlook(con, last)
        outlook = _outlook(frame, [next(counter), next(counter)] if not frame.is_empty() else [])
    catalogue = _catalogue_table(indicators, config, next(counter))
    notes = [
        f"Berichtszeitraum: {p.title}. Alle Werte beziehen sich auf den letzten Monat des "
        f"Zeitraums ({month_label(last)}): Bestandskennzahlen auf das Monatsende, "
        "Monats- und 12-Monats-Kennzahlen so, wie der Kennzahlenkatalog sie definiert. "
        "Verläufe zeigen die zwölf Monate bis zu diesem Monat.",
        f"Datenstand (Stand): {data.german_date(p.stand)}.",
        config.describe(),
        "Zielerreichung ist der Wert im Verhältnis zum Ziel. "
        + traffic_light_rule(data.traffic_light_tolerance(con))
        + " „–“ bedeutet: kein Wert oder kein Ziel.",
    ]
    return CouncilReport(
        p, config, key_figures, caseload_table, chapters, budget, catalogue, notes, costs, outlook,
        title=DISTRICT_TITLE if district else "Integrationsbericht", district=district_tables,
    )  # fmt: skip


# ---------------------------------------------------------------- HTML


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)


def table_view(table: Table) -> dict:
    """A table as the template shows it: every cell formatted (German numbers, suppression
    marks), the first cell of a row a row header, text cells with their traffic-light class."""
    rows = []
    for index, cells in enumerate(table.rows):
        shown = []
        for col, (cell, column) in enumerate(zip(cells, table.columns, strict=True)):
            value, kind = cell_value_kind(cell, column)
            text = format_cell(value, kind)
            if col == 0:
                shown.append({"tag": "th", "scope": True, "cls": "", "text": text})
            elif kind == TEXT:
                light = value if value in ("green", "yellow", "red") else ""
                shown.append({"tag": "td", "scope": False, "cls": light and f"light-{light}",
                              "text": text})  # fmt: skip
            else:
                shown.append({"tag": "td", "scope": False, "cls": "num", "text": text})
        rows.append({"total": index in table.total_rows, "cells": shown})
    return {
        "title": table.title,
        "head": [c.label for c in table.columns],
        "rows": rows,
        "notes": table.notes,
    }


def render_html(report: CouncilReport) -> str:
    """The report as one self-contained HTML file (templates/council.html.j2)."""
    p = report.period
    fields = [
        {
            "id": f"kap-feld-{i}",
            "heading": f"Handlungsfeld {name}",
            "sections": [
                {
                    "indicator_id": s.indicator_id,
                    "name": s.name,
                    "definition": s.definition,
                    "summary": table_view(s.summary),
                    "chart_svg": s.chart_svg,
                    "trend": table_view(s.trend),
                    "spaces": table_view(s.spaces) if s.spaces else None,
                }
                for s in sections
            ],
        }
        for i, (name, sections) in enumerate(report.chapters, start=1)
    ]
    chapters = [("kap-kennzahlen", "Kennzahlen im Überblick")]
    chapters += [(f["id"], f["heading"]) for f in fields]
    chapters += [("kap-haushalt", "Haushalt")]
    chapters += [("kap-kosten", "Kosten je Person und Sozialraumbudgets")]
    chapters += [DISTRICT_CHAPTER] if report.district else []
    chapters += [("kap-ausblick", "Ausblick")] if report.outlook else []
    chapters += [("kap-methodik", "Methodik und Datenstand")]
    outlook = report.outlook
    return _TEMPLATES.get_template("council.html.j2").render(
        title=f"{report.title} {p.label}",
        created=p.stand.isoformat(),
        stand=data.german_date(p.stand),
        period_title=p.title,
        css=CSS_PATH.read_text(encoding="utf-8"),
        chapters=chapters,
        key_figures=table_view(report.key_figures),
        caseload=table_view(report.caseload),
        fields=fields,
        budget=table_view(report.budget),
        costs=[table_view(t) for t in report.costs],
        district=[table_view(t) for t in report.district],
        district_chapter=DISTRICT_CHAPTER,
        outlook=outlook
        and {
            "persons": table_view(outlook.persons),
            "money": table_view(outlook.money),
            "chart_svg": outlook.chart_svg,
            "year": outlook.year,
        },
        notes=report.notes,
        catalogue=table_view(report.catalogue),
    )


# ---------------------------------------------------------------- PDF and XLSX


@contextmanager
def _source_date_epoch(day: date) -> Iterator[None]:
    """Pin the timestamp fontTools writes into every embedded font subset.

    WeasyPrint subsets fonts with fontTools, which stamps the subset's `head.modified` with the
    current time unless SOURCE_DATE_EPOCH is set (the reproducible-builds convention).
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(
        int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    )
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def write_pdf(html: str, path: Path, stand: date) -> None:
    """Render the HTML with WeasyPrint, reproducibly.

    The creation date comes from the HTML's `dcterms.created` (the Stand), the PDF identifier
    is derived from the HTML, and font subsets carry the Stand as their timestamp.
    """
    from weasyprint import HTML  # heavy import, only where a PDF is written

    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    with _source_date_epoch(stand):
        HTML(string=html, base_url=None).write_pdf(str(path), pdf_identifier=identifier)


def write_annex(report: CouncilReport, path: Path) -> None:
    """Every table of the report on its own sheet (title row 1, header row 3, data from row 4:
    the layout `kim audit-disclosure` reads), plus a contents sheet. Numbers as printed."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False, "in_memory": True})
    stand = report.period.stand
    try:
        book.set_properties(
            {
                "title": f"{report.title} {report.period.label}, Anhang",
                "author": "KIM Haushalt",
                "created": datetime(stand.year, stand.month, stand.day),
            }
        )
        fmts = Formats(book)
        contents = book.add_worksheet("Inhalt")
        contents.write_string(0, 0, f"{report.title} {report.period.label}: Tabellen", fmts.title)
        contents.write_string(
            1, 0, f"Datenstand {data.german_date(stand)}. {report.config.describe()}"
        )
        contents.set_column(0, 0, 14)
        contents.set_column(1, 1, 90)
        for number, table in enumerate(report.tables(), start=1):
            sheet = f"Tabelle {number:02d}"
            contents.write_url(3 + number, 0, f"internal:'{sheet}'!A1", string=sheet)
            contents.write_string(3 + number, 1, table.title)
            ws = book.add_worksheet(sheet)
            setup_sheet(ws, fmts, table.title, "")
            unwrapped = [
                [
                    cell_value_kind(cell, column)
                    for cell, column in zip(cells, table.columns, strict=True)
                ]
                for cells in table.rows
            ]
            write_table(
                ws,
                fmts,
                [(column, 34 if col == 0 else 14) for col, column in enumerate(table.columns)],
                [[value for value, _ in cells] for cells in unwrapped],
                top=2,
                row_kinds=[[kind for _, kind in cells] for cells in unwrapped],
                filter_and_freeze=False,
                printed=True,
            )
            ws.freeze_panes(3, 1)
    finally:
        book.close()


def write_council_report(
    con: duckdb.DuckDBPyConnection,
    period: str,
    out_dir: Path,
    *,
    run_date: date | None = None,
    config: SuppressionConfig | None = None,
    district: bool = False,
) -> list[Path]:
    """Write `out_dir/public/<period>/Integrationsbericht_<period>.html|.pdf|.xlsx`; `district`:
    the Kreistag's `Integrationsbericht_Landkreis_<period>.*` with the district chapter.

    `period` is 'YYYY' or 'YYYY-Qn' (a single 'YYYY-MM' also works). `run_date` is accepted
    for the asset's signature but not printed: the files depend on the warehouse only.
    Raises `PeriodError` for a malformed period.
    """
    del run_date  # the report's date is the data's Stand, never the run's
    report = build_council_report(con, period, config, district=district)
    folder = public_dir(out_dir, period)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{report.title.replace(' ', '_')}_{period}"
    html = render_html(report)
    html_path, pdf_path, xlsx_path = (stem.with_suffix(s) for s in (".html", ".pdf", ".xlsx"))
    html_path.write_text(html, encoding="utf-8")
    write_pdf(html, pdf_path, report.period.stand)
    write_annex(report, xlsx_path)
    return [html_path, pdf_path, xlsx_path]


__all__ = ["build_council_report", "render_html", "write_council_report"]
