"""Run the quality gates: read each check's frame for the run's window of months from DuckDB,
validate it with Great Expectations once (one ephemeral context per gate run, not per month),
split the unexpected rows by month, store one meta.gate_results row per expectation and month,
and return one `GateOutcome` per month.

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
    Window,
    gate_period,
    mart_checks,
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
    seconds: float = 0.0  # wall time of the gate run over the window (frames + GX + storing)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success]


def run_raw_gates(
    con: duckdb.DuckDBPyConnection,
    months: Sequence[str],
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
    tables: Sequence[str] | None = None,
) -> list[GateOutcome]:
    """Validate the raw tables' rows of the months (default: every raw table of the contract),
    one validation per table for the whole window. Results are stored per table as gate
    'raw.<table>'; the outcomes' gate is 'raw.<table>' for one table, else 'raw'. Raises
    ValueError for a malformed month or an unknown table."""
    config = config or GateConfig.from_env()
    names = list(tables) if tables is not None else list(SOURCES)
    unknown = [t for t in names if t not in SOURCES]
    if unknown:
        raise ValueError(f"unknown raw tables: {unknown}")
    checks = [c for name in names for c in raw_checks(SOURCES[name], config)]
    gate = f"raw.{names[0]}" if len(names) == 1 else "raw"
    return _run(con, gate, months, checks, config, run_id, [f"raw.{n}" for n in names])


def run_reconciliation_gates(
    con: duckdb.DuckDBPyConnection,
    months: Sequence[str],
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
) -> list[GateOutcome]:
    """After dbt: payments vs ledger, marts' current appropriation vs the plan file. Needs the
    marts tables to exist."""
    config = config or GateConfig.from_env()
    return _run(con, "reconciliation", months, reconciliation_checks(), config, run_id)


def run_mart_gates(
    con: duckdb.DuckDBPyConnection,
    months: Sequence[str],
    *,
    run_id: str | None = None,
    config: GateConfig | None = None,
) -> list[GateOutcome]:
    """Before reports: indicator value ranges."""
    config = config or GateConfig.from_env()
    return _run(con, "marts", months, mart_checks(config), config, run_id)


def run_raw_gate(con: duckdb.DuckDBPyConnection, month: str, **kwargs: Any) -> GateOutcome:
    """`run_raw_gates` for one month."""
    return run_raw_gates(con, [month], **kwargs)[0]


def run_reconciliation_gate(
    con: duckdb.DuckDBPyConnection, month: str, **kwargs: Any
) -> GateOutcome:
    return run_reconciliation_gates(con, [month], **kwargs)[0]


def run_mart_gate(con: duckdb.DuckDBPyConnection, month: str, **kwargs: Any) -> GateOutcome:
    return run_mart_gates(con, [month], **kwargs)[0]


def _window(months: Sequence[str]) -> Window:
    bad = [m for m in months if not _MONTH.match(m)]
    if bad or not months:
        raise ValueError(f"month must be 'YYYY-MM': {bad[0] if bad else months!r}")
    return Window(min(months), max(months))


# ---------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class _Validated:
    """One check's frame over the window and the GX result of each of its rules."""

    check: Check
    frame: Any  # pandas.DataFrame with a `gate_period` column
    results: dict[str, Any]  # rule name -> ExpectationValidationResult
    # rule name -> (rows checked per gate_period, unexpected row labels per gate_period)
    splits: dict[str, tuple[dict[str, int], dict[str, list[Any]]]]


def _run(
    con: duckdb.DuckDBPyConnection,
    gate: str,
    months: Sequence[str],
    checks: list[Check],
    config: GateConfig,
    run_id: str | None,
    stored_gates: list[str] | None = None,
) -> list[GateOutcome]:
    began = time.perf_counter()
    validated = _validate(con, checks, _window(months), config)
    by_month = {m: [r for v in validated for r in _month_results(v, m, config)] for m in months}
    _store(con, run_id, by_month, stored_gates or [gate])
    seconds = time.perf_counter() - began
    return [_outcome_of(gate, month, results, seconds) for month, results in by_month.items()]


def _outcome_of(
    gate: str, month: str, results: list[ExpectationOutcome], seconds: float
) -> GateOutcome:
    """A month's gate passes unless an error-severity expectation failed."""
    passed = not any(not r.success and r.severity == ERROR for r in results)
    return GateOutcome(gate, month, passed, results, summarize(gate, month, results), seconds)


def by_stored_gate(outcomes: Sequence[GateOutcome]) -> dict[str, list[GateOutcome]]:
    """The outcomes of a run over several raw tables, one list per stored gate ('raw.<table>'),
    each judged on its own expectations."""
    split: dict[str, list[GateOutcome]] = {}
    for o in outcomes:
        for gate in dict.fromkeys(r.gate for r in o.results):
            results = [r for r in o.results if r.gate == gate]
            split.setdefault(gate, []).append(_outcome_of(gate, o.partition, results, o.seconds))
    return split


def _validate(
    con: duckdb.DuckDBPyConnection, checks: list[Check], window: Window, config: GateConfig
) -> list[_Validated]:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral", project_config=_context_config())
    datasource = context.data_sources.add_pandas("kim")
    params = window.params()
    out = []
    for i, check in enumerate(checks):
        used = {k: v for k, v in {**params, **check.params}.items() if f"${k}" in check.sql}
        frame = con.sql(check.sql, params=used).arrow().read_all().to_pandas()
        frame = frame.reset_index(drop=True)
        asset = datasource.add_dataframe_asset(f"{i:02d}_{check.name}")
        batch_def = asset.add_batch_definition_whole_dataframe("window")
        suite = gx.ExpectationSuite(name=f"{check.gate}.{check.name}")
        for rule in check.rules:
            suite.add_expectation(to_expectation(rule, config.severity(rule.family)))
        suite = context.suites.add(suite)
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        # COMPLETE: every unexpected row's index, so results can be split by month.
        validation = batch.validate(suite, result_format="COMPLETE")
        by_rule = {r.expectation_config.meta["rule"]: r for r in validation.results}
        splits = {rule.name: _split(frame, rule, by_rule[rule.name]) for rule in check.rules}
        out.append(_Validated(check, frame, by_rule, splits))
    return out


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


