"""Run the quality gates: read each check's frame from DuckDB, validate it with Great
Expectations (one ephemeral context per gate run), store one meta.gate_results row per
expectation and return a `GateOutcome`.

A gate passes when no expectation of severity 'error' failed; warnings are reported only.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from expectations.config import ERROR, WARNING, GateConfig
from expectations.suites import (
    Check,
    Rule,
    mart_checks,
    month_bounds,
    raw_checks,
    reconciliation_checks,
    to_expectation,
)
from ingest.contracts import SOURCES

SAMPLE_SIZE = 5  # offending rows shown per expectation
# Samples go to the Dagster event log, meta.gate_results and the data-quality HTML: never a
# pseudonym there (with the exact dates beside it, it is a quasi-identifier). The file and line
# lead the controller to the row; the offending values are shown, the person keys are not.
HIDDEN_IN_SAMPLES = frozenset(
    c.raw_name for s in SOURCES.values() for c in s.columns if c.pseudonymise
)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    success: bool
    severity: str
    observed_value: str | None
    unexpected_count: int | None
    sample_values: list[str] = field(default_factory=list)
    gate: str = ""  # the stored gate, e.g. 'raw.personen' (a raw gate run covers several)
    description: str = ""  # German label for reports


@dataclass(frozen=True)
class GateOutcome:
    gate: str
    partition: str
    passed: bool
    results: list[ExpectationOutcome]
    summary_text: str
    seconds: float = 0.0  # wall time of the gate run (frames + GX + storing)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success]


def run_raw_gate(
    con: duckdb.DuckDBPyConnection,
    month: str,
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
    tables: Sequence[str] | None = None,
) -> GateOutcome:
    """Validate the raw tables' rows of `month` (default: every raw table of the contract).
    Results are stored per table as gate 'raw.<table>'; the outcome's gate is 'raw.<table>' for
    one table, else 'raw'. Raises ValueError for a malformed month or an unknown table."""
    _check_month(month)
    config = config or GateConfig.from_env()
    names = list(tables) if tables is not None else list(SOURCES)
    unknown = [t for t in names if t not in SOURCES]
    if unknown:
        raise ValueError(f"unknown raw tables: {unknown}")
    checks: list[Check] = []
    for name in names:
        source = SOURCES[name]
        previous = _previous_month_rows(con, name, month) if source.period == "month" else None
        checks += raw_checks(source, month, config, previous)
    gate = f"raw.{names[0]}" if len(names) == 1 else "raw"
    return _run(con, gate, month, checks, config, run_id, [f"raw.{n}" for n in names])


def run_reconciliation_gate(
    con: duckdb.DuckDBPyConnection,
    month: str,
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
) -> GateOutcome:
    """After dbt: payments vs ledger, marts' current appropriation vs the plan file, and no
    indicator value over a zero denominator. Needs the marts tables to exist."""
    _check_month(month)
    config = config or GateConfig.from_env()
    return _run(con, "reconciliation", month, reconciliation_checks(month), config, run_id)


def run_mart_gate(
    con: duckdb.DuckDBPyConnection,
    month: str,
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
) -> GateOutcome:
    """Before reports: indicator value ranges, completeness per social space, traffic lights."""
    _check_month(month)
    config = config or GateConfig.from_env()
    return _run(con, "marts", month, mart_checks(month, config), config, run_id)


def _check_month(month: str) -> None:
    if not _MONTH.match(month):
        raise ValueError(f"month must be 'YYYY-MM': {month!r}")


def _previous_month_rows(
    con: duckdb.DuckDBPyConnection, table: str, month: str
) -> tuple[str, int] | None:
    """Row count of the latest earlier month that has rows (None for the first month)."""
    start, _ = month_bounds(month)
    # DuckDB 2.0 streams results: fetch fully before the next statement (also below).
    rows = con.execute(
        f"select strftime(period_month, '%Y-%m'), count(*) from raw.{table} "
        "where period_month = (select max(period_month) from raw.{table} "
        "where period_month < $start) group by period_month".replace("{table}", table),
        {"start": start},
    ).fetchall()
    return (rows[0][0], int(rows[0][1])) if rows else None


# ---------------------------------------------------------------------------------------------
# Validation


def _run(
    con: duckdb.DuckDBPyConnection,
    gate: str,
    month: str,
    checks: list[Check],
    config: GateConfig,
    run_id: str | None,
    stored_gates: list[str] | None = None,
) -> GateOutcome:
    began = time.perf_counter()
    results = _validate(con, checks, config)
    _store(con, run_id, month, results, stored_gates or [gate])
    passed = not any(not r.success and r.severity == ERROR for r in results)
    seconds = time.perf_counter() - began
    return GateOutcome(gate, month, passed, results, summarize(gate, month, results), seconds)


def _validate(
    con: duckdb.DuckDBPyConnection, checks: list[Check], config: GateConfig
) -> list[ExpectationOutcome]:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral", project_config=_context_config())
    datasource = context.data_sources.add_pandas("kim")
    outcomes: list[ExpectationOutcome] = []
    for i, check in enumerate(checks):
        frame = con.sql(check.sql, params=check.params).arrow().read_all().to_pandas()
        frame = frame.reset_index(drop=True)
        asset = datasource.add_dataframe_asset(f"{i:02d}_{check.name}")
        batch_def = asset.add_batch_definition_whole_dataframe("month")
        suite = gx.ExpectationSuite(name=f"{check.gate}.{check.name}")
        for rule in check.rules:
            suite.add_expectation(to_expectation(rule, config.severity(rule.family)))
        suite = context.suites.add(suite)
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format="SUMMARY")
        by_rule = {r.expectation_config.meta["rule"]: r for r in validation.results}
        for rule in check.rules:
            outcomes.append(
                _outcome(check, rule, by_rule[rule.name], frame, config.severity(rule.family))
            )
    return outcomes


def _context_config() -> Any:
    """In-memory stores; no Data Docs site (we render our own report), no analytics calls (no
    network at run time), no progress bars in logs."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )


