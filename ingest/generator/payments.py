"""AsylbLG payment lines of one month, from the persons' state at that month end."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.generator.calendar import Window
from ingest.generator.model import Accommodation, Population, State, age_at
from ingest.generator.params import Params

PRODUCT_BENEFITS = "31.30.01"
PRODUCT_GU = "31.40.06"
ACCOUNT_OUTSIDE = "4331"  # benefits to persons outside institutions
ACCOUNT_INSIDE = "4332"  # inside institutions (collective housing)
FIRST_BOOKING_ID = 1_000_001
BOOKING_ID_WIDTH = 10
BUT_AMOUNTS = np.array([1500, 3000, 6500, 13000])  # cents: participation, lunch, school needs
BUT_P = np.array([0.5, 0.3, 0.1, 0.1])

# Columns of a payment frame before formatting; `person` is the population index (-1 = none).
PAYMENT_SCHEMA = {
    "booking_id": pl.Int64,
    "booking_day": pl.Int64,
    "from_day": pl.Int64,
    "to_day": pl.Int64,
    "person": pl.Int64,
    "benefit_type": pl.String,
    "product": pl.String,
    "account": pl.String,
    "cents": pl.Int64,
    "reverses": pl.Int64,
    "social_space": pl.String,
}


@dataclass
class BookingCounter:
    """Buchungs_ID is unique across all months: one counter for the whole run."""

    next_id: int = FIRST_BOOKING_ID

    def take(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        return ids


def benefit_level(pop: Population, idx: np.ndarray, day: int) -> np.ndarray:
    """Bedarfsstufe 1-6 (AsylbLG §3a) at `day`."""
    age = age_at(pop.birth[idx], day)
    partner = pop.adult_partner[idx]
    adult_level = np.where(partner, np.where(pop.couple[idx], 2, 1), np.where(age <= 24, 3, 1))
    return np.select([age >= 18, age >= 14, age >= 6], [adult_level, 4, 5], default=6)


def _lines(n: int, **cols: object) -> pl.DataFrame:
    """A payment frame of n lines; scalar arguments are repeated, booking_id is set later."""
    data = {k: (np.full(n, v) if np.isscalar(v) or v is None else v) for k, v in cols.items()}
    data.setdefault("reverses", np.full(n, -1, dtype=np.int64))
    data.setdefault("booking_id", np.full(n, -1, dtype=np.int64))
    return pl.DataFrame({k: pl.Series(data[k], dtype=t) for k, t in PAYMENT_SCHEMA.items()})


def month_payments(
    k: int,
    window: Window,
    pop: Population,
    state: State,
    acc: Accommodation,
    params: Params,
    rng: np.random.Generator,
    counter: BookingCounter,
    previous: pl.DataFrame | None,
) -> pl.DataFrame:
    """All payment lines posted in month k (booking day inside the month), in Buchungs_ID order."""
    first, last, year = window.first_day(k), window.last_day(k), window.year(k)
    ndays = last - first + 1
    asyl = state.law == 0
    idx = state.index[asyl]
    space = state.social_space[asyl]
    account = np.where(state.housing[asyl] == 0, ACCOUNT_INSIDE, ACCOUNT_OUTSIDE)
    n = len(idx)
    frames: list[pl.DataFrame] = []

    # Subsistence (§3 basic or §2 analogous), paid at the start of the month for the month.
    level = benefit_level(pop, idx, first)
    analog = state.analog[asyl]
    gl = np.array([params.cents(f"GL3_BS{i}", year) for i in range(1, 7)])
    al = np.array([params.cents(f"AL2_BS{i}", year) for i in range(1, 7)])
    frames.append(
        _lines(
            n,
            booking_day=first + rng.integers(0, 3, n),
            from_day=first,
            to_day=last,
            person=idx,
            benefit_type=np.where(analog, "AL2", "GL3"),
            product=PRODUCT_BENEFITS,
            account=account,
            cents=np.where(analog, al[level - 1], gl[level - 1]),
            social_space=space,
        )
    )

    # Health care (§4): a minority per month, log-normal amounts with a long tail.
    sick = rng.random(n) < params.rate("KR4_PROBABILITY", year)
    m = int(sick.sum())
    median = float(params.get("KR4_MEDIAN", year))
    amount = np.exp(rng.normal(np.log(median), params.rate("KR4_SIGMA", year), m))
    booked = first + rng.integers(0, ndays, m)
    service_from = booked - rng.integers(3, 45, m)
    frames.append(
        _lines(
            m,
            booking_day=booked,
            from_day=service_from,
            to_day=np.minimum(service_from + rng.integers(0, 7, m), booked),
            person=idx[sick],
            benefit_type="KR4",
            product=PRODUCT_BENEFITS,
            account=account[sick],
            cents=np.clip(np.round(amount * 100), 500, 2_500_000).astype(np.int64),
            social_space=space[sick],
        )
    )

    # Education and participation for school-age children; work opportunities; other benefits.
    age = age_at(pop.birth[idx], first)
    child = (age >= 6) & (age < 18) & (rng.random(n) < params.rate("BUT_PROBABILITY", year))
    adult = age >= 18
    work = adult & (rng.random(n) < 0.02)
    other = adult & ~work & (rng.random(n) < 0.01)
    for mask, kind, cents in (
        (child, "BUT", rng.choice(BUT_AMOUNTS, size=n, p=BUT_P)),
        (work, "AG5", rng.integers(10, 81, n) * 80),
        (other, "SL6", rng.integers(5000, 40001, n)),
    ):
        c = int(mask.sum())
        frames.append(
            _lines(
                c,
                booking_day=first + rng.integers(0, ndays, c),
                from_day=first,
                to_day=last,
                person=idx[mask],
                benefit_type=kind,
                product=PRODUCT_BENEFITS,
                account=account[mask],
                cents=cents[mask],
                social_space=space[mask],
            )
        )

    frames.append(
        _accommodation_lines(first, last, state, acc, params.cents("UK_GU_PER_PERSON", year))
    )
    regular = pl.concat(frames)
    regular = regular.with_columns(booking_id=pl.Series(counter.take(regular.height)))
    reversals = _reversals(k, window, regular, previous, state, rng, pop)
    if reversals.height:
        reversals = reversals.with_columns(booking_id=pl.Series(counter.take(reversals.height)))
    return pl.concat([regular, reversals])


def _accommodation_lines(
    first: int, last: int, state: State, acc: Accommodation, per_person: int
) -> pl.DataFrame:
    """One line per occupied GU: accommodation and heating of its AsylbLG residents, no person."""
    in_gu = (state.housing == 0) & (state.law == 0)
    counts = np.bincount(state.accommodation[in_gu], minlength=len(acc.ids))
    gu = np.flatnonzero(counts > 0)
    return _lines(
        len(gu),
        booking_day=np.full(len(gu), min(first + 24, last)),
        from_day=first,
        to_day=last,
        person=np.full(len(gu), -1),
        benefit_type="UK",
        product=PRODUCT_GU,
        account=ACCOUNT_INSIDE,
        cents=counts[gu] * per_person,
        social_space=np.full(len(gu), None),
    )


def _reversals(
    k: int,
    window: Window,
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    state: State,
    rng: np.random.Generator,
    pop: Population,
) -> pl.DataFrame:
    """Corrections: some of last month's subsistence lines and this month's health lines.

    A reversal repeats the original's benefit period, product and account with the exact
    negative amount; only persons still under the AsylbLG this month are corrected, so every
    payment line belongs to a person of this month's AsylbLG stock.
    """
    first, last = window.first_day(k), window.last_day(k)
    asyl_now = np.zeros(len(pop), dtype=bool)
    asyl_now[state.index[state.law == 0]] = True
    space_now = np.full(len(pop), "", dtype=object)
    space_now[state.index] = state.social_space
    candidates = [current.filter(pl.col("benefit_type") == "KR4")]
    if previous is not None:
        candidates.append(
            previous.filter(pl.col("benefit_type").is_in(["GL3", "AL2"]) & (pl.col("reverses") < 0))
        )
    picked = []
    for frame, rate in zip(candidates, (0.03, 0.01), strict=False):
        person = frame["person"].to_numpy()
        keep = (person >= 0) & asyl_now[np.maximum(person, 0)] & (rng.random(frame.height) < rate)
        picked.append(frame.filter(pl.Series(keep)))
    originals = pl.concat(picked)
    n = originals.height
    if n == 0:
        return originals
    earliest = np.maximum(originals["booking_day"].to_numpy(), first)
    spaces = space_now[originals["person"].to_numpy()]
    return originals.with_columns(
        reverses=pl.col("booking_id"),
        cents=-pl.col("cents"),
        booking_day=pl.Series(
            earliest + np.floor(rng.random(n) * (last - earliest + 1)).astype(np.int64)
        ),
        social_space=pl.Series([s if s else None for s in spaces], dtype=pl.String),
    )
