"""Month arithmetic on day numbers (days since 1970-01-01), the generator's date representation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def month_of_days(days: np.ndarray) -> np.ndarray:
    """Month number (months since 1970-01) of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def first_day_of_month(month_numbers: np.ndarray | int) -> np.ndarray:
    return (
        np.asarray(month_numbers, dtype=np.int64)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


@dataclass(frozen=True)
class Window:
    """The generated months: `months` consecutive months from `start` (YYYY-MM)."""

    start: str
    months: int

    @property
    def first_month(self) -> int:
        return int(np.datetime64(self.start, "M").astype(np.int64))

    def month_number(self, k: int) -> int:
        return self.first_month + k

    def label(self, k: int) -> str:
        return str(np.datetime64(self.month_number(k), "M"))

    def first_day(self, k: int) -> int:
        return int(first_day_of_month(self.month_number(k)))

    def last_day(self, k: int) -> int:
        return int(first_day_of_month(self.month_number(k) + 1)) - 1

    def year(self, k: int) -> int:
        return int(self.label(k)[:4])

    def month_of_year(self, k: int) -> int:
        return int(self.label(k)[5:7])

    def years(self) -> list[int]:
        return sorted({self.year(k) for k in range(self.months)})
