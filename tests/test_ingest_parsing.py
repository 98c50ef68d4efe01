"""Format rules of single values and files: encodings, money, dates, booleans, codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from ingest import parsing
from ingest.encoding import decode
from ingest.errors import FileRejected


def _one(expr: pl.Expr, text: str | None):
    return pl.DataFrame({"v": [text]}, schema={"v": pl.String}).select(expr).item()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("-0,01", Decimal("-0.01")),
        ("-80,00", Decimal("-80.00")),
        ("1234,56", Decimal("1234.56")),
        ("12.345.678,90", Decimal("12345678.90")),
    ],
)
def test_german_money_is_exact(text, expected):
    value = _one(parsing.parse_money(pl.col("v")), text)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize("text", ["12,5", "1.23,45", "12.50", "1,234.56", "abc", "1.234"])
def test_money_not_in_contract_form_is_rejected(text):
    assert _one(parsing.parse_money(pl.col("v")), text) is None


def test_excel_numeric_money_cells_accepted_only_with_at_most_two_decimals():
    assert _one(parsing.parse_money(pl.col("v"), from_excel=True), "12.5") == Decimal("12.50")
    assert _one(parsing.parse_money(pl.col("v"), from_excel=True), "0.125") is None


@pytest.mark.parametrize(
    ("text", "from_excel", "expected"),
    [
        ("15.03.2024", False, dt.date(2024, 3, 15)),
        ("2024-03-15", False, dt.date(2024, 3, 15)),
        ("31.02.2024", False, None),
        ("1.3.2024", False, None),
        ("45306", False, None),
        ("45306", True, dt.date(2024, 1, 15)),  # Excel serial: 45306 days after 1899-12-30
        ("2024-01-15 00:00:00", True, dt.date(2024, 1, 15)),
    ],
)
def test_dates(text, from_excel, expected):
    assert _one(parsing.parse_date(pl.col("v"), from_excel=from_excel), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.2026", dt.date(2026, 10, 1)), ("2026-10", dt.date(2026, 10, 1)), ("13.2026", None)],
)
def test_months(text, expected):
    assert _one(parsing.parse_month(pl.col("v")), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("J", True),
        ("ja", True),
        ("1", True),
        ("N", False),
        ("Nein", False),
        ("0", False),
        ("y", None),
    ],
)
def test_booleans(text, expected):
    assert _one(parsing.parse_bool(pl.col("v")), text) is expected


def test_codes_match_case_insensitively_and_normalise():
    assert _one(parsing.parse_code(pl.col("v"), ("GU", "PRIVAT")), "privat") == "PRIVAT"
    assert _one(parsing.parse_code(pl.col("v"), ("GU", "PRIVAT")), "HOTEL") is None


def test_profile_shares_must_be_twelve_and_sum_to_one():
    twelve = "|".join(["0,1"] * 10 + ["0", "0"])
    assert _one(parsing.parse_profile(pl.col("v")), twelve) == twelve.replace(",", ".")
    assert _one(parsing.parse_profile(pl.col("v")), "|".join(["0,1"] * 12)) is None
    assert _one(parsing.parse_profile(pl.col("v")), "linear") == "LINEAR"


def test_cp1252_with_umlauts_is_detected():
    text, encoding = decode("Kostenstelle;Träger Größe\n".encode("cp1252"), "x.csv")
    assert encoding == "cp1252"
    assert text == "Kostenstelle;Träger Größe\n"


def test_utf8_with_bom_is_detected_and_bom_removed():
    text, encoding = decode(b"\xef\xbb\xbfPeriode;Betrag\n", "x.csv")
    assert (text, encoding) == ("Periode;Betrag\n", "utf-8-sig")


def test_plain_utf8():
    assert decode("Träger\n".encode(), "x.csv") == ("Träger\n", "utf-8")


def test_bytes_undefined_in_cp1252_are_rejected_with_line():
    with pytest.raises(FileRejected) as err:
        decode(b"Periode;Betrag\n10.2026;\x81\n", "fibu_ist_2026-10.csv")
    assert err.value.line == 2
    assert "fibu_ist_2026-10.csv" in str(err.value)
    assert "0x81" in str(err.value)


def test_money_keeps_cents_beyond_float_precision():
    # 18 significant digits: as a float this would round to 10000000000000000.0.
    value = _one(parsing.parse_money(pl.col("v")), "9.999.999.999.999.999,99")
    assert value == Decimal("9999999999999999.99")
