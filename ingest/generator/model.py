"""Simulate Musterstadt's refugee population once, as event dates per household and person.

Every life-course event is drawn up front (arrival, asylum application, decision, switch of benefit
law, employment, moves, departure); the state at any month end then follows from vectorised
comparisons of those dates with the Stichtag (`state_at`). Households share all events; persons
add birth date and sex. Dates are day numbers (see `calendar`).
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from ingest.generator.calendar import Window, day_number, first_day_of_month, month_of_days
from ingest.generator.params import Params

HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
HOUSEHOLD_SIZE_P = np.array([0.46, 0.13, 0.12, 0.13, 0.10, 0.06])
NATIONALITIES = np.array(
    ["SYR", "AFG", "UKR", "TUR", "IRQ", "ERI", "NGA", "GEO", "IRN", "SOM", "XXA", "XXX"]
)
NATIONALITY_P = np.array([0.22, 0.20, 0.17, 0.12, 0.07, 0.05, 0.04, 0.04, 0.04, 0.02, 0.02, 0.01])
# Case managers' user codes in the case software: team names, one with an umlaut, which makes
# the Windows-1252 persons file really differ from UTF-8.
CASE_MANAGERS = np.array(
    [f"FM-{team}-{i:02d}" for team in ("Nord", "Süd", "Mitte", "Rheinauen") for i in (1, 2, 3)]
)
EARLIEST_ARRIVAL = dt.date(2015, 10, 1)
# Waiting time before analogous benefits (§2 AsylbLG): 18 months of stay until 26.02.2024,
# 36 months from 27.02.2024 (Rückführungsverbesserungsgesetz); who receives them on 26.02.2024
# keeps them (§20 AsylbLG).
WAITING_MONTHS_OLD = 18
WAITING_MONTHS_NEW = 36
LAST_DAY_OF_OLD_RULE = dt.date(2024, 2, 26)
CASE_MANAGEMENT_UNIT = "FALLMANAGEMENT"  # staff_fte.csv unit whose FTE carry the case load
NO_EVENT = np.iinfo(np.int64).max // 4  # "never" as a day number

RESIDENCE = np.array(["ASYLSUCHEND", "GESTATTUNG", "DULDUNG", "ERLAUBNIS"])
LAW = np.array(["ASYLBLG", "SGB2", "KEINER"])
HOUSING = np.array(["GU", "DEZENTRAL", "PRIVAT"])


@dataclass(frozen=True)
class Accommodation:
    ids: np.ndarray
    kind: np.ndarray
    social_space: np.ndarray
    capacity: np.ndarray
    valid_from: np.ndarray  # day numbers
    valid_to: np.ndarray  # day numbers, NO_EVENT when open-ended
    cost_centre: np.ndarray  # ledger Kostenstelle (seed cost_centres.csv), '' when none


def read_social_spaces(seeds_dir: Path) -> list[str]:
    with (seeds_dir / "social_spaces.csv").open(encoding="utf-8", newline="") as f:
        return [row["social_space_id"] for row in csv.DictReader(f)]


def read_accommodation(seeds_dir: Path) -> Accommodation:
    with (seeds_dir / "accommodation.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    with (seeds_dir / "cost_centres.csv").open(encoding="utf-8", newline="") as f:
        centres = [r for r in csv.DictReader(f) if r["accommodation_id"]]
    centre_of = {r["accommodation_id"]: r["cost_centre"] for r in centres}

    def day(text: str) -> int:
        return day_number(dt.date.fromisoformat(text)) if text else NO_EVENT

    return Accommodation(
        ids=np.array([r["accommodation_id"] for r in rows]),
        kind=np.array([r["kind"] for r in rows]),
        social_space=np.array([r["social_space_id"] for r in rows]),
        capacity=np.array([int(r["capacity"]) for r in rows], dtype=np.int64),
        valid_from=np.array([day(r["valid_from"]) for r in rows], dtype=np.int64),
        valid_to=np.array([day(r["valid_to"]) for r in rows], dtype=np.int64),
        cost_centre=np.array([centre_of.get(r["accommodation_id"], "") for r in rows]),
    )


def read_case_management_fte(seeds_dir: Path, window: Window) -> Decimal:
    """Mean case-management FTE over the window's months (staff seed; a month it lacks counts
    with its latest month)."""
    with (seeds_dir / "staff_fte.csv").open(encoding="utf-8", newline="") as f:
        fte = {
            row["month"][:7]: Decimal(row["fte"])
            for row in csv.DictReader(f)
            if row["unit"] == CASE_MANAGEMENT_UNIT
        }
    last = max(fte)
    values = [fte.get(window.label(k), fte[last]) for k in range(window.months)]
    return sum(values) / len(values)


@dataclass
class Population:
    """Person-level arrays (index = person); household events repeated per member."""

    person_id: np.ndarray  # int, written zero-padded
    household: np.ndarray  # int, the Fall_ID
    member: np.ndarray  # position in the household (0 = head)
    household_size: np.ndarray
    adult_partner: np.ndarray  # head or adult partner of the head (Bedarfsstufe 1/2)
    couple: np.ndarray  # the household has two adult partners (Bedarfsstufe 2 for both)
    birth: np.ndarray
    sex: np.ndarray
    nationality: np.ndarray
    arrival: np.ndarray
    departure: np.ndarray
    application: np.ndarray
    decision: np.ndarray
    recognised: np.ndarray
    switch: np.ndarray  # ASYLBLG -> SGB2
    employed: np.ndarray  # SGB2 -> KEINER
    move1: np.ndarray  # GU -> second housing
    move2: np.ndarray  # DEZENTRAL -> PRIVAT
    second_housing: np.ndarray  # index into HOUSING (1 or 2)
    gu_index: np.ndarray  # index into accommodation arrays
    flat_index: np.ndarray  # index into accommodation arrays, -1 if none
    private_space: np.ndarray  # social space while PRIVAT, "" = unknown address
    case_manager: np.ndarray  # "" = not in case management

    def __len__(self) -> int:
        return len(self.person_id)


def _uniform_int(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    return rng.integers(low, high + 1, size=n, dtype=np.int64)


def _exit_days(rng: np.random.Generator, n: int, monthly_rate: float) -> np.ndarray:
    return np.ceil(rng.exponential(30.44 / monthly_rate, size=n)).astype(np.int64)


def _arrivals(
    rng: np.random.Generator, window: Window, households: int, monthly_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival and departure days: a stock present at the start plus a steady inflow.

    With a constant exit rate the stock is stationary when the inflow equals rate × stock; the
    initial stock's arrival ages follow the same exponential, truncated at EARLIEST_ARRIVAL.
    """
    start = window.first_day(0)
    end = window.last_day(window.months - 1)
    max_age = start - day_number(EARLIEST_ARRIVAL)
    scale = 30.44 / monthly_rate
    u = rng.random(households)
    ages = np.floor(-scale * np.log1p(-u * (1 - np.exp(-max_age / scale)))).astype(np.int64)
    initial_arrival = start - 1 - ages
    initial_departure = start + _exit_days(rng, households, monthly_rate)
    inflow = int(round(households * monthly_rate * window.months))
    new_arrival = np.sort(_uniform_int(rng, start, end, inflow))
    new_departure = new_arrival + 30 + _exit_days(rng, inflow, monthly_rate)
    return (
        np.concatenate([initial_arrival, new_arrival]),
        np.concatenate([initial_departure, new_departure]),
    )


