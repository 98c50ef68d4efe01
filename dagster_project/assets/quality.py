"""Quality gates as blocking asset checks: a failed gate stops everything downstream of it in
the same run (dbt after a raw gate, the reports after a warehouse gate) and says why.

Each check runs its Great Expectations gate once over the run's window (one validation per
table, results per month), stores the results per month in meta.gate_results and refreshes each
month's data-quality report.
"""

from collections.abc import Callable

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from dagster_project.assets.ingest import raw_key
from dagster_project.partitions import monthly_partitions, months_of
from dagster_project.resources import KimPaths
from expectations.gates import (
    GateOutcome,
    run_mart_gates,
    run_raw_gates,
    run_reconciliation_gates,
)
from expectations.report import write_gate_report
from ingest.contracts import SOURCES
from ingest.warehouse import connect
from kim_settings import internal_dir

Gate = Callable[..., list[GateOutcome]]


def check_result(outcomes: list[GateOutcome]) -> AssetCheckResult:
    """One check result for the window: passed only if every month's gate passed."""
    failed = [o for o in outcomes if not o.passed]
    rows = "\n".join(
        f"| {o.partition} | {'bestanden' if o.passed else 'NICHT bestanden'} | "
        f"{sum(not r.success for r in o.results)} von {len(o.results)} |"
        for o in outcomes
    )
    warnings = [r.expectation for o in outcomes for r in o.failed if r.severity == "warning"]
    return AssetCheckResult(
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


def run_gate(context, kim_paths: KimPaths, gate: Gate, **kwargs) -> AssetCheckResult:
    with connect(kim_paths.warehouse_file) as con:
        outcomes = gate(con, months_of(context), run_id=context.run.run_id, **kwargs)
        for outcome in outcomes:
            month = outcome.partition
            write_gate_report(con, month, internal_dir(kim_paths.output_dir, month))
    return check_result(outcomes)


def _raw_gate_check(table: str):
    @asset_check(
        asset=raw_key(table),
        name="raw_gate",
        blocking=True,
        partitions_def=monthly_partitions,
        description=f"Great Expectations suite of raw.{table}: required fields, codes, dates, "
        "keys, amounts, row count against the previous month, quarantine share.",
        # The participants' share found in the month's persons file needs raw.personen loaded.
        additional_deps=[raw_key("personen")] if table == "teilnahmen" else None,
    )
    def _check(context: AssetCheckExecutionContext, kim_paths: KimPaths) -> AssetCheckResult:
        return run_gate(context, kim_paths, run_raw_gates, tables=[table])

    return _check


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


quality_checks = [*(_raw_gate_check(t) for t in SOURCES), reconciliation_gate, mart_gate]
