"""The generator's parameter tables: a value per parameter and year.

`ingest/generator_params.csv` holds what only the sample needs (probabilities, staffing of the
simulated town); the prices (AsylbLG rates per Bedarfsstufe, cost per GU place, personnel cost per
FTE, the Land's reimbursement) are the dbt seed `dbt/seeds/prices.csv`, which the planning models
read too: one table, read by both. A controller corrects amounts there without touching code.
A parameter applies from its year on until a later year overrides it; years before the first
entry use the first entry.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from kim_settings import SEEDS_DIR

PARAMS_FILE = Path(__file__).resolve().parent.parent / "generator_params.csv"
PRICES_FILE = SEEDS_DIR / "prices.csv"


@dataclass(frozen=True)
class Params:
    values: dict[str, tuple[tuple[int, Decimal], ...]]  # parameter -> ((year, value), ...) sorted

    def get(self, name: str, year: int) -> Decimal:
        series = self.values[name]
        chosen = series[0][1]
        for y, v in series:
            if y <= year:
                chosen = v
        return chosen

    def cents(self, name: str, year: int) -> int:
        """A money parameter in whole cents (exact, no float)."""
        return int(self.get(name, year) * 100)

    def rate(self, name: str, year: int) -> float:
        """A probability or share, as float: it drives random draws, never money sums."""
        return float(self.get(name, year))


def load_params(*paths: Path) -> Params:
    """Both tables (or the given ones, same columns: parameter, year, value, description)."""
    grouped: dict[str, list[tuple[int, Decimal]]] = {}
    for path in paths or (PARAMS_FILE, PRICES_FILE):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                grouped.setdefault(row["parameter"], []).append(
                    (int(row["year"]), Decimal(row["value"]))
                )
    return Params({k: tuple(sorted(v)) for k, v in grouped.items()})