def _outcome(
    check: Check, rule: Rule, result: Any, frame: Any, severity: str
) -> ExpectationOutcome:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        # An expectation that could not run is a failure, never a silent pass.
        return ExpectationOutcome(
            rule.name,
            False,
            severity,
            f"exception: {info.get('exception_message')}",
            None,
            [],
            check.gate,
            rule.label,
        )
    res = result.result or {}
    if rule.kind == "row_count":
        observed = f"{res.get('observed_value')} Zeilen"
        if rule.note:
            observed += f" ({rule.note})"
        return ExpectationOutcome(
            rule.name, bool(result.success), severity, observed, None, [], check.gate, rule.label
        )
    unexpected = int(res.get("unexpected_count") or 0)
    checked = int(res.get("element_count") or 0) - int(res.get("missing_count") or 0)
    if rule.kind in ("not_null", "null"):
        checked = int(res.get("element_count") or 0)
    observed = f"{unexpected} von {checked} Zeilen abweichend"
    samples = _samples(frame, res.get("partial_unexpected_index_list") or [], rule.show)
    return ExpectationOutcome(
        rule.name,
        bool(result.success),
        severity,
        observed,
        unexpected,
        samples,
        check.gate,
        rule.label,
    )


def _samples(frame: Any, index: list[Any], show: tuple[str, ...]) -> list[str]:
    """A few offending rows, read from the frame itself so values stay exact (Decimal, date):
    file and line of the row (raw tables), then the shown columns without person keys."""
    where = ("source_file",) if "source_line" in show and "source_file" in frame.columns else ()
    columns = [c for c in (*where, *show) if c in frame.columns and c not in HIDDEN_IN_SAMPLES]
    out = []
    for label in index[:SAMPLE_SIZE]:
        row = frame.loc[label]
        out.append(", ".join(f"{c}={_fmt(row[c])}" for c in columns))
    return out


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "NULL"
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10] if isinstance(value, date) else value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, float):
        return f"{value:g}"
    try:
        import pandas as pd

        if pd.isna(value):
            return "NULL"
    except (TypeError, ValueError):
        pass
    return str(value)


