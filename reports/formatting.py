"""German presentation of numbers and the table model shared by HTML, PDF and XLSX outputs.

A `Table` holds what is published: cells are numbers, `None` (no value) or a suppression
symbol (a string). HTML and XLSX render the same `Table` objects, so every output of a report
shows the same figures.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from kim_settings import SEEDS_DIR, labels

# Column kinds: how a number is shown.
TEXT, COUNT, MONEY, PERCENT, RATIO, NUMBER = "text", "count", "money", "percent", "ratio", "number"

TRAFFIC_LIGHTS = labels("traffic_light")
SUFFIX = {MONEY: " €", PERCENT: " %"}  # PERCENT is stored as percent, 0–100


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT


@dataclass(frozen=True)
class Typed:
    """A cell whose kind differs from its column's (e.g. values of indicators in % and €)."""

    value: object
    kind: str


@dataclass
class Table:
    """A published table: title, typed columns, rows of cells, and notes below it.

    The first cell of every row labels the row (rendered as a row header).
    """

    title: str
    columns: list[Column]
    rows: list[list[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    total_rows: set[int] = field(default_factory=set)


def cell_value_kind(cell: object, column: Column) -> tuple[object, str]:
    """Unwrap a cell: its value and the kind it is shown as."""
    if isinstance(cell, Typed):
        return cell.value, cell.kind
    return cell, column.kind


def _group(digits: str) -> str:
    """Thousands separated by dots: '1234567' → '1.234.567'."""
    sign = "-" if digits.startswith("-") else ""
    digits = digits.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + ".".join(groups)


def indicator_kind(unit: str) -> str:
    """Column kind of an indicator value by its catalogue unit."""
    return {"Anzahl": COUNT, "%": PERCENT, "€": MONEY}.get(unit, NUMBER)


def printed_decimals(catalogue: Path) -> dict[str, int]:
    """Decimals printed per kind, read from the indicator catalogue's `decimals` column (the one
    statement of the printed precision; dbt's macro `displayed` rounds with the same column).
    Counts, money and percentages outside the indicators print like the indicators of that kind;
    RATIO is a fraction shown in percent (2 more decimals of the fraction)."""
    decimals: dict[str, int] = {}
    first: dict[str, dict] = {}  # kind -> the first row of that kind
    with catalogue.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            kind, places = indicator_kind(row["unit"]), int(row["decimals"])
            other = first.setdefault(kind, row)
            if decimals.setdefault(kind, places) != places:
                raise ValueError(
                    f"{catalogue.name}: {row['indicator_id']} ({row['unit']}) hat {places} "
                    f"Nachkommastellen, {other['indicator_id']} ({other['unit']}) derselben Art "
                    f"{decimals[kind]}; eine Art wird einheitlich gedruckt"
                )
    missing = {COUNT, MONEY, PERCENT, NUMBER} - set(decimals)
    if missing:
        raise ValueError(f"{catalogue.name}: keine Kennzahl der Art {sorted(missing)}")
    return {**decimals, RATIO: decimals[PERCENT] + 2}


# Every format publishes values rounded to exactly this precision.
DECIMALS = printed_decimals(SEEDS_DIR / "indicators.csv")


def round_half_up(value: float | int | Decimal, decimals: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def printed_value(value: float | int | Decimal, kind: str) -> Decimal:
    """A number as published: rounded to the printed precision of its kind."""
    return round_half_up(value, DECIMALS[kind])


def half_width(kind: str) -> Decimal:
    """Half the rounding step of a kind: the true value lies within ± this of the printed one."""
    return Decimal(5).scaleb(-DECIMALS[kind] - 1)


def german_number(value: float | int | Decimal, decimals: int) -> str:
    """1234.5 → '1.234,50' with `decimals` places, rounded half up (as in tables by hand)."""
    rounded = round_half_up(value, decimals)
    if rounded == 0:
        rounded = abs(rounded)  # no '-0,0'
    text = f"{rounded:f}"
    whole, _, fraction = text.partition(".")
    return _group(whole) + ("," + fraction if fraction else "")


def format_cell(value: object, kind: str) -> str:
    """The German text of a cell; symbols and text pass through, None becomes '–'."""
    if isinstance(value, Typed):
        value, kind = value.value, value.kind
    if value is None:
        return "–"
    if isinstance(value, str):
        return TRAFFIC_LIGHTS.get(value, value)
    if kind == RATIO:  # stored as a fraction, shown in percent
        return german_number(Decimal(str(value)) * 100, DECIMALS[RATIO] - 2) + " %"
    if kind in DECIMALS:
        return german_number(value, DECIMALS[kind]) + SUFFIX.get(kind, "")
    return str(value)


def traffic_light_rule(tolerance: Decimal) -> str:
    """The rule in words, with the tolerance of reference.settings: 0.10 → '10 %'."""
    percent = f"{(tolerance * 100).normalize():f}".replace(".", ",")
    return (
        f"Ampel: grün = Ziel erreicht, gelb = um höchstens {percent} % des Zielwerts verfehlt, "
        "rot = deutlicher verfehlt (Wert wie angezeigt gerundet)."
    )
