"""Printed precision has one statement: the `decimals` column of the indicator catalogue
(dbt/seeds/indicators.csv), read by dbt's macro `displayed` and by reports/formatting.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from kim_settings import SEEDS_DIR
from reports.formatting import (
    COUNT,
    MONEY,
    NUMBER,
    PERCENT,
    RATIO,
    format_cell,
    printed_decimals,
)

HEADER = "indicator_id,unit,decimals\n"


def catalogue(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "indicators.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_decimals_per_kind_come_from_the_catalogue(tmp_path):
    rows = "A,Anzahl,0\nB,€,2\nC,%,1\nD,Tage,2\nE,Fälle je VZÄ,2\n"
    # Tage and Fälle je VZÄ are both NUMBER; RATIO = PERCENT's 1 + 2 (a fraction shown in %)
    assert printed_decimals(catalogue(tmp_path, rows)) == {
        COUNT: 0, MONEY: 2, PERCENT: 1, NUMBER: 2, RATIO: 3,
    }  # fmt: skip


def test_one_kind_two_precisions_is_refused(tmp_path):
    rows = "A,Anzahl,0\nB,€,2\nC,%,1\nD,Tage,2\nE,Fälle je VZÄ,1\n"
    # Tage and Fälle je VZÄ are one kind (NUMBER): 2 and 1 decimals cannot both be printed
    with pytest.raises(ValueError, match=r"E \(Fälle je VZÄ\) hat 1 .* D \(Tage\) derselben Art 2"):
        printed_decimals(catalogue(tmp_path, rows))
    with pytest.raises(ValueError, match="keine Kennzahl der Art"):
        printed_decimals(catalogue(tmp_path, "A,Anzahl,0\nB,€,2\nC,%,1\n"))


def test_the_shipped_catalogue_keeps_the_printed_precision():
    # as printed before the catalogue held it: counts 0, euros 2, percent and others 1
    assert printed_decimals(SEEDS_DIR / "indicators.csv") == {
        COUNT: 0, MONEY: 2, PERCENT: 1, NUMBER: 1, RATIO: 3,
    }  # fmt: skip
    # 1234.5 → 1.235 (half up); 0.12345 as a ratio = 12.345 % → 12,3 %; 2.25 → 2,3
    assert format_cell(1234.5, COUNT) == "1.235"
    assert format_cell(1234.565, MONEY) == "1.234,57 €"
    assert format_cell(0.12345, RATIO) == "12,3 %"
    assert format_cell(12.25, PERCENT) == "12,3 %"
    assert format_cell(2.25, NUMBER) == "2,3"
