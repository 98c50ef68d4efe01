"""Statistical confidentiality of published figures (domain.md, section 5).

One module for every published output (council report, public exports), so that a rule change
reaches all of them at once.

- Primary suppression: a count of persons between `min_count` and `max_count` (default 1–2)
  is shown as `*`. Zeros stay visible. A rate is shown as `/` when its denominator is below the
  indicator's minimum or its numerator is such a small count of persons.
- Secondary suppression is driven by the disclosure audit (`disclosure_audit`): every table of
  a month forms one linear system (row, column and city totals, rates × denominators at the
  printed precision, hidden cells ≥ 1, integers). While a hidden cell's feasible interval is
  narrower than the protection interval, the cheapest further cell tied to it is hidden too.
- A cell is identified by a key that is the same in every table and format of a month; a
  `SuppressionRegistry` collects the cells, rates and relations of all of them and solves them
  together, so a figure is suppressed identically wherever it appears.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from reports.disclosure_audit import (
    AuditResult,
    AuditRule,
    DisclosureError,
    Key,
    Model,
    Rate,
    Relation,
    audit,
    protect_once,
)

CellKey = Key
Number = int | float | Decimal


@dataclass(frozen=True)
class SuppressionConfig:
    """Thresholds of the suppression rule (configuration, not code)."""

    min_count: int = 1
    max_count: int = 2
    min_denominator: int = 10
    protection: int = 3
    count_symbol: str = "*"
    rate_symbol: str = "/"
    # Rates over a rolling 12-month window: per social space only for the window ending in
    # `rolling_month` (the calendar year), so that no two published windows overlap.
    rolling_indicators: tuple[str, ...] = ("K09", "K10")
    rolling_month: int = 12
    # A district's publications (issue 15): their months' registries hold the municipality
    # counts too (reports/kreis.register_council_cells).
    district: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.min_count <= self.max_count:
            raise ValueError("need 0 < min_count <= max_count")
        if self.min_denominator < 0:
            raise ValueError("min_denominator must not be negative")
        if self.protection < 1:
            raise ValueError("protection must be at least 1")

    def is_small(self, value: Number | None) -> bool:
        """True for a count of persons that must not be published."""
        return value is not None and self.min_count <= value <= self.max_count

    def for_district(self, threshold: int) -> SuppressionConfig:
        """The rule of a district's publications: every count below the small-area threshold
        (setting small_area_threshold) is primary, as in the Bundesagentur's small-area
        deliveries, in the social-space and the municipality tables alike."""
        return replace(self, max_count=max(self.max_count, threshold - 1), district=True)

    def rule(self) -> AuditRule:
        return AuditRule(self.min_count, self.max_count, self.protection)

    def per_space_published(self, indicator_id: str, month_number: int) -> bool:
        """Whether an indicator is published per social space in a month (rolling windows)."""
        return indicator_id not in self.rolling_indicators or month_number == self.rolling_month

    def describe(self) -> str:
        """The rule in German, for the method chapter of published reports."""
        small = (
            f"{self.min_count}"
            if self.min_count == self.max_count
            else f"{self.min_count} bis {self.max_count}"
        )
        rolling = ", ".join(self.rolling_indicators)
        return (
            f"Fallzahlen von {small} Personen werden durch „{self.count_symbol}“ ersetzt; "
            "Nullen bleiben sichtbar. Quoten, deren Nenner unter der Mindestgröße der Kennzahl "
            f"liegt (Standard {self.min_denominator}) oder deren Zähler {small} Personen sind, "
            f"werden als „{self.rate_symbol}“ ausgewiesen. Weitere Zellen werden unterdrückt "
            "(sekundäre Geheimhaltung), bis eine Prüfung durch lineare Optimierung über alle "
            "Tabellen des Monats (Zeilen-, Spalten- und Stadtsummen, Quoten mal Nenner in der "
            "gedruckten Genauigkeit, ganze Zahlen) zeigt, dass jeder unterdrückte Wert nur in "
            f"einem Intervall von mindestens {self.protection} Personen über seinem Wert "
            "eingegrenzt werden kann; dabei wird jeweils die kleinste geeignete Zelle gewählt. "
            "Eine Zelle wird in allen Tabellen und Formaten eines Monats gleich behandelt. "
            f"Kennzahlen über gleitende 12-Monats-Zeiträume ({rolling}) werden je Sozialraum "
            "nur für das Kalenderjahr (Dezember) veröffentlicht, sonst nur für die Stadt, damit "
            "sich veröffentlichte Zeiträume nicht überlappen. Alle Werte werden in der "
            "gedruckten Genauigkeit veröffentlicht."
        )


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
    """All cells of one month's publications and their relations, solved together.

    Register the counts, rates and relations of every table first, then read `is_suppressed`
    while rendering: a cell key appearing in several tables gets one decision. Registering the
    same key with two different values is an error (it would not be the same figure).
    """

    config: SuppressionConfig = field(default_factory=SuppressionConfig)
    model: Model = field(default_factory=Model)
    forced: set[CellKey] = field(default_factory=set)
    _hidden: set[CellKey] | None = field(default=None, init=False, repr=False)
    _audit: AuditResult | None = field(default=None, init=False, repr=False)

    def _changed(self) -> None:
        self._hidden = self._audit = None

    @property
    def values(self) -> dict[CellKey, int | None]:
        return self.model.counts

    def add_cell(self, key: CellKey, value: int | None, label: str | None = None) -> None:
        if key in self.model.counts and self.model.counts[key] != value:
            raise ValueError(f"cell {key!r} registered as {self.model.counts[key]} and {value}")
        self.model.counts[key] = value
        if label:
            self.model.labels[key] = label
        self._changed()

    def add_rate(
        self, key: CellKey, rate: Rate, *, forced: bool = False, label: str | None = None
    ) -> None:
        """A published rate; `forced` hides it regardless of the audit (e.g. small denominator)."""
        self.model.rates[key] = rate
        if forced:
            self.forced.add(key)
        if label:
            self.model.labels[key] = label
        self._changed()

    def add_relation(self, total: CellKey, members: Iterable[CellKey]) -> None:
        members = tuple(members)
        known = {*self.model.counts, *self.model.rates, *self.model.unpublished}
        for key in (total, *members):
            if key not in known:
                raise KeyError(f"relation refers to unregistered cell {key!r}")
        self.model.relations.append(Relation(total, members))
        self._changed()

    def add_unpublished(self, key: CellKey) -> None:
        """A variable the attacker cannot read (e.g. a rate's denominator), but that is tied
        to published cells by relations."""
        self.model.unpublished.add(key)

    def add_at_most(self, small: CellKey, big: CellKey) -> None:
        self.model.at_most.append((small, big))
        self._changed()

    def add_table(
        self,
        grid: Mapping[tuple[CellKey, CellKey], int | None],
        rows: Sequence[CellKey],
        columns: Sequence[CellKey],
        *,
        total_row: CellKey | None = None,
        total_column: CellKey | None = None,
        key: tuple = (),
        label: str = "",
    ) -> None:
        """Register a (row × column) table whose margins are `total_row` / `total_column`.

        Cell keys are `(*key, row, column)`. Every row adds the relation
        total_column = sum(other columns), every column total_row = sum(other rows).
        """
        for row in rows:
            for column in columns:
                where = f"{label} [{row}, {column}]" if label else None
                self.add_cell((*key, row, column), grid.get((row, column)), where)
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

    def primary(self) -> set[CellKey]:
        """Small counts, small rate numerators and rates hidden for their denominator."""
        small = {k for k, v in self.model.counts.items() if self.config.is_small(v)}
        small |= {k for k, r in self.model.rates.items() if self.config.is_small(r.numerator)}
        return small | self.forced

    def hidden(self) -> frozenset[CellKey]:
        if self._hidden is None:
            self._hidden, self._audit = protect_once(self.model, self.primary(), self.config.rule())
        return frozenset(self._hidden)

    def is_suppressed(self, key: CellKey) -> bool:
        return key in self.hidden()

    def audit(self) -> AuditResult:
        """The audit of the final pattern (every hidden cell's interval)."""
        self.hidden()
        if self._audit is None:  # a pattern set from outside (tests of the gate)
            self._audit = audit(self.model, self._hidden, self.config.rule())
        return self._audit

    def assert_safe(self, publication: str) -> AuditResult:
        """The gate: raise `DisclosureError` naming the first failing cell."""
        result = self.audit()
        if not result.passed:
            first = result.failures[0]
            raise DisclosureError(
                f"Geheimhaltungsprüfung für {publication} nicht bestanden: {first.message()}; "
                f"erforderlich: untere Grenze ≤ {self.config.min_count}, obere Grenze ≥ Wert + "
                f"{self.config.protection}. Die Veröffentlichung wurde nicht geschrieben."
            )
        return result

    def show(self, key: CellKey) -> Number | str | None:
        """The published form of a registered count."""
        return mask_count(self.model.counts[key], self.is_suppressed(key), self.config)


__all__ = [
    "DisclosureError",
    "Rate",
    "Relation",
    "SuppressionConfig",
    "SuppressionRegistry",
    "is_rate_suppressed",
    "mask_count",
]
