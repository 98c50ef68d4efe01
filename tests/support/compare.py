"""The marts of two warehouses (DuckDB and PostgreSQL) compared row by row: money to the cent,
rates to 1e-9, everything else exactly. Used by the dbt-only and the pipeline comparisons."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg


def compared_tables(warehouse: Path) -> list[str]:
    """The tables of the marts and the intermediate tables (the planning intermediates; the other
    intermediates are views) in a DuckDB file, as schema.table, sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            name
            for (name,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
                " where table_schema in ('marts', 'intermediate')"
                " and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]


def duckdb_rows(warehouse: Path, table: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = con.execute(f"select * from {table}")
        return [d[0] for d in result.description], result.fetchall()


def postgres_rows(url: str, table: str) -> tuple[list[str], list[tuple]]:
    """Rows of `table` (schema.table; a bare name is a mart) on the server."""
    qualified = table if "." in table else f"marts.{table}"
    with psycopg.connect(url) as pg, pg.cursor() as cur:
        cur.execute(f"select * from {qualified}")
        return [d.name for d in cur.description], cur.fetchall()


def sort_key(row: tuple) -> tuple:
    """Sorted in Python: the two servers collate text differently."""
    return tuple((value is None, str(value)) for value in row)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a.quantize(Decimal("0.01")) == b.quantize(Decimal("0.01"))
    if {type(a), type(b)} == {int, Decimal}:
        # an intermediate's count or cents: the engines infer integer or numeric; the marts'
        # column types are compared on their own (test_postgres.test_mart_column_types_equal)
        return Decimal(a) == Decimal(b)
    return type(a) is type(b) and a == b


def compare_marts(warehouse: Path, url: str) -> dict[str, int]:
    """Assert every table of compared_tables equals the server's; rows compared per table (a
    mart by its name, an intermediate table as intermediate.<name>)."""
    compared = {}
    for table in compared_tables(warehouse):
        duck_columns, duck_rows = duckdb_rows(warehouse, table)
        pg_columns, pg_rows = postgres_rows(url, table)
        mart = table.removeprefix("marts.")
        assert pg_columns == duck_columns, mart
        assert len(pg_rows) == len(duck_rows), mart
        for duck_row, pg_row in zip(
            sorted(duck_rows, key=sort_key), sorted(pg_rows, key=sort_key), strict=True
        ):
            differing = [
                (column, d, p)
                for column, d, p in zip(duck_columns, duck_row, pg_row, strict=True)
                if not same(d, p)
            ]
            assert not differing, f"{mart}: {differing} in {duck_row}"
        compared[mart] = len(duck_rows)
    print("rows compared per mart:", compared)
    return compared
