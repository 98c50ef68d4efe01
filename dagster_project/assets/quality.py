"""Quality gates as blocking asset checks: a failed gate stops everything downstream of it in
the same run (dbt after a raw gate, the reports after a warehouse gate) and says why.

Each gate runs its Great Expectations checks once over the run's window (one validation per
table, results per month), stores the results per month in meta.gate_results and refreshes each
month's data-quality report. The raw gates run in the ingest step (assets/ingest.py), the
warehouse gates here, as checks of their marts.
"""

from collections.abc import Callable
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from dagster_project.partitions import monthly_partitions, months_of
from dagster_project.resources import KimPaths
from expectations.gates import GateOutcome, run_mart_gates, run_reconciliation_gates
from expectations.report import write_gate_report
from ingest.warehouse import connect
from kim_settings import internal_dir

Gate = Callable[..., list[GateOutcome]]


def check_result(outcomes: list[GateOutcome], **check: object) -> AssetCheckResult:
    """One check result for the window: passed only if every month's gate passed. `check`:
    asset_key and check_name where one step reports several checks."""
    failed = [o for o in outcomes if not o.passed]
    rows = "\n".join(
        f"| {o.partition} | {'bestanden' if o.passed else 'NICHT bestanden'} | "
        f"{sum(not r.success for r in o.results)} von {len(o.results)} |"
        for o in outcomes
    )
    warnings = [r.expectation for o in outcomes for r in o.failed if r.severity == "warning"]
    return AssetCheckResult(
        **check,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "summary": " ".join(o.summary_text for o in failed) or "Alle Prüfungen bestanden.",
            "months": MetadataValue.md(
                "| Monat | Ergebnis | fehlgeschlagen |\n|---|---|---|\n" + rows
            ),
            "warnings": ", ".join(sorted(set(warnings))) or "keine",
        },
    )


def write_gate_reports(con, months: list[str], output: Path) -> None:
    """Refresh each month's data-quality page with the gate results just stored."""
    for month in months:
        write_gate_report(con, month, internal_dir(output, month))


def run_gate(context, kim_paths: KimPaths, gate: Gate, **kwargs) -> AssetCheckResult:
    months = months_of(context)
    with connect(kim_paths.warehouse_file) as con:
        outcomes = gate(con, months, run_id=context.run.run_id, **kwargs)
        write_gate_reports(con, months, kim_paths.output_dir)
    return check_result(outcomes)


@asset_check(
    asset=AssetKey(["fct_reconciliation"]),
    name="reconciliation_gate",
    blocking=True,
    partitions_def=monthly_partitions,
    description="AsylbLG payments equal the ledger to the cent; plan totals match the plan file.",
    additional_deps=[AssetKey(["fct_budget_execution"])],
)
def reconciliation_gate(context: AssetCheckExecutionContext, kim_paths: KimPaths):
    return run_gate(context, kim_paths, run_reconciliation_gates)


@asset_check(
    asset=AssetKey(["fct_indicator_values"]),
    name="mart_gate",
    blocking=True,
    partitions_def=monthly_partitions,
    description="Indicator values within their unit's or indicator's valid range (rows present, "
    "value status and traffic lights are dbt tests of fct_indicator_values).",
)
def mart_gate(context: AssetCheckExecutionContext, kim_paths: KimPaths):
    return run_gate(context, kim_paths, run_mart_gates)


quality_checks = [reconciliation_gate, mart_gate]