def _month_results(v: _Validated, month: str, config: GateConfig) -> list[ExpectationOutcome]:
    period = gate_period(v.check, month)
    return [_outcome(v, rule, period, config.severity(rule.family)) for rule in v.check.rules]


def _split(frame: Any, rule: Rule, result: Any) -> tuple[dict[str, int], dict[str, list[Any]]]:
    """Rows checked and unexpected row labels of `rule`, per gate_period. Checked rows are the
    ones GX counts: those matching the row condition, without NULLs unless the rule is about
    NULLs."""
    rows = frame
    if rule.row_condition:
        rows = rows.query(rule.row_condition, engine="python")
    if rule.kind not in ("not_null", "null") and rule.column in rows.columns:
        rows = rows[rows[rule.column].notna()]
    checked = {str(k): int(n) for k, n in rows["gate_period"].value_counts().items()}
    unexpected: dict[str, list[Any]] = {}
    for label in (result.result or {}).get("unexpected_index_list") or []:
        unexpected.setdefault(frame.at[label, "gate_period"], []).append(label)
    return checked, unexpected


def _outcome(v: _Validated, rule: Rule, period: str, severity: str) -> ExpectationOutcome:
    def outcome(success: bool, observed: str, unexpected: int | None, samples: list[str]):
        return ExpectationOutcome(
            rule.name, success, severity, observed, unexpected, samples, v.check.gate, rule.label
        )

    info = v.results[rule.name].exception_info or {}
    if info.get("raised_exception"):
        # An expectation that could not run is a failure, never a silent pass.
        return outcome(False, f"exception: {info.get('exception_message')}", None, [])
    checked, unexpected = v.splits[rule.name]
    labels = unexpected.get(period, [])
    if rule.kind == "row_count":
        (label,) = v.frame.index[v.frame["gate_period"] == period]
        core = rule.family == "row_count_core"
        return outcome(not labels, _row_count_observed(v.frame.loc[label], core), None, [])
    observed = f"{len(labels)} von {checked.get(period, 0)} Zeilen abweichend"
    return outcome(not labels, observed, len(labels), _samples(v.frame, labels, rule.show))


def _row_count_observed(row: Any, core: bool) -> str:
    """'<n> Zeilen (<band>)' of one month's row of a row-count frame (suites._row_count_check).
    Counts are read with int(): a column holding NULLs arrives as float."""
    import pandas as pd

    if pd.isna(row["previous_month"]):
        note = "no earlier month: exempt" + (", at least 1 row" if core else "")
    else:
        note = (
            f"Vormonat {row['previous_month']}: {int(row['previous_rows'])} Zeilen, "
            f"erlaubt {int(row['band_low'])}..{int(row['band_high'])}"
        )
    return f"{int(row['rows'])} Zeilen ({note})"


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
    by_month: dict[str, list[ExpectationOutcome]],
    gates: Sequence[str],
) -> None:
    """Replace this run's rows of these gates for the months, then insert the new ones: one
    transaction and one insert for the window (row-by-row inserts cost ~90 ms a month)."""
    import pyarrow as pa

    checked_at = datetime.now()
    rows = [
        {
            "run_id": run_id,
            "gate": r.gate,
            "partition": month,
            "expectation": r.expectation,
            "success": r.success,
            "severity": r.severity,
            "observed_value": r.observed_value,
            "unexpected_count": r.unexpected_count,
            "details": json.dumps(
                {"description": r.description, "sample_values": r.sample_values},
                ensure_ascii=False,
            ),
            "checked_at": checked_at,
        }
        for month, results in by_month.items()
        for r in results
    ]
    text = pa.string()
    schema = pa.schema(
        [("run_id", text), ("gate", text), ("partition", text), ("expectation", text),
         ("success", pa.bool_()), ("severity", text), ("observed_value", text),
         ("unexpected_count", pa.int64()), ("details", text), ("checked_at", pa.timestamp("us"))]
    )  # fmt: skip
    new_rows = pa.Table.from_pylist(rows, schema=schema)
    con.execute("begin transaction").fetchall()
    try:
        con.execute(
            "delete from meta.gate_results where run_id is not distinct from $run_id "
            "and list_contains($months, partition) and list_contains($gates, gate)",
            {"run_id": run_id, "months": list(by_month), "gates": list(gates)},
        ).fetchall()
        con.register("new_gate_results", new_rows)
        con.execute("insert into meta.gate_results select * from new_gate_results").fetchall()
        con.execute("commit").fetchall()
    except Exception:
        con.execute("rollback").fetchall()
        raise
    finally:
        con.unregister("new_gate_results")


DISCLOSURE_GATE = "disclosure"


def record_disclosure_gate(
    con: duckdb.DuckDBPyConnection, run_id: str | None, month: str, failure: str | None
) -> None:
    """Store the outcome of the disclosure audit of the month's publications (council report,
    public tables), so the data-quality page names the cell that failed and why. The audit
    itself runs where the publications are written (package `reports/`)."""
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
    _store(con, run_id, {month: [outcome]}, [DISCLOSURE_GATE])


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
