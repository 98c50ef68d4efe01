"""Report assets: the monthly controlling workbook, the council report at quarter and year end,
and the open-data exports. They run only after the warehouse gates passed."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
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
from dagster_project.resources import KimPaths
from expectations.gates import DISCLOSURE_GATE, record_disclosure_gate
from expectations.report import write_gate_report
from ingest.pseudonymise import resolve_key
from ingest.staleness import build_id, record_build
from ingest.warehouse import connect
from kim_settings import deployment_mode, internal_dir, public_dir, seeds_dir
from reports.council import write_council_report
from reports.data import parse_period
from reports.disclosure_audit import DisclosureError
from reports.exports import write_exports
from reports.kreis import district_config, write_kreis_workbooks
from reports.preview import key_figures_markdown
from reports.versions import publish_versioned
from reports.workbook import write_controlling_workbook

# Run tag carrying why a run recomputes already reported months (set by `kim run` and the
# inbox sensor); it becomes the reason in the change note of a re-published council report.
CORRECTION_TAG = "kim/korrektur"
UNSPECIFIED_REASON = "Neuberechnung ohne erkannte Korrektur (z. B. neuer Programmstand)"

MARTS = [
    AssetKey([name])
    for name in (
        "fct_budget_execution",
        "fct_budget_product_monthly",
        "fct_budget_unit_monthly",
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


def council_periods(months: list[str], published: frozenset[str] = frozenset()) -> list[str]:
    """The council reports a run writes: the latest quarter and the latest year that end within
    its months, and every other quarter and year ending within them that was already published
    (a run over a corrected window re-renders what the correction changed). A monthly run thus
    writes its quarter (and year) at their last month; a backfill on a fresh warehouse writes
    only the newest ones."""
    quarter_ends = [m for m in months if is_quarter_end(m)]
    year_ends = [m for m in months if m.endswith("-12")]
    newest = [quarter_label(quarter_ends[-1])] if quarter_ends else []
    newest += [year_ends[-1][:4]] if year_ends else []
    ending = [quarter_label(m) for m in quarter_ends] + [m[:4] for m in year_ends]
    return newest + sorted(p for p in ending if p in published and p not in newest)


def published_periods(output: Path) -> frozenset[str]:
    """Periods whose council report exists in the public folder."""
    return frozenset(p.parent.name for p in public_dir(output).glob("*/Integrationsbericht_*.html"))


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
    output = kim_paths.output_dir
    periods = council_periods(months_of(context), published_periods(output))
    reason = context.run.tags.get(CORRECTION_TAG) or UNSPECIFIED_REASON
    paths: list[Path] = []
    notes: list[Path] = []
    last_months = [period_last_month(period) for period in periods]
    district = deployment_mode() == "kreis"
    with (
        disclosure_gate(context, kim_paths, last_months) as publishing,
        connect(kim_paths.warehouse_file, read_only=True) as con,
    ):
        config = district_config(con) if district else None  # one rule for all publications
        for period in periods:
            publishing.month = period_last_month(period)

            def render(scratch: Path, period: str = period) -> list[Path]:
                files = write_council_report(con, period, scratch, config=config)
                if district:  # the Kreistag's report beside it (issue 15)
                    files += write_council_report(
                        con, period, scratch, config=config, district=True
                    )
                return files

            files, note = publish_versioned(public_dir(output, period), period, render, reason)
            paths += files
            notes += [note] if note else []
    return MaterializeResult(
        metadata={
            "periods": ", ".join(periods) or "none in this window",
            "files": _files_metadata(paths, output),
            "new_versions": _files_metadata(notes, output),
        }
    )


@asset(kinds={"csv", "parquet"}, description="Exporte je Mart (intern und öffentlich).", **COMMON)
def open_data_exports(context: AssetExecutionContext, kim_paths: KimPaths) -> MaterializeResult:
    months = months_of(context)
    paths: list[Path] = []
    with disclosure_gate(context, kim_paths, months) as publishing:
        with connect(kim_paths.warehouse_file, read_only=True) as con:
            config = district_config(con) if deployment_mode() == "kreis" else None
            for month in months:
                publishing.month = month
                paths += write_exports(con, month, kim_paths.output_dir, config)
    return MaterializeResult(metadata={"file_count": len(paths)})


@dataclass
class _Publishing:
    month: str | None = None  # the month whose publication is being written


@contextmanager
def disclosure_gate(
    context: AssetExecutionContext, kim_paths: KimPaths, months: list[str]
) -> Iterator[_Publishing]:
    """The disclosure audit as a gate in the data-quality page: a publication that fails it
    (DisclosureError, raised before anything public is written) is stored as a failed gate of
    its month, with the cell and the reason, and the page is rewritten; the step still fails.
    Once the months publish, earlier failures of theirs are cleared. The warehouse is opened for
    writing only after the writers' read-only connection is closed."""
    publishing = _Publishing()
    try:
        yield publishing
    except DisclosureError as error:
        if publishing.month is not None:
            _store_disclosure(context, kim_paths, {publishing.month: str(error)})
        raise
    _store_disclosure(context, kim_paths, dict.fromkeys(months))


