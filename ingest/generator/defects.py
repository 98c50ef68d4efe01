"""Known defects for `defects=True`: each one is a row the ingest must quarantine or a totals
line it must reject, recorded with the line number the ingest will report.

All defects go into one month (`defect_month`) so a test can expect exactly that month to fail.
Defective payment lines are appended after the clean ones and never enter the ledger, so the
remaining lines still reconcile to the cent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

DEFECT_MONTH_INDEX = 5  # the 6th month, or the last one of shorter runs
ORPHAN_REVERSAL_TARGETS = (17, 42)  # Buchungs_IDs below the counter's start: never booked


@dataclass(frozen=True)
class Defect:
    file: str
    line: int  # CSV: header = 1, first data row = 2
    rule: str
    column: str
    value: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def defect_month(months: int) -> int:
    if months < 3:
        raise ValueError("defects need at least 3 months (none may fall into the first two)")
    return min(DEFECT_MONTH_INDEX, months - 1)


def _set(frame: pl.DataFrame, row: int, column: str, value: str) -> pl.DataFrame:
    hit = pl.int_range(pl.len()) == row
    return frame.with_columns(
        pl.when(hit).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )


def _pick(rng: np.random.Generator, mask: np.ndarray, taken: set[int]) -> int:
    rows = [r for r in np.flatnonzero(mask) if r not in taken]
    if not rows:
        raise ValueError("too few persons to place the defects; raise `persons`")
    row = int(rows[rng.integers(0, len(rows))])
    taken.add(row)
    return row


def person_defects(
    frame: pl.DataFrame, file: str, rng: np.random.Generator
) -> tuple[pl.DataFrame, list[Defect]]:
    """Three wrong codes and two unknown social-space keys, each in a different row."""
    taken: set[int] = set()
    edits = [
        ("Aufenthaltsstatus", "GESTATTUNG", "ASYL", "code_not_in_list"),
        ("Rechtskreis", "SGB2", "SGB 2", "code_not_in_list"),
        ("Unterbringung", "PRIVAT", "PRIVATWOHNUNG", "code_not_in_list"),
    ]
    defects = []
    for column, original, wrong, rule in edits:
        row = _pick(rng, (frame[column] == original).to_numpy(), taken)
        frame = _set(frame, row, column, wrong)
        defects.append(Defect(file, row + 2, rule, column, wrong))
    for wrong in ("SR99", "SR00"):
        row = _pick(rng, frame["Sozialraum"].is_not_null().to_numpy(), taken)
        frame = _set(frame, row, "Sozialraum", wrong)
        defects.append(Defect(file, row + 2, "unknown_social_space", "Sozialraum", wrong))
    return frame, defects


def payment_defects(
    clean: pl.DataFrame, file: str, rng: np.random.Generator, new_ids: np.ndarray, width: int
) -> tuple[pl.DataFrame, list[Defect]]:
    """Lines to append to the (internal) payment frame `clean`: 2 duplicate IDs, 2 orphan reversals.

    `new_ids` are two fresh Buchungs_IDs for the orphan reversals.
    """
    subsistence = np.flatnonzero(clean["benefit_type"].is_in(["GL3", "AL2"]).to_numpy())
    health = np.flatnonzero((clean["benefit_type"] == "KR4").to_numpy())
    a = int(subsistence[rng.integers(0, len(subsistence))])
    b = int(health[rng.integers(0, len(health))])
    c = int(subsistence[rng.integers(0, len(subsistence))])
    # An exact repeat of one line, and a different line that reuses another line's ID.
    dup_exact = clean[a]
    dup_other = clean[b].with_columns(
        booking_id=pl.lit(int(clean["booking_id"][c]), dtype=pl.Int64)
    )
    orphans = clean[[a, b]].with_columns(
        booking_id=pl.Series(new_ids),
        cents=-pl.col("cents"),
        reverses=pl.Series(list(ORPHAN_REVERSAL_TARGETS), dtype=pl.Int64),
    )
    extra = pl.concat([dup_exact, dup_other, orphans])
    first_line = clean.height + 2
    defects = [
        Defect(
            file,
            first_line + i,
            "duplicate_key",
            "Buchungs_ID",
            str(extra["booking_id"][i]).zfill(width),
        )
        for i in range(2)
    ] + [
        Defect(
            file, first_line + 2 + i, "reversal_without_original", "Storno_von", str(t).zfill(width)
        )
        for i, t in enumerate(ORPHAN_REVERSAL_TARGETS)
    ]
    return extra, defects
