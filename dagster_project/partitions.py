"""Monthly partitions and the helpers that turn a Dagster context into the months to process."""

from __future__ import annotations

from dagster import MonthlyPartitionsDefinition

from kim_settings import FIRST_MONTH, add_months, month_key, month_range

__all__ = [
    "FIRST_MONTH",
    "add_months",
    "month_key",
    "month_range",
    "monthly_partitions",
    "months_of",
]

monthly_partitions = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m")


def months_of(context) -> list[str]:
    """The months of the partition (or partition range, for single-run backfills) in a step."""
    window = context.partition_time_window
    return month_range(month_key(window.start), add_months(month_key(window.end), -1))


def is_quarter_end(month: str) -> bool:
    return int(month[5:7]) % 3 == 0


def quarter_label(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"