def summarize(gate: str, month: str, results: Sequence[ExpectationOutcome]) -> str:
    """One paragraph (German, like every operator message): which expectations failed, how many
    rows, which values."""
    failed = [r for r in results if not r.success]
    if not failed:
        return f"Prüfung {gate} {month}: alle {len(results)} Erwartungen erfüllt."
    errors = sum(r.severity == ERROR for r in failed)
    warnings = sum(r.severity == WARNING for r in failed)
    verdict = "blockiert" if errors else "bestanden mit Warnungen"
    parts = []
    for r in failed:
        severity = "Fehler" if r.severity == ERROR else "Warnung"
        text = f"{r.gate}/{r.expectation} [{severity}]: {r.observed_value}"
        if r.sample_values:
            text += "; z. B. " + " | ".join(r.sample_values)
        parts.append(text)
    return (
        f"Prüfung {gate} {month} {verdict}: {len(failed)} von {len(results)} Erwartungen nicht "
        f"erfüllt ({errors} Fehler, {warnings} Warnungen). " + ". ".join(parts) + "."
    )


# ---------------------------------------------------------------------------------------------
# Storing


def _store(
    con: duckdb.DuckDBPyConnection,
    run_id: str | None,
    month: str,
    results: Sequence[ExpectationOutcome],
    gates: Sequence[str],
) -> None:
    """Replace this run's rows of these gates for the month, then insert the new ones."""
    checked_at = datetime.now()
    rows = [
        (
            run_id,
            r.gate,
            month,
            r.expectation,
            r.success,
            r.severity,
            r.observed_value,
            r.unexpected_count,
            json.dumps(
                {"description": r.description, "sample_values": r.sample_values},
                ensure_ascii=False,
            ),
            checked_at,
        )
        for r in results
    ]
    con.execute("begin transaction").fetchall()
    try:
        con.execute(
            "delete from meta.gate_results where run_id is not distinct from $run_id "
            "and partition = $month and list_contains($gates, gate)",
            {"run_id": run_id, "month": month, "gates": list(gates)},
        ).fetchall()
        if rows:
            con.executemany(
                "insert into meta.gate_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        con.execute("commit").fetchall()
    except Exception:
        con.execute("rollback").fetchall()
        raise


DISCLOSURE_GATE = "disclosure"


def record_disclosure_gate(
    con: duckdb.DuckDBPyConnection, run_id: str | None, month: str, failure: str | None
) -> None:
    """Store the outcome of the disclosure audit of the month's publications (council report,
    public tables), so the data-quality page names the cell that failed and why. The audit
    itself runs where the publications are written (dagster_project/reports)."""
    outcome = ExpectationOutcome(
        expectation="publication_passes_disclosure_audit",
        success=failure is None,
        severity=ERROR,
        observed_value=None,
        unexpected_count=0 if failure is None else 1,
        sample_values=[] if failure is None else [failure],
        gate=DISCLOSURE_GATE,
        description="Veröffentlichte Tabellen: keine verdeckte Zahl rückrechenbar "
        "(Schutzintervall, domain.md Abschnitt 5)",
    )
    _store(con, run_id, month, [outcome], [DISCLOSURE_GATE])


def run_all_gates(
    con: duckdb.DuckDBPyConnection,
    month: str,
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
) -> list[GateOutcome]:
    """Every gate of a month in pipeline order (for `kim check`): raw, reconciliation, marts."""
    config = config or GateConfig.from_env()
    return [
        run_raw_gate(con, month, run_id=run_id, config=config),
        run_reconciliation_gate(con, month, run_id=run_id, config=config),
        run_mart_gate(con, month, run_id=run_id, config=config),
    ]
