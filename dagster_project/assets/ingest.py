"""Ingest assets: one per source table, filled from the inbox files of the partition's months."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from dagster_project.partitions import monthly_partitions, months_of
from dagster_project.resources import KimPaths
from ingest.contracts import FILE_KINDS, SOURCES
from ingest.errors import FileRejected
from ingest.inbox import scan
from ingest.load import load_file
from ingest.pseudonymise import resolve_key
from ingest.warehouse import connect

OWNERS = ["team:controlling"]


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def periods_for(kind: str, months: list[str]) -> list[str]:
    """The file periods a run over `months` needs: the months, or their years for yearly files."""
    period = SOURCES[FILE_KINDS[kind][0]].period
    return sorted({m[:4] for m in months}) if period == "year" else months


def _ingest_asset(kind: str):
    tables = FILE_KINDS[kind]
    specs = [
        AssetSpec(
            raw_key(t),
            group_name="ingest",
            description=f"{SOURCES[t].title} (raw.{t}, "
            f"from {kind}_<period>.{SOURCES[t].extension})",
            kinds={"polars", "duckdb"},
            owners=OWNERS,
        )
        for t in tables
    ]

    @multi_asset(
        name=f"ingest_{kind}",
        specs=specs,
        partitions_def=monthly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
    )
    def _asset(context: AssetExecutionContext, kim_paths: KimPaths):
        inbox = kim_paths.inbox_dir
        available = {(f.kind, f.period): f for f in scan(inbox)}
        periods = periods_for(kind, months_of(context))
        missing = [p for p in periods if (kind, p) not in available]
        if missing:
            raise FileRejected(
                file=f"{kind}_{missing[0]}.{SOURCES[tables[0]].extension}",
                problem=f"fehlt im Eingangsordner {inbox} (Zeitraum {', '.join(missing)})",
                expected=f"je Zeitraum eine Datei {kind}_<Zeitraum>.{SOURCES[tables[0]].extension}",
            )
        key = resolve_key(inbox)
        results = []
        with connect(kim_paths.warehouse_file) as con:
            for period in periods:
                results.extend(
                    load_file(con, available[(kind, period)].path, key=key, run_id=context.run_id)
                )
        for table in tables:
            own = [r for r in results if r.source == table]
            rows = "\n".join(
                f"| {r.period} | {r.file_name} | {r.encoding} | {r.rows_read} | {r.rows_loaded} "
                f"| {r.rows_quarantined} | {r.rows_totals_removed} "
                f"| {'unchanged' if r.skipped else 'loaded'} |"
                for r in own
            )
            yield MaterializeResult(
                asset_key=raw_key(table),
                metadata={
                    "rows_loaded": sum(r.rows_loaded for r in own),
                    "rows_quarantined": sum(r.rows_quarantined for r in own),
                    "files": MetadataValue.md(
                        "| period | file | encoding | read | loaded | quarantined "
                        "| totals removed | state |\n"
                        "|---|---|---|---|---|---|---|---|\n" + rows
                    ),
                    "sha256": ", ".join(sorted({r.sha256[:12] for r in own})),
                },
            )

    return _asset


ingest_assets = [_ingest_asset(kind) for kind in FILE_KINDS]
