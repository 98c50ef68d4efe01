"""The PostgreSQL target (docs/postgres.md): the one thin writer between the pipeline's local
DuckDB work file and the shared server.

Ingest validates, pseudonymises and quarantines into the DuckDB file as always; `copy_raw_tables`
then copies the raw rows of the run's months to the server by bulk COPY of CSV chunks written
by Arrow (the contract's column types on both sides, the same DDL). After dbt has built the
marts on the server, `mirror_marts` copies the marts and reference tables back into the work
file, so the mart gates and the reports read exactly the server's figures with their one SQL
dialect. One transaction per call: a failed copy leaves the target's tables as they were.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlparse

import duckdb
import pyarrow.csv

from ingest.contracts import SOURCES, raw_table_ddl
from ingest.warehouse import TEILERGEBNISPLAN_DDL
from kim_settings import add_months

if TYPE_CHECKING:  # psycopg comes with the `postgres` extra, needed only with a server
    import psycopg

WAREHOUSE_URL_ENV = "KIM_WAREHOUSE_URL"
RAW_TABLES = tuple(f"raw.{source.raw_table}" for source in SOURCES.values()) + (
    "raw.teilergebnisplan",
)
# What the mart gates and the reports read from the server (reports/, expectations/gates.py).
MIRRORED_SCHEMAS = ("marts", "reference")
# PostgreSQL column types (format_type) as DuckDB types; anything else stops the mirror.
DUCKDB_TYPES = {
    "character varying": "VARCHAR",
    "text": "VARCHAR",
    "double precision": "DOUBLE",
    "boolean": "BOOLEAN",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
}
CHUNK_ROWS = 100_000


def warehouse_url() -> str | None:
    """The server the pipeline writes to (KIM_WAREHOUSE_URL); None: the DuckDB file alone."""
    return os.environ.get(WAREHOUSE_URL_ENV) or None


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
    duck: duckdb.DuckDBPyConnection,
    pg: psycopg.Connection,
    tables: Iterable[str] = RAW_TABLES,
    months: list[str] | None = None,
) -> dict[str, int]:
    """Replace the server's raw rows by the DuckDB ones, in one transaction; rows per table.
    With `months` (YYYY-MM) only their rows (monthly files) and their years' rows (yearly
    files): a monthly run copies its month, not the history."""
    copied = {}
    with pg.transaction():
        ensure_raw_schema(pg)
        for table in tables:
            where, params = _run_rows(table, months)
            copied[table] = _replace_rows(duck, pg, table, where, params)
    return copied


def _run_rows(table: str, months: list[str] | None) -> tuple[str, list]:
    """The filter of a run's rows in `table` (the same on both engines): the period column
    ingest replaces a file's rows by (ingest/load.py)."""
    source = SOURCES.get(table.removeprefix("raw."))
    if months is None or source is None:  # the Teilergebnisplan is loaded on its own, whole
        return "true", []
    if source.period == "year":
        years = sorted({int(m[:4]) for m in months})
        return f"jahr in ({', '.join(map(str, years))})", []
    start, end = months[0] + "-01", add_months(months[-1], 1) + "-01"
    return "period_month >= cast(%s as date) and period_month < cast(%s as date)", [start, end]


def _replace_rows(
    duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: str, where: str, params: list
) -> int:
    reader = duck.sql(
        f"select * from {table} where {where.replace('%s', '?')}", params=params
    ).to_arrow_reader(CHUNK_ROWS)
    columns = ", ".join(reader.schema.names)
    pg.execute(f"delete from {table} where {where}", params)  # not TRUNCATE: blocks readers
    rows = 0
    with pg.cursor().copy(f"copy {table} ({columns}) from stdin (format csv)") as copy:
        for batch in reader:
            # Arrow's CSV: NULL is an empty field, an empty string "" (COPY's CSV rules);
            # DECIMAL and DATE in their canonical text, read back exactly.
            chunk = io.BytesIO()
            pyarrow.csv.write_csv(batch, chunk, pyarrow.csv.WriteOptions(include_header=False))
            copy.write(chunk.getvalue())
            rows += batch.num_rows
    return rows


def mirror_marts(
    pg: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    schemas: Iterable[str] = MIRRORED_SCHEMAS,
) -> dict[str, int]:
    """Replace the work file's tables of `schemas` by the server's, in one DuckDB transaction;
    rows per table. Bulk: COPY TO STDOUT as CSV, read by DuckDB with the server's types."""
    tables = _server_tables(pg, schemas)
    mirrored = {}
    with tempfile.TemporaryDirectory() as scratch:
        duck.begin()
        try:
            for schema in schemas:
                duck.execute(f"create schema if not exists {schema}")
            for table, columns in tables.items():
                mirrored[table] = _mirror_table(pg, duck, table, columns, Path(scratch))
            duck.commit()
        except BaseException:
            duck.rollback()
            raise
    return mirrored


def _server_tables(pg: psycopg.Connection, schemas: Iterable[str]) -> dict[str, list[tuple]]:
    """Tables and views of `schemas` on the server: {schema.table: [(column, DuckDB type)]}."""
    rows = pg.execute(
        "select n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
        " from pg_attribute a join pg_class c on c.oid = a.attrelid"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any(%s) and c.relkind in ('r', 'v', 'p')"
        " and a.attnum > 0 and not a.attisdropped order by 1, a.attnum",
        [list(schemas)],
    ).fetchall()
    tables: dict[str, list[tuple]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, _duckdb_type(table, column, kind)))
    return tables


def _duckdb_type(table: str, column: str, kind: str) -> str:
    if kind.startswith("numeric("):
        return "DECIMAL" + kind.removeprefix("numeric")
    if kind not in DUCKDB_TYPES:
        raise ValueError(f"{table}.{column}: Spaltentyp {kind} hat keine DuckDB-Entsprechung")
    return DUCKDB_TYPES[kind]


def _mirror_table(
    pg: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[tuple[str, str]],
    scratch: Path,
) -> int:
    file = scratch / f"{table}.csv"
    with (
        file.open("wb") as out,
        pg.cursor().copy(f"copy (select * from {table}) to stdout (format csv)") as copy,
    ):
        for data in copy:
            out.write(data)
    definition = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    duck.execute(f"create or replace table {table} ({definition})")
    if file.stat().st_size:  # an empty table: nothing to read (and no line to sniff)
        # PostgreSQL's CSV: NULL an empty field, an empty string "" (kept apart); no sniffing.
        duck.execute(
            f"copy {table} from '{file}' (format csv, header false, auto_detect false,"
            " delim ',', quote '\"', escape '\"', allow_quoted_nulls false)"
        )
    [(rows,)] = duck.execute(f"select count(*) from {table}").fetchall()
    return rows
