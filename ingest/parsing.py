"""Parse contract kinds from text, vectorised in polars, never through float.

Each parser takes a string expression (already trimmed, empty = null) and returns the typed
value, or null when the text does not match the contract form. The validator compares "text
present" with "value null" to find parse failures, so a parser must never return null for a
valid non-empty input.

XLSX cells arrive as strings too (fastexcel with dtypes='string'): numeric cells look like `600`
or `12.5`, date cells like `2024-01-15 00:00:00`. `from_excel=True` accepts those forms as well.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import polars as pl

MONEY_DE = r"^-?(\d{1,3}(\.\d{3})+|\d+),\d{2}$"
# Plain numbers of Excel numeric cells: at most two decimals, else the cents are not exact.
MONEY_PLAIN = r"^-?\d+(\.\d{1,2})?$"
DATE_DE = r"^\d{2}\.\d{2}\.\d{4}$"
DATE_ISO = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_MIDNIGHT = r"^\d{4}-\d{2}-\d{2}[ T]00:00:00(\.0+)?$"
EXCEL_SERIAL = r"^\d{1,6}$"
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 with Excel's 1900 leap-year bug
MONEY = pl.Decimal(18, 2)

TRUE_WORDS = ("j", "ja", "1")
FALSE_WORDS = ("n", "nein", "0")


def clean_text(e: pl.Expr) -> pl.Expr:
    """Trim; empty string becomes null (contract: empty field = missing value)."""
    t = e.str.strip_chars()
    return pl.when(t == "").then(None).otherwise(t)


def parse_money(e: pl.Expr, *, from_excel: bool = False) -> pl.Expr:
    german = e.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    out = pl.when(e.str.contains(MONEY_DE)).then(german)
    if from_excel:
        out = out.when(e.str.contains(MONEY_PLAIN)).then(e)
    return out.otherwise(None).cast(MONEY, strict=False)


def parse_date(e: pl.Expr, *, from_excel: bool = False) -> pl.Expr:
    out = (
        pl.when(e.str.contains(DATE_DE))
        .then(e.str.to_date("%d.%m.%Y", strict=False))
        .when(e.str.contains(DATE_ISO))
        .then(e.str.to_date("%Y-%m-%d", strict=False))
    )
    if from_excel:
        serial = e.cast(pl.Int64, strict=False)
        out = (
            out.when(e.str.contains(DATETIME_MIDNIGHT))
            .then(e.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
            .when(e.str.contains(EXCEL_SERIAL) & (serial > 60))
            .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial))
        )
    return out.otherwise(None).cast(pl.Date)


def parse_month(e: pl.Expr) -> pl.Expr:
    """mm.yyyy or yyyy-mm -> first day of the month."""
    return (
        pl.when(e.str.contains(r"^\d{2}\.\d{4}$"))
        .then(("01." + e).str.to_date("%d.%m.%Y", strict=False))
        .when(e.str.contains(r"^\d{4}-\d{2}$"))
        .then((e + "-01").str.to_date("%Y-%m-%d", strict=False))
        .otherwise(None)
        .cast(pl.Date)
    )


def parse_year(e: pl.Expr) -> pl.Expr:
    return pl.when(e.str.contains(r"^\d{4}$")).then(e.cast(pl.Int32, strict=False)).otherwise(None)


def parse_int(e: pl.Expr) -> pl.Expr:
    ok = e.str.contains(r"^-?\d{1,9}$")
    return pl.when(ok).then(e.cast(pl.Int32, strict=False)).otherwise(None)


def parse_bool(e: pl.Expr) -> pl.Expr:
    low = e.str.to_lowercase()
    return (
        pl.when(low.is_in(TRUE_WORDS))
        .then(True)
        .when(low.is_in(FALSE_WORDS))
        .then(False)
        .otherwise(None)
        .cast(pl.Boolean)
    )


def parse_code(e: pl.Expr, codes: tuple[str, ...]) -> pl.Expr:
    """Case-insensitive match, normalised to the contract spelling of the code."""
    mapping = {c.lower(): c for c in codes}
    return e.str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.String)


def parse_profile(e: pl.Expr) -> pl.Expr:
    """LINEAR / Q / JAN, or 12 `|`-separated shares summing to 1 (normalised to decimal points).

    Shares like 1/12 cannot be written exactly, so the sum may differ from 1 by at most 0.001.
    """
    upper = e.str.to_uppercase()
    shares = e.str.replace_all(",", ".", literal=True)
    parts = shares.str.split("|")
    share_ok = parts.list.eval(pl.element().str.contains(r"^\d+(\.\d+)?$")).list.all()
    total = parts.list.eval(pl.element().cast(pl.Decimal(18, 9), strict=False)).list.sum()
    is_shares = (parts.list.len() == 12) & share_ok & ((total - 1).abs() <= 0.001)
    return (
        pl.when(upper.is_in(("LINEAR", "Q", "JAN")))
        .then(upper)
        .when(is_shares.fill_null(False))
        .then(shares)
        .otherwise(None)
    )


def parse_money_value(text: str) -> Decimal | None:
    """Scalar German money parse for single values (totals lines); None if not parseable."""
    t = text.strip()
    if re.fullmatch(MONEY_DE, t):
        return Decimal(t.replace(".", "").replace(",", "."))
    if re.fullmatch(MONEY_PLAIN, t):
        return Decimal(t)
    return None


def format_money(value: Decimal | int) -> str:
    """Decimal -> German text `1.234,56` for messages."""
    d = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if d < 0 else ""
    whole, cents = f"{abs(d):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{cents}"
