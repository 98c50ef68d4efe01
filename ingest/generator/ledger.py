"""The general ledger (fibu_ist) of a month and the yearly budget plan (haushaltsplan).

The ledger repeats every AsylbLG product × account of the payments to the cent (split over cost
centres where the finance system books by team) and adds what only the ledger knows: personnel,
rents, security and operation, course contracts, and the Land's revenues.

The Land pays as Baden-Württemberg's FlüAG does, in lumps rather than a monthly share: a one-time
flat amount per person admitted, booked in the month of admission, and once a year in June a
share of the previous year's AsylbLG costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ingest.generator.calendar import Window
from ingest.generator.model import Accommodation, State
from ingest.generator.params import Params

# Cost centres of the payment product × accounts; a pair of centres splits the amount.
PAYMENT_COST_CENTRES = {
    ("31.30.01", "4331"): ("531001", "531002"),
    ("31.30.01", "4332"): ("531003",),
    ("31.40.06", "4332"): ("531400",),
}
PERSONNEL = {  # product -> cost centre; FTE per 1,000 persons from the parameter table
    "31.80.10": "531800",
    "31.80.09": "531900",
    "12.22.09": "322100",
    "12.22.08": "322200",
}
ANNUAL_BONUS_MONTH = 11  # Jahressonderzahlung paid with November's salaries
ANNUAL_BONUS_FACTOR = 1.5
LAND_SHARE_MONTH = 6  # the Land's yearly share of last year's AsylbLG costs arrives in June
LAND_SHARE_KEY = ("31.30.01", "3481")
LAND_LUMP_KEY = ("31.40.06", "3481")
# The June share's plan profile puts the whole year in June.
JUNE_ONLY_SHARE = "1"
LEDGER_SCHEMA = {
    "product": pl.String,
    "account": pl.String,
    "cost_centre": pl.String,
    "cents": pl.Int64,
}


def _split(total: int, parts: int) -> list[int]:
    """Split cents over cost centres: 58 % to the first, the exact remainder to the second."""
    if parts == 1:
        return [total]
    first = total * 58 // 100
    return [first, total - first]


@dataclass
class LedgerState:
    """What later months need: AsylbLG payments per year and month, totals for the plan."""

    asylblg_months: dict[int, list[int]] = field(default_factory=dict)  # year -> cents per month
    year_totals: dict[tuple[int, str, str], int] = field(default_factory=dict)


def month_ledger(
    k: int,
    window: Window,
    payments: pl.DataFrame,
    state: State,
    acc: Accommodation,
    params: Params,
    persons_scale: float,
    course_cost: int,
    admitted: int,
    memory: LedgerState,
) -> pl.DataFrame:
    """Ledger rows (product, account, cost centre, cents) of month k; `payments` = clean lines.

    `admitted` is the number of persons who arrived in month k (the Land's lump per person).
    """
    year, month_of_year = window.year(k), window.month_of_year(k)
    day = window.last_day(k)
    rows: list[tuple[str, str, str, int]] = []
    sums = (
        payments.group_by("product", "account")
        .agg(pl.col("cents").sum())
        .sort("product", "account")
    )
    paid = {(p, a): int(c) for p, a, c in sums.iter_rows()}
    for (product, account), total in paid.items():
        centres = PAYMENT_COST_CENTRES.get((product, account), (product.replace(".", ""),))
        rows += [
            (product, account, cc, c)
            for cc, c in zip(centres, _split(total, len(centres)), strict=True)
        ]

    cost_per_fte = params.cents("PERSONNEL_COST_PER_FTE", year)
    bonus = ANNUAL_BONUS_FACTOR if month_of_year == ANNUAL_BONUS_MONTH else 1.0
    for product, centre in PERSONNEL.items():
        fte = round(float(params.get(f"FTE_PER_1000_{product}", year)) * persons_scale * 4) / 4
        rows.append((product, "4012", centre, round(fte * cost_per_fte * bonus)))

    gu = np.flatnonzero((acc.kind == "GU") & (acc.valid_from <= day) & (acc.valid_to >= day))
    for g in gu:
        # Security and operation are paid per place, occupied or not; places scale with the town.
        amount = round(int(acc.capacity[g]) * persons_scale / 2.5) * params.cents(
            "GU_OPERATION_PER_PLACE", year
        )
        # Booked on the accommodation's own cost centre: the cost accounting allocates it to
        # the residents (dbt seed cost_centres.csv, the one statement of the mapping).
        rows.append(("31.40.06", "4291", str(acc.cost_centre[g]), amount))
    in_flats = int((state.housing == 1).sum())
    rows.append(
        ("31.40.07", "4231", "531500", in_flats * params.cents("FLAT_RENT_PER_PERSON", year))
    )
    if course_cost:
        rows.append(("27.10.01", "4291", "271000", course_cost))
    rows.append(
        (
            "31.80.10",
            "4291",
            "531810",
            round(persons_scale * params.cents("COURSE_CONTRACTS_PER_1000", year)),
        )
    )

    memory.asylblg_months.setdefault(year, []).append(sum(paid.values()))
    lump = params.cents("LAND_LUMP_PER_ADMISSION", year)
    rows.append((*LAND_LUMP_KEY, "531400", admitted * lump))
    if month_of_year == LAND_SHARE_MONTH:
        share = params.get("LAND_YEARLY_SHARE", year)
        rows.append((*LAND_SHARE_KEY, "531001", int(_previous_year_cost(memory, year) * share)))
    benefits = sum(c for (p, _), c in paid.items() if p == "31.30.01")
    rows.append(("31.30.01", "3211", "531001", int(benefits * params.get("RECOVERY_SHARE", year))))

    ledger = pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row").sort(
        "product", "account", "cost_centre"
    )
    for product, account, cents in (
        ledger.group_by("product", "account").agg(pl.col("cents").sum()).iter_rows()
    ):
        key = (year, product, account)
        memory.year_totals[key] = memory.year_totals.get(key, 0) + int(cents)
    return ledger


def _previous_year_cost(memory: LedgerState, year: int) -> int:
    """Last year's AsylbLG payments in cents; months before the generated window are unknown,
    so a partly covered year counts as 12 × its covered months' mean (and with no month of last
    year generated, this year's months so far stand in)."""
    months = memory.asylblg_months.get(year - 1) or memory.asylblg_months[year]
    return sum(months) * 12 // len(months)


def plan_frame(
    year: int, window: Window, memory: LedgerState, rng: np.random.Generator
) -> pl.DataFrame:
    """Budget plan of one year: Ansatz ≈ the year's actuals (annualised) ± a few per cent."""
    covered = sum(1 for k in range(window.months) if window.year(k) == year)
    keys = sorted((p, a) for (y, p, a) in memory.year_totals if y == year)
    rows = []
    for product, account in keys:
        total = memory.year_totals[(year, product, account)]
        # The June share comes once a year: the covered year's amount is the whole year's.
        annual = total if (product, account) == LAND_SHARE_KEY else total * 12 // covered
        ansatz = int(round(annual * (1 + rng.uniform(-0.05, 0.05)), -4))  # whole hundreds of €
        nachtrag = (
            int(round(ansatz * rng.uniform(-0.04, 0.06), -2)) if rng.random() < 0.15 else None
        )
        carried = (
            int(round(ansatz * rng.uniform(0.01, 0.05), -2))
            if (account.startswith("4") and rng.random() < 0.12)
            else None
        )
        rows.append(
            (year, product, account, ansatz, nachtrag, carried, _profile(product, account, rng))
        )
    return pl.DataFrame(
        rows,
        schema={
            "Jahr": pl.Int64,
            "Produkt": pl.String,
            "Sachkonto": pl.String,
            "ansatz": pl.Int64,
            "nachtrag": pl.Int64,
            "uebertragung": pl.Int64,
            "Profil": pl.String,
        },
        orient="row",
    )


def _profile(product: str, account: str, rng: np.random.Generator) -> str | None:
    if (product, account) == ("31.80.10", "4012"):
        # Eleven months at 8 %, November with the annual bonus at 12 %: exactly 1.
        shares = ["0,08"] * 12
        shares[ANNUAL_BONUS_MONTH - 1] = "0,12"
        return "|".join(shares)
    if (product, account) == LAND_SHARE_KEY:
        shares = ["0"] * 12
        shares[LAND_SHARE_MONTH - 1] = JUNE_ONLY_SHARE
        return "|".join(shares)
    if (product, account) == ("27.10.01", "4291"):
        return "JAN"
    return "LINEAR" if rng.random() < 0.3 else None
