"""Dagster resources: the paths every asset works on, injected (never read from globals)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from ingest.pg_writer import copy_raw_tables, dbt_env, mirror_marts, warehouse_url
from kim_settings import Paths


class KimPaths(ConfigurableResource):
    """Inbox, warehouse file and output folder, all absolute; and the PostgreSQL server the
    marts are built on (`warehouse_url`, from KIM_WAREHOUSE_URL; empty: the DuckDB file alone,
    docs/postgres.md). The DuckDB file is the pipeline's work store either way."""

    inbox: str
    warehouse: str
    output: str
    warehouse_url: str = ""

    @classmethod
    def from_paths(cls, paths: Paths) -> KimPaths:
        return cls(
            inbox=str(paths.inbox),
            warehouse=str(paths.warehouse),
            output=str(paths.output),
            warehouse_url=warehouse_url() or "",
        )

    @property
    def inbox_dir(self) -> Path:
        return Path(self.inbox)

    @property
    def warehouse_file(self) -> Path:
        return Path(self.warehouse)

    @property
    def output_dir(self) -> Path:
        return Path(self.output)

    def export_to_dbt(self) -> None:
        """dbt runs as a subprocess in dbt/: hand it the same absolute warehouse path, and the
        target this run builds on (the server's, or DuckDB's `dev`)."""
        self.warehouse_file.parent.mkdir(parents=True, exist_ok=True)
        os.environ["KIM_WAREHOUSE"] = self.warehouse
        if self.warehouse_url:
            os.environ.update(dbt_env(self.warehouse_url))
        else:
            os.environ["KIM_DBT_TARGET"] = "dev"

    def server(self):
        """A connection to the server (psycopg: the `postgres` extra)."""
        import psycopg

        return psycopg.connect(self.warehouse_url)

    def copy_raw(self, duck: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, int]:
        """On a server: the run's raw rows from the work file to it (rows per table)."""
        if not self.warehouse_url:
            return {}
        with self.server() as pg:
            return copy_raw_tables(duck, pg, months=months)

    def mirror_marts(self) -> dict[str, int]:
        """On a server: its marts and reference tables into the work file, where the mart gates
        and the reports read them (rows per table; nothing to do without a server)."""
        if not self.warehouse_url:
            return {}
        with self.server() as pg, duckdb.connect(self.warehouse) as duck:
            return mirror_marts(pg, duck)
