"""Language and integration courses: participations drawn per person, grouped into courses.

Every participation starts after its person's arrival month and ends (completed or dropped)
before the person's departure month, so a participant is in the persons stock of every month
the participation is active in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from ingest.contracts import KURSE, TEILNAHMEN
from ingest.generator.calendar import Window, first_day_of_month, month_of_days, to_date
from ingest.generator.model import Population, age_at
from ingest.generator.params import Params

# Kursart: (share of participations, months, planned teaching units, seats)
COURSE_TYPES = {
    "INT_ALLG": (0.52, 8, 700, 20),
    "INT_ALPHA": (0.12, 12, 1200, 16),
    "INT_FRAUEN": (0.07, 10, 1000, 16),
    "INT_ELTERN": (0.05, 10, 1000, 16),
    "INT_JUGEND": (0.05, 10, 1000, 18),
    "INT_INTENSIV": (0.06, 5, 430, 20),
    "BSK": (0.07, 4, 400, 18),
    "KOMMUNAL": (0.06, 3, 120, 15),
}
PROVIDERS = np.array(
    [
        "Volkshochschule Musterstadt",
        "Bildungszentrum Südstadt gGmbH",
        "Internationaler Bund",
        "Sprachinstitut Rheinauen",
        "Caritasverband Musterstadt e. V.",
    ]
)
EXAM_RESULTS = np.array(["B1", "A2", "UNTER_A2"])
# Courses co-financed by the municipality (childcare in parents' and women's courses).
CO_FINANCED_CENTS = {"INT_FRAUEN": 240_000, "INT_ELTERN": 240_000}


@dataclass
class Courses:
    course_id: np.ndarray  # int
    kind: np.ndarray
    provider: np.ndarray
    social_space: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    units: np.ndarray
    seats: np.ndarray
    cost: np.ndarray  # cents, -1 = none
    # participations
    p_course: np.ndarray  # index into course arrays
    p_person: np.ndarray  # Person_ID (number)
    p_entry: np.ndarray
    p_exit: np.ndarray  # final Austritt
    p_final: np.ndarray  # ABGESCHLOSSEN / ABGEBROCHEN
    p_break_from: np.ndarray  # interruption (NO break: both = -1)
    p_break_to: np.ndarray
    p_exam: np.ndarray  # "" = no exam
    p_exam_day: np.ndarray  # -1 = none
    p_attendance: np.ndarray  # share of units attended while active


def simulate_courses(
    window: Window,
    pop: Population,
    rng: np.random.Generator,
    params: Params,
    social_spaces: list[str],
) -> Courses:
    year = window.year(0)
    age = age_at(pop.birth, pop.arrival)
    takes = (age >= 16) & (age < 65) & (rng.random(len(pop)) < params.rate("COURSE_TAKE_UP", year))
    person = np.flatnonzero(takes)
    n = len(person)
    arrival, departure = pop.arrival[person], pop.departure[person]
    wanted = arrival + 30 + rng.exponential(150, n).astype(np.int64)
    entry_month = np.maximum(month_of_days(wanted), month_of_days(arrival) + 1)
    last_possible = month_of_days(departure) - 1  # must be over before the departure month
    first_wanted = window.first_month - 14
    keep = (
        (entry_month <= last_possible)
        & (entry_month >= first_wanted)
        & (entry_month < window.first_month + window.months)
    )
    person, entry_month, departure = person[keep], entry_month[keep], departure[keep]
    n = len(person)

    kinds = np.array(list(COURSE_TYPES))
    kind = rng.choice(kinds, size=n, p=[v[0] for v in COURSE_TYPES.values()])
    young = age_at(pop.birth[person], first_day_of_month(entry_month)) < 27
    kind = np.where((kind == "INT_JUGEND") & ~young, "INT_ALLG", kind)

    # Group participants of the same month and type into courses of at most `seats`.
    order = np.lexsort((rng.random(n), kind, entry_month))
    person, entry_month, kind, departure = (
        person[order],
        entry_month[order],
        kind[order],
        departure[order],
    )
    seats = np.array([COURSE_TYPES[t][3] for t in kind])
    group_start = np.r_[True, (entry_month[1:] != entry_month[:-1]) | (kind[1:] != kind[:-1])]
    group_id = np.cumsum(group_start) - 1
    rank = np.arange(n) - np.flatnonzero(group_start)[group_id]
    course_key = group_id * 1000 + rank // seats
    _, p_course = np.unique(course_key, return_inverse=True)
    c_first = np.flatnonzero(np.r_[True, p_course[1:] != p_course[:-1]])
    c = len(c_first)
    c_kind = kind[c_first]
    months_long = np.array([COURSE_TYPES[t][1] for t in c_kind])
    begin = first_day_of_month(entry_month[c_first]) + rng.integers(0, 10, c)
    end = first_day_of_month(entry_month[c_first] + months_long) + rng.integers(0, 10, c) - 1
    units = np.array([COURSE_TYPES[t][2] for t in c_kind])
    cost = np.array([CO_FINANCED_CENTS.get(t, -1) for t in c_kind], dtype=np.int64)
    cost = np.where(c_kind == "KOMMUNAL", units * params.cents("KOMMUNAL_COST_PER_UE", year), cost)

    late = rng.random(n) < 0.15
    entry = begin[p_course] + np.where(late, rng.integers(7, 29, n), 0)
    planned_end = end[p_course]
    must_leave = first_day_of_month(month_of_days(departure)) - 1 - rng.integers(0, 15, n)
    dropout = rng.random(n) < 0.18
    drop_day = entry + np.floor(rng.uniform(0.1, 0.9, n) * (planned_end - entry)).astype(np.int64)
    exit_day = np.where(dropout, drop_day, planned_end)
    forced = exit_day > must_leave
    exit_day = np.minimum(exit_day, must_leave)
    final = np.where(dropout | forced, "ABGEBROCHEN", "ABGESCHLOSSEN")
    valid = exit_day > entry
    interrupted = valid & (final == "ABGESCHLOSSEN") & (rng.random(n) < 0.08)
    break_from = np.where(interrupted, entry + (exit_day - entry) // 3, -1)
    break_to = np.where(interrupted, break_from + rng.integers(20, 60, n), -1)

    integration = np.char.startswith(c_kind[p_course].astype(str), "INT_")
    sits_exam = integration & (final == "ABGESCHLOSSEN")
    absent = rng.random(n) < 0.08
    b1_share = np.where(c_kind[p_course] == "INT_ALPHA", 0.25, 0.5)
    u = rng.random(n)
    result = np.where(
        u < b1_share, "B1", np.where(u < b1_share + (1 - b1_share) * 0.78, "A2", "UNTER_A2")
    )
    exam = np.where(sits_exam, np.where(absent, "NICHT_TEILGENOMMEN", result), "")
    exam_day = np.where(sits_exam & ~absent, exit_day - rng.integers(3, 15, n), -1)
    exam_day = np.where(exam_day >= 0, np.maximum(exam_day, entry + 1), -1)

    return Courses(
        course_id=np.arange(1, c + 1),
        kind=c_kind,
        provider=PROVIDERS[rng.integers(0, len(PROVIDERS), c)],
        social_space=np.array(social_spaces)[rng.integers(0, len(social_spaces), c)],
        begin=begin,
        end=end,
        units=units,
        seats=np.array([COURSE_TYPES[t][3] for t in c_kind]),
        cost=cost,
        p_course=p_course[valid],
        p_person=pop.person_id[person[valid]],
        p_entry=entry[valid],
        p_exit=exit_day[valid],
        p_final=final[valid],
        p_break_from=break_from[valid],
        p_break_to=break_to[valid],
        p_exam=exam[valid],
        p_exam_day=exam_day[valid],
        p_attendance=rng.uniform(0.75, 1.0, n)[valid],
    )


def municipal_cost(courses: Courses, window: Window, k: int) -> int:
    """Cents the municipality books in month k: each course's cost spread over its months."""
    first, last = window.first_day(k), window.last_day(k)
    running = (courses.begin <= last) & (courses.end >= first) & (courses.cost > 0)
    span = month_of_days(courses.end) - month_of_days(courses.begin) + 1
    return int((courses.cost[running] // span[running]).sum())


def snapshot(courses: Courses, window: Window, k: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Courses running in month k and participations active in it, as of the month end."""
    first, last = window.first_day(k), window.last_day(k)
    ci = np.flatnonzero((courses.begin <= last) & (courses.end >= first))
    kurse = pl.DataFrame(
        {
            "Kurs_ID": courses.course_id[ci],
            "Kursart": courses.kind[ci],
            "Traeger": courses.provider[ci],
            "Sozialraum": courses.social_space[ci],
            "Beginn": courses.begin[ci],
            "Ende": courses.end[ci],
            "UE_geplant": courses.units[ci],
            "Plaetze": courses.seats[ci],
            "Kosten_Kommune": courses.cost[ci],
        }
    )
    pi = np.flatnonzero((courses.p_entry <= last) & (courses.p_exit >= first))
    pi = pi[np.lexsort((courses.p_person[pi], courses.p_course[pi]))]
    entry, exit_day = courses.p_entry[pi], courses.p_exit[pi]
    ended = exit_day <= last
    on_break = (courses.p_break_from[pi] <= last) & (courses.p_break_to[pi] > last)
    status = np.where(ended, courses.p_final[pi], np.where(on_break, "UNTERBROCHEN", "LAUFEND"))
    course = courses.p_course[pi]
    span = np.maximum(courses.end[course] - courses.begin[course], 1)
    attended_days = np.minimum(last, exit_day) - entry
    units = np.floor(
        courses.units[course] * courses.p_attendance[pi] * np.clip(attended_days / span, 0, 1)
    ).astype(np.int64)
    exam_day = courses.p_exam_day[pi]
    exam_known = (courses.p_exam[pi] != "") & ended
    exam_known |= (exam_day >= 0) & (exam_day <= last)
    teilnahmen = pl.DataFrame(
        {
            "Kurs_ID": courses.course_id[course],
            "Person_ID": courses.p_person[pi],
            "Eintritt": entry,
            "Austritt": np.where(ended, exit_day, -1),
            "Status": status,
            "UE_besucht": units,
            "Pruefung": np.where(exam_known, courses.p_exam[pi], ""),
            "Pruefungsdatum": np.where(exam_known & (exam_day >= 0), exam_day, -1),
        }
    )
    return kurse, teilnahmen


def write_workbook(
    path: Path,
    kurse: pl.DataFrame,
    teilnahmen: pl.DataFrame,
    *,
    text_dates: bool,
    created: dt.datetime,
    person_width: int,
    course_width: int,
) -> None:
    """Write both sheets; dates as Excel date cells, or as text dd.mm.yyyy when `text_dates`."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # Fixed metadata so the same seed gives byte-identical workbooks.
    wb.set_properties({"created": created, "author": "kim-haushalt generator", "title": path.stem})
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy"})
    money_fmt = wb.add_format({"num_format": "#,##0.00"})

    def cell_date(ws, r: int, col: int, day: int) -> None:
        if day < 0:
            return
        d = to_date(day)
        if text_dates:
            ws.write_string(r, col, d.strftime("%d.%m.%Y"))
        else:
            ws.write_datetime(r, col, dt.datetime(d.year, d.month, d.day), date_fmt)

    ws = wb.add_worksheet(KURSE.sheet)
    ws.write_row(0, 0, KURSE.column_names)
    for r, row in enumerate(kurse.iter_rows(named=True), start=1):
        ws.write_string(r, 0, str(row["Kurs_ID"]).zfill(course_width))
        ws.write_string(r, 1, row["Kursart"])
        ws.write_string(r, 2, row["Traeger"])
        ws.write_string(r, 3, row["Sozialraum"])
        cell_date(ws, r, 4, row["Beginn"])
        cell_date(ws, r, 5, row["Ende"])
        ws.write_number(r, 6, row["UE_geplant"])
        ws.write_number(r, 7, row["Plaetze"])
        if row["Kosten_Kommune"] >= 0:
            ws.write_number(r, 8, row["Kosten_Kommune"] / 100, money_fmt)

    ws = wb.add_worksheet(TEILNAHMEN.sheet)
    ws.write_row(0, 0, TEILNAHMEN.column_names)
    for r, row in enumerate(teilnahmen.iter_rows(named=True), start=1):
        ws.write_string(r, 0, str(row["Kurs_ID"]).zfill(course_width))
        ws.write_string(r, 1, str(row["Person_ID"]).zfill(person_width))
        cell_date(ws, r, 2, row["Eintritt"])
        cell_date(ws, r, 3, row["Austritt"])
        ws.write_string(r, 4, row["Status"])
        ws.write_number(r, 5, row["UE_besucht"])
        if row["Pruefung"]:
            ws.write_string(r, 6, row["Pruefung"])
        cell_date(ws, r, 7, row["Pruefungsdatum"])
    wb.close()