def _weighted_pick(rng: np.random.Generator, valid: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, pick a column among the valid ones with probability ∝ weight (-1 if none)."""
    w = valid * weights[None, :].astype(np.float64)
    cum = np.cumsum(w, axis=1)
    total = cum[:, -1]
    target = rng.random(len(valid)) * total
    pick = (cum <= target[:, None]).sum(axis=1)
    return np.where(total > 0, np.minimum(pick, valid.shape[1] - 1), -1)


def _choose_gu(
    rng: np.random.Generator, acc: Accommodation, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """A GU valid during the whole stay [start, end], weighted by capacity (so load is even)."""
    gu = np.flatnonzero(acc.kind == "GU")
    valid = (acc.valid_from[gu][None, :] <= start[:, None]) & (
        acc.valid_to[gu][None, :] >= end[:, None]
    )
    pick = _weighted_pick(rng, valid, acc.capacity[gu])
    # Nobody arrives before the oldest open-ended GU opened; fall back to it defensively.
    fallback = gu[np.argmin(acc.valid_from[gu] + (acc.valid_to[gu] < NO_EVENT) * NO_EVENT)]
    return np.where(pick >= 0, gu[np.maximum(pick, 0)], fallback)


def allocate_flats(
    rng: np.random.Generator,
    acc: Accommodation,
    moved_in: np.ndarray,
    moved_out: np.ndarray,
    size: np.ndarray,
) -> np.ndarray:
    """A municipal flat per household for its stay [moved_in, moved_out), never over capacity.

    Households are placed in order of moving in; a flat qualifies if it is valid for the whole
    stay and has enough free places on the move-in day. Occupants placed earlier all moved in
    before, so the flat can only empty afterwards: free places on the move-in day suffice for
    the whole stay. Among qualifying flats one is drawn ∝ free places; -1 when none has room.
    """
    flats = np.flatnonzero(acc.kind == "DEZENTRAL")
    occupied = np.zeros(len(flats), dtype=np.int64)
    leaving: list[tuple[int, int, int]] = []  # (moved_out, flat position, persons), a heap
    chosen = np.full(len(moved_in), -1, dtype=np.int64)
    for h in np.argsort(moved_in, kind="stable"):
        while leaving and leaving[0][0] <= moved_in[h]:
            _, position, persons = heapq.heappop(leaving)
            occupied[position] -= persons
        free = acc.capacity[flats] - occupied
        fits = (
            (acc.valid_from[flats] <= moved_in[h])
            & (acc.valid_to[flats] >= moved_out[h] - 1)
            & (free >= size[h])
        )
        if not fits.any():
            continue
        cum = np.cumsum(np.where(fits, free, 0))
        position = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
        chosen[h] = flats[position]
        occupied[position] += size[h]
        heapq.heappush(leaving, (int(moved_out[h]), position, int(size[h])))
    return chosen


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """The same day of the month `months` later, or that month's last day if it is shorter."""
    month = month_of_days(days) + months
    first = first_day_of_month(month)
    length = first_day_of_month(month + 1) - first
    return first + np.minimum(days - first_day_of_month(month_of_days(days)), length - 1)


def analog_from(stay_start: np.ndarray) -> np.ndarray:
    """First day with analogous benefits (§2 AsylbLG) for stays that began on `stay_start`.

    The waiting time ends on the same day of the month 18 (or 36) months later, clamped to the
    month's end: 2022-06-15 + 18 months = 2023-12-15. If the 18 months end by 26.02.2024 the
    person receives §2 benefits from then on and keeps them; otherwise the 36 months apply
    (2022-10-01: 18 months would end 2024-04-01, so 36 months, 2025-10-01). The month
    convention follows: the persons file is a month-end Stichtag and subsistence is paid for the
    month from that month-end state, so a person is ANALOG (and paid AL2) from the month in
    which the waiting time ends, e.g. from 2023-12 resp. 2025-10 in the two examples.
    """
    old_rule = add_months(stay_start, WAITING_MONTHS_OLD)
    kept = old_rule <= day_number(LAST_DAY_OF_OLD_RULE)
    return np.where(kept, old_rule, add_months(stay_start, WAITING_MONTHS_NEW))


def simulate(
    window: Window,
    persons: int,
    rng: np.random.Generator,
    params: Params,
    acc: Accommodation,
    social_spaces: list[str],
    case_fte: Decimal,
) -> Population:
    """Draw the population; `case_fte` (mean case-management FTE) sizes the case load."""
    year = window.year(0)
    exit_rate = params.rate("MONTHLY_EXIT_RATE", year)
    mean_size = float((HOUSEHOLD_SIZES * HOUSEHOLD_SIZE_P).sum())
    # 10 % more households than persons / mean size: rejected applicants leave earlier than the
    # base exit rate, which would otherwise leave the stock ~10 % below `persons`.
    households = max(1, round(1.1 * persons / mean_size))
    arrival, departure = _arrivals(rng, window, households, exit_rate)
    h = len(arrival)
    size = rng.choice(HOUSEHOLD_SIZES, size=h, p=HOUSEHOLD_SIZE_P)
    nationality = rng.choice(NATIONALITIES, size=h, p=NATIONALITY_P)
    ukrainian = nationality == "UKR"

    # Asylum procedure: most applied in the Land's reception centre before allocation.
    applied_before = rng.random(h) < 0.7
    application = np.where(
        applied_before,
        arrival - _uniform_int(rng, 20, 120, h),
        arrival + _uniform_int(rng, 5, 60, h),
    )
    decision = np.maximum(application + _uniform_int(rng, 90, 730, h), arrival + 30)
    recognised = rng.random(h) < params.rate("RECOGNITION_RATE", year)
    # Temporary protection (§24): residence permit from the start, Jobcenter after 1-3 months.
    application = np.where(ukrainian, arrival - _uniform_int(rng, 0, 20, h), application)
    decision = np.where(ukrainian, application, decision)
    recognised |= ukrainian
    switch = np.where(
        recognised, np.maximum(decision, arrival) + _uniform_int(rng, 30, 91, h), NO_EVENT
    )
    employed = np.where(
        recognised & (rng.random(h) < 0.3), switch + _uniform_int(rng, 180, 1000, h), NO_EVENT
    )

    # Half of the rejected leave (departure or onward move) within months of the decision.
    leaves = ~recognised & (rng.random(h) < 0.5)
    departure = np.where(
        leaves,
        np.maximum(np.minimum(departure, decision + _exit_days(rng, h, 0.06)), arrival + 30),
        departure,
    )
    move1 = arrival + _uniform_int(rng, 90, 900, h)
    move1 = np.where(recognised, np.minimum(move1, switch + _uniform_int(rng, 30, 365, h)), move1)
    second = np.where(rng.random(h) < 0.4, 1, 2)
    move2 = np.where(
        (second == 1) & (rng.random(h) < 0.5), move1 + _uniform_int(rng, 120, 720, h), NO_EVENT
    )
    gu_index = _choose_gu(rng, acc, arrival, np.minimum(move1, departure) - 1)
    # Households who never live in the flat (they leave first) need none.
    wants_flat = np.flatnonzero((second == 1) & (move1 < departure))
    flat_index = np.full(h, -1, dtype=np.int64)
    flat_index[wants_flat] = allocate_flats(
        rng,
        acc,
        move1[wants_flat],
        np.minimum(move2, departure)[wants_flat],
        size[wants_flat],
    )
    # No municipal flat free: the household finds private housing instead.
    no_room = (second == 1) & (move1 < departure) & (flat_index < 0)
    second = np.where(no_room, 2, second)
    move2 = np.where(no_room, NO_EVENT, move2)
    spaces = np.array(social_spaces)
    private_space = np.where(rng.random(h) < 0.015, "", spaces[rng.integers(0, len(spaces), h)])
    # Case management takes as many persons as its staff carries at the planned case load.
    case_share = min(1.0, params.rate("CASE_LOAD_PER_FTE", year) * float(case_fte) / persons)
    case_manager = np.where(
        rng.random(h) < case_share, CASE_MANAGERS[rng.integers(0, len(CASE_MANAGERS), h)], ""
    )

    # Persons: expand households, then draw who is who.
    hh = np.repeat(np.arange(h), size)
    n = len(hh)
    member = np.arange(n) - np.repeat(np.cumsum(size) - size, size)
    partner_adult = rng.random(h) < 0.85
    adult = (member == 0) | ((member == 1) & partner_adult[hh])
    age_years = np.where(
        adult,
        np.minimum(18 + rng.gamma(2.2, 7.0, n), 75),
        rng.uniform(0, 18, n),
    )
    birth = arrival[hh] - np.floor(age_years * 365.25).astype(np.int64)
    head_sex = np.where(rng.random(h) < 0.66, "m", "w")
    sex = np.where(rng.random(n) < 0.5, "m", "w")
    sex = np.where(member == 0, head_sex[hh], sex)
    sex = np.where((member == 1) & adult, np.where(head_sex[hh] == "m", "w", "m"), sex)
    sex = np.where(rng.random(n) < 0.002, "d", sex)

    return Population(
        person_id=np.arange(1, n + 1, dtype=np.int64),
        household=hh.astype(np.int64) + 1,
        member=member,
        household_size=size[hh],
        adult_partner=adult,
        couple=(partner_adult & (size >= 2))[hh],
        birth=birth,
        sex=sex,
        nationality=nationality[hh],
        arrival=arrival[hh],
        departure=departure[hh],
        application=application[hh],
        decision=decision[hh],
        recognised=recognised[hh],
        switch=switch[hh],
        employed=employed[hh],
        move1=move1[hh],
        move2=move2[hh],
        second_housing=second[hh],
        gu_index=gu_index[hh],
        flat_index=flat_index[hh],
        private_space=private_space[hh],
        case_manager=case_manager[hh],
    )


@dataclass
class State:
    """The population's state at one Stichtag, for the persons present (`index`)."""

    index: np.ndarray
    residence: np.ndarray  # index into RESIDENCE
    status_since: np.ndarray
    law: np.ndarray  # index into LAW
    analog: np.ndarray  # bool, meaningful where law == ASYLBLG
    housing: np.ndarray  # index into HOUSING
    accommodation: np.ndarray  # index into accommodation arrays, -1 for PRIVAT
    social_space: np.ndarray  # str, "" = unknown


def state_at(pop: Population, acc: Accommodation, day: int) -> State:
    i = np.flatnonzero((pop.arrival <= day) & (pop.departure > day))
    app, dec = pop.application[i], pop.decision[i]
    residence = np.select([day < app, day < dec, pop.recognised[i]], [0, 1, 3], default=2)
    status_since = np.select([residence == 0, residence == 1], [pop.arrival[i], app], default=dec)
    law = np.select([day >= pop.employed[i], day >= pop.switch[i]], [2, 1], default=0)
    # The stay in Germany begins with arrival or the earlier asylum application in the Land.
    analog = day >= analog_from(np.minimum(pop.arrival[i], app))
    housing = np.select(
        [day < pop.move1[i], day < pop.move2[i]], [0, pop.second_housing[i]], default=2
    )
    accommodation = np.select(
        [housing == 0, housing == 1], [pop.gu_index[i], pop.flat_index[i]], default=-1
    )
    social_space = np.where(
        accommodation >= 0, acc.social_space[np.maximum(accommodation, 0)], pop.private_space[i]
    )
    return State(i, residence, status_since, law, analog, housing, accommodation, social_space)


def admitted_in(pop: Population, first: int, last: int) -> int:
    """Persons who arrived between the days `first` and `last` (inclusive)."""
    return int(((pop.arrival >= first) & (pop.arrival <= last)).sum())


def age_at(birth: np.ndarray, day: int | np.ndarray) -> np.ndarray:
    """Completed years of age at `day` (one day or one per person), by calendar birthdays."""

    def parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = days.astype("datetime64[D]")
        year = x.astype("datetime64[Y]").astype(np.int64)
        month = x.astype("datetime64[M]").astype(np.int64)
        day_of_month = (x - x.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
        return year, (month - year * 12) * 32 + day_of_month

    by, b_md = parts(np.asarray(birth, dtype=np.int64))
    dy, d_md = parts(np.asarray(day, dtype=np.int64))
    return dy - by - (d_md < b_md).astype(np.int64)


def month_start_after(days: np.ndarray) -> np.ndarray:
    """First day of the month following each day."""
    return first_day_of_month(month_of_days(days) + 1)
