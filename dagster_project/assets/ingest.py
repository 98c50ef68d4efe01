"""Ingest: one step fills every raw table from the inbox files of the run's months and checks
them with the raw gates.

One step, not one per source plus one per gate: each Dagster step costs its events and a gate
its Great Expectations context, whatever the data; a month's files are small. The raw gates
are blocking checks of their raw tables: a failed gate stops dbt and the reports.
"""

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from dagster_project.assets.quality import check_result, write_gate_reports
from dagster_project.partitions import monthly_partitions, months_of
from dagster_project.resources import KimPaths
from expectations.gates import by_stored_gate, run_raw_gates
from ingest.contracts import FILE_KINDS, SOURCES
from ingest.delivery import delivering_municipalities, files_to_load
from ingest.inbox import scan
from ingest.load import load_file
from ingest.pseudonymise import resolve_key
from ingest.warehouse import LoadResult, connect

OWNERS = ["team:controlling"]


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def _loaded_metadata(results: list[LoadResult]) -> dict:
    rows = "\n".join(
        f"| {r.period} | {r.file_name} | {r.encoding} | {r.rows_read} | {r.rows_loaded} "
        f"| {r.rows_quarantined} | {r.rows_totals_removed} "
        f"| {'unchanged' if r.skipped else 'loaded'} |"
        for r in results
    )
    return {
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "files": MetadataValue.md(
            "| period | file | encoding | read | loaded | quarantined "
            "| totals removed | state |\n"
            "|---|---|---|---|---|---|---|---|\n" + rows
        ),
        "sha256": ", ".join(sorted({r.sha256[:12] for r in results})),
    }


def _raw_gate_spec(table: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        "raw_gate",
        asset=raw_key(table),
        blocking=True,
        description=f"Great Expectations suite of raw.{table}: required fields, codes, dates, "
        "keys, amounts, row count against the previous month, quarantine share.",
    )


@multi_asset(
    name="ingest",
    specs=[
        AssetSpec(
            raw_key(table),
            group_name="ingest",
            description=f"{SOURCES[table].title} (raw.{table}, "
            f"from {kind}_<period>.{SOURCES[table].extension})",
            kinds={"polars", "duckdb"},
            owners=OWNERS,
        )
        for kind, tables in FILE_KINDS.items()
        for table in tables
    ],
    check_specs=[_raw_gate_spec(table) for table in SOURCES],
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
)
def ingest(context: AssetExecutionContext, kim_paths: KimPaths):
    inbox, months = kim_paths.inbox_dir, months_of(context)
    # The reference data of this warehouse's deployment (kim_settings.seeds_dir), as dbt sees.
    kim_paths.export_to_dbt()
    files = files_to_load(scan(inbox), months, delivering_municipalities(), str(inbox))
    key = resolve_key(inbox)
    with connect(kim_paths.warehouse_file) as con:
        results = [
            r
            for f in files
            for r in load_file(con, f.path, key=key, run_id=context.run_id, inbox=inbox)
        ]
        copied = kim_paths.copy_raw(con, months)
    if copied:
        context.log.info(f"Rohdaten auf den Server kopiert: {copied}")
    for table in SOURCES:
        own = [r for r in results if r.source == table]
        yield MaterializeResult(asset_key=raw_key(table), metadata=_loaded_metadata(own))
    with connect(kim_paths.warehouse_file) as con:
        outcomes = by_stored_gate(run_raw_gates(con, months, run_id=context.run.run_id))
        write_gate_reports(con, months, kim_paths.output_dir)
    for table in SOURCES:
        outcome = outcomes[f"raw.{table}"]
        yield check_result(outcome, asset_key=raw_key(table), check_name="raw_gate")


ingest_assets = [ingest]
