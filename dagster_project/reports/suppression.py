"""Statistical confidentiality of published figures (domain.md, section 5).

One module for every published output (council report, public exports), so that a rule change
reaches all of them at once.

- Primary suppression: a count of persons between `min_count` and `max_count` (default 1–2)
  is shown as `*`. Zeros stay visible.
- Rates whose denominator is below the indicator's minimum denominator are shown as `/`.
- Secondary suppression: cells are tied together by additive relations (total = sum of
  members: rows, columns, social spaces → city). As long as one relation holds exactly one
  hidden cell, that cell can be recomputed from the others, so the smallest further non-zero
  cell of the relation is hidden too; repeated until nothing changes.
- A cell is identified by a key that is the same in every table of a report; a
  `SuppressionRegistry` collects the cells and relations of all tables and solves them together,
  so a figure is suppressed identically wherever it appears.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

CellKey = Hashable
Number = int | float | Decimal


@dataclass(frozen=True)
class SuppressionConfig:
    """Thresholds of the suppression rule (configuration, not code)."""

    min_count: int = 1
    max_count: int = 2
    min_denominator: int = 10
    count_symbol: str = "*"
    rate_symbol: str = "/"

    def __post_init__(self) -> None:
        if not 0 < self.min_count <= self.max_count:
            raise ValueError("need 0 < min_count <= max_count")
        if self.min_denominator < 0:
            raise ValueError("min_denominator must not be negative")

    def is_small(self, value: Number | None) -> bool:
        """True for a count of persons that must not be published."""
        return value is not None and self.min_count <= value <= self.max_count

    def describe(self) -> str:
        """The rule in German, for the method chapter of published reports."""
        small = (
            f"{self.min_count}"
            if self.min_count == self.max_count
            else f"{self.min_count} bis {self.max_count}"
        )
        return (
            f"Fallzahlen von {small} Personen werden durch „{self.count_symbol}“ ersetzt; "
            "Nullen bleiben sichtbar. Ebenso wird jede weitere Zelle ersetzt, aus der ein "
            "unterdrückter Wert über Zeilen-, Spalten- oder Gesamtsummen (Sozialräume → Stadt) "
            "zurückgerechnet werden könnte (sekundäre Geheimhaltung); dabei wird jeweils die "
            "kleinste weitere Zelle der betroffenen Summe unterdrückt. Eine Zelle wird in allen "
            "Tabellen des Berichts gleich behandelt. Quoten, deren Nenner unter der Mindestgröße "
            f"der Kennzahl liegt (Standard {self.min_denominator}), werden als "
            f"„{self.rate_symbol}“ ausgewiesen."
        )


@dataclass(frozen=True)
class Relation:
    """An additive relation between cells: value(total) = sum(value(member))."""

    total: CellKey
    members: tuple[CellKey, ...]

    def cells(self) -> tuple[CellKey, ...]:
        return (*self.members, self.total)


def primary_suppression(
    values: Mapping[CellKey, Number | None], config: SuppressionConfig
) -> set[CellKey]:
    """Keys of the counts between the configured bounds (default 1–2)."""
    return {key for key, value in values.items() if config.is_small(value)}


def secondary_suppression(
    values: Mapping[CellKey, Number | None],
    relations: Sequence[Relation],
    suppressed: Iterable[CellKey],
) -> set[CellKey]:
    """Close `suppressed` under the relations: no relation keeps exactly one hidden cell.

    The further cell hidden in a relation is its smallest non-zero visible cell (members before
    the total on ties, then the order of `values`), so the result is deterministic. Zeros and
    missing values are never chosen: they reveal nothing. Returns the full suppressed set.
    """
    order = {key: index for index, key in enumerate(values)}
    hidden = set(suppressed)
    changed = True
    while changed:
        changed = False
        for relation in relations:
            cells = relation.cells()
            if sum(1 for cell in cells if cell in hidden) != 1:
                continue
            candidates = [
                cell for cell in cells if cell not in hidden and values.get(cell) not in (None, 0)
            ]
            if not candidates:
                continue
            pick = min(
                candidates,
                key=lambda cell: (
                    values[cell],
                    cell == relation.total,
                    order.get(cell, len(order)),
                ),
            )
            hidden.add(pick)
            changed = True
    return hidden


def suppress(
    values: Mapping[CellKey, Number | None],
    relations: Sequence[Relation],
    config: SuppressionConfig,
    already_suppressed: Iterable[CellKey] = (),
) -> set[CellKey]:
    """Primary plus secondary suppression; `already_suppressed` come from other tables."""
    start = primary_suppression(values, config) | set(already_suppressed)
    return secondary_suppression(values, relations, start)


def is_rate_suppressed(
    denominator: Number | None, min_denominator: int | None, config: SuppressionConfig
) -> bool:
    """True when a rate rests on too few cases to be published (`/`)."""
    if denominator is None:
        return False
    limit = config.min_denominator if min_denominator is None else min_denominator
    return denominator < limit


def mask_count(
    value: Number | None, hidden: bool, config: SuppressionConfig
) -> Number | str | None:
    """The published form of a count: the number, or the suppression symbol."""
    return config.count_symbol if hidden else value


@dataclass
class SuppressionRegistry:
    """All person-count cells of one report and their relations, solved together.

    Register the cells and relations of every table first, then read `is_suppressed` while
    rendering: a cell key appearing in several tables gets one decision. Registering the same
    key with two different values is an error (it would not be the same figure).
    """

    config: SuppressionConfig = field(default_factory=SuppressionConfig)
    values: dict[CellKey, Number | None] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    _hidden: set[CellKey] | None = field(default=None, init=False, repr=False)

    def add_cell(self, key: CellKey, value: Number | None) -> None:
        if key in self.values and self.values[key] != value:
            raise ValueError(f"cell {key!r} registered as {self.values[key]} and {value}")
        self.values[key] = value
        self._hidden = None

    def add_relation(self, total: CellKey, members: Iterable[CellKey]) -> None:
        members = tuple(members)
        for key in (total, *members):
            if key not in self.values:
                raise KeyError(f"relation refers to unregistered cell {key!r}")
        self.relations.append(Relation(total, members))
        self._hidden = None

    def add_table(
        self,
        grid: Mapping[tuple[CellKey, CellKey], Number | None],
        rows: Sequence[CellKey],
        columns: Sequence[CellKey],
        *,
        total_row: CellKey | None = None,
        total_column: CellKey | None = None,
        key: tuple = (),
    ) -> None:
        """Register a (row × column) table whose margins are `total_row` / `total_column`.

        Cell keys are `(*key, row, column)`. Every row adds the relation
        total_column = sum(other columns), every column total_row = sum(other rows).
        """
        for row in rows:
            for column in columns:
                self.add_cell((*key, row, column), grid.get((row, column)))
        inner_rows = [row for row in rows if row != total_row]
        inner_columns = [column for column in columns if column != total_column]
        if total_column is not None:
            for row in rows:
                self.add_relation(
                    (*key, row, total_column), [(*key, row, c) for c in inner_columns]
                )
        if total_row is not None:
            for column in columns:
                self.add_relation(
                    (*key, total_row, column), [(*key, r, column) for r in inner_rows]
                )

    def hidden(self) -> frozenset[CellKey]:
        if self._hidden is None:
            self._hidden = suppress(self.values, self.relations, self.config)
        return frozenset(self._hidden)

    def is_suppressed(self, key: CellKey) -> bool:
        return key in self.hidden()

    def show(self, key: CellKey) -> Number | str | None:
        """The published form of a registered cell."""
        return mask_count(self.values[key], self.is_suppressed(key), self.config)
