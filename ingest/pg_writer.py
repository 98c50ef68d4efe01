"""The PostgreSQL ingest path (docs/postgres.md): the raw tables, with the contract's column types
(ingest/contracts.py, the same DDL as DuckDB's), filled by COPY from Arrow record batches.

Ingest validates, pseudonymises and quarantines into the embedded DuckDB file as always; this
writer then copies the raw tables to the shared server. One transaction per call: a failed copy
leaves the server's raw tables as they were, and readers see the old rows until the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urlparse

import duckdb
import psycopg

from ingest.contracts import SOURCES, raw_table_ddl
from ingest.warehouse import TEILERGEBNISPLAN_DDL

RAW_TABLES = tuple(f"raw.{source.raw_table}" for source in SOURCES.values()) + (
    "raw.teilergebnisplan",
)


def dbt_env(url: str) -> dict[str, str]:
    """The environment of dbt's `postgres` target (dbt/profiles.yml) for a
    postgresql://user:password@host:port/database URL (`?host=/dir` for a Unix socket)."""
    parts = urlparse(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"KIM_WAREHOUSE_URL: postgresql://… erwartet, erhalten: {parts.scheme}://")
    socket_dir = parse_qs(parts.query).get("host", [None])[0]
    return {
        "KIM_DBT_TARGET": "postgres",
        "KIM_PG_HOST": socket_dir or parts.hostname or "localhost",
        "KIM_PG_PORT": str(parts.port or 5432),
        "KIM_PG_USER": unquote(parts.username or ""),
        "KIM_PG_PASSWORD": unquote(parts.password or ""),
        "KIM_PG_DATABASE": parts.path.lstrip("/") or "postgres",
    }


def ensure_raw_schema(pg: psycopg.Connection) -> None:
    """Schema `raw` and its tables, typed by the contract (idempotent)."""
    pg.execute("create schema if not exists raw")
    for source in SOURCES.values():
        pg.execute(raw_table_ddl(source))
    pg.execute(TEILERGEBNISPLAN_DDL)


def copy_raw_tables(
    duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, tables: Iterable[str] = RAW_TABLES
) -> dict[str, int]:
    """Replace the server's raw tables by the DuckDB ones, in one transaction; rows per table."""
    copied = {}
    with pg.transaction():
        ensure_raw_schema(pg)
        for table in tables:
            copied[table] = _replace_table(duck, pg, table)
    return copied


def _replace_table(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: str) -> int:
    reader = duck.sql(f"select * from {table}").to_arrow_reader()
    columns = ", ".join(reader.schema.names)
    pg.execute(f"delete from {table}")  # not TRUNCATE: that would block readers until commit
    rows = 0
    with pg.cursor().copy(f"copy {table} ({columns}) from stdin") as copy:
        for batch in reader:
            for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                copy.write_row(row)
            rows += batch.num_rows
    return rows
