"""Turn generated frames into contract-shaped files: German money, dates, encodings, line ends."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import polars as pl

from ingest.contracts import Source


def money_text(cents: pl.Expr) -> pl.Expr:
    """Whole cents -> `1.234,56` / `-80,00` (thousands dots, decimal comma), exact."""
    a = cents.abs()
    euros = a // 100
    rest = (a % 100).cast(pl.String).str.zfill(2)
    groups = [
        (euros // 10**9),
        (euros // 10**6) % 1000,
        (euros // 10**3) % 1000,
        euros % 1000,
    ]
    text = groups[3].cast(pl.String)
    for level in (1, 2, 3):
        higher = euros // 10 ** (3 * level)
        head = groups[3 - level].cast(pl.String)
        padded_tail = text.str.zfill(3 + 4 * (level - 1))
        text = pl.when(higher > 0).then(head + "." + padded_tail).otherwise(text)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign + text + "," + rest


def dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def ids(numbers: np.ndarray, width: int) -> pl.Series:
    return pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)


def write_csv(
    frame: pl.DataFrame,
    source: Source,
    path: Path,
    *,
    encoding: str,
    crlf: bool,
    date_format: str = "%d.%m.%Y",
    trailer: str | None = None,
) -> int:
    """Write `frame` with the contract header; return the number of data rows.

    encoding: 'utf-8-sig' (UTF-8 with BOM), 'utf-8' or 'cp1252'. `trailer` is an extra last
    line (a totals line), written with the same line end.
    """
    # An optional column the frame does not carry is left out of the file (a city's persons
    # file has no Gemeinde column); a required one missing is an error of the caller.
    frame = frame.select(
        c.name for c in source.columns if c.name in frame.columns or c.required is not False
    )
    eol = "\r\n" if crlf else "\n"
    text = frame.write_csv(
        separator=";", line_terminator=eol, date_format=date_format, quote_style="necessary"
    )
    if trailer is not None:
        text += trailer + eol
    data = text.encode("utf-8" if encoding == "utf-8-sig" else encoding)
    if encoding == "utf-8-sig":
        data = codecs.BOM_UTF8 + data
    path.write_bytes(data)
    return frame.height
