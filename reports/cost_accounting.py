"""Cost accounting in the reports (issue 14): full cost per person and social-space budgets.

Figures come from the marts fct_cost_per_person_monthly and fct_social_space_budget; this module
only selects and labels them. The controlling workbook shows them unsuppressed (internal); the
council report publishes the cost per person city-wide without person counts, and hides the
amount per person of a group with few persons (the suppression rule's small counts), since it
would show what one or two persons received.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from reports import data
from reports.formatting import COUNT, MONEY, RATIO, TEXT, Column, Table
from reports.suppression import SuppressionConfig

COST_OBJECT_LABELS = {
    "leistungen": "Leistungen",
    "unterbringung": "Unterbringung",
    "personal": "Personal",
    "kurse": "Kurse",
    "gemeinkosten": "Gemeinkosten",
    "gesamt": "Gesamt",
}
HOUSING_LABELS = {
    "GU": "Gemeinschaftsunterkunft",
    "DEZENTRAL": "Wohnung der Stadt",
    "PRIVAT": "eigene Wohnung",
    "unbekannt": "unbekannt",
    data.CITY: "Gesamt",
}
ALL = data.CITY  # the member of a dimension that covers all of its members
COST_OBJECT_ORDER_SQL = (
    "list_position(['leistungen', 'unterbringung', 'personal', 'kurse', 'gemeinkosten',"
    " 'gesamt'], cost_object)"
)


def cost_per_person(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """All rows of the month: social space x status x housing x cost object, city first."""
    return data.query(
        con,
        "select social_space_id, residence_status, housing, cost_object, persons, amount,"
        " amount_per_person from marts.fct_cost_per_person_monthly where month = ?"
        " order by social_space_id <> 'GESAMT', social_space_id, residence_status <> 'GESAMT',"
        f" residence_status, housing <> 'GESAMT', housing, {COST_OBJECT_ORDER_SQL}",
        [month],
    )


def social_space_budgets(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    return data.query(
        con,
        "select b.social_space_id, s.name, b.product_id, p.title, b.appropriation,"
        " b.plan_to_date, b.actual_to_date, b.deviation_to_date, b.deviation_to_date_ratio,"
        " b.forecast, b.expected_deviation, b.traffic_light"
        " from marts.fct_social_space_budget b"
        " left join marts.dim_social_space s on s.social_space_id = b.social_space_id"
        " left join marts.dim_product p on p.product_id = b.product_id"
        " where b.month = ? order by b.social_space_id, b.product_id",
        [month],
    )


# ---------------------------------------------------------------- controlling workbook

BUDGET_COLUMNS = [
    (Column("Sozialraum"), 11),
    (Column("Name"), 16),
    (Column("Produkt"), 11),
    (Column("Produktbezeichnung"), 30),
    (Column("Anteil am Ansatz", MONEY), 15),
    (Column("Plan bis Monat", MONEY), 15),
    (Column("Ist bis Monat (zugerechnet)", MONEY), 15),
    (Column("Abweichung €", MONEY), 14),
    (Column("Abweichung %", RATIO), 11),
    (Column("Hochrechnung", MONEY), 15),
    (Column("Erwartete Abweichung", MONEY), 15),
    (Column("Ampel", TEXT), 8),
]
BUDGET_NOTE = (
    "Aufwand je Sozialraum: Anteil am Ansatz laut ausgehandelten Anteilen (Seed "
    "social_space_budget_shares), Ist aus der Kostenrechnung (docs/cost-accounting.md)."
)


def budget_rows(con: duckdb.DuckDBPyConnection, month: date) -> list[list[object]]:
    return [
        [
            r["social_space_id"],
            r["name"],
            r["product_id"],
            r["title"],
            r["appropriation"],
            r["plan_to_date"],
            r["actual_to_date"],
            r["deviation_to_date"],
            r["deviation_to_date_ratio"],
            r["forecast"],
            r["expected_deviation"],
            r["traffic_light"],
        ]
        for r in social_space_budgets(con, month).iter_rows(named=True)
    ]


COST_COLUMNS = [
    (Column("Sozialraum"), 18),
    (Column("Aufenthaltsstatus"), 16),
    (Column("Unterbringung"), 22),
    (Column("Kostenart"), 14),
    (Column("Personen", COUNT), 10),
    (Column("Kosten im Monat", MONEY), 16),
    (Column("Kosten je Person", MONEY), 14),
]
COST_NOTE = (
    "Zugerechnete Aufwendungen des Monats je Person im Personenbestand; Erträge und nicht "
    "zurechenbare Beträge sind nicht enthalten (docs/cost-accounting.md). Gesamt = alle."
)


def _label(value: str) -> str:
    return "Gesamt" if value == ALL else value


def cost_rows(con: duckdb.DuckDBPyConnection, month: date) -> list[list[object]]:
    return [
        [
            _label(r["social_space_id"]),
            _label(r["residence_status"]),
            HOUSING_LABELS.get(r["housing"], r["housing"]),
            COST_OBJECT_LABELS[r["cost_object"]],
            r["persons"],
            r["amount"],
            r["amount_per_person"],
        ]
        for r in cost_per_person(con, month).iter_rows(named=True)
    ]


# ---------------------------------------------------------------- council report


def _per_person_table(
    frame: pl.DataFrame,
    dimension: str,
    first: str,
    title: str,
    config: SuppressionConfig,
    labels: dict[str, str],
) -> Table:
    """City-wide cost per person by one dimension (the other is GESAMT), no person counts."""
    objects = list(COST_OBJECT_LABELS)
    table = Table(title, [Column(first)] + [Column(COST_OBJECT_LABELS[o], MONEY) for o in objects])
    other = "housing" if dimension == "residence_status" else "residence_status"
    city = frame.filter((pl.col("social_space_id") == ALL) & (pl.col(other) == ALL))
    for (member,), group in city.group_by(dimension, maintain_order=True):
        per_person = {r["cost_object"]: r["amount_per_person"] for r in group.iter_rows(named=True)}
        hidden = config.is_small(group["persons"].max())
        label = labels.get(member, _label(member))
        if member == ALL:
            table.total_rows.add(len(table.rows))
        values = [config.rate_symbol if hidden else per_person.get(o) for o in objects]
        table.rows.append([label, *values])
    table.notes.append(
        "Zugerechnete Aufwendungen je Person im Personenbestand am Monatsende (Leistungen nach "
        "AsylbLG, Unterbringung, Personal des Fallmanagements, Kurse, Gemeinkostenzuschlag); "
        f"„{config.rate_symbol}“: Gruppe mit zu wenigen Personen, nicht veröffentlicht."
    )
    return table


def council_tables(
    con: duckdb.DuckDBPyConnection,
    month: date,
    config: SuppressionConfig,
    numbers: list[int],
    status_labels: dict[str, str],
) -> list[Table]:
    """The chapter's tables: cost per person by status (labelled as the report's caseload
    table) and by housing, and the social-space budgets."""
    frame = cost_per_person(con, month)
    label = data.month_label(month)
    tables = [
        _per_person_table(
            frame,
            "residence_status",
            "Aufenthaltsstatus",
            f"Tabelle {numbers[0]}: Kosten je Person nach Aufenthaltsstatus, {label} (stadtweit)",
            config,
            status_labels,
        ),
        _per_person_table(
            frame,
            "housing",
            "Unterbringung",
            f"Tabelle {numbers[1]}: Kosten je Person nach Unterbringung, {label} (stadtweit)",
            config,
            HOUSING_LABELS,
        ),
    ]
    budgets = Table(
        f"Tabelle {numbers[2]}: Sozialraumbudgets (Aufwand) bis {label}",
        [Column("Sozialraum"), Column("Produkt")]
        + [c for c, _ in BUDGET_COLUMNS[4:8]]
        + [BUDGET_COLUMNS[9][0], BUDGET_COLUMNS[11][0]],
    )
    for r in social_space_budgets(con, month).iter_rows(named=True):
        budgets.rows.append(
            [
                f"{r['social_space_id']} {r['name'] or ''}".strip(),
                r["product_id"],
                r["appropriation"],
                r["plan_to_date"],
                r["actual_to_date"],
                r["deviation_to_date"],
                r["forecast"],
                r["traffic_light"],
            ]
        )
    budgets.notes.append(BUDGET_NOTE)
    return tables + [budgets]
