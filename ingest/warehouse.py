"""The DuckDB warehouse file: connection and the tables the Python side owns.

Schemas: `raw` (one table per source, filled by ingest), `meta` (load audit, quarantine, gate
results, what each month was reported with), and the dbt schemas `reference`, `staging`,
`intermediate`, `marts`.
Connections are opened inside asset bodies and closed right after: dbt runs as a subprocess and
needs the write lock (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ingest.contracts import SOURCES, raw_columns, raw_table_ddl

META_DDL = (
    """
    create table if not exists meta.load_batches (
      load_id varchar primary key,
      source varchar not null,          -- raw table
      period varchar not null,          -- 'YYYY-MM' or 'YYYY'
      file_name varchar not null,
      sha256 varchar not null,
      size_bytes bigint not null,
      encoding varchar,                 -- 'utf-8', 'utf-8-sig', 'cp1252' or 'xlsx'
      rows_read integer not null,
      rows_loaded integer not null,
      rows_quarantined integer not null,
      rows_totals_removed integer not null,
      replaced_load_id varchar,         -- the earlier load of the same period this one replaced
      warnings varchar,                 -- e.g. unknown extra columns, renamed columns applied
      run_id varchar,
      loaded_at timestamp not null
    )
    """,
    """
    create table if not exists meta.quarantine (
      load_id varchar not null,
      source varchar not null,
      period varchar not null,
      file_name varchar not null,
      line integer,
      rule varchar not null,
      column_name varchar,
      value varchar,                    -- person keys pseudonymised, birth dates masked
      raw_row varchar                   -- the row as JSON, person keys and birth date masked
    )
    """,
    """
    create table if not exists meta.gate_results (
      run_id varchar,
      gate varchar not null,            -- e.g. 'raw.personen', 'reconciliation', 'marts'
      partition varchar not null,       -- 'YYYY-MM'
      expectation varchar not null,
      success boolean not null,
      severity varchar not null,        -- 'error' blocks, 'warning' does not
      observed_value varchar,
      unexpected_count bigint,
      details varchar,
      checked_at timestamp not null
    )
    """,
    # What each month was last reported with (ingest/staleness.py): one row per month per run
    # that wrote its reports; the newest row of a month counts.
    """
    create table if not exists meta.month_builds (
      month varchar not null,           -- 'YYYY-MM'
      run_id varchar,
      built_at timestamp not null,
      seeds_id varchar not null,        -- fingerprint of the seed files, meta.seed_fingerprints
      build_id varchar                  -- program and key fingerprint (ingest/staleness.py)
    )
    """,
    # The delivering municipality (ingest/inbox.py); NULL = a file of the whole period. Added
    # last, also to warehouses built before per-municipality delivery.
    "alter table meta.load_batches add column if not exists ags varchar",
    # Warehouses built before build_id existed: the column is added (their months then run once).
    "alter table meta.month_builds add column if not exists build_id varchar",
    """
    create table if not exists meta.seed_fingerprints (
      seeds_id varchar not null,        -- SHA-256 over all rows of this fingerprint
      seed varchar not null,            -- file name in dbt/seeds, e.g. 'targets.csv'
      period varchar not null,          -- 'YYYY-MM' the rows take effect; '' = whole file/header
      sha256 varchar not null           -- of that period's rows (sorted) or of the whole file
    )
    """,
)


# Posting lines of an imported Teilergebnisplan (contract section 4b); subtotal lines are checked
# at import and not stored. One row per plan line x year column.
TEILERGEBNISPLAN_DDL = """
create table if not exists raw.teilergebnisplan (
  source_file varchar not null,
  produktbereich varchar,
  produktbereichsbezeichnung varchar,
  teilplan varchar not null,
  teilplanbezeichnung varchar,       -- trimmed
  zeile integer not null,            -- plan line number, e.g. 15
  zeile_bezeichnung varchar,         -- e.g. 'Transferaufwendungen'
  wert_art varchar not null,         -- 'Ergebnis', 'Plan' or 'Ansatz'
  jahr integer not null,
  betrag decimal(18,2) not null,
  load_id varchar not null,
  source_line integer not null
)
"""


# The loads whose rows are in the raw tables now: per source and period the newest load of each
# municipality (ags; NULL = the whole period), none older than the newest district-wide load of
# the period (which replaced them all). A query over meta.load_batches selects from this.
CURRENT_LOADS = """
    select * from meta.load_batches
    qualify row_number() over (
            partition by source, period, coalesce(ags, '') order by loaded_at desc) = 1
        and loaded_at >= coalesce(
            max(case when ags is null then loaded_at end) over (partition by source, period),
            loaded_at)
"""


@dataclass
class LoadResult:
    """What loading one file did, as its meta.load_batches row says. Defined here, below
    ingest.load and ingest.teilergebnisplan, because both write batches."""

    source: str  # raw table
    period: str  # 'YYYY-MM' or 'YYYY'
    file_name: str
    sha256: str
    encoding: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_totals_removed: int
    warnings: list[str]
    load_id: str
    skipped: bool = False
    replaced_load_id: str | None = None
    ags: str | None = None  # the delivering municipality (ingest.inbox); None = whole period


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas and Python-owned tables if missing (idempotent)."""
    for schema in ("raw", "meta"):
        con.execute(f"create schema if not exists {schema}")
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))
    # A warehouse made before the contract gained a column (e.g. Gemeinde) gets it, empty.
    existing = set(
        con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'raw'"
        ).fetchall()
    )
    for source in SOURCES.values():
        for name, data_type in raw_columns(source):
            if (source.raw_table, name) not in existing:
                con.execute(f"alter table raw.{source.raw_table} add column {name} {data_type}")
    con.execute(TEILERGEBNISPLAN_DDL)
    for ddl in META_DDL:
        con.execute(ddl)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Bulk insert through Arrow, matched by column name."""
    if frame.height == 0:
        return
    con.register("incoming_frame", frame.to_arrow())
    try:
        con.execute(f"insert into {table} by name select * from incoming_frame")
    finally:
        con.unregister("incoming_frame")


@contextmanager
def connect(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, make sure the Python-owned tables exist, and always close."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()
