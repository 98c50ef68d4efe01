"""Monthly partitions and the helpers that turn a Dagster context into the months to process."""

from __future__ import annotations

import os
from datetime import date

from dagster import MonthlyPartitionsDefinition

# First data month (the sample municipality starts in November 2023). A municipality whose data
# starts elsewhere sets KIM_FIRST_MONTH=YYYY-MM.
FIRST_MONTH = os.environ.get("KIM_FIRST_MONTH", "2023-11")

monthly_partitions = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m")


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both inclusive ('YYYY-MM')."""
    months, current = [], first
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def months_of(context) -> list[str]:
    """The months of the partition (or partition range, for single-run backfills) in a step."""
    window = context.partition_time_window
    return month_range(month_key(window.start), add_months(month_key(window.end), -1))


def is_quarter_end(month: str) -> bool:
    return int(month[5:7]) % 3 == 0


def quarter_label(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"
