"""Disclosure audit: what an attacker can recompute from a publication (domain.md, section 5).

A publication is modelled as a linear integer system over the true counts behind it:

- **Variables**: every published person count (caseload space × status with margins, count
  indicators per social space and city), for every rate published per social space its numerator
  and denominator, all integers ≥ 0 (bounded by `BIG` so that every problem has an optimum).
- **Visible count**: fixes its variable. **Hidden count** (`*`): ≥ 1, because zeros are printed
  and never hidden.
- **Visible rate** r printed with half-width h (percent with one decimal: h = 0.05) on scale s
  (100 for percent): the two linear constraints s·n ≥ (r − h)·d and s·n ≤ (r + h)·d, plus
  d ≥ the catalogue's minimum denominator (a visible rate tells the attacker that much). A
  hidden rate (`/`) adds nothing; its numerator is ≥ 0.
- **Relations** total = Σ members (rows, columns, social spaces → city, for rate numerators and
  denominators too) and **bounds** a ≤ b (a subset never exceeds its whole, e.g. K01 of a social
  space ≤ the persons of that space; a rate's numerator ≤ its denominator where the numerator
  counts a subset of the denominator's persons).

For a hidden cell, `interval` solves two MILPs with HiGHS (min and max of its variable).

**Protection rule for a primary cell** (true value v between `min_count` and `max_count`,
default 1–2): the feasible interval must reach down to at most `min_count` and up to at least
v + `protection` (default 3). The product knows the true values and applies it to every primary
cell before anything is written.

**Attacker-view rule for every hidden cell** (what `kim audit-disclosure` can check on published
files alone, where true values are unknown): a hidden cell whose interval [lo, hi] still allows
a primary value (lo ≤ `max_count`) fails when hi < `min_count` + `protection` (the cell is known
to be a small count, e.g. ≤ 3) or hi − lo < `protection` (it is pinned to fewer than
`protection` + 1 values). The product applies this rule too, so that every publication it writes
passes the CLI audit.

Hiding more cells only relaxes the system (a visible count ≥ 1 becomes a variable ≥ 1, a rate's
constraints disappear), so intervals only widen: a cell that passed stays passed. `protect`
uses this to add secondary suppressions one at a time until every hidden cell passes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

Key = Hashable
BIG = 10**7  # no count of persons comes near; keeps every MILP bounded

# Definitional links of the indicator catalogue (dbt/seeds/indicators.csv, domain.md section 3),
# the only place that states them for the audit:
# K06's denominator is every person of the social space = the caseload row total.
PERSONS_DENOMINATOR = frozenset({"K06"})
# Counts of a subset of the persons of a social space.
SUBSET_OF_PERSONS = frozenset({"K01"})
# Rates whose numerator counts a subset of their denominator (so n ≤ d).
NUMERATOR_WITHIN_DENOMINATOR = frozenset({"K06", "K07", "K09", "K10", "K11", "K12"})


class DisclosureError(RuntimeError):
    """A publication from which a suppressed figure could be recomputed: it is not written."""


@dataclass(frozen=True)
class Relation:
    """An additive relation between cells: value(total) = sum(value(member))."""

    total: Key
    members: tuple[Key, ...]

    def cells(self) -> tuple[Key, ...]:
        return (*self.members, self.total)


@dataclass(frozen=True)
class Rate:
    """A rate published for numerator variable n: printed = scale · n / d, ± half_width."""

    denominator: Key
    printed: Decimal | None  # the value as printed (rounded); None when there is no value
    half_width: Decimal = Decimal("0.05")
    scale: int = 100
    min_denominator: int = 0
    numerator: int | None = None  # true numerator, when known (the product, not the CLI)


@dataclass
class Model:
    """The cells and constraints of one publication (one month's tables)."""

    counts: dict[Key, int | None] = field(default_factory=dict)
    rates: dict[Key, Rate] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    at_most: list[tuple[Key, Key]] = field(default_factory=list)
    unpublished: set[Key] = field(default_factory=set)  # variables no table prints
    labels: dict[Key, str] = field(default_factory=dict)

    def cells(self) -> list[Key]:
        """Published cells (counts and rates) in a fixed order."""
        return [*self.counts, *self.rates]

    def true_value(self, key: Key) -> int | None:
        return self.rates[key].numerator if key in self.rates else self.counts.get(key)

    def label(self, key: Key) -> str:
        return self.labels.get(key, repr(key))


@dataclass(frozen=True)
class AuditRule:
    """Thresholds of the protection rule (from `SuppressionConfig`)."""

    min_count: int = 1
    max_count: int = 2
    protection: int = 3

    def primary(self, value: int | None) -> bool:
        return value is not None and self.min_count <= value <= self.max_count

    def failure(self, value: int | None, low: int, high: int) -> str | None:
        """Why the interval [low, high] of a hidden cell is too narrow, or None."""
        if self.primary(value):
            if low > self.min_count:
                return f"untere Grenze {low} > {self.min_count}"
            if high < value + self.protection:
                return f"obere Grenze {high} < {value + self.protection}"
        if low <= self.max_count:
            if high < self.min_count + self.protection:
                return f"obere Grenze {high} < {self.min_count + self.protection}"
            if high - low < self.protection:
                return f"Spanne {high - low} < {self.protection}"
        return None


@dataclass(frozen=True)
class CellCheck:
    key: Key
    label: str
    value: int | None  # true value where known
    low: int
    high: int
    reason: str | None

    def message(self) -> str:
        shown = "" if self.value is None else f" (Wert {self.value})"
        return (
            f"Zelle {self.label}{shown}: zulässiges Intervall [{self.low}, {_fmt(self.high)}] "
            f"zu eng ({self.reason})"
        )


@dataclass(frozen=True)
class AuditResult:
    cells: int
    checks: tuple[CellCheck, ...]

    @property
    def hidden(self) -> int:
        return len(self.checks)

    @property
    def failures(self) -> list[CellCheck]:
        return [c for c in self.checks if c.reason is not None]

    @property
    def passed(self) -> bool:
        return not self.failures

    def tightest(self) -> CellCheck | None:
        """The hidden cell with the narrowest interval (ties: first)."""
        return min(self.checks, key=lambda c: c.high - c.low, default=None)


def _fmt(value: int) -> str:
    return "∞" if value >= BIG else str(value)


class System:
    """The MILP of a model under one hidden set; `interval(key)` solves it for one cell."""

    def __init__(self, model: Model, hidden: Iterable[Key]) -> None:
        hidden = set(hidden)
        self.index: dict[Key, int] = {}
        rows: list[tuple[dict[int, float], float, float]] = []
        lower: dict[Key, float] = {}
        upper: dict[Key, float] = {}

        def var(key: Key) -> int:
            return self.index.setdefault(key, len(self.index))

        for key, value in model.counts.items():
            var(key)
            if key in hidden:
                lower[key] = 1
            elif value is not None:
                lower[key] = upper[key] = value
        for relation in model.relations:
            coefficients: dict[int, float] = {var(relation.total): -1.0}
            for member in relation.members:
                coefficients[var(member)] = coefficients.get(var(member), 0.0) + 1.0
            rows.append((coefficients, 0.0, 0.0))
        for small, big in model.at_most:
            rows.append(({var(small): 1.0, var(big): -1.0}, -np.inf, 0.0))
        for key, rate in model.rates.items():
            n, d = var(key), var(rate.denominator)
            if key in hidden or rate.printed is None:
                continue
            low, high = (
                float(rate.printed - rate.half_width),
                float(rate.printed + rate.half_width),
            )
            rows.append(({n: float(rate.scale), d: -max(low, 0.0)}, 0.0, np.inf))
            rows.append(({n: float(rate.scale), d: -high}, -np.inf, 1e-9))
            if rate.min_denominator:
                current = lower.get(rate.denominator, 0)
                lower[rate.denominator] = max(current, rate.min_denominator)
        size = len(self.index)
        self.lb = np.zeros(size)
        self.ub = np.full(size, float(BIG))
        for key, value in lower.items():
            self.lb[self.index[key]] = value
        for key, value in upper.items():
            self.ub[self.index[key]] = value
        self.constraints = []
        if rows:
            data, row_ids, col_ids = [], [], []
            for r, (coefficients, _, _) in enumerate(rows):
                for c, v in coefficients.items():
                    row_ids.append(r)
                    col_ids.append(c)
                    data.append(v)
            matrix = coo_matrix((data, (row_ids, col_ids)), shape=(len(rows), size)).tocsr()
            self.constraints = [
                LinearConstraint(matrix, [r[1] for r in rows], [r[2] for r in rows])
            ]

    def _solve(self, key: Key, sign: float) -> int:
        c = np.zeros(len(self.index))
        c[self.index[key]] = sign
        result = milp(
            c,
            integrality=np.ones(len(self.index)),
            bounds=Bounds(self.lb, self.ub),
            constraints=self.constraints,
        )
        if result.status != 0:
            raise DisclosureError(
                f"Prüfmodell unlösbar für {key!r}: {result.message} (Tabellen widersprüchlich)"
            )
        return int(round(sign * result.fun))

    def interval(self, key: Key) -> tuple[int, int]:
        return self._solve(key, 1.0), self._solve(key, -1.0)


def check_cell(system: System, model: Model, key: Key, rule: AuditRule) -> CellCheck:
    low, high = system.interval(key)
    value = model.true_value(key)
    return CellCheck(key, model.label(key), value, low, high, rule.failure(value, low, high))


def audit(model: Model, hidden: Iterable[Key], rule: AuditRule | None = None) -> AuditResult:
    """Check every hidden cell of the model (see the module docstring for the rules)."""
    rule = rule or AuditRule()
    hidden = set(hidden)
    system = System(model, hidden)
    checks = [check_cell(system, model, key, rule) for key in model.cells() if key in hidden]
    return AuditResult(len(model.cells()), tuple(checks))


def _neighbours(model: Model) -> dict[Key, set[Key]]:
    """Cells that share a constraint."""
    groups: list[Sequence[Key]] = [r.cells() for r in model.relations]
    groups += [pair for pair in model.at_most]
    groups += [(key, rate.denominator) for key, rate in model.rates.items()]
    linked: dict[Key, set[Key]] = {}
    for group in groups:
        for key in group:
            linked.setdefault(key, set()).update(group)
    return linked


def candidates(model: Model, hidden: set[Key], start: Key) -> list[Key]:
    """Visible non-zero cells tied to `start` through constraints and hidden or unpublished cells,
    cheapest first (smallest true value, then model order)."""
    published = set(model.cells())
    linked = _neighbours(model)
    seen, queue, found = {start}, [start], []
    while queue:
        for other in sorted(linked.get(queue.pop(0), ()), key=repr):
            if other in seen:
                continue
            seen.add(other)
            if other in hidden or other not in published:
                queue.append(other)
            elif model.true_value(other) not in (None, 0):
                found.append(other)
    order = {key: i for i, key in enumerate(model.cells())}
    return sorted(found, key=lambda k: (model.true_value(k), order[k]))


def protect(
    model: Model, primary: Iterable[Key], rule: AuditRule | None = None, tries: int = 12
) -> set[Key]:
    """Primary plus the secondary suppressions that make every hidden cell pass the audit.

    Cells are checked in model order; a failing cell gets the cheapest candidate whose hiding
    makes it pass (or, when no single one does, the cheapest candidate, and it is re-checked).
    Finally, secondary cells the system pins to one value are shown again. Deterministic. Raises `DisclosureError` when no candidate is left.
    """
    rule = rule or AuditRule()
    primary = set(primary)
    hidden = set(primary)
    passed: set[Key] = set()
    order = model.cells()
    while True:
        system = System(model, hidden)
        failing = None
        for key in (k for k in order if k in hidden and k not in passed):
            check = check_cell(system, model, key, rule)
            if check.reason is None:
                passed.add(key)
            else:
                failing = check
                break
        if failing is None:
            return hidden - _pinned(system, hidden - set(primary))
        options = candidates(model, hidden, failing.key)
        if not options:
            raise DisclosureError(
                f"{failing.message()}; keine weitere Zelle kann zum Schutz unterdrückt werden"
            )
        hidden.add(_first_sufficient(model, hidden, failing.key, options[:tries], rule))


def _pinned(system: System, secondary: set[Key]) -> set[Key]:
    """Secondary cells the system fixes to one value: showing them changes nothing, so they are
    shown (a cell hidden early as a stepping stone can end up recomputable)."""
    return {key for key in secondary if len(set(system.interval(key))) == 1}


def _first_sufficient(
    model: Model, hidden: set[Key], key: Key, options: list[Key], rule: AuditRule
) -> Key:
    for option in options:
        if check_cell(System(model, hidden | {option}), model, key, rule).reason is None:
            return option
    return options[0]