def _store_disclosure(
    context: AssetExecutionContext, kim_paths: KimPaths, outcomes: dict[str, str | None]
) -> None:
    with connect(kim_paths.warehouse_file) as con:
        for month, failure in outcomes.items():
            [(stored,)] = con.execute(
                "select count(*) from meta.gate_results where gate = ? and partition = ?",
                [DISCLOSURE_GATE, month],
            ).fetchall()
            if failure is None and not stored:
                continue  # the usual case: nothing failed before, the page stays as it is
            if failure is None:
                con.execute(
                    "delete from meta.gate_results where gate = ? and partition = ?",
                    [DISCLOSURE_GATE, month],
                )
            else:
                record_disclosure_gate(con, context.run.run_id, month, failure)
            write_gate_report(con, month, internal_dir(kim_paths.output_dir, month))


def period_last_month(period: str) -> str:
    """'2026-Q3' → '2026-09', '2025' → '2025-12': the month a council report's figures are of."""
    return f"{parse_period(period).last_month:%Y-%m}"


KREIS_MARTS = [
    AssetKey([name])
    for name in (
        "fct_allocation_quota_monthly",
        "fct_housing_capacity_monthly",
        "fct_municipality_indicators",
    )
]


@asset(
    kinds={"excel"},
    description="Landkreis: Workbook des Kreises und eines je Gemeinde (nur im Landkreis).",
    **{**COMMON, "deps": KREIS_MARTS},
)
def kreis_workbooks(context: AssetExecutionContext, kim_paths: KimPaths) -> MaterializeResult:
    if deployment_mode() != "kreis":
        return MaterializeResult(metadata={"files": MetadataValue.md("none (city)")})
    paths: list[Path] = []
    with connect(kim_paths.warehouse_file, read_only=True) as con:
        for month in months_of(context):
            paths += write_kreis_workbooks(con, month, kim_paths.output_dir)
    return MaterializeResult(metadata={"files": _files_metadata(paths, kim_paths.output_dir)})


REPORTS = [controlling_workbook, council_report, open_data_exports, kreis_workbooks]


@asset(
    description="Vermerkt je Monat des Laufs, wann und mit welchen Referenzdaten (Seeds) er "
    "berichtet wurde (meta.month_builds): Grundlage der Erkennung veralteter Monate.",
    **{**COMMON, "deps": REPORTS},
)
def build_record(context: AssetExecutionContext, kim_paths: KimPaths) -> MaterializeResult:
    months = months_of(context)
    build = build_id(resolve_key(kim_paths.inbox_dir))
    with connect(kim_paths.warehouse_file) as con:
        record_build(con, months, context.run.run_id, seeds_dir(), datetime.now(), build)
    return MaterializeResult(metadata={"months": ", ".join(months)})


report_assets = [*REPORTS, build_record]
