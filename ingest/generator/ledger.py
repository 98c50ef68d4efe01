"""The general ledger (fibu_ist) of a month and the yearly budget plan (haushaltsplan).

The ledger repeats every AsylbLG product × account of the payments to the cent (split over cost
centres where the finance system books by team) and adds what only the ledger knows: personnel,
rents, security and operation, course contracts, and the Land's grants and reimbursements.
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
    """What the next month's ledger needs from this one (reimbursements follow a month later)."""

    previous_benefits: int | None = None
    previous_gu_cost: int | None = None
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
    memory: LedgerState,
) -> pl.DataFrame:
    """Ledger rows (product, account, cost centre, cents) of month k; `payments` = clean lines."""
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
        rows.append(("31.40.06", "4291", f"5314{g + 1:02d}", amount))
    places = sum(round(int(acc.capacity[g]) * persons_scale / 2.5) for g in gu)
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

    benefits = sum(c for (p, _), c in paid.items() if p == "31.30.01")
    # The Land reimburses accommodation benefits; operation is covered by its flat-rate grant.
    gu_total = paid.get(("31.40.06", "4332"), 0)
    share = params.get("LAND_REIMBURSEMENT_SHARE", year)
    prev_b = benefits if memory.previous_benefits is None else memory.previous_benefits
    prev_g = gu_total if memory.previous_gu_cost is None else memory.previous_gu_cost
    rows.append(("31.30.01", "3481", "531001", int(prev_b * share)))
    rows.append(("31.40.06", "3481", "531400", int(prev_g * share)))
    if month_of_year in (1, 4, 7, 10):  # the Land's grant is paid quarterly in advance
        rows.append(
            (
                "31.40.06",
                "3141",
                "531400",
                3 * places * params.cents("LAND_GRANT_PER_GU_PLACE", year),
            )
        )
    rows.append(("31.30.01", "3211", "531001", int(benefits * params.get("RECOVERY_SHARE", year))))
    memory.previous_benefits, memory.previous_gu_cost = benefits, gu_total

    ledger = pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row").sort(
        "product", "account", "cost_centre"
    )
    for product, account, cents in (
        ledger.group_by("product", "account").agg(pl.col("cents").sum()).iter_rows()
    ):
        key = (year, product, account)
        memory.year_totals[key] = memory.year_totals.get(key, 0) + int(cents)
    return ledger


def plan_frame(
    year: int, window: Window, memory: LedgerState, rng: np.random.Generator
) -> pl.DataFrame:
    """Budget plan of one year: Ansatz ≈ the year's actuals (annualised) ± a few per cent."""
    covered = sum(1 for k in range(window.months) if window.year(k) == year)
    keys = sorted((p, a) for (y, p, a) in memory.year_totals if y == year)
    rows = []
    for product, account in keys:
        annual = memory.year_totals[(year, product, account)] * 12 // covered
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
    if account == "3141":
        return "Q"
    if (product, account) == ("27.10.01", "4291"):
        return "JAN"
    return "LINEAR" if rng.random() < 0.3 else None
