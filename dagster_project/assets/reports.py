"""Report assets: the monthly controlling workbook, the council report at quarter and year end,
and the open-data exports. They run only after the warehouse gates passed."""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from dagster_project.partitions import is_quarter_end, monthly_partitions, months_of, quarter_label
from dagster_project.reports.council import write_council_report
from dagster_project.reports.exports import write_exports
from dagster_project.reports.preview import key_figures_markdown
from dagster_project.reports.workbook import write_controlling_workbook
from dagster_project.resources import KimPaths
from ingest.warehouse import connect

MARTS = [
    AssetKey([name])
    for name in (
        "fct_budget_execution",
        "fct_budget_product_monthly",
        "fct_caseload_monthly",
        "fct_reconciliation",
        "fct_indicator_values",
        "fct_course_outcomes",
        "fct_asylblg_payments_monthly",
    )
]
COMMON = dict(
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    group_name="reports",
    owners=["team:controlling"],
    deps=MARTS,
)


def council_periods(months: list[str]) -> list[str]:
    """The council reports a run writes: the latest quarter and the latest year that end within
    its months. A monthly run thus writes its quarter (and year) at their last month; a backfill
    writes only the newest ones instead of re-rendering every report already published (rerun
    an old quarter's last month to re-create that quarter's report)."""
    quarter_ends = [m for m in months if is_quarter_end(m)]
    year_ends = [m for m in months if m.endswith("-12")]
    periods = [quarter_label(quarter_ends[-1])] if quarter_ends else []
    return periods + [year_ends[-1][:4]] if year_ends else periods


def _files_metadata(paths: list[Path], output: Path) -> MetadataValue:
    return MetadataValue.md("\n".join(f"- `{p.relative_to(output)}`" for p in paths) or "none")


@asset(kinds={"excel"}, description="Monatliches Controlling-Workbook je Monat.", **COMMON)
def controlling_workbook(context: AssetExecutionContext, kim_paths: KimPaths) -> MaterializeResult:
    months = months_of(context)
    with connect(kim_paths.warehouse_file, read_only=True) as con:
        paths = [write_controlling_workbook(con, m, kim_paths.output_dir) for m in months]
        preview = key_figures_markdown(con, months[-1])
    return MaterializeResult(
        metadata={
            "files": _files_metadata(paths, kim_paths.output_dir),
            "preview": MetadataValue.md(preview),
        }
    )


@asset(
    kinds={"pdf", "html", "excel"},
    description="Integrationsbericht für den Rat je Quartal und Jahr (PDF, HTML, XLSX-Anhang).",
    **COMMON,
)
def council_report(context: AssetExecutionContext, kim_paths: KimPaths) -> MaterializeResult:
    periods = council_periods(months_of(context))
    paths: list[Path] = []
    with connect(kim_paths.warehouse_file, read_only=True) as con:
        for period in periods:
            paths += write_council_report(con, period, kim_paths.output_dir)
    return MaterializeResult(
        metadata={
            "periods": ", ".join(periods) or "none in this window",
            "files": _files_metadata(paths, kim_paths.output_dir),
        }
    )


@asset(kinds={"csv", "parquet"}, description="Exporte je Mart (intern und öffentlich).", **COMMON)
def open_data_exports(context: AssetExecutionContext, kim_paths: KimPaths) -> MaterializeResult:
    paths: list[Path] = []
    with connect(kim_paths.warehouse_file, read_only=True) as con:
        for month in months_of(context):
            paths += write_exports(con, month, kim_paths.output_dir)
    return MaterializeResult(metadata={"file_count": len(paths)})


report_assets = [controlling_workbook, council_report, open_data_exports]
